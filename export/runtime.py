"""Run an exported model: pick CUDA when it really works, else CPU, and check every input.

Needs only numpy and onnxruntime (no torch), and works for any model.onnx this package wrote,
including ones written by earlier versions of it.

Input policy for `NWSession.run(x)`: x is a list, tuple or numpy array of real numbers with
shape [batch] for 1-D data or [batch, d] for data in R^d. float32 is used as is; other real
dtypes (float64, float16, integers) are converted to float32, which keeps about 7 significant
digits. Refused with ExportError: non-numeric or complex or boolean data, another rank or d,
an empty batch, NaN or infinite values, numbers too large for float32.

Session options: onnxruntime's defaults (every graph optimisation, one intra-op thread per
core with spinning, memory pattern and CPU arena on). Each alternative was measured side by
side on the exported models (`python -m tests.bench --only onnx`, the session-options table
in tests/bench/results/onnx-cpu.md): one thread, no spinning, no memory pattern and no arena
came out within the shared 2-core machine's noise of the defaults at batch 1 and 10,000;
basic graph optimisation looked ahead at batch 10,000 (1.05x to 1.95x in two heavily loaded
runs, none at batch 1), within that noise, so none is set until a quiet machine confirms it.
The speed comes from the graph itself (export.onnx_model.GRAPHS).
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import logging
import os
import platform
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from export.errors import ExportError

__all__ = ["NWSession", "load_session", "validate_input", "cuda_unavailable_reason"]

log = logging.getLogger("export")

_CUDA = "CUDAExecutionProvider"
_CPU = "CPUExecutionProvider"
_DTYPES = {"tensor(float)": np.float32, "tensor(double)": np.float64}
_FLOAT32_MAX = float(np.finfo(np.float32).max)
# Keep float32 numerics on Ampere+ GPUs: TF32 matmuls would cost ~3 digits of y_hat.
_CUDA_OPTIONS = {"use_tf32": "0"}


@dataclass
class NWSession:
    """An onnxruntime session on an exported NW model, with its metadata and input checks.

    >>> s = load_session("build/model/model.onnx")  # doctest: +SKIP
    >>> s.provider, s.heads, s.input_dim  # doctest: +SKIP
    ('CPUExecutionProvider', 1, 1)
    >>> y_hat, weights = s.run([0.5, 2.0])  # doctest: +SKIP
    >>> y_hat.shape, weights.shape  # doctest: +SKIP
    ((2,), (2, 50))
    """

    path: Path
    session: ort.InferenceSession = field(repr=False)
    provider: str  # the provider that runs the graph, e.g. "CPUExecutionProvider"
    provider_note: str  # one line: which provider and, for CPU, why not CUDA
    metadata: dict[str, str]
    heads: int
    input_dim: int  # 1 for x of shape [batch], d for [batch, d]
    n_keys: int
    dtype: type = np.float32  # the model's input dtype: float32, or float64 (--dtype float64)

    @property
    def kernel(self) -> str:
        return self.metadata.get("kernel", "unknown")

    def run(self, x: Any) -> tuple[np.ndarray, np.ndarray]:
        """y_hat [batch] and attention_weights [batch, n_keys] ([batch, heads, n_keys]).

        x goes through `validate_input` first; see the module docstring for the policy.
        """
        q = validate_input(x, self.input_dim, self.dtype)
        y_hat, weights = self.session.run(["y_hat", "attention_weights"], {"x": q})
        return y_hat, weights


def validate_input(x: Any, input_dim: int = 1, dtype: type = np.float32) -> np.ndarray:
    """x as a contiguous array [batch] (input_dim 1) or [batch, d] of dtype, or ExportError.

    dtype is the model's: float32, or float64 for a model exported with --dtype float64.

    >>> validate_input([1, 2.5]).dtype, validate_input(np.zeros((3, 2)), 2).shape
    (dtype('float32'), (3, 2))
    >>> validate_input([1.0, float("nan")])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    export.errors.ExportError: x holds 1 NaN/inf value(s), the first at index 1: ...
    """
    want = "[batch]" if input_dim == 1 else f"[batch, {input_dim}]"
    try:
        arr = np.asarray(x)
    except (TypeError, ValueError) as exc:  # ragged lists, odd objects
        raise ExportError(
            f"x must be an array of numbers with shape {want}; numpy could not read it ({exc})"
        ) from None
    if arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.complexfloating):
        raise ExportError(f"x must hold real numbers, got dtype {arr.dtype}: convert it to float32")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ExportError(
            f"x must hold numbers, got dtype {arr.dtype} (e.g. strings or objects): "
            "convert it with np.asarray(x, dtype=np.float32)"
        )
    if input_dim == 1 and arr.ndim != 1:
        hint = " (wrap one value as [value])" if arr.ndim == 0 else " (flatten it with .ravel())"
        raise ExportError(f"x must have shape [batch], got {arr.shape}{hint}")
    if input_dim > 1 and (arr.ndim != 2 or arr.shape[1] != input_dim):
        hint = " (one query: x.reshape(1, -1))" if arr.shape == (input_dim,) else ""
        raise ExportError(
            f"x must have shape [batch, {input_dim}] (one row per query, {input_dim} features "
            f"like the training x), got {arr.shape}{hint}"
        )
    if arr.shape[0] == 0:
        raise ExportError(f"x is an empty batch: give at least one query, shape {want}")
    finite = np.isfinite(arr)
    if not finite.all():
        first = tuple(int(i) for i in np.argwhere(~finite)[0])
        where = first[0] if len(first) == 1 else first
        raise ExportError(
            f"x holds {int((~finite).sum())} NaN/inf value(s), the first at index {where}: "
            "drop or fill those before calling the model"
        )
    if dtype is np.float32 and np.issubdtype(arr.dtype, np.floating) and arr.dtype != dtype:
        if np.abs(arr).max() > _FLOAT32_MAX:
            raise ExportError(
                f"x holds values beyond float32's range (±{_FLOAT32_MAX:.3g}): rescale them"
            )
    return np.ascontiguousarray(arr, dtype=dtype)


def load_session(path: str | os.PathLike, prefer_gpu: bool = True) -> NWSession:
    """Open an exported model (model.onnx, or the directory holding it) for inference.

    >>> load_session("/no/such/model.onnx")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    export.errors.ExportError: no model file at /no/such/model.onnx: export one with ...

    With prefer_gpu, uses CUDAExecutionProvider when onnxruntime has it, a GPU driver is
    present and a session really starts on it; otherwise the CPU. `provider` says which was
    chosen and `provider_note` why; the choice is also logged (logger "export", INFO).
    """
    model_path = Path(path)
    if model_path.is_dir():
        model_path = model_path / "model.onnx"
    try:
        data = model_path.read_bytes()
    except FileNotFoundError:
        raise ExportError(
            f"no model file at {model_path}: export one with `python -m export --out DIR`, "
            "or check the path"
        ) from None
    except OSError as exc:
        raise ExportError(f"cannot read {model_path}: {exc.strerror}; check the path") from None
    if not data:
        raise ExportError(f"{model_path} is empty (0 bytes): export the model again")
    session, note = _open(data, model_path, prefer_gpu)
    inputs, outputs = session.get_inputs(), session.get_outputs()
    names = ([i.name for i in inputs], [o.name for o in outputs])
    dtype = _DTYPES.get(inputs[0].type)
    if names != (["x"], ["y_hat", "attention_weights"]) or dtype is None:
        raise ExportError(
            f"{model_path} is an ONNX model but not an NW attention export (inputs {names[0]}, "
            f"outputs {names[1]}); point to a model.onnx written by `python -m export`"
        )
    x_shape, w_shape = inputs[0].shape, outputs[1].shape
    input_dim = 1 if len(x_shape) == 1 else int(x_shape[1])
    heads = 1 if len(w_shape) == 2 else int(w_shape[1])
    meta = dict(session.get_modelmeta().custom_metadata_map)
    provider = session.get_providers()[0]
    log.info("export: %s runs on %s", model_path, note)
    return NWSession(
        path=model_path,
        session=session,
        provider=provider,
        provider_note=note,
        metadata=meta,
        heads=heads,
        input_dim=input_dim,
        n_keys=int(w_shape[-1]),
        dtype=dtype,
    )


def cuda_unavailable_reason() -> str | None:
    """Why CUDA cannot be tried here (None when it is worth trying).

    >>> isinstance(cuda_unavailable_reason(), (str, type(None)))
    True
    """
    if _CUDA not in ort.get_available_providers():
        return "this onnxruntime has no CUDA provider (install onnxruntime-gpu)"
    if not _nvidia_driver_present():
        return "no NVIDIA driver found (no GPU on this machine)"
    return None


def _open(data: bytes, model_path: Path, prefer_gpu: bool) -> tuple[ort.InferenceSession, str]:
    reason = "GPU not requested (prefer_gpu=False)"
    if prefer_gpu:
        reason = cuda_unavailable_reason()
        if reason is None:
            session, reason = _try_cuda(data)
            if session is not None:
                return session, "CUDAExecutionProvider (GPU)"
    try:
        session = ort.InferenceSession(data, providers=[_CPU])
    except Exception as exc:  # onnxruntime raises its own types for bad files
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        raise ExportError(
            f"{model_path} is not a readable ONNX model ({detail}); the file is damaged or "
            "truncated: export it again with `python -m export --out DIR`"
        ) from None
    return session, f"CPUExecutionProvider ({reason})"


def _try_cuda(data: bytes) -> tuple[ort.InferenceSession | None, str]:
    """A session whose first provider really is CUDA, or None and the reason it is not."""
    if hasattr(ort, "preload_dlls"):  # loads CUDA/cuDNN from pip's nvidia-* wheels if present
        with contextlib.suppress(Exception), contextlib.redirect_stdout(io.StringIO()):
            ort.preload_dlls()
    for options in (_CUDA_OPTIONS, {}):  # retry bare if this onnxruntime rejects an option
        try:
            session = ort.InferenceSession(data, providers=[(_CUDA, options), _CPU])
        except Exception as exc:
            reason = f"CUDA session failed: {str(exc).strip()[:200]}"
            continue
        if session.get_providers()[0] == _CUDA:
            return session, ""
        reason = (
            "onnxruntime could not start CUDA (CUDA 13 / cuDNN 9 libraries missing? "
            "pip install 'onnxruntime-gpu[cuda,cudnn]')"
        )
        break
    return None, reason


def _nvidia_driver_present() -> bool:
    system = platform.system()
    names = {"Linux": ["libcuda.so.1", "libcuda.so"], "Windows": ["nvcuda.dll"]}.get(system, [])
    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False

"""Check an exported model before anyone relies on it: graph first, then numbers against torch.

Order (as in the PyTorch ONNX tutorial): `onnx.checker`, standard ops only, nothing stored
outside the file; then plain onnxruntime (CPU) against torch eager on the training points and on
fresh queries at batch sizes 1, 7 and 10,000: names, then shapes, then values. torch is the
source of truth: onnxruntime must reproduce the traced module run eagerly in float32, and that
module in float64 must reproduce nwcore's own ParametricNW.forward in float64.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np
import onnx
import onnxruntime as ort
import torch

from export.errors import ExportError, ParityError
from export.onnx_model import INPUT_NAME, OUTPUT_NAMES, ExportModule
from nwcore import TrainResult

__all__ = [
    "ATOL",
    "FIDELITY_TOL",
    "BATCH_SIZES",
    "ParityReport",
    "check_graph",
    "check_parity",
    "parity_queries",
]

ATOL = 1e-5  # the float32 bar: a few units in the 7th digit of numbers of order 1
FIDELITY_TOL = 1e-7  # float64 module vs nwcore: only rounding far below float32's remains
BATCH_SIZES = (1, 7, 10_000)
# The largest check builds (B, H, K) weights several times over, in float64 for the
# references; this bounds each copy to about 160 MB, so a model with more than 2,000 keys
# (heads x training points) is checked at a smaller "large" batch. The card lists the sizes.
_MAX_CHECK_ENTRIES = 20_000_000
_STANDARD_DOMAINS = frozenset({"", "ai.onnx"})


@dataclass(frozen=True)
class ParityReport:
    """How far onnxruntime is from torch, per check and overall."""

    max_abs_error: float  # ONNX vs torch float32, over every output of every check
    max_abs_error_float64: float  # ONNX vs the float64 trained model: float32 rounding, for info
    fidelity_error: float  # traced module vs nwcore's model, both float64
    tolerance_y: float  # allowed |y_hat error|: ATOL, times max|y| when |y| > 1
    tolerance_weights: float  # allowed |attention weight error|
    batch_sizes: tuple[int, ...]  # every batch size that was run
    errors: dict[str, float] = field(default_factory=dict)  # check name -> max abs error

    def as_dict(self) -> dict:
        return {
            "runtime": "onnxruntime CPUExecutionProvider vs torch eager",
            "max_abs_error": self.max_abs_error,
            "tolerance_y_hat": self.tolerance_y,
            "tolerance_attention_weights": self.tolerance_weights,
            "errors": dict(self.errors),
            "batch_sizes": list(self.batch_sizes),
            "fidelity_error_float64": self.fidelity_error,
            "fidelity_tolerance": FIDELITY_TOL,
            "max_abs_error_vs_float64_model": self.max_abs_error_float64,
            "note": (
                "max_abs_error: onnxruntime vs the traced module in torch, float32. fidelity: "
                "that module vs nwcore's ParametricNW, both float64. vs_float64_model: what "
                "float32 costs against the float64 training model (a boxcar's hard window edge "
                "can move a key in or out there); reported, not judged"
            ),
        }


def check_graph(model: onnx.ModelProto) -> None:
    """onnx.checker, standard domains only, no external data, the contract's names and ranks.

    >>> check_graph(onnx.ModelProto())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    export.errors.ExportError: the exported model fails onnx.checker (...)
    """
    try:
        onnx.checker.check_model(model, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
        raise ExportError(f"the exported model fails onnx.checker ({first})") from None
    domains = {o.domain for o in model.opset_import} | {n.domain for n in model.graph.node}
    custom = sorted(domains - _STANDARD_DOMAINS)
    if custom or len(model.functions):
        raise ExportError(
            f"the exported graph uses non-standard ops (domains {custom}, "
            f"{len(model.functions)} local functions); this is a bug in export, please report it"
        )
    external = [
        t.name for t in model.graph.initializer if t.data_location == onnx.TensorProto.EXTERNAL
    ]
    if external:
        raise ExportError(f"initializers {external} are stored outside the file: a bug in export")
    inputs = [i.name for i in model.graph.input]
    outputs = [o.name for o in model.graph.output]
    if inputs != [INPUT_NAME] or outputs != list(OUTPUT_NAMES):
        raise ExportError(
            f"the exported graph has inputs {inputs} and outputs {outputs}, "
            f"expected [{INPUT_NAME!r}] and {list(OUTPUT_NAMES)}: a bug in export"
        )


def parity_queries(keys: np.ndarray, heads: int = 1, seed: int = 0) -> dict[str, np.ndarray]:
    """Query sets for the parity check: the training points, then fresh batches of 1, 7, many.

    >>> qs = parity_queries(np.linspace(0.0, 5.0, 20))
    >>> {name: q.shape for name, q in qs.items()}
    {'train': (20,), 'batch_1': (1,), 'batch_7': (7,), 'batch_10000': (10000,)}

    Fresh queries are uniform over the data range widened by its span on both sides, and the
    batches of 7 and more also hold points 100 spans away, where a compact kernel has no key
    in its window and the nearest-key fallback must match torch too.
    """
    keys = np.asarray(keys, dtype=np.float32)
    rng = np.random.default_rng(seed)
    lo, hi = keys.min(axis=0), keys.max(axis=0)  # () or (D,)
    span = np.maximum(hi - lo, 1e-3)
    n_keys = keys.shape[0]
    big = min(BATCH_SIZES[-1], max(BATCH_SIZES[-2] + 1, _MAX_CHECK_ENTRIES // (heads * n_keys)))
    queries = {"train": keys}
    for size in (*BATCH_SIZES[:-1], big):
        shape = (size,) + keys.shape[1:]
        q = lo - span + 3 * span * rng.random(shape)  # (B,) or (B, D)
        if size >= 7:
            q[0], q[1] = lo - 100 * span, hi + 100 * span  # empty windows
        queries[f"batch_{size}"] = q.astype(np.float32)
    return queries


def check_parity(
    result: TrainResult,
    model_bytes: bytes,
    extra: dict[str, np.ndarray] | None = None,
) -> tuple[ParityReport, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Run the model with plain onnxruntime on CPU and compare with torch eager.

    Two bars, both must hold on every query set:
    - parity: onnxruntime vs the traced module run eagerly by torch in float32, within ATOL
      (y_hat: ATOL times max|y| when |y| > 1, since float32 keeps ~7 significant digits);
    - fidelity: that module in float64 vs nwcore's own ParametricNW.forward in float64, within
      FIDELITY_TOL. This proves the module computes nwcore's function (for x in R^d it spells
      the distance out instead of torch.cdist) without float32 rounding in the way: far from
      the data a Gaussian score is ~u^2/2 in the hundreds, where two correct float32 paths
      with different rounding already differ by ~1e-5.
    The difference between onnxruntime and nwcore's float64 model is reported, not judged.

    Returns the report and the onnxruntime outputs per query set (so callers can score them);
    raises ParityError if any name, shape or value is off, or any output is not finite.
    """
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    _check_names(session)
    heads = int(result.model.heads)
    y_scale = max(1.0, float(result.y.detach().abs().max()))
    tol_y, tol_w = ATOL * y_scale, ATOL
    traced32 = ExportModule(result.model, result.x, result.y, torch.float32).eval()
    traced64 = ExportModule(result.model, result.x, result.y, torch.float64).eval()
    nw64 = copy.deepcopy(result.model).double().eval()
    keys64, values64 = result.x.detach().double(), result.y.detach().double()
    queries = parity_queries(traced32.keys.numpy(), heads)
    queries.update(extra or {})
    errors: dict[str, float] = {}
    worst64 = worst_fid = 0.0
    outputs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, q in queries.items():
        q = np.ascontiguousarray(q, dtype=np.float32)
        y_onnx, w_onnx = session.run(list(OUTPUT_NAMES), {INPUT_NAME: q})
        with torch.no_grad():
            y32, w32 = traced32(torch.from_numpy(q))
            y64, w64 = traced64(torch.from_numpy(q).double())
            y_nw, w_nw = _squeeze(nw64(torch.from_numpy(q).double(), keys64, values64), heads)
        for label, got, want in (("y_hat", y_onnx, y32), ("attention_weights", w_onnx, w32)):
            if got.shape != tuple(want.shape):
                raise ParityError(
                    f"{label} has shape {got.shape} in onnxruntime but {tuple(want.shape)} in "
                    f"torch for the {name!r} queries: a bug in export; nothing was written"
                )
            if not np.isfinite(got).all():
                raise ParityError(
                    f"{label} holds NaN/inf for the {name!r} queries: a bug in export; "
                    "nothing was written"
                )
        err_y, err_w = _max_abs(y_onnx, y32), _max_abs(w_onnx, w32)
        if err_y > tol_y or err_w > tol_w:
            raise ParityError(
                f"onnxruntime differs from torch on the {name!r} queries: |y_hat error| "
                f"{err_y:.3g} (tolerance {tol_y:.3g}), |weight error| {err_w:.3g} (tolerance "
                f"{tol_w:.3g}); nothing was written. Very large x or y lose digits in float32: "
                "rescale the data (e.g. to units near 1) and export again"
            )
        fid = max(_max_abs(y64, y_nw) / y_scale, _max_abs(w64, w_nw))
        if not fid <= FIDELITY_TOL:
            raise ParityError(
                f"the exported module differs from nwcore's model by {fid:.3g} in float64 on "
                f"the {name!r} queries (tolerance {FIDELITY_TOL:g}): a bug in export; "
                "nothing was written"
            )
        errors[name] = max(err_y, err_w)
        worst_fid = max(worst_fid, fid)
        worst64 = max(worst64, _max_abs(y_onnx, y_nw), _max_abs(w_onnx, w_nw))
        outputs[name] = (y_onnx, w_onnx)
    report = ParityReport(
        max_abs_error=max(errors.values()),
        max_abs_error_float64=worst64,
        fidelity_error=worst_fid,
        tolerance_y=tol_y,
        tolerance_weights=tol_w,
        batch_sizes=tuple(sorted({int(q.shape[0]) for q in queries.values()})),
        errors=errors,
    )
    return report, outputs


def _max_abs(a, b) -> float:
    a = a.numpy() if isinstance(a, torch.Tensor) else a
    b = b.numpy() if isinstance(b, torch.Tensor) else b
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max(initial=0.0))


def _squeeze(out: tuple[torch.Tensor, torch.Tensor], heads: int):
    y_hat, weights = out  # (Q,), (Q, H, K)
    return y_hat, weights[:, 0, :] if heads == 1 else weights  # (Q, K) for one head


def _check_names(session: ort.InferenceSession) -> None:
    inputs = [(i.name, i.type) for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    if inputs != [(INPUT_NAME, "tensor(float)")] or outputs != list(OUTPUT_NAMES):
        raise ParityError(
            f"onnxruntime sees inputs {inputs} and outputs {outputs}, expected "
            f"[({INPUT_NAME!r}, 'tensor(float)')] and {list(OUTPUT_NAMES)}: a bug in export"
        )
    batch = session.get_inputs()[0].shape[0]  # a name such as "batch" when dynamic
    if not isinstance(batch, str):
        raise ParityError(f"the batch axis of x is fixed ({batch!r}), not dynamic: a bug in export")

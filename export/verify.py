"""Check an exported model before anyone relies on it: graph first, then numbers against torch.

Order (as in the PyTorch ONNX tutorial): `onnx.checker`, standard ops only, nothing stored
outside the file; then plain onnxruntime (CPU) against torch eager on the training points and on
fresh queries at batch sizes 1, 7 and 10,000: names, then shapes, then values. torch is the
source of truth: onnxruntime must reproduce the traced module run eagerly in float32, and that
module in float64 must reproduce nwcore's own ParametricNW.forward in float64.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np
import onnx
import onnxruntime as ort
import torch

from export.errors import ExportError, ParityError
from export.onnx_model import DTYPE_NAMES, INPUT_NAME, OUTPUT_NAMES, ExportModule
from nwcore import TrainResult
from nwcore.pooling import pairwise_distance

__all__ = [
    "ATOL",
    "FIDELITY_TOL",
    "ACCURACY_TOL",
    "BATCH_SIZES",
    "ParityReport",
    "check_graph",
    "check_parity",
    "parity_queries",
]

ATOL = 1e-5  # the float32 bar: a few units in the 7th digit of numbers of order 1
FIDELITY_TOL = 1e-7  # float64 module vs nwcore: only rounding far below float32's remains
# The model vs nwcore's float64 model: float32 keeps ~7 digits and a Gaussian score of ~100
# amplifies its rounding ~100-fold, so 1e-4 (of max|y| for y_hat) passes every sound model
# and refuses one that has lost the data (x = 1e8 + [0, 5] gives errors of order max|y|).
ACCURACY_TOL = 1e-4
_EDGE = 1e-5  # |u| this close to 1: float32 rounding may move a key across a boxcar's edge
_ORT_TYPES = {np.float32: "tensor(float)", np.float64: "tensor(double)"}
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
    accuracy_tolerance_y: float = math.nan  # allowed |y_hat error| vs the float64 model
    edge_queries: int = 0  # boxcar queries at a window edge, left out of the accuracy bar

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
            "max_error_vs_float64_model": self.max_abs_error_float64,
            "accuracy_tolerance": ACCURACY_TOL,
            "accuracy_tolerance_y_hat": self.accuracy_tolerance_y,
            "accuracy_edge_queries_left_out": self.edge_queries,
            "note": (
                "max_abs_error: onnxruntime vs the traced module in torch, float32. fidelity: "
                "that module vs nwcore's ParametricNW, both float64. vs_float64_model: the "
                "exported model against nwcore's float64 model, max of |y_hat error| / max|y| "
                "and |weight error|, judged against accuracy_tolerance (boxcar queries with a "
                "key at the window edge left out)"
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
    keys = np.asarray(keys, dtype=np.float64)
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
        queries[f"batch_{size}"] = q
    return queries  # float64: the model's input dtype rounds them as a caller's would


def check_parity(
    result: TrainResult,
    model_bytes: bytes,
    extra: dict[str, np.ndarray] | None = None,
    dtype: torch.dtype = torch.float32,
) -> tuple[ParityReport, dict[str, tuple[np.ndarray, np.ndarray]]]:
    """Run the model with plain onnxruntime on CPU and compare with torch eager.

    Three bars, all must hold on every query set (the training points and fresh queries,
    made in float64 and rounded to the model's dtype as a caller's would be):
    - parity: onnxruntime vs the traced module run eagerly by torch in the model's dtype,
      within ATOL (y_hat: ATOL times max|y| when |y| > 1, since float32 keeps ~7 digits);
    - fidelity: that module in float64 vs nwcore's own ParametricNW.forward in float64, within
      FIDELITY_TOL. This proves the module computes nwcore's function (in the data's frame,
      and for x in R^d with the distance spelled out instead of torch.cdist);
    - accuracy: onnxruntime vs nwcore's float64 model, within ACCURACY_TOL (y_hat: times
      max|y|). A float32 model that cannot resolve the data (x = 1e8 + [0, 5]) fails here
      with ExportError, the advice being `--dtype float64`. For the boxcar, queries with a
      key within float32 rounding of the hard window edge (|u| within 1e-5 of 1) are left
      out of this bar, and counted: there float32 and float64 may rightly disagree.

    Returns the report and the onnxruntime outputs per query set (so callers can score them);
    raises ParityError if any name, shape or value is off, or any output is not finite.
    """
    np_dtype = np.float32 if dtype == torch.float32 else np.float64
    session = ort.InferenceSession(model_bytes, providers=["CPUExecutionProvider"])
    _check_names(session, _ORT_TYPES[np_dtype])
    heads = int(result.model.heads)
    y_scale = max(1.0, float(result.y.detach().abs().max()))
    tol_y, tol_w = ATOL * y_scale, ATOL
    y_max = float(result.y.detach().abs().max())
    acc_y, acc_w = ACCURACY_TOL * max(y_max, np.finfo(np.float64).tiny), ACCURACY_TOL
    traced = ExportModule(result.model, result.x, result.y, dtype).eval()
    traced64 = ExportModule(result.model, result.x, result.y, torch.float64).eval()
    nw64 = copy.deepcopy(result.model).double().eval()
    keys64, values64 = result.x.detach().double(), result.y.detach().double()
    queries = parity_queries(keys64.numpy(), heads)
    queries.update(extra or {})
    errors: dict[str, float] = {}
    worst64 = worst_fid = 0.0
    edge = 0
    outputs: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for name, q64 in queries.items():
        q64 = np.ascontiguousarray(q64, dtype=np.float64)
        q = q64.astype(np_dtype)
        y_onnx, w_onnx = session.run(list(OUTPUT_NAMES), {INPUT_NAME: q})
        with torch.no_grad():
            y32, w32 = traced(torch.from_numpy(q))
            y64, w64 = traced64(torch.from_numpy(q64))
            y_nw, w_nw = _squeeze(nw64(torch.from_numpy(q64), keys64, values64), heads)
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
                "export with --dtype float64"
            )
        fid = max(_max_abs(y64, y_nw) / y_scale, _max_abs(w64, w_nw))
        if not fid <= FIDELITY_TOL:
            raise ParityError(
                f"the exported module differs from nwcore's model by {fid:.3g} in float64 on "
                f"the {name!r} queries (tolerance {FIDELITY_TOL:g}): a bug in export; "
                "nothing was written"
            )
        keep = _off_edge(result, q64)  # (Q,) bool
        edge += int((~keep).sum())
        a_y = _max_abs(y_onnx[keep], y_nw.numpy()[keep])
        a_w = _max_abs(w_onnx[keep], w_nw.numpy()[keep])
        if a_y > acc_y or a_w > acc_w:
            advice = (
                "float32 cannot resolve this data (a large offset or an extreme scale in x or "
                "y): export with --dtype float64"
                if dtype == torch.float32
                else "a bug in export, please report it"
            )
            raise ExportError(
                f"the {DTYPE_NAMES[dtype]} model differs from the float64 reference on the "
                f"{name!r} queries: |y_hat error| {a_y:.3g} (tolerance {acc_y:.3g} = "
                f"{ACCURACY_TOL:g} x max|y|), |weight error| {a_w:.3g} (tolerance "
                f"{acc_w:g}); nothing was written. {advice}"
            )
        errors[name] = max(err_y, err_w)
        worst_fid = max(worst_fid, fid)
        worst64 = max(worst64, a_y / max(y_max, 1e-300), a_w)
        outputs[name] = (y_onnx, w_onnx)
    report = ParityReport(
        max_abs_error=max(errors.values()),
        max_abs_error_float64=worst64,
        fidelity_error=worst_fid,
        tolerance_y=tol_y,
        tolerance_weights=tol_w,
        batch_sizes=tuple(sorted({int(q.shape[0]) for q in queries.values()})),
        errors=errors,
        accuracy_tolerance_y=acc_y,
        edge_queries=edge,
    )
    return report, outputs


def _off_edge(result: TrainResult, q64: np.ndarray) -> np.ndarray:
    """(Q,) True where no key sits within float32 rounding of a boxcar's window edge."""
    if result.model.kernel != "boxcar":
        return np.ones(q64.shape[0], dtype=bool)
    with torch.no_grad():
        dist = pairwise_distance(torch.from_numpy(q64), result.x.detach().double())  # (Q, K)
        u = dist[:, None, :] * result.model.w.detach().double().abs()[None, :, None]  # (Q,H,K)
    return ~((u - 1.0).abs() <= _EDGE).flatten(1).any(dim=1).numpy()


def _max_abs(a, b) -> float:
    a = a.numpy() if isinstance(a, torch.Tensor) else a
    b = b.numpy() if isinstance(b, torch.Tensor) else b
    return float(np.abs(a.astype(np.float64) - b.astype(np.float64)).max(initial=0.0))


def _squeeze(out: tuple[torch.Tensor, torch.Tensor], heads: int):
    y_hat, weights = out  # (Q,), (Q, H, K)
    return y_hat, weights[:, 0, :] if heads == 1 else weights  # (Q, K) for one head


def _check_names(session: ort.InferenceSession, ort_type: str) -> None:
    inputs = [(i.name, i.type) for i in session.get_inputs()]
    outputs = [o.name for o in session.get_outputs()]
    if inputs != [(INPUT_NAME, ort_type)] or outputs != list(OUTPUT_NAMES):
        raise ParityError(
            f"onnxruntime sees inputs {inputs} and outputs {outputs}, expected "
            f"[({INPUT_NAME!r}, {ort_type!r})] and {list(OUTPUT_NAMES)}: a bug in export"
        )
    batch = session.get_inputs()[0].shape[0]  # a name such as "batch" when dynamic
    if not isinstance(batch, str):
        raise ParityError(f"the batch axis of x is fixed ({batch!r}), not dynamic: a bug in export")

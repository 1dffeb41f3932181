"""Trace a trained ParametricNW to a self-contained ONNX graph.

The graph takes x float32 (B,) for 1-D data or (B, D) for data in R^D and returns y_hat (B,)
and attention_weights (B, K) for one head or (B, H, K) for H heads. The K training keys and
values are initializers inside the file, the batch axis B is dynamic and named "batch", and
only standard ONNX ops are used.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import threading
import warnings
from collections.abc import Iterator, Mapping

import onnx
import torch
from torch import nn

from export.errors import ExportError
from nwcore import ParametricNW, TrainResult
from nwcore.frame import frame_of
from nwcore.pooling import kernel_attention

__all__ = [
    "ExportModule",
    "to_onnx",
    "OPSET",
    "IR_VERSION",
    "INPUT_NAME",
    "OUTPUT_NAMES",
    "DTYPES",
]

OPSET = 18  # onnxruntime >= 1.14 and the onnxruntime backends of current Triton releases run it
IR_VERSION = 8  # the IR version opset 18 shipped with: runtimes older than the exporter read it
INPUT_NAME = "x"
OUTPUT_NAMES = ("y_hat", "attention_weights")
BATCH_AXIS = "batch"
DTYPES = {"float32": torch.float32, "float64": torch.float64}
DTYPE_NAMES = {v: k for k, v in DTYPES.items()}

# torch.export keeps global state while tracing; Streamlit serves sessions from threads.
_TRACE_LOCK = threading.Lock()


class ExportModule(nn.Module):
    """ParametricNW with its training keys and values inside, computing in the data's frame.

    >>> from nwcore import train_parametric
    >>> x = torch.linspace(0, 5, 10, dtype=torch.float64)
    >>> r = train_parametric(x, x.sin())
    >>> y_hat, weights = ExportModule(r.model, r.x, r.y)(torch.tensor([1.0, 2.0]))
    >>> y_hat.shape, weights.shape  # one head: weights are (B, K)
    (torch.Size([2]), torch.Size([2, 10]))

    The graph first maps x to x' = (x - centre) / scale (nwcore.frame: the training points lie
    in [-1, 1], the scale is a power of two) and keeps the keys and w' = w * scale in that
    frame, so every u = |x - x_i| w is the same number while offsets such as 1e8 and scales
    such as 1e30 no longer cost float32 its digits. The frame is computed in float64.
    """

    def __init__(
        self,
        model: ParametricNW,
        keys: torch.Tensor,
        values: torch.Tensor,
        dtype: torch.dtype = torch.float32,  # the model's dtype; float64 also serves as reference
    ):
        super().__init__()
        keys64 = keys.detach().double()
        frame = frame_of(keys64)
        self.net = copy.deepcopy(model).double().eval().requires_grad_(False)
        with torch.no_grad():
            self.net.w.copy_(frame.w_to_unit(self.net.w))  # (H,) w' per unit of x'
        self.net = self.net.to(dtype)
        self.heads = int(model.heads)
        self.register_buffer("centre", frame.centre.to(dtype).clone())  # () or (D,)
        self.register_buffer("inv_scale", torch.tensor(1.0 / frame.scale, dtype=dtype))  # ()
        self.register_buffer("keys", frame.to_unit(keys64).to(dtype).clone())  # (K,) or (K, D)
        self.register_buffer("values", values.detach().to(dtype).clone())  # (K,)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = (x - self.centre) * self.inv_scale  # (B,) or (B, D): x' (exact: a power of two)
        if x.ndim == 1:
            dist = (x[:, None] - self.keys[None, :]).abs()  # (B, K)
        else:
            # nwcore measures ||x - x_i|| with torch.cdist, which has no ONNX conversion in
            # torch 2.13; this is the same exact-difference distance, spelled out so that torch
            # and onnxruntime round alike: far from the data a Gaussian score is in the
            # hundreds, where one ulp of distance shows as 1e-5 in the weights. So the sum over
            # D runs in a fixed order (unrolled), and the square root is taken in float64:
            # onnxruntime's float32 Sqrt is off by an ulp at times, the float64 one rounded to
            # float32 is the correctly rounded result, like torch's.
            diff = x[:, None, :] - self.keys[None, :, :]  # (B, K, D)
            dist2 = diff[..., 0] * diff[..., 0]  # (B, K)
            for j in range(1, diff.shape[-1]):
                dist2 = dist2 + diff[..., j] * diff[..., j]  # (B, K)
            dist = dist2.double().sqrt().to(x.dtype)  # (B, K)
        # nwcore's rule for empty windows (the nearest key) stays for every kernel: a
        # Gaussian has none in exact arithmetic, but its scores overflow to -inf in float32
        # for queries far enough away (|u| > 1.8e19) or a very narrow kernel.
        weights, _ = kernel_attention(dist, self.net.w, self.net.kernel)  # (B, H, K)
        y_hat = (weights @ self.values) @ self.net.mixture()  # (B, H) @ (H,) -> (B,)
        if self.heads == 1:
            weights = weights[:, 0, :]  # (B, K): the SPEC's single-head layout
        return y_hat, weights


def to_onnx(
    result: TrainResult,
    metadata: Mapping[str, str] | None = None,
    dtype: torch.dtype = torch.float32,
) -> onnx.ModelProto:
    """Trace `result` (model + training data) to an in-memory, self-contained ONNX model.

    >>> from nwcore import train_parametric
    >>> x = torch.linspace(0, 5, 10, dtype=torch.float64)
    >>> proto = to_onnx(train_parametric(x, x.sin()), {"kernel": "gaussian"})
    >>> [i.name for i in proto.graph.input], [o.name for o in proto.graph.output]
    (['x'], ['y_hat', 'attention_weights'])

    Raises ExportError if tracing fails. The caller still has to check the result
    (`export.verify`): tracing success says nothing about numbers.
    """
    module = ExportModule(result.model, result.x, result.y, dtype).eval()
    example = _example_queries(module.keys)
    try:
        with _TRACE_LOCK, _quiet_exporter():
            program = torch.onnx.export(
                module,
                (example,),
                input_names=[INPUT_NAME],
                output_names=list(OUTPUT_NAMES),
                dynamic_shapes=({0: torch.export.Dim(BATCH_AXIS)},),
                opset_version=OPSET,
                dynamo=True,
                optimize=True,
                verbose=False,
            )
    except Exception as exc:  # the exporter raises many types; all mean the same to a user
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExportError(
            f"tracing the model to ONNX failed ({first}); this is a bug in export, "
            "please report it with the command you ran"
        ) from exc
    proto = program.model_proto
    for node in proto.graph.node:  # the tracer's stack traces: local paths, 80% of the bytes
        del node.metadata_props[:]
    proto.ir_version = min(proto.ir_version, IR_VERSION)
    proto.producer_name = "attention-pooling-lab"
    proto.graph.name = "nw_attention_pooling"
    proto.doc_string = (
        "Parametric Nadaraya-Watson attention pooling: y_hat = sum_i alpha(x, x_i) y_i over the "
        "training points stored inside. Metadata holds kernel, w per head and how it was trained."
    )
    _describe_io(proto, int(module.keys.shape[0]), DTYPE_NAMES[dtype])
    if metadata:
        onnx.helper.set_model_props(proto, {str(k): str(v) for k, v in metadata.items()})
    return proto


def _example_queries(keys: torch.Tensor) -> torch.Tensor:
    """A small example batch whose size differs from K, so the tracer cannot tie B to K."""
    n = 5 if keys.shape[0] != 5 else 6
    return keys[torch.arange(n) % keys.shape[0]].clone()  # (n,) or (n, D), in the model's dtype


def _describe_io(proto: onnx.ModelProto, n_keys: int, dtype: str) -> None:
    docs = {
        INPUT_NAME: f"query points, {dtype} [batch] (1-D data) or [batch, d]",
        "y_hat": f"prediction per query, {dtype} [batch]",
        "attention_weights": (
            f"weight of each of the {n_keys} training points per query (rows sum to 1): "
            "[batch, n_keys] for one head, [batch, heads, n_keys] for several"
        ),
    }
    for value in [*proto.graph.input, *proto.graph.output]:
        value.doc_string = docs.get(value.name, "")


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Silence the exporter's chatter (missing torchvision, deprecations) while tracing."""
    logger = logging.getLogger("torch.onnx")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logger.setLevel(level)

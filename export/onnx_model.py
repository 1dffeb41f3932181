"""Trace a trained ParametricNW to a self-contained ONNX graph.

The graph takes x float32 (B,) for 1-D data or (B, D) for data in R^D and returns y_hat (B,)
and attention_weights (B, K) for one head or (B, H, K) for H heads. The K training keys and
values are initializers inside the file, the batch axis B is dynamic and named "batch", and
only standard ONNX ops are used.
"""

from __future__ import annotations

import contextlib
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

__all__ = [
    "ExportModule",
    "GRAPHS",
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


# One line per kernel: the graph that is built (d = x' - x_i' in the frame, r = 1 / |w'|).
# Every formula is the kernel's softmax rewritten so that each op touches [batch, heads, keys]
# once where it can; nwcore.pooling.kernel_attention gives the same weights (checked in float64).
GRAPHS: dict[str, str] = {
    "gaussian": "softmax_i(-w'^2 / 2 * (d_i^2 - min_j d_j^2))",
    "boxcar": "1[|d_i| w' <= max(1, min_j |d_j| w')] / count",
    "constant": "1 / n_keys",
    "epanechnikov": "(r^2 - d_i^2)_+ / sum, nearest key(s) where the sum is 0",
    "triangular": "(r - |d_i|)_+ / sum, nearest key(s) where the sum is 0",
}
# The Gaussian keeps the distance form. The dot-product identity (softmax of [x', 1] @ [w'^2 x_i',
# -w'^2 x_i'^2 / 2], one MatMul) was measured against it on the trained classic models, queries
# over [-5, 10]: float32 weight error vs nwcore's float64 model 1.8e-5 (1 head, w' = 46) and
# 1.0e-5 (3 heads) against 1.2e-6 for the form here, at the same speed within the shared
# machine's noise (3 heads, batch 10,000): its scores grow like w'^2 |x'| and the small
# differences between keys that set the weights cancel in float32. The opset-23 Attention op
# computes that same dot-product form; tests/bench/onnx.py times it beside this graph.
# x' is clipped to +-2^56 (the data lie in [-1, 1]): beyond 2^25 float32, and beyond 2^53
# float64, cannot tell x' - x_i' from x' for any key, so the weights are the same, and
# d^2 summed over up to 60,000 dimensions stays finite in float32.
_CLIP = 2.0**56
# 1 / w' and 1 / w'^2 are capped here so that a sum over 10^8 keys stays finite in float32;
# a w' below 2^-50 is average pooling to float32's precision anyway.
_R_MAX = 2.0**100
# Added to the nearest distance(s) to find the second-nearest: beyond any distance (or squared
# distance) of a clipped query, yet finite in float32.
_FAR = 2.0**120


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

    Then each kernel gets the graph it needs (GRAPHS), all heads at once by broadcasting
    (B, 1, K) against (H, 1): no per-head subgraphs. The Gaussian needs no empty-window
    fallback: scores are shifted by the nearest key's, which is exactly 0, so they never all
    underflow to -inf. A compact kernel's window is empty for head h exactly when the nearest
    key is outside it, which is read off the per-query minimum distance (B, H, 1), not off a
    full (B, H, K) chain. The head mixture is folded into the values: y_hat = weights (B, H*K)
    @ (pi_h y_i) (H*K,), one matrix-vector product.
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
        big = torch.finfo(dtype).max
        w = frame.w_to_unit(model.w.detach().double().abs()).clamp(max=big)  # (H,) |w'|
        mix = torch.softmax(model.mix_logits.detach().double(), dim=0)  # (H,)
        values64 = values.detach().double()  # (K,)
        self.kernel = model.kernel
        self.heads = int(model.heads)
        self.n_keys = int(keys64.shape[0])
        self.register_buffer("centre", frame.centre.to(dtype).clone())  # () or (D,)
        self.register_buffer("inv_scale", torch.tensor(1.0 / frame.scale, dtype=dtype))  # ()
        self.register_buffer("keys", frame.to_unit(keys64).to(dtype).clone())  # (K,) or (K, D)
        head_values = (mix[:, None] * values64[None, :]).reshape(-1)  # (H*K,) pi_h y_i
        self.register_buffer("head_values", head_values.to(dtype))
        if self.kernel == "gaussian":
            param = -(w.square() / 2).clamp(max=big)  # (H,) -w'^2 / 2, finite
        elif self.kernel == "boxcar":
            param = w  # (H,)
        elif self.kernel == "epanechnikov":
            param = w.square().reciprocal().clamp(max=_R_MAX)  # (H,) r^2
        elif self.kernel == "triangular":
            param = w.reciprocal().clamp(max=_R_MAX)  # (H,) r
        else:  # constant: the same weights 1 / K for every query, y_hat the mean of y
            param = values64.mean().expand(self.heads)  # (H,)
        self.register_buffer("param", param.to(dtype)[:, None].clone())  # (H, 1)
        if self.kernel == "constant":
            uniform = torch.full((1, self.heads, self.n_keys), 1.0 / self.n_keys, dtype=dtype)
            self.register_buffer("uniform", uniform)  # (1, H, K)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = ((x - self.centre) * self.inv_scale).clamp(-_CLIP, _CLIP)  # (B,) or (B, D): x'
        if self.kernel == "constant":
            weights = self.uniform.expand(x.shape[0], -1, -1)  # (B, H, K)
            y_hat = self.param[0].expand(x.shape[0])  # (B,): the mean of y
        else:
            weights = self._weights(x)  # (B, H, K)
            # einsum, not @: onnxruntime runs MatMul of [B, H*K] by [H*K] as B small products
            # (measured 8.8 ms at B = 10,000, H*K = 150), Einsum in 0.15 ms
            flat = weights.reshape(-1, self.heads * self.n_keys)  # (B, H*K)
            y_hat = torch.einsum("bk,k->b", flat, self.head_values)  # (B,)
        if self.heads == 1:
            weights = weights[:, 0, :]  # (B, K): the SPEC's single-head layout
        return y_hat, weights

    def _weights(self, x: torch.Tensor) -> torch.Tensor:
        """Attention weights (B, H, K) of the queries x' (B,) or (B, D)."""
        squared = self.kernel in ("gaussian", "epanechnikov")
        dist = self._distance(x, squared)[:, None, :]  # (B, 1, K): d^2 or |d|
        nearest = dist.amin(dim=-1, keepdim=True)  # (B, 1, 1)
        if self.kernel == "gaussian":
            return torch.softmax((dist - nearest) * self.param, dim=-1)  # (B, H, K)
        if self.kernel == "boxcar":
            u = dist * self.param  # (B, H, K) |u|, rounded as nwcore rounds it
            # the window |u| <= 1, widened to the nearest key(s) where it holds none
            edge = (nearest * self.param).clamp(min=1.0)  # (B, H, 1)
            inside = (u <= edge).to(x.dtype)  # (B, H, K)
            return inside / inside.sum(dim=-1, keepdim=True)
        # epanechnikov, triangular: K(u) is proportional to (r^2 - d^2)_+ resp. (r - |d|)_+.
        # Where the nearest key is outside the window (empty), the reach r is replaced by the
        # second-nearest distance: then exactly the nearest key(s) get a positive kernel.
        empty = nearest >= self.param  # (B, H, 1)
        tied = (dist == nearest).to(x.dtype)  # (B, 1, K)
        second = (dist + tied * _FAR).amin(dim=-1, keepdim=True)  # (B, 1, 1), > nearest
        # where(empty, second, r) without Where (slow when broadcasting in onnxruntime):
        # in an empty row second > nearest >= r, elsewhere 0 * second = 0 < r
        reach = torch.maximum(self.param, empty.to(x.dtype) * second)  # (B, H, 1)
        kernel = torch.relu(reach - dist)  # (B, H, K)
        return kernel / kernel.sum(dim=-1, keepdim=True)

    def _distance(self, x: torch.Tensor, squared: bool) -> torch.Tensor:
        """(B, K) squared or plain distance between the queries and the keys, in the frame."""
        if x.ndim == 1:
            diff = x[:, None] - self.keys[None, :]  # (B, K)
            return diff * diff if squared else diff.abs()
        # nwcore measures ||x - x_i|| with torch.cdist, which has no ONNX conversion in
        # torch 2.13; this is the same exact-difference distance, spelled out so that torch
        # and onnxruntime round alike: the sum over D runs in a fixed order (unrolled), and
        # the square root is taken in float64: onnxruntime's float32 Sqrt is off by an ulp
        # at times, the float64 one rounded to float32 is the correctly rounded result, like
        # torch's (it matters at a boxcar's window edge).
        diff = x[:, None, :] - self.keys[None, :, :]  # (B, K, D)
        dist2 = diff[..., 0] * diff[..., 0]  # (B, K)
        for j in range(1, diff.shape[-1]):
            dist2 = dist2 + diff[..., j] * diff[..., j]  # (B, K)
        return dist2 if squared else dist2.double().sqrt().to(x.dtype)


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

"""Attention pooling: average pooling and Nadaraya-Watson kernel regression.

f(x) = sum_i alpha(x, x_i) y_i with alpha(x, .) = softmax_i(log K(|x - x_i| w)).
Queries and keys are (Q,) and (K,) for 1-D data, or (Q, D) and (K, D) in R^D, where the
distance is the Euclidean norm. Values are (K,).

Empty windows. A compact kernel (boxcar, epanechnikov, triangular) can leave a query with no
key where K(u) > 0 (|u| <= 1 for boxcar, |u| < 1 for the other two). Such a query takes
the value of its nearest key (ties share equally):
the limit of the estimate as the window widens until it reaches a key, and what the Gaussian
kernel gives as w grows without bound. `PoolingResult.empty` marks those queries, so a caller
can tell it happened. The same rule covers a Gaussian whose scores all underflow to -inf.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from nwcore._checks import as_bandwidth_param, as_kernel, as_points, as_values, same_space
from nwcore.errors import NWError
from nwcore.frame import frame_of
from nwcore.kernels import TABLE, Kernel
from nwcore.limits import check_dense

__all__ = [
    "PoolingResult",
    "average_pooling",
    "nadaraya_watson",
    "leave_one_out",
    "pairwise_distance",
    "kernel_attention",
    "gaussian_dot_product_features",
    "gaussian_nw_dot_product",
]

# Rows per chunk when weights are not kept: bounds memory to about this many (Q, K) entries.
_CHUNK_ENTRIES = 4_000_000
# (Q, K) matrices alive at once on the dense path: distances, scores, nearest keys, weights.
_DENSE_COPIES = 4


@dataclass(frozen=True)
class PoolingResult:
    """What a pooling returns: predictions, the attention that made them, and empty windows."""

    y_hat: torch.Tensor  # (Q,)
    weights: torch.Tensor | None  # (Q, K); None when the caller asked not to keep them
    empty: torch.Tensor  # (Q,) bool: no key in the window, nearest-key value used


def pairwise_distance(queries: torch.Tensor, keys: torch.Tensor) -> torch.Tensor:
    """|x - x_i| for 1-D points, ||x - x_i|| for points in R^D.

    >>> pairwise_distance(torch.tensor([0.0, 1.0]), torch.tensor([0.5, 3.0]))
    tensor([[0.5000, 3.0000],
            [0.5000, 2.0000]])
    """
    if queries.ndim == 1:
        return (queries[:, None] - keys[None, :]).abs()  # (Q, K)
    # exact differences, not the |a|^2 + |b|^2 - 2ab shortcut that loses digits
    return torch.cdist(queries, keys, compute_mode="donot_use_mm_for_euclid_dist")  # (Q, K)


def kernel_attention(
    dist: torch.Tensor,
    w: torch.Tensor,
    kernel: str | Kernel = "gaussian",
    mask: torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Attention weights from distances: softmax over keys of log K(dist * w).

    >>> weights, empty = kernel_attention(torch.tensor([[0.0, 1.0]]), torch.tensor(1.0))
    >>> weights.sum(-1)
    tensor([1.])

    dist (Q, K); w a scalar, or (H,) for H heads; mask (Q, K) bool, True where a key may be
    used (leave-one-out passes ~eye). Returns weights (Q, K) or (Q, H, K) and empty (Q,) or
    (Q, H).
    """
    score = as_kernel(kernel).score
    if w.ndim == 1:  # one bandwidth per head
        dist = dist.unsqueeze(-2)  # (Q, 1, K)
        w = w[:, None]  # (H, 1)
        mask = None if mask is None else mask.unsqueeze(-2)  # (Q, 1, K)
    scores = score(dist * w)  # (Q, [H,] K) log K
    if mask is not None:
        scores = scores.masked_fill(~mask, -math.inf)
    empty = torch.isneginf(scores).all(dim=-1)  # (Q, [H])
    # Rows with no key in the window fall back to their nearest allowed key(s).
    reach = dist if mask is None else dist.masked_fill(~mask, math.inf)  # (Q, [1,] K)
    nearest = (reach == reach.min(dim=-1, keepdim=True).values).to(scores.dtype)
    nearest = nearest / nearest.sum(dim=-1, keepdim=True)  # (Q, [1,] K)
    # Zeroed scores keep the softmax (and its gradient) finite on the rows we replace.
    safe = torch.where(empty.unsqueeze(-1), torch.zeros_like(scores), scores)
    weights = torch.softmax(safe, dim=-1)  # (Q, [H,] K)
    weights = torch.where(empty.unsqueeze(-1), nearest.expand_as(weights), weights)
    return weights, empty


def average_pooling(queries: Any, values: Any) -> PoolingResult:
    """f(x) = mean(y): every query gets the same weights 1/K.

    >>> average_pooling([0.0, 1.0], [1.0, 2.0, 6.0]).y_hat
    tensor([3., 3.], dtype=torch.float64)
    """
    q = as_points(queries, "queries")
    v = _value_vector(values)
    n_q, n_k = q.shape[0], v.shape[0]
    weights = torch.full((n_q, n_k), 1.0 / n_k, dtype=v.dtype)  # (Q, K)
    return PoolingResult(
        y_hat=v.mean().expand(n_q).clone(),  # (Q,)
        weights=weights,
        empty=torch.zeros(n_q, dtype=torch.bool),
    )


def _value_vector(values: Any) -> torch.Tensor:
    v = as_points(values, "values")
    if v.ndim != 1:
        raise NWError(f"values must have shape (N,), got {tuple(v.shape)}")
    return v


def nadaraya_watson(
    queries: Any,
    keys: Any,
    values: Any,
    kernel: str = "gaussian",
    w: Any = 1.0,
    *,
    need_weights: bool = True,
) -> PoolingResult:
    """Nonparametric attention pooling with kernel K and width w (bandwidth 1/|w|).

    >>> x = torch.tensor([0.0, 1.0, 2.0]); y = torch.tensor([0.0, 1.0, 4.0])
    >>> nadaraya_watson(torch.tensor([1.0]), x, y, "boxcar", w=2.0).y_hat
    tensor([1.])

    queries (Q,) or (Q, D); keys (K,) or (K, D); values (K,). w = 0 gives average pooling,
    a negative w the same as |w|, a huge w the nearest key. With need_weights=False the
    (Q, K) weights are not kept and queries are processed in chunks to bound memory; with
    need_weights=True a (Q, K) above nwcore.DENSE_BYTES_LIMIT is refused before allocating.
    """
    kernel = as_kernel(kernel)
    q, k, v, w_t = _check_pooling_inputs(queries, keys, values, kernel, w)
    if need_weights:
        _check_dense_weights(q, k, "nadaraya_watson")
    return _pool(q, k, v, kernel, w_t, loo=False, need_weights=need_weights)


def leave_one_out(
    x: Any, y: Any, kernel: str = "gaussian", w: Any = 1.0, *, need_weights: bool = True
) -> PoolingResult:
    """Leave-one-out predictions: point i is predicted from all the others.

    >>> leave_one_out([0.0, 1.0, 2.0], [1.0, 2.0, 3.0], "constant").y_hat
    tensor([2.5000, 2.0000, 1.5000], dtype=torch.float64)

    Their mean squared error against y is least-squares cross-validation: the objective the
    `converged` training mode and `loo_bandwidth` minimise. Needs at least 2 points.
    need_weights=False pools in chunks without keeping the (N, N) weights, as in
    `nadaraya_watson`.
    """
    kernel = as_kernel(kernel)
    xs, _, ys, w_t = _check_pooling_inputs(x, x, y, kernel, w)
    n = xs.shape[0]
    if n < 2:
        raise NWError("leave-one-out needs at least 2 points: add training data")
    if need_weights:
        _check_dense_weights(xs, xs, "leave_one_out")
    return _pool(xs, xs, ys, kernel, w_t, loo=True, need_weights=need_weights)


def _check_dense_weights(q: torch.Tensor, k: torch.Tensor, what: str) -> None:
    check_dense(
        q.shape[0],
        k.shape[0],
        itemsize=q.element_size(),
        copies=_DENSE_COPIES,
        what=f"{what} with need_weights=True",
        way_out=(
            "pass need_weights=False (pools in chunks, keeps no weights), use "
            "nwcore.nadaraya_watson_fast for 1-D data, or use fewer points"
        ),
    )


def _check_pooling_inputs(queries, keys, values, kernel, w):
    """Checked (q, k, v, w) in the frame of queries and keys; `kernel` must be a table entry
    already (the caller's `as_kernel`, the one check of its call path)."""
    q = as_points(queries, "queries")
    k = as_points(keys, "keys")
    same_space(q, k)
    v = as_values(values, k.shape[0])
    w_t = as_bandwidth_param(w)
    if w_t.ndim != 0:
        raise NWError("nonparametric pooling takes one w; use ParametricNW for one w per head")
    if q.ndim != k.ndim:  # (Q, 1) against (K,) or the reverse: one feature, so both 1-D
        q, k = q.reshape(-1), k.reshape(-1)
    dtype = torch.promote_types(torch.promote_types(q.dtype, k.dtype), v.dtype)
    q, k, v, w_t = q.to(dtype), k.to(dtype), v.to(dtype), w_t.to(dtype)
    # Pool in the frame of queries and keys (points in [-1, 1], w' = w * scale: the same
    # weights), so x near 1e-40 or 1e300 neither underflows nor overflows. A w' beyond the
    # largest float is the nearest-key limit already, so it is clipped there.
    frame = frame_of(torch.cat([q, k]))
    big = torch.finfo(dtype).max
    w_unit = frame.w_to_unit(w_t.abs().clamp(max=big / frame.scale))
    return frame.to_unit(q), frame.to_unit(k), v, w_unit


def _loo_mask(start: int, stop: int, n: int) -> torch.Tensor:
    """Rows start..stop of the (N, N) leave-one-out mask: key i is hidden from query i."""
    rows = torch.arange(start, stop)[:, None]  # (rows, 1)
    return rows != torch.arange(n)[None, :]  # (rows, N)


def _pool(q, k, v, kernel, w, loo, need_weights) -> PoolingResult:
    n_q, n_k = q.shape[0], k.shape[0]
    if need_weights:
        mask = _loo_mask(0, n_q, n_k) if loo else None  # (Q, K)
        weights, empty = kernel_attention(pairwise_distance(q, k), w, kernel, mask)  # (Q, K)
        return PoolingResult(y_hat=weights @ v, weights=weights, empty=empty)
    rows = max(1, _CHUNK_ENTRIES // n_k)
    y_parts, empty_parts = [], []
    for start in range(0, n_q, rows):
        stop = min(start + rows, n_q)
        chunk_mask = _loo_mask(start, stop, n_k) if loo else None  # (rows, K)
        dist = pairwise_distance(q[start:stop], k)  # (rows, K)
        weights, empty = kernel_attention(dist, w, kernel, chunk_mask)
        y_parts.append(weights @ v)  # (rows,)
        empty_parts.append(empty)
    return PoolingResult(y_hat=torch.cat(y_parts), weights=None, empty=torch.cat(empty_parts))


def gaussian_dot_product_features(
    queries: torch.Tensor, keys: torch.Tensor, w: torch.Tensor | float
) -> tuple[torch.Tensor, torch.Tensor]:
    """Features that turn Gaussian NW into plain dot-product attention.

    >>> qf, kf = gaussian_dot_product_features(torch.tensor([1.0]), torch.tensor([2.0]), 1.0)
    >>> qf @ kf.T  # = -(1 - 2)^2 / 2 + 1^2 / 2, the query-only term that softmax cancels
    tensor([[0.]])

    -(x - x_i)^2 w^2 / 2 = w^2 x.x_i - w^2 |x_i|^2 / 2 - w^2 |x|^2 / 2, and the last term is
    the same for every key, so softmax ignores it. Hence query [x, 1] and key
    [w^2 x_i, -w^2 |x_i|^2 / 2] (D + 1 features) give the same attention weights.
    """
    q = queries if queries.ndim == 2 else queries[:, None]  # (Q, D)
    k = keys if keys.ndim == 2 else keys[:, None]  # (K, D)
    w2 = torch.as_tensor(w, dtype=k.dtype) ** 2
    q_feat = torch.cat([q, torch.ones_like(q[:, :1])], dim=1)  # (Q, D + 1)
    k_feat = torch.cat([w2 * k, -0.5 * w2 * k.square().sum(1, keepdim=True)], dim=1)  # (K, D+1)
    return q_feat, k_feat


def gaussian_nw_dot_product(
    queries: Any, keys: Any, values: Any, w: Any = 1.0, *, need_weights: bool = True
) -> PoolingResult:
    """Gaussian NW computed as scaled-dot-product attention (scale 1) on the features above.

    >>> x = torch.linspace(0, 5, 20, dtype=torch.float64); y = x.sin()
    >>> out = gaussian_nw_dot_product(x[:3], x, y, 2.0).y_hat
    >>> torch.allclose(out, nadaraya_watson(x[:3], x, y, "gaussian", 2.0).y_hat)
    True

    With need_weights=False it calls torch's fused `scaled_dot_product_attention` and never
    builds the (Q, K) matrix on backends that have a fused kernel. Large |x| w loses digits
    to cancellation in float32; use float64 there or the distance form.
    """
    q, k, v, w_t = _check_pooling_inputs(queries, keys, values, TABLE["gaussian"], w)
    # points lie in [-1, 1]: w^2 below max^(1/2) keeps every feature product finite, and a
    # w that large already gives the nearest key
    w_t = w_t.clamp(max=torch.finfo(w_t.dtype).max ** 0.25)
    q_feat, k_feat = gaussian_dot_product_features(q, k, w_t)
    empty = torch.zeros(q.shape[0], dtype=torch.bool)
    if not need_weights:
        out = F.scaled_dot_product_attention(
            q_feat[None], k_feat[None], v[None, :, None], scale=1.0
        )  # (1, Q, 1)
        return PoolingResult(y_hat=out[0, :, 0], weights=None, empty=empty)
    weights = torch.softmax(q_feat @ k_feat.T, dim=-1)  # (Q, K)
    return PoolingResult(y_hat=weights @ v, weights=weights, empty=empty)

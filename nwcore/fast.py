"""Exact Nadaraya-Watson pooling at scale: sorted-key windows and fused dot-product attention.

Same answers as `nadaraya_watson` (to floating-point rounding), same empty-window rule, far
less work and memory: nothing of size (Q, K) is ever built.

- 1-D data, any kernel: keys are sorted once, and each query only looks at the keys in its
  window, found with `torch.searchsorted`. Queries are sorted too and processed in blocks; a
  block sees the union of its queries' windows (one contiguous run of sorted keys).
- Compact kernels (boxcar, epanechnikov, triangular): the window is |x - x_i| w <= 1.
- Gaussian: the window is where exp(score - row max) is a normal number. The row max belongs
  to the nearest key (distance d_min), so a key at distance d has relative weight
  exp(-(d^2 - d_min^2) w^2 / 2); beyond d^2 = d_min^2 + 2 T / w^2, with T = 700 in float64
  and 79 in float32 (`negligible_score`), that weight is below the smallest normal number,
  and all such keys together move a prediction by less than K e^-T max|y|: 1e-295 (float64)
  or 1e-28 (float32) per million keys, far below rounding. For a wide kernel the window is
  all keys and nothing is saved.
- Gaussian blocks run as scaled-dot-product attention (SPEC: query [x, 1], key
  [w^2 x_i, -w^2 x_i^2 / 2]) through `F.scaled_dot_product_attention`, which is a fused
  flash kernel on CPU (float32/float64) and on CUDA (float16/bfloat16/float32): it keeps a
  running row max and never materialises the scores. Coordinates are centred on each block
  first (NW is shift-invariant, so this is exact) so that w^2 x x_i does not cancel away
  float32 digits. Features are zero-padded to a few columns (zeros add nothing to a dot product;
  CUDA kernels want a head size that is a multiple of 8; see _FEATURES for CPU).
- Points in R^D: the Gaussian uses the same fused attention with D + 1 features over all
  keys; compact kernels fall back to the plain chunked path.

Empty windows follow pooling.py: a query with no key in its window takes its nearest key's
value, ties sharing equally, and `empty` marks it. Nearest keys come from the sorted order, so
the fallback costs O(log K) per query.
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from nwcore._checks import as_kernel
from nwcore.errors import NWError
from nwcore.kernels import Kernel
from nwcore.pooling import PoolingResult, _check_pooling_inputs, nadaraya_watson

__all__ = ["FAST_METHODS", "nadaraya_watson_fast", "negligible_score", "SortedKeys"]

FAST_METHODS = ("auto", "window", "sdpa", "chunked")

# Entries of the (block, keys) scratch matrix of the unfused paths: 2 MB in float64, so
# blocks stay in cache-sized pieces and peak memory stays far below 1 GB.
_BLOCK_ENTRIES = 1 << 18
# Queries per fused attention call: big enough to amortise the call, small enough that a
# backend without a fused kernel (float64 on CUDA) materialises at most 8192 x K scores.
_SDPA_ROWS = 8192
# Head size of the padded features, measured on torch 2.13: its CPU flash kernel runs
# float32 fastest at 16 and float64 at 4; CUDA kernels want a multiple of 8.
_FEATURES = {("cpu", torch.float64): 4, ("cpu", torch.float32): 16}
# A fused block spans at most this many bandwidths: centred features then stay below a few
# units, so w^2 x x_i loses no more digits than the distance form does.
_SPREAD = 4.0
# Fewer queries than this per fused block on average: the windows are narrow, use unfused sums.
_MIN_FUSED_ROWS = 64
# Windows of at most this many keys are gathered per query instead of cut into blocks.
_MAX_BAND = 512


def nadaraya_watson_fast(
    queries: Any,
    keys: Any,
    values: Any,
    kernel: str = "gaussian",
    w: Any = 1.0,
    *,
    method: str = "auto",
) -> PoolingResult:
    """Exact NW pooling without the (Q, K) matrix: equal to `nadaraya_watson` up to rounding.

    >>> x = torch.linspace(0, 5, 200, dtype=torch.float64); y = x.sin()
    >>> q = torch.tensor([0.3, 2.0, 4.9], dtype=torch.float64)
    >>> fast = nadaraya_watson_fast(q, x, y, "epanechnikov", w=4.0).y_hat
    >>> torch.allclose(fast, nadaraya_watson(q, x, y, "epanechnikov", w=4.0).y_hat)
    True

    method: "auto" (1-D: sorted windows; R^D Gaussian: fused attention; else chunked),
    "window" (1-D only), "sdpa" (Gaussian only) or "chunked" (the plain path without weights).
    Runs on the device of the inputs (CUDA when they are CUDA tensors). Returns no weights.
    In R^D the fused path centres on the keys' mean only; in float32 with w times the data's
    extent above ~100 it loses digits to cancellation: use float64 or method="chunked" there.
    """
    if method not in FAST_METHODS:
        raise NWError(f"unknown method {method!r}: choose one of {', '.join(FAST_METHODS)}")
    kernel = as_kernel(kernel)
    q, k, v, w_t = _check_pooling_inputs(queries, keys, values, kernel, w)
    if w_t.ndim != 0:
        raise NWError("nonparametric pooling takes one w; use ParametricNW for one w per head")
    a = abs(float(w_t))
    if method == "auto":
        method = "window" if q.ndim == 1 else ("sdpa" if kernel.quadratic else "chunked")
    if method == "window" and q.ndim != 1:
        raise NWError("method='window' needs 1-D queries and keys; use 'sdpa' or 'chunked'")
    if method == "sdpa" and not kernel.quadratic:
        raise NWError("method='sdpa' is the Gaussian kernel only; use 'window' or 'chunked'")
    if kernel.flat or a == 0.0:  # every key weighs the same: average pooling
        return PoolingResult(
            y_hat=v.mean().expand(q.shape[0]).clone(),
            weights=None,
            empty=torch.zeros(q.shape[0], dtype=torch.bool, device=q.device),
        )
    if method == "chunked" or not _scores_finite(q, k, a):
        return nadaraya_watson(q, k, v, kernel, w_t, need_weights=False)
    if method == "sdpa":
        return PoolingResult(
            y_hat=_sdpa_all(q, k, v, a),
            weights=None,
            empty=torch.zeros(q.shape[0], dtype=torch.bool, device=q.device),
        )
    y_hat, empty = _window_pool(q, k, v, kernel, a)
    return PoolingResult(y_hat=y_hat, weights=None, empty=empty)


def _scores_finite(q: torch.Tensor, k: torch.Tensor, a: float) -> bool:
    """False when (w * distance)^2 could overflow: leave those to the plain path's rules."""
    span = float(torch.cat([q.reshape(-1), k.reshape(-1)]).abs().max()) * 2.0
    dim = 1 if q.ndim == 1 else q.shape[1]
    big = (a * span) * (a * span) * dim * 4.0  # float * overflows to inf, ** would raise
    return math.isfinite(big) and big < torch.finfo(q.dtype).max


def negligible_score(dtype: torch.dtype) -> float:
    """T such that exp(-T) is below the dtype's smallest normal number, by a factor e^8.

    >>> round(negligible_score(torch.float64), 1), round(negligible_score(torch.float32), 1)
    (700.4, 79.3)

    A key whose weight relative to the row's largest is under exp(-T) changes a prediction by
    less than K exp(-T) max|y| (1e-295 in float64, 1e-28 in float32 per million keys): far
    below rounding, so it can be skipped. Scores are also clamped at -T before exp: exp is
    5-20 times slower on results that are subnormal or underflow (x86 microcode assists).
    """
    return -math.log(torch.finfo(dtype).smallest_normal) - 8.0


class SortedKeys:
    """Keys sorted once, with their values and runs of equal keys, for window queries.

    Nearest-key rule: runs of equal keys share the nearest-key fallback equally, so each run
    keeps its value sum and its size.
    """

    def __init__(self, keys: torch.Tensor, values: torch.Tensor):
        self.x, order = torch.sort(keys)  # (K,)
        self.y = values[order]  # (K,)
        self.order = order
        run_values, run_of, counts = torch.unique_consecutive(
            self.x, return_inverse=True, return_counts=True
        )
        self.run_of = run_of  # (K,) run index of each sorted key
        self.run_x = run_values  # (R,)
        self.run_count = counts.to(values.dtype)  # (R,)
        self.run_ysum = torch.zeros_like(self.run_count).index_add_(0, run_of, self.y)  # (R,)
        ends = counts.cumsum(0)
        self.run_end = ends  # (R,) one past the last key of each run
        self.run_start = ends - counts  # (R,)

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def nearest(self, qs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """For sorted queries: nearest distance, nearest-key value, and the key range that
        holds the nearest runs (start, end), all (Q,)."""
        n_runs = self.run_x.shape[0]
        right = torch.searchsorted(self.run_x, qs)  # (Q,) first run with x >= q
        left = right - 1
        has_l, has_r = left >= 0, right < n_runs
        li, ri = left.clamp(min=0), right.clamp(max=n_runs - 1)
        inf = torch.tensor(math.inf, dtype=qs.dtype, device=qs.device)
        dl = torch.where(has_l, (qs - self.run_x[li]).abs(), inf)
        dr = torch.where(has_r, (qs - self.run_x[ri]).abs(), inf)
        dmin = torch.minimum(dl, dr)
        use_l, use_r = dl == dmin, dr == dmin
        zero = torch.zeros_like(qs)
        num = torch.where(use_l, self.run_ysum[li], zero) + torch.where(
            use_r, self.run_ysum[ri], zero
        )
        den = torch.where(use_l, self.run_count[li], zero) + torch.where(
            use_r, self.run_count[ri], zero
        )
        start = torch.where(has_l, self.run_start[li], self.run_start[ri])
        end = torch.where(has_r, self.run_end[ri], self.run_end[li])
        return dmin, num / den, torch.stack([start, end])

    def nearest_other(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Leave-one-out version for the keys themselves (sorted order): the nearest key other
        than itself. Needs at least 2 keys."""
        run = self.run_of  # (K,)
        n_runs = self.run_x.shape[0]
        cnt = self.run_count[run]
        dup = cnt > 1  # an equal key exists: distance 0
        li, ri = (run - 1).clamp(min=0), (run + 1).clamp(max=n_runs - 1)
        has_l, has_r = run > 0, run < n_runs - 1
        inf = torch.tensor(math.inf, dtype=self.x.dtype, device=self.x.device)
        dl = torch.where(has_l, (self.x - self.run_x[li]).abs(), inf)
        dr = torch.where(has_r, (self.x - self.run_x[ri]).abs(), inf)
        dmin = torch.minimum(dl, dr)
        use_l, use_r = dl == dmin, dr == dmin
        zero = torch.zeros_like(self.x)
        num = torch.where(use_l, self.run_ysum[li], zero) + torch.where(
            use_r, self.run_ysum[ri], zero
        )
        den = torch.where(use_l, self.run_count[li], zero) + torch.where(
            use_r, self.run_count[ri], zero
        )
        own = (self.run_ysum[run] - self.y) / (cnt - 1).clamp(min=1)
        value = torch.where(dup, own, num / den)
        dmin = torch.where(dup, zero, dmin)
        start = torch.where(has_l, self.run_start[li], self.run_start[run])
        end = torch.where(has_r, self.run_end[ri], self.run_end[run])
        return dmin, value, torch.stack([start, end])


def _window_pool(q, k, v, kernel, a) -> tuple[torch.Tensor, torch.Tensor]:
    """Exact 1-D pooling over sorted-key windows; returns (y_hat, empty) in query order."""
    keys = SortedKeys(k, v)
    qs, q_order = torch.sort(q)  # (Q,)
    dmin, near_value, near_range = keys.nearest(qs)
    radius = window_radius(kernel, a, dmin, negligible_score(q.dtype))
    lo, hi = window_bounds(keys.x, qs, radius, near_range)
    blocks = None
    if kernel.quadratic and _fused(q):
        blocks = _blocks(lo, hi, 1 << 62, _SDPA_ROWS, qs, a)
        if len(blocks) * _MIN_FUSED_ROWS > qs.shape[0]:
            blocks = None  # narrow windows: many tiny fused calls lose to plain sums
    if blocks is not None:
        y_sorted = _sdpa_windows(qs, keys, a, blocks)
        empty_sorted = torch.zeros_like(qs, dtype=torch.bool)
    else:
        y_sorted, empty_sorted = windowed_sums(
            qs, keys, kernel, a, lo, hi, dmin, near_value, self_index=None
        )
    y_hat = torch.empty_like(y_sorted).index_copy_(0, q_order, y_sorted)
    empty = torch.empty_like(empty_sorted).index_copy_(0, q_order, empty_sorted)
    return y_hat, empty


def window_radius(kernel: Kernel, a: float, dmin: torch.Tensor, tail: float) -> torch.Tensor:
    """Half-width in x of each query's window: |x - x_i| <= radius holds every key that can
    weigh anything. Gaussian: d^2 <= d_min^2 + 2 tail / w^2; else d <= kernel radius / w
    (all keys where the kernel never vanishes). Widened by a few ulps so that rounding at the
    edge never drops a key the exact formula keeps. A width whose square underflows (w below
    1e-154 in the frame) weighs every key: an infinite radius."""
    eps = torch.finfo(dmin.dtype).eps
    if kernel.quadratic and a * a == 0.0:  # w^2 underflows: every key is inside
        r = torch.full_like(dmin, math.inf)
    elif kernel.quadratic:
        r = torch.sqrt(dmin.square() + 2.0 * tail / (a * a))
    else:
        r = torch.full_like(dmin, kernel.radius / a)
    return r * (1.0 + 64 * eps)


def window_bounds(xs, qs, radius, near_range) -> tuple[torch.Tensor, torch.Tensor]:
    """Key index range [lo, hi) of each window, always including the nearest runs."""
    eps = torch.finfo(qs.dtype).eps
    slack = 64 * eps * qs.abs()  # q -+ r rounds; a few ulps of q more keeps the edge keys
    lo = torch.searchsorted(xs, qs - radius - slack)
    hi = torch.searchsorted(xs, qs + radius + slack, right=True)
    return torch.minimum(lo, near_range[0]), torch.maximum(hi, near_range[1])


def _blocks(lo, hi, entries, max_rows, qs=None, a=0.0, spread=None):
    """Split sorted queries into blocks; return [(start, stop, key_lo, key_hi)].

    Blocks hold about `entries` (query, key) pairs and at most `max_rows` queries. With qs and
    a given, a block also spans at most _SPREAD / a in x, so centred features stay small.
    """
    n = lo.shape[0]
    mean_len = float((hi - lo).double().mean()) if n else 1.0
    # the most rows whose block, window plus the keys the rows spread over, fits `entries`
    density = max(int(hi.max()) if n else 1, 1) / max(n, 1)  # keys per query, in sorted order
    rows = (math.sqrt(mean_len**2 + 4.0 * entries * density) - mean_len) / (2.0 * density)
    rows = int(min(max_rows, max(16, rows)))
    idx = torch.arange(n, device=lo.device)
    new = idx % rows == 0  # (Q,) True where a block starts
    if qs is not None:
        band = torch.floor((qs - qs[0]) * (a / (spread or _SPREAD)))  # (Q,) spread band
        new[1:] |= band[1:] != band[:-1]
    block = new.cumsum(0) - 1  # (Q,) block index of each query
    nb = int(block[-1]) + 1
    b_lo = torch.zeros(nb, dtype=lo.dtype, device=lo.device).scatter_reduce(
        0, block, lo, "amin", include_self=False
    )
    b_hi = torch.zeros(nb, dtype=hi.dtype, device=hi.device).scatter_reduce(
        0, block, hi, "amax", include_self=False
    )
    starts = idx[new].tolist() + [n]  # one device sync for all blocks
    return list(zip(starts[:-1], starts[1:], b_lo.tolist(), b_hi.tolist(), strict=True))


def _fused(t: torch.Tensor) -> bool:
    """Does scaled_dot_product_attention have a fused kernel for this device and dtype?"""
    if t.device.type == "cpu":
        return t.dtype in (torch.float32, torch.float64)
    return t.dtype in (torch.float16, torch.bfloat16, torch.float32)


def _features(qc: torch.Tensor, kc: torch.Tensor, a: float):
    """Padded dot-product features of centred 1-D or (., D) points: (1, 1, Q, 8) queries,
    (1, 1, K, 8) keys; q.k = -(w^2/2)(|x - x_i|^2 - |x|^2)."""
    q2 = qc if qc.ndim == 2 else qc[:, None]  # (Q, D)
    k2 = kc if kc.ndim == 2 else kc[:, None]  # (K, D)
    d = q2.shape[1]
    step = _width(q2)
    width = -(-(d + 1) // step) * step
    qf = q2.new_zeros(q2.shape[0], width)
    qf[:, :d] = q2
    qf[:, d] = 1.0
    kf = k2.new_zeros(k2.shape[0], width)
    kf[:, :d] = (a * a) * k2
    kf[:, d] = -0.5 * (a * a) * k2.square().sum(1)
    return qf[None, None], kf[None, None]  # (1, 1, Q, F), (1, 1, K, F)


def _width(t: torch.Tensor) -> int:
    return _FEATURES.get((t.device.type, t.dtype), 8)


def _values(v: torch.Tensor, width: int) -> torch.Tensor:
    vf = v.new_zeros(v.shape[0], width)
    vf[:, 0] = v
    return vf[None, None]  # (1, 1, K, F)


def _sdpa_windows(qs, keys: SortedKeys, a, blocks) -> torch.Tensor:
    """Gaussian NW of sorted queries over their windows, as fused attention per block."""
    out = torch.empty_like(qs)
    vf_all = keys.y
    for s, e, k_lo, k_hi in blocks:
        c = 0.5 * (qs[s] + qs[e - 1])  # centre of the block: exact shift, fewer lost digits
        qf, kf = _features(qs[s:e] - c, keys.x[k_lo:k_hi] - c, a)
        o = F.scaled_dot_product_attention(
            qf, kf, _values(vf_all[k_lo:k_hi], qf.shape[-1]), scale=1.0
        )
        out[s:e] = o[0, 0, :, 0]  # (rows,)
    return out


def _sdpa_all(q, k, v, a) -> torch.Tensor:
    """Gaussian NW in R^D (or 1-D) over all keys, as fused attention in query blocks."""
    c = k.mean(0)  # centre: exact shift, fewer lost digits in float32
    kc = k - c
    _, kf = _features(kc[:1], kc, a)
    vf = _values(v, kf.shape[-1])
    rows = _SDPA_ROWS if _fused(q) else max(1, _BLOCK_ENTRIES // k.shape[0])
    parts = []
    for s in range(0, q.shape[0], rows):
        qf, _ = _features(q[s : s + rows] - c, kc[:1], a)
        o = F.scaled_dot_product_attention(qf, kf, vf, scale=1.0)  # (1, 1, rows, 8)
        parts.append(o[0, 0, :, 0])
    return torch.cat(parts)


def windowed_sums(
    qs: torch.Tensor,
    keys: SortedKeys,
    kernel: Kernel,
    a: float,
    lo: torch.Tensor,
    hi: torch.Tensor,
    dmin: torch.Tensor,
    near_value: torch.Tensor,
    self_index: torch.Tensor | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """NW of sorted queries from the keys in their windows, block by block; unfused.

    Gaussian weights are exp(-(d^2 - d_min^2) w^2 / 2) <= 1 (the row max taken out exactly),
    compact ones K(u) itself; both equal the plain path's softmax of log K up to rounding.
    self_index (Q,): the sorted key index each query must not see (leave-one-out), or None.
    Returns y_hat and empty, (Q,) each, in sorted query order.
    """
    band = int((hi - lo).max()) if qs.shape[0] else 0
    if band <= _MAX_BAND:  # narrow windows: gather each query's own band of keys
        y, den_all = _banded_sums(qs, keys, kernel, a, lo, hi, dmin, self_index, band)
        empty = den_all == 0
        return torch.where(empty, near_value, y), empty
    y = torch.empty_like(qs)
    den_all = torch.empty_like(qs)
    vals = torch.stack([keys.y, torch.ones_like(keys.y)], dim=1)  # (K, 2)
    blocks = _blocks(lo, hi, _BLOCK_ENTRIES, 1 << 30)
    # one scratch buffer for every block: fresh multi-MB tensors cost page faults each time
    scratch = qs.new_empty(max((e - s) * (k_hi - k_lo) for s, e, k_lo, k_hi in blocks))
    half_a2 = 0.5 * a * a
    floor = negligible_score(qs.dtype)
    for s, e, k_lo, k_hi in blocks:
        qb = qs[s:e, None]  # (rows, 1)
        kb = keys.x[None, k_lo:k_hi]  # (1, keys)
        d = torch.sub(qb, kb, out=scratch[: (e - s) * (k_hi - k_lo)].view(e - s, k_hi - k_lo))
        if kernel.quadratic:  # exp(-(w^2/2)(d^2 - d_min^2)): the row max taken out exactly
            top = half_a2 * dmin[s:e, None].square()  # (rows, 1)
            wts = torch.addcmul(top, d, d, value=-half_a2, out=d)  # (rows, keys) scores
            wts = wts.clamp_(min=-floor).exp_()  # no subnormal exp: see negligible_score
        else:
            wts = _compact_weights(d, kernel, a)
        if self_index is not None:  # hide each query's own key
            cols = self_index[s:e] - k_lo
            inside = (cols >= 0) & (cols < k_hi - k_lo)
            rows_i = torch.arange(e - s, device=qs.device)[inside]
            wts[rows_i, cols[inside]] = 0.0
        sums = wts @ vals[k_lo:k_hi]  # (rows, 2): sum K y, sum K
        y[s:e] = sums[:, 0] / sums[:, 1]
        den_all[s:e] = sums[:, 1]
    empty = den_all == 0
    y = torch.where(empty, near_value, y)
    return y, empty


def _banded_sums(qs, keys, kernel, a, lo, hi, dmin, self_index, band):
    """windowed_sums for narrow windows: row i reads the `band` sorted keys from
    min(lo_i, K - band) on (those outside [lo_i, hi_i) masked). The bands are rows of an
    unfolded view of the keys, copied per chunk: no Python loop per block, no scatter."""
    n_keys = keys.n
    band = max(1, min(band, n_keys))
    start_all = lo.clamp(max=n_keys - band)  # (Q,) first key of each row's band
    x_bands = keys.x.unfold(0, band, 1)  # (K - band + 1, band) view: row j = keys j..j+band-1
    y_bands = keys.y.unfold(0, band, 1)
    num = torch.empty_like(qs)
    den = torch.empty_like(qs)
    offsets = torch.arange(band, device=qs.device)  # (B,)
    rows = max(1, _BLOCK_ENTRIES // band)
    floor = negligible_score(qs.dtype)
    half_a2 = 0.5 * a * a
    for s in range(0, qs.shape[0], rows):
        e = min(s + rows, qs.shape[0])
        first = start_all[s:e]  # (rows,)
        cols = first[:, None] + offsets  # (rows, B) key index of each band slot
        valid = (cols >= lo[s:e, None]) & (cols < hi[s:e, None])
        if self_index is not None:
            valid &= cols != self_index[s:e, None]
        d = qs[s:e, None] - x_bands.index_select(0, first)  # (rows, B)
        if kernel.quadratic:
            top = half_a2 * dmin[s:e, None].square()
            wts = torch.addcmul(top, d, d, value=-half_a2).clamp_(min=-floor).exp_()
        else:
            wts = _compact_weights(d, kernel, a)
        wts = wts.masked_fill_(~valid, 0.0)
        den[s:e] = wts.sum(1)
        num[s:e] = (wts * y_bands.index_select(0, first)).sum(1)
    return num / den, den


def fused_loo(keys: SortedKeys, a: float, lo, hi) -> tuple[torch.Tensor, torch.Tensor] | None:
    """Gaussian leave-one-out predictions of every sorted key through fused attention, or
    None where that does not pay (tiny blocks) or is not float64 on CPU.

    Attention cannot mask one key per row without a (Q, K) mask, so a dummy key carries the
    bookkeeping instead: with query features [x, 1, x^2] and the dummy key [0, 0, w^2 / 2],
    the dummy scores exactly what the query's own key does. Values y for real keys, and a
    second column that is 1 only for the dummy. Then, with D the others' weight relative to
    the own key's, the outputs are o0 = (N + y_i) / (D + 2) and o1 = 1 / (D + 2), so the
    leave-one-out prediction N / D = (o0 - y_i o1) / (1 - 2 o1). Rows where D is small lose
    digits in 1 - 2 o1 and are returned flagged, for the caller to redo exactly.
    Returns (predictions (N,), rows to redo (N,) bool).
    """
    xs = keys.x
    if not (xs.device.type == "cpu" and xs.dtype == torch.float64):
        return None
    # float64 keeps 10 more digits than float32 needs here, so a block may span 8 bandwidths:
    # cancellation then costs at most eps (4 + tail)^2 ~ 1e-13 relative, below the objective's
    # tolerance (measured fastest: fewer calls, little spread)
    blocks = _blocks(lo, hi, 1 << 62, _SDPA_ROWS, xs, a, spread=8.0)
    if len(blocks) * _MIN_FUSED_ROWS > xs.shape[0]:
        return None
    width = 4  # float64 flash attention on CPU is fastest with small heads
    a2 = a * a
    pred = torch.empty_like(xs)
    redo = torch.empty_like(xs, dtype=torch.bool)
    for s, e, k_lo, k_hi in blocks:
        c = 0.5 * (xs[s] + xs[e - 1])  # centre: exact shift, fewer lost digits
        qc, kc = xs[s:e] - c, xs[k_lo:k_hi] - c
        qf = qc.new_zeros(e - s, width)
        qf[:, 0], qf[:, 1], qf[:, 2] = qc, 1.0, qc.square()
        kf = kc.new_zeros(k_hi - k_lo + 1, width)
        kf[:-1, 0], kf[:-1, 1] = a2 * kc, -0.5 * a2 * kc.square()
        kf[-1, 2] = 0.5 * a2  # the dummy key: scores like each query's own key
        vf = kc.new_zeros(k_hi - k_lo + 1, width)
        vf[:-1, 0], vf[-1, 1] = keys.y[k_lo:k_hi], 1.0
        o = F.scaled_dot_product_attention(
            qf[None, None], kf[None, None], vf[None, None], scale=1.0
        )
        o0, o1 = o[0, 0, :, 0], o[0, 0, :, 1]  # (rows,)
        rest = 1.0 - 2.0 * o1  # D / (D + 2)
        pred[s:e] = (o0 - keys.y[s:e] * o1) / rest
        redo[s:e] = rest < 1e-3  # D under ~2e-3: the subtraction would cost 3+ digits
    return pred, redo


def _compact_weights(d: torch.Tensor, kernel: Kernel, a: float) -> torch.Tensor:
    """Kernel weights K(u) / K(0) from differences d = x - x_i, in place: 0 outside the window.

    Constant factors (the 3/4 of the Epanechnikov kernel) cancel in the ratio and are left
    out. u = |d| w as in the plain path, so the window edges fall where they fall there.
    """
    return kernel.weight(d.abs_().mul_(a))  # (rows, keys)

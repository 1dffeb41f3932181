"""Binned Nadaraya-Watson for 1-D data: approximate, O(n + G log G), and says so.

The KernSmooth idea (Wand 1994; Wand and Jones, Kernel Smoothing, appendix D):

1. Linear binning. Each point x_i splits its unit weight (and its y_i) between the two grid
   points around it, in proportion to closeness: counts c_g and sums s_g on a regular grid of
   G points spanning the data and the queries.
2. Convolution. On a regular grid the kernel weight between grid points g and g' only depends
   on g - g', so both sums sum_i K((x_g - x_i) w) and sum_i K(.) y_i become one discrete
   convolution each with the kernel sampled at the grid offsets: direct for small G, by FFT
   (O(G log G)) for large G.
3. Ratio on the grid, then linear interpolation to the queries.

The error comes from moving each x_i to its grid neighbours (second order in the grid step
over the bandwidth) and from the interpolation. It is never chosen silently: call
`nw_binned` to get it, and read `approximate` on the result. `tests/bench` reports the max
error against the exact path.

Empty windows: a grid point whose kernel sum is zero (compact kernels) or below the FFT's
rounding noise has no estimate. Queries next to such a grid point are answered by the exact
path (`nadaraya_watson_fast`), which applies the nearest-key rule and flags them in `empty`;
that costs one sort of the keys, and only when it happens. Never a NaN.
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from nwcore._checks import as_bandwidth_param, as_float_tensor, check_finite
from nwcore.errors import NWError
from nwcore.fast import nadaraya_watson_fast
from nwcore.kernels import as_kernel, kernel_value

__all__ = ["BinnedResult", "nw_binned", "linear_binning"]

# Direct convolution up to this grid size (np.convolve on the CPU, 1.9 ms at G = 2048 with
# the widest kernel; a G x G matrix product elsewhere, 32 MB at most), FFT
# above: both are exact convolutions; direct keeps zero sums exactly zero and tiny Gaussian
# tails accurate.
_DIRECT_GRID = 2048
MIN_GRID = 2
# Below this many grid steps per bandwidth, nw_binned warns (and says which grid_size fits).
MIN_H_STEPS = 2.0


@dataclass(frozen=True)
class BinnedResult:
    """Binned NW: an approximation, with the grid it was computed on."""

    y_hat: torch.Tensor  # (Q,) at the queries (the grid itself when no queries were given)
    empty: torch.Tensor  # (Q,) bool: no key in the window, nearest-key value used
    grid: torch.Tensor  # (G,) grid points
    grid_y: torch.Tensor  # (G,) estimate on the grid (NaN-free; empty points use the rule)
    grid_weight: torch.Tensor  # (G,) binned kernel sum at each grid point (0: empty)
    convolution: str  # "direct" or "fft"
    approximate: bool = True  # always: linear binning moves the keys onto the grid


def linear_binning(
    x: torch.Tensor, y: torch.Tensor, start: float, step: float, size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Counts and y-sums on the grid start + step * g, g = 0..size-1, by linear binning.

    >>> c, s = linear_binning(torch.tensor([0.25]), torch.tensor([2.0]), 0.0, 1.0, 3)
    >>> c, s
    (tensor([0.7500, 0.2500, 0.0000]), tensor([1.5000, 0.5000, 0.0000]))

    Point i gives 1 - f_i to its left grid point and f_i to the right one; x outside
    [start, start + step * (size - 1)] counts at the nearest end. Done as sums per left point
    only (count, sum f, sum y, sum f y), then shifted: a handful of passes over the data.
    """
    if x.device.type != "cpu":
        return _linear_binning_torch(x, y, start, step, size)
    lo, hi = _min_max(x) if x.numel() else (start, start)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        check_finite(x, "x")
    end = start + step * (size - 1)
    if lo < start or hi > end:  # rare: a copy, clamped onto the grid's span
        x = x.clamp(start, end)
    return _linear_binning_numpy(x, y, start, step, size)


def _linear_binning_torch(x, y, start, step, size):
    pos = torch.sub(x, start).mul_(1.0 / step)  # (N,) position in grid steps, >= 0
    left = pos.long().clamp_(0, size - 2)  # (N,) truncation = floor for pos >= 0
    frac = pos.sub_(left).clamp_(0.0, 1.0)  # (N,) share that goes right
    zeros = torch.zeros(size, dtype=x.dtype, device=x.device)
    n_left = torch.bincount(left, minlength=size).to(x.dtype)  # (G,)
    f_left = zeros.clone().index_add_(0, left, frac)  # (G,) sum f at each left point
    y_left = zeros.clone().index_add_(0, left, y)  # (G,) sum y
    fy_left = zeros.clone().index_add_(0, left, frac.mul_(y))  # (G,) sum f y
    counts = n_left - f_left  # (G,) the 1 - f shares
    counts[1:] += f_left[:-1]  # the f shares, one grid point to the right
    sums = y_left - fy_left
    sums[1:] += fy_left[:-1]
    return counts, sums


# Points per pass of the numpy binning: its temporaries (a few (B,) arrays) stay in cache
# and are reused, instead of new (N,) arrays per step (measured: 2^15 is best at N = 1e6).
_BIN_BLOCK = 1 << 15


def _linear_binning_numpy(x, y, start, step, size):
    """The CPU binning, x within [start, start + step (size - 1)]: in blocks of _BIN_BLOCK
    points, two scatter-adds per block of complex pairs (1 + i y and f + i f y at each left
    grid point), which costs little more than one real scatter each. numpy is single-threaded:
    it never waits on a busy torch thread pool."""
    xn, yn = x.detach().numpy(), y.detach().numpy()
    n, inv = xn.shape[0], 1.0 / step
    b = max(1, min(_BIN_BLOCK, n))
    pos, whole = np.empty(b), np.empty(b)  # (B,) position in grid steps, its floor
    left32, left = np.empty(b, np.int32), np.empty(b, np.intp)  # (B,) left grid point
    one_y = np.ones(b, np.complex128)  # (B,) 1 + i y
    f_fy = np.empty(b, np.complex128)  # (B,) f + i f y, f the share that goes right
    n_y = np.zeros(size, np.complex128)  # (G,) per left point: count + i sum y
    f_y = np.zeros(size, np.complex128)  # (G,) sum f + i sum f y
    with np.errstate(invalid="ignore", over="ignore"):  # inf/NaN sums: the caller checks them
        for i in range(0, n, b):
            xb, yb = xn[i : i + b], yn[i : i + b]
            k = xb.shape[0]
            p, w, lb, z1, z2 = pos[:k], whole[:k], left[:k], one_y[:k], f_fy[:k]
            np.subtract(xb, start, out=p)
            p *= inv  # in [0, size - 1] (a last point a rounding past it stays there)
            np.floor(p, out=w)
            np.subtract(p, w, out=z2.real)  # f in [0, 1)
            np.copyto(left32[:k], w, casting="unsafe")  # via int32: half the time of a direct cast
            np.copyto(lb, left32[:k])
            np.copyto(z1.imag, yb)
            np.multiply(z2.real, yb, out=z2.imag)
            np.add.at(n_y, lb, z1)
            np.add.at(f_y, lb, z2)
        # the f shares go one grid point right; at the last point (x at the end) they stay
        both = n_y - f_y  # (G,) the 1 - f shares: counts + i sums
        both[1:] += f_y[:-1]
        both[-1] += f_y[-1]
    counts, sums = torch.from_numpy(both.real.copy()), torch.from_numpy(both.imag.copy())
    return counts.to(x.dtype), sums.to(x.dtype)


def nw_binned(
    x: Any,
    y: Any,
    queries: Any = None,
    kernel: str = "gaussian",
    w: Any = 1.0,
    *,
    grid_size: int = 401,
    convolution: str = "auto",
) -> BinnedResult:
    """Approximate 1-D NW by linear binning on a grid of `grid_size` points and convolution.

    >>> x = torch.linspace(0, 5, 1000, dtype=torch.float64); y = x.sin()
    >>> fit = nw_binned(x, y, torch.tensor([1.0, 2.5]), "gaussian", w=10.0)
    >>> fit.approximate, fit.grid.shape
    (True, torch.Size([401]))
    >>> exact = nadaraya_watson_fast(torch.tensor([1.0, 2.5]), x, y, "gaussian", 10.0).y_hat
    >>> bool((fit.y_hat - exact).abs().max() < 1e-3)
    True

    queries (Q,) or None for the grid itself; the grid spans the keys and the queries, so
    nothing is extrapolated. convolution: "auto", "direct" or "fft". Cost O(N + Q + G log G).
    Warns when h = 1/w is under two grid steps (the message names the grid_size that fits).
    """
    kernel = as_kernel(kernel)
    xs = _as_vector(x, "x", check=False)  # checked by its min and max below
    ys = _as_vector(y, "y", check=False)  # checked by its binned sums below
    if ys.shape[0] != xs.shape[0]:
        raise NWError(
            f"y has {ys.shape[0]} entries but there are {xs.shape[0]} x: give one y per x"
        )
    qs = None if queries is None else _as_queries(queries)
    if isinstance(grid_size, bool) or not isinstance(grid_size, int) or grid_size < MIN_GRID:
        raise NWError(f"grid_size must be a whole number >= {MIN_GRID}, got {grid_size!r}")
    if convolution not in ("auto", "direct", "fft"):
        raise NWError(f"convolution must be 'auto', 'direct' or 'fft', got {convolution!r}")
    w_t = as_bandwidth_param(w)
    if w_t.ndim != 0:
        raise NWError("nw_binned takes one w")
    dtype = torch.promote_types(xs.dtype, ys.dtype)
    if qs is not None:
        dtype = torch.promote_types(dtype, qs.dtype)
        qs = qs.to(dtype)
    xs, ys = xs.to(dtype), ys.to(dtype)
    a = abs(float(w_t))

    lo, hi = _min_max(xs)  # NaN or inf anywhere shows up here
    if not (math.isfinite(lo) and math.isfinite(hi)):
        check_finite(xs, "x")
    if qs is not None:
        q_lo, q_hi = _min_max(qs)
        if not (math.isfinite(q_lo) and math.isfinite(q_hi)):
            check_finite(qs, "queries")
        lo, hi = min(lo, q_lo), max(hi, q_hi)
    size = grid_size
    step = (hi - lo) / (size - 1)
    grid = torch.linspace(lo, hi, size, dtype=dtype, device=xs.device)  # (G,)
    if kernel.flat or a == 0.0 or step == 0.0:  # every key weighs the same
        mean = ys.mean()
        if not math.isfinite(float(mean)):
            check_finite(ys, "y")
        n_out = size if qs is None else qs.shape[0]
        flat = mean.expand(size).clone()
        return BinnedResult(
            y_hat=mean.expand(n_out).clone(),
            empty=torch.zeros(n_out, dtype=torch.bool, device=xs.device),
            grid=grid,
            grid_y=flat,
            grid_weight=torch.full_like(flat, float(xs.shape[0])),
            convolution="none",
        )

    _warn_coarse_grid(a, step, size, hi - lo)
    on_cpu = xs.device.type == "cpu"  # x is within [lo, hi] here: bin without clamping
    binning = _linear_binning_numpy if on_cpu else _linear_binning_torch
    counts, sums = binning(xs, ys, lo, step, size)  # (G,), (G,)
    if not math.isfinite(float(sums.sum())):  # a NaN or inf in y shows up in its sums
        check_finite(ys, "y")
    taps = _taps(kernel, a, step, size - 1, dtype, xs.device)  # (2L+1,)
    conv = convolution if convolution != "auto" else ("direct" if size <= _DIRECT_GRID else "fft")
    both = torch.stack([counts, sums])  # (2, G)
    if conv == "direct":
        smoothed = (_conv_numpy if on_cpu else _conv_toeplitz)(both, taps)
        floor = 0.0
    else:
        smoothed = _conv_fft(both, taps)
        # FFT rounding leaves noise of about eps * total mass: below it, a sum means nothing
        floor = 64 * torch.finfo(dtype).eps * float(counts.sum()) * float(taps.max())
    den, num = smoothed[0], smoothed[1]  # (G,)
    grid_empty = den <= floor
    grid_y = num / torch.where(grid_empty, torch.ones_like(den), den)  # (G,)
    den = torch.where(grid_empty, torch.zeros_like(den), den)
    if not bool(torch.isfinite(grid_y).all()):  # y near the float's limit: its sums overflowed
        check_finite(ys, "y")  # (a NaN or inf in y is refused here)
        scale = float(ys.abs().max())  # NW is linear in y: pool y / scale, scale back
        with warnings.catch_warnings():  # the first pass has warned already
            warnings.simplefilter("ignore")
            fit = nw_binned(xs, ys / scale, qs, kernel, a, grid_size=size, convolution=conv)
        return dataclasses.replace(fit, y_hat=fit.y_hat * scale, grid_y=fit.grid_y * scale)

    targets = grid if qs is None else qs
    if qs is None:
        y_hat, flag = grid_y.clone(), grid_empty.clone()
    else:
        interpolate = _interpolate_numpy if on_cpu else _interpolate_torch
        y_hat, flag = interpolate(grid_y, grid_empty, qs, lo, step)  # (Q,), (Q,)
    empty = torch.zeros_like(flag)
    if bool(flag.any()):  # next to an empty grid point: answer exactly, with the rule
        exact = nadaraya_watson_fast(targets[flag], xs, ys, kernel, a)
        y_hat[flag] = exact.y_hat
        empty[flag] = exact.empty
        if qs is None:
            grid_y = y_hat
        else:
            g_flag = grid_empty
            if bool(g_flag.any()):
                grid_y = grid_y.clone()
                grid_y[g_flag] = nadaraya_watson_fast(grid[g_flag], xs, ys, kernel, a).y_hat
    return BinnedResult(
        y_hat=y_hat, empty=empty, grid=grid, grid_y=grid_y, grid_weight=den, convolution=conv
    )


def _interpolate_torch(grid_y, grid_empty, q, lo: float, step: float):
    """grid_y (G,) on lo + step * g, linearly interpolated at q (Q,) inside the grid, and
    (Q,) whether either grid point around each query is empty."""
    size = grid_y.shape[0]
    pos = (q - lo) / step  # (Q,)
    left = pos.floor().clamp_(0, size - 2)
    frac = (pos - left).clamp_(0.0, 1.0)
    li = left.long()
    return grid_y[li] * (1.0 - frac) + grid_y[li + 1] * frac, grid_empty[li] | grid_empty[li + 1]


def _interpolate_numpy(grid_y, grid_empty, q, lo: float, step: float):
    """The same on the CPU, in blocks of _BIN_BLOCK queries: two lookups in (G-1,) tables
    per query (value and slope per grid interval), no (Q,) temporaries."""
    size = grid_y.shape[0]
    edges = (grid_empty[:-1] | grid_empty[1:]).numpy()  # (G-1,) an empty end per interval
    qn, gy = q.numpy(), grid_y.numpy()
    slope = np.diff(gy)  # (G-1,) per grid interval
    n, b, inv = qn.shape[0], max(1, min(_BIN_BLOCK, qn.shape[0])), 1.0 / step
    pos, whole, part = np.empty(b), np.empty(b), np.empty(b, gy.dtype)  # (B,)
    left = np.empty(b, np.int32)  # (B,) the interval's left grid point
    y_hat, flag = np.empty(n, gy.dtype), np.zeros(n, bool)  # (Q,)
    any_empty = bool(edges.any())
    for i in range(0, n, b):
        qb = qn[i : i + b]
        k = qb.shape[0]
        p, w, lb, yb = pos[:k], whole[:k], left[:k], y_hat[i : i + k]
        np.subtract(qb, lo, out=p)
        p *= inv  # in [0, size - 1]
        np.floor(p, out=w)
        np.minimum(w, size - 2, out=w)  # a query on the last grid point: the last interval
        p -= w  # in [0, 1]
        np.copyto(lb, w, casting="unsafe")
        np.take(gy, lb, out=yb)
        np.take(slope, lb, out=part[:k])
        part[:k] *= p
        yb += part[:k]
        if any_empty:
            np.take(edges, lb, out=flag[i : i + k])
    return torch.from_numpy(y_hat), torch.from_numpy(flag)


def _warn_coarse_grid(a: float, step: float, size: int, extent: float) -> None:
    """Warn when h = 1/w is under MIN_H_STEPS grid steps: binning moves each key by up to
    half a step, and there the error reaches 0.1-0.25 of y's range (measured)."""
    h = 1.0 / a
    if h >= MIN_H_STEPS * step:
        return
    needed = math.ceil(extent * MIN_H_STEPS / h) + 1
    warnings.warn(
        f"nw_binned: h = 1/w = {h:.3g} is under {MIN_H_STEPS:g} grid steps (step "
        f"{step:.3g} with grid_size={size}), so binning error is large: pass "
        f"grid_size >= {needed}, or use nadaraya_watson_fast (exact)",
        stacklevel=3,
    )


def _as_vector(t: Any, name: str, check: bool = True) -> torch.Tensor:
    """A finite (N,) float tensor. Finiteness is checked with one reduction (a sum is finite
    only if every term is, unless it overflows; then the full check runs and names the bad
    entry or lets the data through)."""
    v = as_float_tensor(t, name)
    if v.ndim == 2 and v.shape[1] == 1:
        v = v[:, 0]
    if v.ndim != 1:
        raise NWError(f"{name} must be 1-D, shape (N,), got {tuple(v.shape)}")
    if v.shape[0] == 0:
        raise NWError(f"{name} is empty: give at least one point")
    if check and not math.isfinite(_total(v)):
        check_finite(v, name)
    return v


def _as_queries(q: Any) -> torch.Tensor:
    """(Q,) float queries, a scalar as (1,); their finiteness is checked by min and max."""
    t = as_float_tensor(q, "queries")
    t = t.reshape(1) if t.ndim == 0 else t
    if t.ndim != 1:
        raise NWError(f"queries must be 1-D like x, shape (Q,), got {tuple(t.shape)}")
    if t.shape[0] == 0:
        raise NWError("queries is empty: give at least one point")
    return t


# On CPU these reductions go through numpy: single-threaded, so they never wait on a busy
# thread pool (they are memory-bound anyway); torch elsewhere.
def _total(v: torch.Tensor) -> float:
    return float(v.detach().numpy().sum()) if v.device.type == "cpu" else float(v.sum())


def _min_max(v: torch.Tensor) -> tuple[float, float]:
    if v.device.type == "cpu":
        arr = v.detach().numpy()
        return float(arr.min()), float(arr.max())
    lo, hi = torch.aminmax(v)
    return float(lo), float(hi)


def _taps(kernel, a: float, step: float, reach: int, dtype, device) -> torch.Tensor:
    """K at the grid offsets -L..L (2L+1,), L the last offset where K is not zero: the
    compact kernels' radius, and where the Gaussian underflows (exp(-u^2/2) = 0 for u > 38.6),
    so the convolution skips only exact zeros."""
    if kernel.compact:
        reach = min(reach, int(math.floor(kernel.radius / (a * step))) + 1)
    half = kernel_value(torch.arange(reach + 1, dtype=dtype, device=device) * (step * a), kernel)
    reach = int(torch.nonzero(half).max())  # K(0) > 0
    half = half[: reach + 1]  # (L+1,) K at offsets 0..L
    return torch.cat([half.flip(0), half[1:]])  # (2L+1,)


def _conv_numpy(signal: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """(C, G) signals convolved with symmetric taps (2L+1,), same length out, on the CPU:
    np.convolve, O(G L)."""
    size = signal.shape[-1]
    reach = (taps.shape[0] - 1) // 2
    t = taps.numpy()
    rows = [np.convolve(row, t)[reach : reach + size] for row in signal.numpy()]
    return torch.from_numpy(np.stack(rows))  # (C, G)


def _conv_toeplitz(signal: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """The same on an accelerator: one product with the (G, G) banded Toeplitz matrix
    T[g, j] = taps[g - j + L] (zero off the band)."""
    size = signal.shape[-1]
    reach = (taps.shape[0] - 1) // 2
    pos = torch.arange(size, device=signal.device)
    offset = pos[:, None] - pos[None, :]  # (G, G) g - j
    inside = offset.abs() <= reach
    toeplitz = torch.where(inside, taps[(offset + reach).clamp_(0, 2 * reach)], 0.0)  # (G, G)
    return signal @ toeplitz.T  # (C, G)


def _conv_fft(signal: torch.Tensor, taps: torch.Tensor) -> torch.Tensor:
    """The same convolution through a real FFT of size >= G + 2L (no wrap-around)."""
    size = signal.shape[-1]
    reach = (taps.shape[0] - 1) // 2
    n_fft = 1 << math.ceil(math.log2(size + 2 * reach + 1))
    spec = torch.fft.rfft(signal, n=n_fft) * torch.fft.rfft(taps, n=n_fft)  # (C, F)
    full = torch.fft.irfft(spec, n=n_fft)  # (C, n_fft)
    return full[:, reach : reach + size]

"""Bandwidth rules: Silverman, Scott, and the leave-one-out (least-squares CV) optimum.

A bandwidth h is the kernel's half-width in x units; the width parameter is w = 1/h.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import torch

from nwcore import breakpoints
from nwcore._checks import as_kernel, as_points, as_real, as_values
from nwcore.binned_loo import MIN_STEPS, BinnedLoo
from nwcore.errors import NWError
from nwcore.fast import (
    SortedKeys,
    fused_loo,
    window_bounds,
    window_radius,
    windowed_sums,
)
from nwcore.kernels import Kernel
from nwcore.loo_derivs import gaussian_loo_derivatives
from nwcore.loo_narrow import narrow_losses
from nwcore.pooling import kernel_attention, pairwise_distance
from nwcore.threads import serial_below

__all__ = [
    "silverman",
    "scott",
    "loo_mse",
    "loo_bandwidth",
    "loo_bandwidth_binned",
    "BandwidthSearch",
]

# A step callback receives (step, loss, w); the dashboard draws progress from it.
StepCallback = Callable[[int, float, float], None]

# Grid points per search; then golden-section refinement inside the best bracket.
_GRID = 48
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
# Above this many points the (N, N) distance matrix is not cached between evaluations.
_CACHE_LIMIT = 3000
# From this many 1-D points on, the grid phase screens bandwidths with the binned objective
# (O(N) each) where it is accurate, and evaluates exactly only around the best one.
_SCREEN_MIN_N = 500
_SCREEN_GRID = 1 << 14  # bins for screening at most (2 per point below that); h >= 8 steps
_FINE_GRID = 1 << 18  # the finer screening grid, for h under 8 steps of the first
# From this many points on, the Newton search starts at the binned objective's minimum
# (`screen_minimum`), refined to _REFINE_TOL in log h: an exact evaluation costs there
# hundreds of binned ones.
_REFINE_MIN_N = 10_000
_REFINE_TOL = 1e-6
_VERTEX_STEP = 0.03  # log h spacing of the binned parabola below _REFINE_MIN_N


def _spread(x: torch.Tensor) -> float:
    """A = min(std, IQR / 1.349); for points in R^D the mean of the per-feature values.

    Computed in standard units (x / s1 - centre) / s2, then times s1 s2 (powers of two): the
    squares inside the std of x near 1e-200 would underflow to 0 ("all x are equal")."""
    (s1, s2), x = _standard_x(x)
    cols = x if x.ndim == 2 else x[:, None]  # (N, D)
    std = cols.std(dim=0, correction=1)  # (D,)
    q = torch.quantile(cols, torch.tensor([0.25, 0.75], dtype=cols.dtype), dim=0)  # (2, D)
    iqr = (q[1] - q[0]) / 1.349  # (D,)
    a = torch.where(iqr > 0, torch.minimum(std, iqr), std)  # IQR 0 on lumpy data: use std
    return float(a.mean()) * s1 * s2


def _rule(x: Any, factor: float) -> float:
    xs = as_points(x, "x")
    n = xs.shape[0]
    if n < 2:
        raise NWError("a bandwidth rule needs at least 2 points: add training data")
    a = _spread(xs)
    if a <= 0:
        raise NWError("all x are equal, so no bandwidth fits them: give x values that vary")
    dim = 1 if xs.ndim == 1 else xs.shape[1]
    return factor * a * n ** (-1.0 / (dim + 4))


def silverman(x: Any) -> float:
    """Silverman's rule of thumb h = 0.9 A n^(-1/5), A = min(std, IQR/1.349).

    >>> round(silverman(torch.linspace(0, 1, 101, dtype=torch.float64)), 4)
    0.1048

    For x in R^D, A is averaged over features and the exponent is -1/(D + 4).
    """
    return _rule(x, 0.9)


def scott(x: Any) -> float:
    """Scott's rule h = 1.059 A n^(-1/5), A = min(std, IQR/1.349).

    >>> round(scott(torch.linspace(0, 1, 101, dtype=torch.float64)), 4)
    0.1233
    """
    return _rule(x, 1.059)


def loo_mse(x: Any, y: Any, kernel: str = "gaussian", w: Any = 1.0) -> float:
    """Mean squared leave-one-out error of NW pooling at width w (least-squares CV score).

    >>> loo_mse([0.0, 1.0, 2.0], [0.0, 1.0, 2.0], "constant", 1.0)
    1.5
    """
    kernel = as_kernel(kernel)
    xs, ys = _check_xy(x, y, kernel)
    w = as_real(w, "w", hint="give the kernel width as a number, e.g. w=1.0")
    # in the standard units of loo_bandwidth: x near 1e300 or 1e-300 squares inside range
    y_unit = _power_of_two_scale(ys)
    (s1, s2), x_std = _standard_x(xs)
    return float(_LooObjective(x_std, ys / y_unit, kernel)(w * s1 * s2)) * y_unit * y_unit


@dataclass(frozen=True)
class BandwidthSearch:
    """Where the leave-one-out search ended."""

    h: float  # bandwidth 1/w at the optimum
    w: float
    loss: float  # leave-one-out MSE at the optimum
    evaluations: int
    losses: tuple[float, ...]  # LOO MSE per evaluation, in order


def loo_bandwidth(
    x: Any,
    y: Any,
    kernel: str = "gaussian",
    *,
    callback: StepCallback | None = None,
    rtol: float = 1e-7,
) -> BandwidthSearch:
    """The bandwidth minimising the leave-one-out squared error (least-squares CV).

    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.rand(60, generator=g, dtype=torch.float64) * 5
    >>> y = x.sin() + 0.1 * torch.randn(60, generator=g, dtype=torch.float64)
    >>> 0.05 < loo_bandwidth(x, y).h < 1.0
    True

    A log-spaced grid from an eighth of the closest spacing to four times the data's extent finds
    the best basin (the objective can have several); a 1-D search then narrows it to `rtol`
    in log h: for 1-D Gaussian data, Newton steps (cubic-Hermite steps from the second on)
    with the objective's analytic first and second derivatives (`nwcore.loo_derivs`), from
    the parabola through the best grid point and its neighbours (3-4 exact evaluations), or
    from 10,000 points on from the binned objective's minimum (2); Brent's method for
    Gaussian points in R^D; golden-section search for the
    piecewise objectives of compact kernels. Works for every kernel, smooth or not.
    Boxcar with at most `nwcore.breakpoints.MAX_POINTS` points: its objective is piecewise
    constant between pairwise distances, so every interval is scored (`nwcore.breakpoints`)
    and the best few are evaluated exactly: the true optimum, no grid.

    Fast paths (1-D x): each exact evaluation only sums over each point's window of sorted
    keys, in fused attention for wide Gaussian windows; grid widths with narrow windows are
    evaluated together from one band of sorted neighbours (`nwcore.loo_narrow`); from 500
    points on, large widths of the grid are screened with a binned objective (O(n) each) and
    only the best basin is evaluated exactly. `losses`,
    `evaluations` and the callback cover the exact evaluations only; `loss` is the least.
    """
    kernel = as_kernel(kernel)
    xs, ys = _check_xy(x, y, kernel)
    # The search runs in standard units: the optimum moves with x's offset and scale (h in
    # units of x) and not at all with y's scale. y / 2^k and x centred then divided by 2^k
    # (both of size about 1; a power of two changes no digit) keep squared errors and
    # squared distances of data near 1e-300 or 1e300 inside floating point.
    y_unit = _power_of_two_scale(ys)
    x_unit, x_std = _standard_x(xs)

    def back(search_w: float) -> float:
        return search_w / x_unit[1] / x_unit[0]

    report = None
    if callback is not None:
        report = lambda i, v, w: callback(i, v * y_unit * y_unit, back(w))  # noqa: E731
    with serial_below(xs.shape[0]):  # hundreds of small ops: see nwcore.threads
        found = _search(x_std, ys / y_unit, kernel, report, rtol)
    h = found.h * x_unit[1] * x_unit[0]
    if not math.isfinite(h) or h <= 0.0:
        raise NWError(
            f"the best bandwidth ({found.h:g} x {x_unit[1]:g} x {x_unit[0]:g}) is outside "
            "floating point: x spans too wide a range; rescale x (e.g. x / 1e300)"
        )
    return replace(
        found,
        h=h,
        w=back(found.w),
        loss=found.loss * y_unit * y_unit,
        losses=tuple(v * y_unit * y_unit for v in found.losses),
    )


def _power_of_two_scale(y: torch.Tensor) -> float:
    """2^k with max |y| in [2^k, 2^(k+1)) (1 for y = 0): dividing by it changes no digit."""
    top = float(y.abs().max())
    return math.ldexp(1.0, math.frexp(top)[1] - 1) if top > 0 else 1.0


def _standard_x(x: torch.Tensor) -> tuple[tuple[float, float], torch.Tensor]:
    """((s1, s2), (x / s1 - centre) / s2): centred on the midrange of each column, |.| < 2.

    s1 brings x near 1 before anything is added (no overflow near 1e308, no subnormals near
    1e-308), s2 brings the spread near 1; both powers of two."""
    s1 = _power_of_two_scale(x)
    x1 = x / s1
    centre = (x1.amax(dim=0) + x1.amin(dim=0)) / 2  # () or (D,); |x1| < 2, no overflow
    x2 = x1 - centre
    s2 = _power_of_two_scale(x2)
    return (s1, s2), x2 / s2


def loo_bandwidth_binned(
    x: Any, y: Any, *, grid_size: int | None = None, rtol: float = 1e-6
) -> BandwidthSearch:
    """Approximate Gaussian leave-one-out bandwidth for large 1-D data, O(n + G log G) per h.

    >>> g = torch.Generator().manual_seed(0)
    >>> x = torch.rand(20_000, generator=g, dtype=torch.float64) * 5
    >>> y = x.sin() + 0.3 * torch.randn(20_000, generator=g, dtype=torch.float64)
    >>> binned, exact = loo_bandwidth_binned(x, y), loo_bandwidth(x, y)
    >>> abs(binned.h / exact.h - 1) < 0.01
    True

    The leave-one-out error is computed on a binned grid with each point's own weight K(0)
    and value removed exactly (`nwcore.binned_loo`); a 48-point log grid from 8 grid steps
    to 4 times the data's extent picks the basin (O(G) each, sums read at each point's
    nearest grid point), Brent's method refines it to `rtol` in log h. grid_size: G,
    default 2 per point up to 2^16 (n = 1e6: step = extent / 65,535).
    `loss` is the binned objective at h, `losses` every binned evaluation. Warns when the
    optimum sits at the grid's resolution limit (pass a larger grid_size, or use the exact
    `loo_bandwidth`). For n up to about 1e5 `loo_bandwidth` is exact and affordable.
    """
    kernel = as_kernel("gaussian")
    xs, ys = _check_xy(x, y, kernel)
    if xs.ndim != 1:
        raise NWError(
            f"loo_bandwidth_binned takes 1-D x, shape (N,), got {tuple(xs.shape)}: "
            "use loo_bandwidth for points in R^D"
        )
    n = xs.shape[0]
    if grid_size is None:
        grid_size = max(64, min(1 << 16, 1 << math.ceil(math.log2(2 * n))))
    if isinstance(grid_size, bool) or not isinstance(grid_size, int) or grid_size < 16:
        raise NWError(f"grid_size must be a whole number >= 16, got {grid_size!r}")
    extent = float(xs.max() - xs.min())
    if extent == 0.0:
        raise NWError("all x are equal, so no bandwidth fits them: give x values that vary")
    objective = BinnedLoo(xs, ys, grid_size)
    lo, hi = math.log(objective.h_min), math.log(4 * extent)
    grid = [lo + (hi - lo) * i / (_GRID - 1) for i in range(_GRID)]
    losses: list[float] = []
    values: dict[float, float] = {}

    def evaluate(log_h: float) -> float:
        if log_h not in values:
            v = objective(math.exp(log_h))
            values[log_h] = math.inf if v is None else v
            if v is not None:
                losses.append(v)
        return values[log_h]

    coarse = [math.inf if v is None else v for v in objective.coarse([math.exp(g) for g in grid])]
    best = min(range(_GRID), key=lambda i: (coarse[i], i))
    if not math.isfinite(coarse[best]):
        raise NWError(
            f"the binned grid ({grid_size} points, step {objective.step:.3g}) resolves no "
            "bandwidth for these data (points too isolated): pass a larger grid_size or use "
            "loo_bandwidth"
        )
    first_ok = min(i for i in range(_GRID) if math.isfinite(coarse[i]))
    if best == first_ok:
        warnings.warn(
            f"loo_bandwidth_binned: the optimum h = {math.exp(grid[best]):.3g} is at the "
            f"smallest bandwidth the grid resolves ({MIN_STEPS:g} steps of "
            f"{objective.step:.3g}); pass grid_size > {grid_size} or use loo_bandwidth",
            stacklevel=2,
        )
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, _GRID - 1)]
    _brent(evaluate, a, b, rtol, start=grid[best] if a < grid[best] < b else None)
    best_log_h = min(values, key=lambda g: (values[g], g))
    h = math.exp(best_log_h)
    return BandwidthSearch(
        h=h, w=1.0 / h, loss=values[best_log_h], evaluations=len(losses), losses=tuple(losses)
    )


def _search(xs, ys, kernel, callback, rtol) -> BandwidthSearch:
    objective = _LooObjective(xs, ys, kernel)
    losses: list[float] = []
    exact: dict[float, float] = {}

    def evaluate(log_h: float) -> float:
        if log_h not in exact:
            loss = objective(math.exp(-log_h))
            exact[log_h] = loss
            losses.append(loss)
            if callback is not None:
                callback(len(losses), loss, math.exp(-log_h))
        return exact[log_h]

    def record(log_h: float) -> tuple[float, float, float]:
        loss, slope, curvature = objective.derivatives(math.exp(-log_h))
        if log_h not in exact:
            exact[log_h] = loss
            losses.append(loss)
            if callback is not None:
                callback(len(losses), loss, math.exp(-log_h))
        return exact[log_h], slope, curvature

    if kernel.steps and xs.shape[0] <= breakpoints.MAX_POINTS:
        # piecewise constant: the best of the intervals between pairwise distances, exactly
        dist = objective.dist if objective.dist is not None else pairwise_distance(xs, xs)
        for h in breakpoints.boxcar_candidates(dist, ys, objective.h_min, objective.h_max):
            evaluate(math.log(h))
        return _result(exact, losses)
    lo, hi = math.log(objective.h_min), math.log(objective.h_max)
    grid = [lo + (hi - lo) * i / (_GRID - 1) for i in range(_GRID)]
    # Screening: the binned objective where it is accurate (large 1-D data), else exact.
    # Narrow windows (small h) first: many grid points in one vectorised exact pass.
    screen_h_min = objective.screen_h_min
    small = [g for g in grid if math.exp(g) < screen_h_min]  # below the screen's reach
    for log_h, loss in zip(small, objective.narrow([math.exp(-g) for g in small]), strict=True):
        if loss is not None:
            exact[log_h] = loss
            losses.append(loss)
            if callback is not None:
                callback(len(losses), loss, math.exp(-log_h))
    todo = [g for g in grid if g not in exact]
    screened = dict(zip(todo, objective.screen([math.exp(-g) for g in todo]), strict=True))
    values = [exact[g] if g in exact else screened[g] for g in grid]
    values = [v if v is not None else evaluate(g) for g, v in zip(grid, values, strict=True)]
    best = min(range(_GRID), key=lambda i: (values[i], i))
    if objective.smooth and objective.keys is not None:  # 1-D Gaussian: Newton in log h
        start = objective.screen_minimum(grid, best, screened)
        if start is None:
            start = _vertex(grid, values, best)
            if start is not None:
                start = objective.screen_vertex(start)
        _newton(record, grid, best, rtol, start=start)
        return _result(exact, losses)
    best = _exact_basin(grid, best, evaluate)
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, _GRID - 1)]
    if objective.smooth:  # Gaussian: Brent's parabolic steps, a handful of evaluations
        _brent(evaluate, a, b, rtol, start=grid[best] if a < grid[best] < b else None)
    else:  # compact kernels: piecewise objective, golden-section search as it always was
        _golden(evaluate, a, b, rtol)
    return _result(exact, losses)


def _result(exact: dict[float, float], losses: list[float]) -> BandwidthSearch:
    finite = {g: v for g, v in exact.items() if math.isfinite(v)}  # a NaN never compares
    if not finite:
        raise NWError(
            "the leave-one-out error is NaN/inf at every bandwidth tried: check that y is "
            "finite and not near the float's limit (rescale y, e.g. to its standard deviation)"
        )
    best_log_h = min(finite, key=lambda g: (finite[g], g))
    h = math.exp(best_log_h)
    return BandwidthSearch(
        h=h, w=1.0 / h, loss=exact[best_log_h], evaluations=len(losses), losses=tuple(losses)
    )


def _exact_basin(grid: list[float], best: int, evaluate: Callable[[float], float]) -> int:
    """Move from a screened grid minimum to an exact one: evaluate the neighbours exactly
    and walk downhill until the best exact grid point has no better exact neighbour."""
    while True:
        here = evaluate(grid[best])
        moves = [i for i in (best - 1, best + 1) if 0 <= i < len(grid)]
        better = [i for i in moves if evaluate(grid[i]) < here]
        if not better:
            return best
        best = min(better, key=lambda i: evaluate(grid[i]))


def _vertex(grid: list[float], values: list[float], best: int, reach: float = 0.5) -> float | None:
    """The minimum of the parabola through the best grid point and its neighbours (within
    `reach` spacings of the best), or None at a grid end or where it is not convex."""
    if not 0 < best < len(grid) - 1:
        return None
    lo, mid, hi = values[best - 1], values[best], values[best + 1]
    bend = lo - 2.0 * mid + hi
    if not bend > 0.0:
        return None
    shift = 0.5 * (lo - hi) / bend  # in grid spacings
    return grid[best] + max(-reach, min(reach, shift)) * (grid[1] - grid[0])


def _newton(
    f: Callable[[float], tuple[float, float, float]],
    grid: list[float],
    best: int,
    tol: float,
    start: float | None = None,
) -> None:
    """Safeguarded Newton steps on f'(t) = 0 from `start` (else the best grid point),
    t = log h; f returns (value, f', f''). Steps are at most one grid spacing (so the search
    walks downhill from basin to basin like the grid walk would, never jumping over one) and
    stay inside the bracket of points where f' changed sign, bisecting it when Newton would
    leave it or f'' <= 0. From the second point on, the root of the cubic that matches f'
    and f'' at the last two points replaces the Newton step where it is the smaller
    correction of it (`_hermite_root`: error about e1^2 e2^2 instead of e^2). Ends when the
    next step is below tol: the last point is then within about tol of the minimum, with no
    evaluation spent to confirm it."""
    spacing = grid[1] - grid[0]
    left, right = grid[0], grid[-1]  # f' < 0 at left, > 0 at right (or a grid end)
    t = grid[best] if start is None else start
    prev: tuple[float, float, float] | None = None
    for _ in range(4 * len(grid)):
        _, slope, curvature = f(t)
        if slope == 0.0:
            return
        if slope > 0:
            right = t
        else:
            left = t
        step = -slope / curvature if curvature > 0 else -math.copysign(spacing, slope)
        if prev is not None and curvature > 0 and prev[2] > 0 and abs(t - prev[0]) <= spacing:
            root = _hermite_root(prev, (t, slope, curvature))
            if root is not None and abs(root - (t + step)) <= 0.5 * abs(step):
                step = root - t
        new = t + max(-spacing, min(spacing, step))
        if not left < new < right:
            new = 0.5 * (left + right)
        if abs(new - t) <= tol:
            return
        prev = (t, slope, curvature)
        t = new


def _hermite_root(a: tuple[float, float, float], b: tuple[float, float, float]) -> float | None:
    """The root nearest b of the cubic through (t, g, g') at a and b, from b's Newton step
    (a few Newton steps on the cubic; None if they do not settle)."""
    (ta, ga, da), (tb, gb, db) = a, b
    span = tb - ta
    if span == 0.0:
        return None
    c1 = span * da  # g(ta + s span) ~ ga + c1 s + c2 s^2 + c3 s^3
    c2 = 3.0 * (gb - ga) - span * (2.0 * da + db)
    c3 = 2.0 * (ga - gb) + span * (da + db)
    s = 1.0 - gb / (span * db)
    for _ in range(8):
        value = ga + s * (c1 + s * (c2 + s * c3))
        slope = c1 + s * (2.0 * c2 + 3.0 * s * c3)
        if slope == 0.0:
            return None
        ds = value / slope
        s -= ds
        if abs(ds) <= 1e-15 * max(1.0, abs(s)):
            return ta + s * span
    return None


def _golden(f: Callable[[float], float], a: float, b: float, tol: float) -> None:
    """Golden-section search on [a, b] down to width tol."""
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = f(c), f(d)
    while b - a > tol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = f(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = f(d)


def _brent(
    f: Callable[[float], float], a: float, b: float, tol: float, start: float | None = None
) -> None:
    """Brent's bounded minimisation on [a, b] (parabolic steps, golden fallback), to about
    tol in x; the same algorithm as scipy.optimize.fminbound. With `start`, a point inside
    with f(start) <= f(a), f(b) (the best grid point, whose values are cached), the first
    parabola goes through a, start and b instead of starting from a golden-section step."""
    sqrt_eps = math.sqrt(2.2e-16)
    golden_mean = 0.5 * (3.0 - math.sqrt(5.0))
    if start is None:
        v = w = x = a + golden_mean * (b - a)
        fv = fw = fx = f(x)
        d = e = 0.0
    else:
        x, fx = start, f(start)
        (fw, w), (fv, v) = sorted([(f(a), a), (f(b), b)])
        d, e = 0.0, b - a  # let the first step be parabolic
    while True:
        xm = 0.5 * (a + b)
        tol1 = sqrt_eps * abs(x) + tol / 3.0
        tol2 = 2.0 * tol1
        if abs(x - xm) <= tol2 - 0.5 * (b - a):
            return
        use_golden = True
        if abs(e) > tol1:  # try a parabola through x, w, v
            r = (x - w) * (fx - fv)
            q = (x - v) * (fx - fw)
            p = (x - v) * q - (x - w) * r
            q = 2.0 * (q - r)
            if q > 0.0:
                p = -p
            q = abs(q)
            e_prev, e = e, d
            if abs(p) < abs(0.5 * q * e_prev) and q * (a - x) < p < q * (b - x):
                d = p / q
                u = x + d
                if u - a < tol2 or b - u < tol2:
                    d = tol1 if xm >= x else -tol1
                use_golden = False
        if use_golden:
            e = (a - x) if x >= xm else (b - x)
            d = golden_mean * e
        u = x + (d if abs(d) >= tol1 else (tol1 if d >= 0 else -tol1))
        fu = f(u)
        if fu <= fx:
            if u >= x:
                a = x
            else:
                b = x
            v, fv, w, fw, x, fx = w, fw, x, fx, u, fu
        else:
            if u < x:
                a = u
            else:
                b = u
            if fu <= fw or w == x:
                v, fv, w, fw = w, fw, u, fu
            elif fu <= fv or v == x or v == w:
                v, fv = u, fu


def _check_xy(x: Any, y: Any, kernel: Kernel) -> tuple[torch.Tensor, torch.Tensor]:
    xs = as_points(x, "x")
    ys = as_values(y, xs.shape[0], "y")
    if xs.shape[0] < 3:
        raise NWError(
            f"leave-one-out needs at least 3 points, got {xs.shape[0]}: add training data"
        )
    dtype = torch.promote_types(xs.dtype, ys.dtype)
    return xs.to(dtype), ys.to(dtype)


class _LooObjective:
    """w -> leave-one-out MSE.

    1-D data: x sorted once; each evaluation sums over each point's window of sorted keys
    (`nwcore.fast`), O(N x window) instead of O(N^2). For the Gaussian the window ends where a
    key's weight relative to the row's largest falls below eps / (e^3 N), so the dropped keys
    move each prediction by less than a rounding error (exact to float precision). Points
    in R^D: the (N, N) distances, cached while they fit in memory.
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, kernel: str | Kernel):
        self.x, self.y, self.kernel = x, y, as_kernel(kernel)  # an entry passes unchecked
        self.smooth = self.kernel.quadratic
        n = x.shape[0]
        self.keys = None
        self.dist = None
        if x.ndim == 1:
            self.keys = SortedKeys(x, y)
            xs = self.keys.x
            gaps = xs[1:] - xs[:-1]  # (N-1,) neighbour spacings; the closest pair is one
            positive = gaps[gaps > 0]
            if positive.numel() == 0:
                raise NWError("all x are equal, so no bandwidth fits them: give x values that vary")
            self.h_min = float(positive.min()) / 8  # at 1/8 spacing the Gaussian is nearest-key
            self.h_max = 4 * float(xs[-1] - xs[0])
            self.dmin, self.near_value, self.near_range = self.keys.nearest_other()
            self.self_index = torch.arange(n, device=x.device)
            eps = torch.finfo(x.dtype).eps
            self.tail = math.log(n) - math.log(eps) + 3.0  # dropped weight < eps e^-3 / N each
            self._bins: tuple[BinnedLoo, ...] | None = None
            return
        dist = pairwise_distance(x, x)  # (N, N)
        off = dist[~torch.eye(n, dtype=torch.bool)]
        positive = off[off > 0]
        if positive.numel() == 0:
            raise NWError("all x are equal, so no bandwidth fits them: give x values that vary")
        self.h_min = float(positive.min()) / 8  # at 1/8 spacing the Gaussian is nearest-key
        self.h_max = 4 * float(off.max())
        self.dist = dist if n <= _CACHE_LIMIT else None

    def __call__(self, w: float) -> float:
        if self.keys is not None:
            return self._windowed(abs(w))
        n = self.x.shape[0]
        w_t = torch.tensor(w, dtype=self.x.dtype)
        total = 0.0
        rows = self.dist.shape[0] if self.dist is not None else max(1, 4_000_000 // n)
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            if self.dist is not None:
                dist = self.dist[start:stop]  # (rows, N)
            else:
                dist = pairwise_distance(self.x[start:stop], self.x)  # (rows, N)
            mask = torch.ones_like(dist, dtype=torch.bool)
            mask[torch.arange(stop - start), torch.arange(start, stop)] = False  # hide self
            weights, _ = kernel_attention(dist, w_t, self.kernel, mask)  # (rows, N)
            total += float(((weights @ self.y - self.y[start:stop]) ** 2).sum())
        return total / n

    def _windowed(self, a: float) -> float:
        keys = self.keys
        if self.kernel.flat or a == 0.0:  # mean of the others
            pred = (keys.y.sum() - keys.y) / (keys.n - 1)
            return float((pred - keys.y).square().mean())
        radius = window_radius(self.kernel, a, self.dmin, self.tail)
        lo, hi = window_bounds(keys.x, keys.x, radius, self.near_range)
        fused = fused_loo(keys, a, lo, hi) if self.smooth else None
        if fused is not None:  # wide Gaussian windows: fused attention, exact redo where needed
            pred, redo = fused
            if bool(redo.any()):
                idx = redo.nonzero()[:, 0]
                pred[idx], _ = windowed_sums(
                    keys.x[idx],
                    keys,
                    self.kernel,
                    a,
                    lo[idx],
                    hi[idx],
                    self.dmin[idx],
                    self.near_value[idx],
                    self.self_index[idx],
                )
            return float((pred - keys.y).square().mean())
        pred, _ = windowed_sums(
            keys.x, keys, self.kernel, a, lo, hi, self.dmin, self.near_value, self.self_index
        )
        return float((pred - keys.y).square().mean())

    def derivatives(self, w: float) -> tuple[float, float, float]:
        """(loss, d loss / d log h, d^2 loss / d (log h)^2) at w; 1-D Gaussian only."""
        keys, a = self.keys, abs(w)
        radius = window_radius(self.kernel, a, self.dmin, self.tail)
        lo, hi = window_bounds(keys.x, keys.x, radius, self.near_range)
        return gaussian_loo_derivatives(keys, a, lo, hi, self.dmin, self.self_index)

    def narrow(self, ws: list[float]) -> list[float | None]:
        """Exact losses for the widths whose windows lie within `nwcore.loo_narrow.REACH`
        sorted keys on each side of every point, computed together from one band of
        neighbours (`nwcore.loo_narrow`); None for the others. Same numbers as __call__ up to
        rounding, far less overhead for the grid's small h (and every h for small N)."""
        keys = self.keys
        if keys is None or self.kernel.flat:
            return [None] * len(ws)
        todo = [i for i, w in enumerate(ws) if w != 0.0]
        a = [abs(ws[i]) for i in todo]
        got = narrow_losses(
            keys, self.kernel, a, self.dmin, self.near_value, self.near_range, self.tail
        )
        out: list[float | None] = [None] * len(ws)
        for i, v in zip(todo, got, strict=True):
            out[i] = v
        return out

    @property
    def screen_h_min(self) -> float:
        """The smallest h `screen` evaluates (inf where it evaluates none)."""
        bins = self._screen_bins()
        return math.inf if not bins else bins[-1].h_min

    def _screen_bins(self) -> tuple[BinnedLoo, ...]:
        """The screening grids: 2 bins per point up to _SCREEN_GRID for every h, and where
        that caps it, a finer one (2 per point up to _FINE_GRID) for the h below its reach,
        whose kernels are short (small FFTs); () where screening does not apply."""
        if self.keys is None or not self.smooth or self.keys.n < _SCREEN_MIN_N:
            return ()
        if self._bins is None:
            size = 1 << math.ceil(math.log2(2 * self.keys.n))
            grids = [min(_SCREEN_GRID, size)]
            if size > _SCREEN_GRID:
                grids.append(min(_FINE_GRID, size))
            self._bins = tuple(BinnedLoo(self.keys.x, self.keys.y, g) for g in grids)
        return self._bins

    def _binned(self, hs: list[float]) -> list[float | None]:
        """The binned objective at each h, each from the coarsest grid that resolves it."""
        out: list[float | None] = [None] * len(hs)
        for bins in self._screen_bins():
            todo = [i for i, h in enumerate(hs) if out[i] is None and h >= bins.h_min]
            for i, v in zip(todo, bins.many([hs[i] for i in todo]), strict=True):
                out[i] = v
        return out

    def screen_minimum(
        self, grid: list[float], best: int, screened: dict[float, float | None]
    ) -> float | None:
        """From _REFINE_MIN_N points on: log h of the binned objective's minimum between the
        best grid point's neighbours (Brent's method, about 10 binned evaluations), where
        all three were screened; else None. Binning moves it by about (step / h)^2 from the
        exact minimum (1e-5 in log h at 100,000 points), so Newton then needs two exact
        evaluations instead of three or four."""
        if self.keys is None or self.keys.n < _REFINE_MIN_N or not 0 < best < len(grid) - 1:
            return None
        near = grid[best - 1 : best + 2]
        if any(screened.get(g) is None for g in near):
            return None
        values = {g: screened[g] for g in near}

        def binned(log_h: float) -> float:
            if log_h not in values:
                (v,) = self._binned([math.exp(log_h)])
                values[log_h] = math.inf if v is None else v
            return values[log_h]

        _brent(binned, near[0], near[2], _REFINE_TOL, start=near[1])
        return min(values, key=lambda g: (values[g], g))

    def screen_vertex(self, t: float) -> float:
        """A closer start near t = log h: the vertex of the parabola through the binned
        objective at t and t +- _VERTEX_STEP (one batched binned evaluation), where the
        screen resolves all three and they are convex; else t. Within about the binning
        bias (1e-4 in log h at 1,000 points) of the exact minimum when t is within a few
        _VERTEX_STEP of it: Newton then often ends after two exact evaluations."""
        ts = [t - _VERTEX_STEP, t, t + _VERTEX_STEP]
        got = self._binned([math.exp(g) for g in ts])
        if any(v is None for v in got):
            return t
        return _vertex(ts, got, 1, reach=1.5) or t

    def screen(self, ws: list[float]) -> list[float | None]:
        """The binned LOO objective at each w, or None where it is not accurate enough to
        screen with (small data, compact kernels, h under 8 bins, points with hardly any
        neighbour weight: `nwcore.binned_loo`). Never reported as a loss: it only picks the
        basin."""
        return self._binned([1.0 / abs(w) for w in ws])

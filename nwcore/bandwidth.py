"""Bandwidth rules: Silverman, Scott, and the leave-one-out (least-squares CV) optimum.

A bandwidth h is the kernel's half-width in x units; the width parameter is w = 1/h.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from nwcore._checks import as_points, as_values
from nwcore.errors import NWError
from nwcore.kernels import check_kernel
from nwcore.pooling import kernel_attention, pairwise_distance

__all__ = ["silverman", "scott", "loo_mse", "loo_bandwidth", "BandwidthSearch"]

# A step callback receives (step, loss, w); the dashboard draws progress from it.
StepCallback = Callable[[int, float, float], None]

# Grid points per search; then golden-section refinement inside the best bracket.
_GRID = 48
_GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0
# Above this many points the (N, N) distance matrix is not cached between evaluations.
_CACHE_LIMIT = 3000


def _spread(x: torch.Tensor) -> float:
    """A = min(std, IQR / 1.349); for points in R^D the mean of the per-feature values."""
    cols = x if x.ndim == 2 else x[:, None]  # (N, D)
    std = cols.std(dim=0, correction=1)  # (D,)
    q = torch.quantile(cols, torch.tensor([0.25, 0.75], dtype=cols.dtype), dim=0)  # (2, D)
    iqr = (q[1] - q[0]) / 1.349  # (D,)
    a = torch.where(iqr > 0, torch.minimum(std, iqr), std)  # IQR 0 on lumpy data: use std
    return float(a.mean())


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
    xs, ys = _check_xy(x, y, kernel)
    return float(_LooObjective(xs, ys, kernel)(float(w)))


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
    the best basin (the objective can have several); golden-section search then narrows it
    to `rtol` in log h. Works for every kernel, smooth or not.
    """
    xs, ys = _check_xy(x, y, kernel)
    objective = _LooObjective(xs, ys, kernel)
    losses: list[float] = []

    def evaluate(log_h: float) -> float:
        loss = objective(math.exp(-log_h))
        losses.append(loss)
        if callback is not None:
            callback(len(losses), loss, math.exp(-log_h))
        return loss

    lo, hi = math.log(objective.h_min), math.log(objective.h_max)
    grid = [lo + (hi - lo) * i / (_GRID - 1) for i in range(_GRID)]
    values = [evaluate(g) for g in grid]
    best = min(range(_GRID), key=lambda i: (values[i], i))
    a, b = grid[max(best - 1, 0)], grid[min(best + 1, _GRID - 1)]
    best_log_h, best_loss = grid[best], values[best]
    # golden-section search on [a, b], in log h
    c, d = b - _GOLDEN * (b - a), a + _GOLDEN * (b - a)
    fc, fd = evaluate(c), evaluate(d)
    while b - a > rtol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - _GOLDEN * (b - a)
            fc = evaluate(c)
        else:
            a, c, fc = c, d, fd
            d = a + _GOLDEN * (b - a)
            fd = evaluate(d)
    for log_h, loss in ((c, fc), (d, fd)):
        if loss < best_loss:
            best_log_h, best_loss = log_h, loss
    h = math.exp(best_log_h)
    return BandwidthSearch(
        h=h, w=1.0 / h, loss=best_loss, evaluations=len(losses), losses=tuple(losses)
    )


def _check_xy(x: Any, y: Any, kernel: str) -> tuple[torch.Tensor, torch.Tensor]:
    check_kernel(kernel)
    xs = as_points(x, "x")
    ys = as_values(y, xs.shape[0], "y")
    if xs.shape[0] < 3:
        raise NWError(
            f"leave-one-out needs at least 3 points, got {xs.shape[0]}: add training data"
        )
    dtype = torch.promote_types(xs.dtype, ys.dtype)
    return xs.to(dtype), ys.to(dtype)


class _LooObjective:
    """w -> leave-one-out MSE, with the distances cached while they fit in memory."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, kernel: str):
        self.x, self.y, self.kernel = x, y, kernel
        n = x.shape[0]
        dist = pairwise_distance(x, x)  # (N, N)
        off = dist[~torch.eye(n, dtype=torch.bool)]
        positive = off[off > 0]
        if positive.numel() == 0:
            raise NWError("all x are equal, so no bandwidth fits them: give x values that vary")
        self.h_min = float(positive.min()) / 8  # at 1/8 spacing the Gaussian is nearest-key
        self.h_max = 4 * float(off.max())
        self.dist = dist if n <= _CACHE_LIMIT else None

    def __call__(self, w: float) -> float:
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

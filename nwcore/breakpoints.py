"""The exact boxcar leave-one-out optimum: the objective is piecewise constant in h.

A boxcar window |x_i - x_j| <= h changes only where h crosses a pairwise distance, so the
leave-one-out MSE takes finitely many values, one per interval between distinct distances.
Each point's prediction is the running mean of the others in order of distance (cumulative
sums of its sorted row); the total changes at each distance by that point's step in squared
error. Sorting every (distance, step) pair and summing in order gives the MSE on every
interval at once: O(N^2 log N) time and O(N^2) memory, for N up to `MAX_POINTS`.
"""

from __future__ import annotations

import math

import torch

__all__ = ["MAX_POINTS", "boxcar_candidates"]

# Above this many points the (N, N) sort no longer fits comfortably in memory.
MAX_POINTS = 3000


def boxcar_candidates(
    dist: torch.Tensor, y: torch.Tensor, h_min: float, h_max: float, count: int = 8
) -> list[float]:
    """Up to `count` bandwidths in [h_min, h_max], one inside each of the intervals of h with
    the least boxcar leave-one-out MSE, best first.

    dist: (N, N) distances between the points (the diagonal is ignored); y: (N,).
    A window holds every other point with distance <= h; an empty one takes the mean of the
    nearest other points, as `nwcore.pooling` does. The sums run in float64 and carry
    rounding error of about N^2 eps, so the caller evaluates the candidates exactly.
    """
    n = y.shape[0]
    d = dist.to(torch.float64).clone()  # (N, N)
    d.fill_diagonal_(math.inf)
    ds, order = d.sort(dim=1)
    ds, order = ds[:, :-1], order[:, :-1]  # (N, N-1) the others, nearest first
    yv = y.to(torch.float64)
    ys = yv[order]  # (N, N-1)
    err = (ys.cumsum(1) / torch.arange(1, n, dtype=torch.float64) - yv[:, None]).square()
    ties = ds == ds[:, :1]  # (N, N-1) the nearest others: an empty window's value
    near = (ys * ties).sum(1) / ties.sum(1)  # (N,)
    base = (near - yv).square()  # (N,) squared error while the window is empty
    step = torch.cat([err[:, :1] - base[:, None], err[:, 1:] - err[:, :-1]], dim=1)
    flat_d, idx = ds.reshape(-1).sort()
    total = step.reshape(-1)[idx].cumsum(0)  # sum of squared errors once h >= flat_d
    last = torch.ones_like(flat_d, dtype=torch.bool)  # the last of each run of equal distances
    last[:-1] = flat_d[1:] != flat_d[:-1]
    left = flat_d[last]  # (M,) distinct distances, each opening an interval [left, right)
    loss = (base.sum() + total[last]) / n  # (M,)
    right = torch.cat([left[1:], torch.tensor([math.inf], dtype=left.dtype)])
    if float(left[0]) > 0:  # h below every distance: every window is empty
        loss = torch.cat([(base.sum() / n)[None], loss])
        left = torch.cat([torch.zeros(1, dtype=left.dtype), left])
        right = torch.cat([flat_d[:1], right])
    lo = left.clamp(min=h_min)
    hi = right.clamp(max=h_max)
    keep = lo < hi  # intervals inside the search range
    lo, hi, loss = lo[keep], hi[keep], loss[keep]
    best = loss.argsort(stable=True)[:count]
    # the geometric middle of each interval, away from the distances where windows change
    return [math.sqrt(float(lo[i]) * float(hi[i])) for i in best.tolist()]

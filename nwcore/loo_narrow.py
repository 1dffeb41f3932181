"""Exact leave-one-out errors of 1-D NW at many narrow widths in one pass over a key band.

Each sorted point i reads the keys at offsets -C..C in sorted order (a band, (N, 2C + 1),
built once: squared distances, values, the point itself masked). For a width w, the keys
that can weigh anything for some point (its window, `nwcore.fast.window_radius`) sit at
offsets where the smallest d^2 - d_min^2 over the points (Gaussian) or |d| (compact
kernels) is within the window: both grow with the offset on each side, so each width needs
one contiguous slice of the band's columns, usually a few keys wide at small w. Keys in the
slice but outside a point's own window weigh less than eps e^-3 / N of its nearest key
(Gaussian) or exactly 0 (compact kernels): the same losses as the window paths up to
rounding. Widths whose slice reaches the band's edge (while keys lie beyond it) are not
narrow: None.
"""

from __future__ import annotations

import math

import torch

from nwcore.fast import SortedKeys, negligible_score
from nwcore.kernels import Kernel

__all__ = ["narrow_losses", "REACH"]

REACH = 64  # C: keys read on each side of a point
_ENTRIES = 1 << 21  # (widths, rows, keys) entries per computation: 16 MB in float64


def narrow_losses(
    keys: SortedKeys,
    kernel: Kernel,
    ws: list[float],
    dmin: torch.Tensor,
    near_value: torch.Tensor,
    tail: float,
) -> list[float | None]:
    """Leave-one-out MSE at each width in ws (> 0), or None where the width is not narrow.

    keys: the points, sorted; dmin (N,): each one's nearest other key's distance;
    near_value (N,): the empty-window value (its nearest other keys' mean); tail: the
    Gaussian window's score cut-off (`_LooObjective.tail`)."""
    n = keys.n
    reach = min(REACH, n - 1)
    out: list[float | None] = [None] * len(ws)
    rows = max(1, _ENTRIES // (2 * reach + 1))
    spans = [(s, min(s + rows, n)) for s in range(0, n, rows)]

    def band(span):
        return _Band(keys, kernel, dmin, span[0], span[1], reach)

    kept = band(spans[0]) if len(spans) == 1 else None  # else built again below: memory
    # one slice per width over all points: decides which widths are narrow
    edge = kept.edge if kept is not None else torch.stack([band(s).edge for s in spans]).amin(0)
    order = sorted(range(len(ws)), key=lambda i: -ws[i])  # narrowest windows first
    limit = _limit(kernel, tail)
    narrow = []
    for i in order:
        if _slice(edge, limit(ws[i]), reach, full=reach == n - 1) is None:
            break  # wider windows from here on
        narrow.append(i)
    sq = {i: 0.0 for i in narrow}
    for span in spans if narrow else []:
        chunk = kept if kept is not None else band(span)
        groups: dict[tuple[int, int], list[int]] = {}
        for i in narrow:  # points of this chunk may need fewer columns than all points do
            groups.setdefault(_slice(chunk.edge, limit(ws[i]), reach, full=True), []).append(i)
        for (lo, hi), idx in groups.items():
            per = max(1, _ENTRIES // (chunk.rows * (hi - lo)))
            for s in range(0, len(idx), per):
                part = idx[s : s + per]
                errs = chunk.errors(kernel, [ws[i] for i in part], lo, hi, near_value)
                for i, v in zip(part, errs.tolist(), strict=True):
                    sq[i] += v
    for i in narrow:
        out[i] = sq[i] / n
    return out


def _limit(kernel: Kernel, tail: float):
    """w -> the largest band `edge` value a key in some window can have (slack included:
    a key let in beyond its window weighs nothing)."""
    if kernel.quadratic:
        return lambda w: 2.0 * tail / (w * w) * (1.0 + 1e-9)  # d^2 - d_min^2 <= 2 T / w^2
    return lambda w: kernel.radius / w * (1.0 + 1e-9)  # |d| <= radius / w


def _slice(edge: torch.Tensor, limit: float, reach: int, full: bool) -> tuple[int, int] | None:
    """Column range [lo, hi) of the band holding every offset with edge <= limit (or a few
    more); None when that touches the band's last column on a side and keys may lie beyond
    (not `full`)."""
    inside = (edge <= limit).nonzero()[:, 0]
    if inside.numel() == 0:
        return reach, reach + 1  # the own column only: nothing weighs (empty windows)
    lo, hi = int(inside[0]), int(inside[-1]) + 1
    if not full and (lo == 0 or hi == 2 * reach + 1):
        return None
    # widened to a power of two (up to 8) or a multiple of 8 each side, so that many widths
    # share one slice (one op)
    side = max(reach - lo, hi - 1 - reach, 1)
    side = min(reach, 1 << math.ceil(math.log2(side)) if side <= 8 else -(-side // 8) * 8)
    return reach - side, reach + side + 1


class _Band:
    """Rows [start, stop) of the sorted points and their keys at offsets -C..C."""

    def __init__(self, keys: SortedKeys, kernel: Kernel, dmin, start: int, stop: int, reach):
        n = keys.n
        self.start, self.stop, self.rows = start, stop, stop - start
        offsets = torch.arange(-reach, reach + 1, device=keys.x.device)  # (M,)
        i = torch.arange(start, stop, device=keys.x.device)[:, None]  # (R, 1)
        j = i + offsets  # (R, M)
        ok = (j >= 0) & (j < n) & (offsets != 0)  # a key, not the point itself
        j = j.clamp_(0, n - 1)
        d = keys.x[i] - keys.x[j]  # (R, M)
        self.y = keys.y[start:stop]  # (R,)
        self.values = torch.where(ok, keys.y[j], 0.0)  # (R, M)
        if kernel.quadratic:  # score gap d_min^2 - d^2 <= 0 (0 at the nearest keys)
            gap = torch.addcmul(dmin[start:stop, None].square(), d, d, value=-1.0)
            self.gap = gap.masked_fill_(~ok, -math.inf)
            self.edge = torch.where(ok, -gap, math.inf).amin(0)  # (M,)
        else:
            self.dist = d.abs_().masked_fill_(~ok, math.inf)  # (R, M), weight(inf) = 0
            self.edge = self.dist.amin(0)

    def errors(self, kernel: Kernel, ws: list[float], lo: int, hi: int, near_value):
        """(H,) sums of squared leave-one-out errors of these rows at each width, from the
        band's columns [lo, hi)."""
        w = torch.tensor(ws, dtype=self.values.dtype, device=self.values.device)[:, None, None]
        if kernel.quadratic:  # exp(-(w^2/2)(d^2 - d_min^2)): the nearest key weighs 1
            floor = negligible_score(self.values.dtype)
            wts = (self.gap[None, :, lo:hi] * (0.5 * w.square())).clamp_(min=-floor).exp_()
        else:
            wts = kernel.weight(self.dist[None, :, lo:hi] * w)  # (H, R, cols) K(u) / K(0)
        den = wts.sum(-1)  # (H, R)
        pred = (wts * self.values[None, :, lo:hi]).sum(-1) / den
        pred = torch.where(den == 0, near_value[self.start : self.stop], pred)  # empty
        return (pred - self.y).square().sum(-1)

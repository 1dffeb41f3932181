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
import torch.nn.functional as F

from nwcore.fast import SortedKeys, negligible_score, window_bounds, window_radius
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
    near_range: torch.Tensor,
    tail: float,
) -> list[float | None]:
    """Leave-one-out MSE at each width in ws (> 0), or None where the width is not narrow.

    keys: the points, sorted; dmin (N,): each one's nearest other key's distance;
    near_value (N,): the empty-window value (its nearest other keys' mean); near_range
    (2, N): the key range of its nearest runs (`SortedKeys.nearest_other`); tail: the
    Gaussian window's score cut-off (`_LooObjective.tail`)."""
    n = keys.n
    out: list[float | None] = [None] * len(ws)
    if not ws:
        return out
    # C: as far as the widest window asked for reaches (the narrower ones sit inside it)
    radius = window_radius(kernel, min(ws), dmin, tail)
    lo, hi = window_bounds(keys.x, keys.x, radius, near_range)
    own = torch.arange(n, device=keys.x.device)
    reach = min(REACH, n - 1, max(1, int(torch.maximum(own - lo, hi - 1 - own).max())))
    reach = min(n - 1, reach + 1)  # one more: the band's edge shows where windows end
    rows = max(1, _ENTRIES // (2 * reach + 1))
    spans = [(s, min(s + rows, n)) for s in range(0, n, rows)]

    def band(span):
        return _Band(keys, kernel, dmin, span[0], span[1], reach)

    kept = band(spans[0]) if len(spans) == 1 else None  # else built again below: memory
    # one slice per width over all points: decides which widths are narrow
    edge = kept.edge if kept is not None else torch.stack([band(s).edge for s in spans]).amin(0)
    limits = _limits(kernel, tail, ws)
    full = reach == n - 1
    narrow = [i for i, c in enumerate(_slices(edge, limits, reach, full)) if c is not None]
    sq = {i: 0.0 for i in narrow}
    for span in spans if narrow else []:
        chunk = kept if kept is not None else band(span)
        groups: dict[tuple[int, int], list[int]] = {}
        cols = _slices(chunk.edge, [limits[i] for i in narrow], reach, full=True)
        for i, c in zip(narrow, cols, strict=True):  # this chunk's points may need fewer
            groups.setdefault(c, []).append(i)
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


def _limits(kernel: Kernel, tail: float, ws: list[float]) -> list[float]:
    """The largest band `edge` value a key in some window can have at each width (slack
    included: a key let in beyond its window weighs nothing)."""
    if kernel.quadratic:  # d^2 - d_min^2 <= 2 T / w^2
        return [2.0 * tail / (w * w) * (1.0 + 1e-9) for w in ws]
    return [kernel.radius / w * (1.0 + 1e-9) for w in ws]  # |d| <= radius / w


def _slices(
    edge: torch.Tensor, limits: list[float], reach: int, full: bool
) -> list[tuple[int, int] | None]:
    """Per limit, the column range [lo, hi) of the band holding every offset with
    edge <= limit (or a few more); None when that touches the band's last column on a side
    and keys may lie beyond (not `full`)."""
    inside = edge[None, :] <= torch.tensor(limits, dtype=edge.dtype)[:, None]  # (W, M)
    width = edge.shape[0]
    any_in = inside.any(1).tolist()
    first = inside.int().argmax(1).tolist()  # first True
    last = (width - 1 - inside.flip(1).int().argmax(1)).tolist()
    out: list[tuple[int, int] | None] = []
    for ok, lo, hi in zip(any_in, first, last, strict=True):
        if not ok:
            out.append((reach, reach + 1))  # the own column only: nothing weighs (empty)
            continue
        if not full and (lo == 0 or hi == width - 1):
            out.append(None)
            continue
        # widened to a power of two (up to 8) or a multiple of 8 each side, so that many
        # widths share one slice (one op)
        side = max(reach - lo, hi - reach, 1)
        side = min(reach, 1 << math.ceil(math.log2(side)) if side <= 8 else -(-side // 8) * 8)
        out.append((reach - side, reach + side + 1))
    return out


class _Band:
    """Rows [start, stop) of the sorted points and their keys at offsets -C..C."""

    def __init__(self, keys: SortedKeys, kernel: Kernel, dmin, start: int, stop: int, reach):
        self.start, self.stop, self.rows = start, stop, stop - start
        width = 2 * reach + 1
        # keys padded with +inf (no key: weighs 0) and read as rows of an unfolded view
        pad = keys.x.new_full((reach,), math.inf)
        x_band = torch.cat([pad, keys.x, pad]).unfold(0, width, 1)[start:stop]  # (R, M)
        y_band = F.pad(keys.y, (reach, reach)).unfold(0, width, 1)[start:stop]  # (R, M)
        d = keys.x[start:stop, None] - x_band  # (R, M), -inf where no key
        self.y = keys.y[start:stop]  # (R,)
        self.values = y_band.clone()
        self.values[:, reach] = 0.0  # the point itself
        if kernel.quadratic:  # score gap d_min^2 - d^2 <= 0 (0 at the nearest keys)
            # squares rounded alike: exactly 0 at the nearest keys and <= 0 elsewhere (a fused
            # d_min^2 - d * d can round above 0, and w^2 up to 1e24 turns that into inf)
            gap = dmin[start:stop, None].square() - d.square()
            gap[:, reach] = -math.inf
            self.gap = gap
            self.edge = gap.amax(0).neg_()  # (M,) the least d^2 - d_min^2 at each offset
        else:
            self.dist = d.abs_()  # (R, M), weight(inf) = 0
            self.dist[:, reach] = math.inf
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

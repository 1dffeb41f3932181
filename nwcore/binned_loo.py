"""The Gaussian leave-one-out error on a binned grid, with each point's own weight removed.

Approximate and O(n + G log G) per bandwidth: x and y are linearly binned once onto G grid
points (`nwcore.binned.linear_binning`); for each h the kernel sums S0 = sum_j K_ij and
S1 = sum_j K_ij y_j are one FFT convolution on the grid, read back at every x_i by linear
interpolation. The point itself is then taken out exactly as binning put it in: a point a
fraction f past its left grid point put 1 - f and f of its weight there, and reading back
at x_i returns c_i = 1 - 2 f (1 - f) (1 - K(step / h)) of it (K(0) = 1), times y_i in S1.
So the leave-one-out prediction is (S1 - c_i y_i) / (S0 - c_i): only the other points'
binned weights remain, and a point whose neighbours are far keeps a meaningful ratio.
(KernSmooth's binned estimates keep the point in; without removing it, cross-validation
picks h -> 0.)

Accuracy: binning moves each x_i by up to half a grid step, an error of order
(step / h)^2 in each weight, so bandwidths under `MIN_STEPS` grid steps are not evaluated
(None), nor are ones where some point's neighbours weigh under `MIN_WEIGHT` of its own
weight (FFT rounding, about eps times the total weight, would then show in the ratio).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from nwcore.binned import linear_binning
from nwcore.kernels import TABLE

__all__ = ["BinnedLoo", "MIN_STEPS", "MIN_WEIGHT"]

MIN_STEPS = 8.0  # h at least this many grid steps
MIN_WEIGHT = 1e-3  # every point's neighbours weigh at least this much (own weight 1)
_COARSE_WEIGHT = 0.1  # the same for `coarse`, whose own weight is a mean per grid point
_GAUSSIAN = TABLE["gaussian"]
_BATCH = 4  # bandwidths per batched FFT and gather at least ((4, 2, N) values at the points)
_GATHER = 1 << 16  # or as many as keep the gathered values at (N, H, 4) <= 2^18 entries


class BinnedLoo:
    """h -> binned Gaussian leave-one-out MSE, for 1-D x (N,), y (N,) in any order."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, grid_size: int):
        lo, hi = float(x.min()), float(x.max())
        self.size = grid_size
        self._spectra: dict[int, torch.Tensor] = {}  # FFT length -> (2, F) of counts, sums
        self.step = (hi - lo) / (grid_size - 1)
        y = y - y.mean()  # the leave-one-out errors do not change; sums cancel less
        self.y = y
        self.counts, self.sums = linear_binning(x, y, lo, self.step, grid_size)  # (G,) each
        pos = (x - lo) / self.step  # (N,)
        left = pos.floor().clamp_(0, grid_size - 2)
        self.left = left.long()
        self.frac = (pos - left).clamp_(0.0, 1.0)  # (N,)
        self.spread = 2.0 * self.frac * (1.0 - self.frac)  # (N,) c_i = 1 - spread (1 - K1)
        near = pos.round().long().clamp_(0, grid_size - 1)  # (N,) nearest grid point
        zeros = torch.zeros(grid_size, dtype=y.dtype)
        self.near_stats = torch.stack(  # (4, G) per nearest grid point: count, sums of y,
            [  # y^2 and of the points' spread
                torch.bincount(near, minlength=grid_size).to(y.dtype),
                zeros.index_add(0, near, y),
                zeros.index_add(0, near, y.square()),
                zeros.index_add(0, near, self.spread),
            ]
        )

    @property
    def h_min(self) -> float:
        """The smallest bandwidth the grid resolves (MIN_STEPS steps)."""
        return MIN_STEPS * self.step

    def __call__(self, h: float) -> float | None:
        return self.many([h])[0]

    def many(self, hs: list[float]) -> list[float | None]:
        """The objective at each h (None where the grid cannot resolve it), _BATCH at once."""
        out: list[float | None] = [None] * len(hs)
        todo = [i for i, h in enumerate(hs) if h >= self.h_min]
        by_size: dict[int, list[int]] = {}  # one FFT length per batch
        for i in todo:
            by_size.setdefault(self._fft_size(self._reach(hs[i])), []).append(i)
        batch = max(_BATCH, _GATHER // self.y.shape[0])  # small n: many widths at once
        for group in by_size.values():
            for c in range(0, len(group), batch):
                idx = group[c : c + batch]
                for i, v in zip(idx, self._batch([hs[i] for i in idx]), strict=True):
                    out[i] = v
        return out

    def coarse(self, hs: list[float]) -> list[float | None]:
        """O(G) per h: each point's sums read at its nearest grid point instead of at x_i,
        so that the errors sum per grid point: sum_i (S1 - y_i S0)^2 / (S0 - 1)^2 over the
        points at g is (n_g S1^2 - 2 S0 S1 sum y + S0^2 sum y^2) / (S0 - 1)^2. For picking
        the basin of a search; `many` is the objective itself."""
        out: list[float | None] = [None] * len(hs)
        todo = [i for i, h in enumerate(hs) if h >= self.h_min]
        count, sy, syy, spread = self.near_stats
        occupied = count > 0
        mean_spread = spread / count.clamp(min=1.0)  # (G,)
        for c in range(0, len(todo), _BATCH):
            idx = todo[c : c + _BATCH]
            smooth = self._smooth([hs[i] for i in idx])  # (H, 2, G)
            s0, s1 = smooth[:, 0], smooth[:, 1]  # (H, G)
            own = 1.0 - mean_spread * (1.0 - self._k1([hs[i] for i in idx]))  # (H, G)
            den = s0 - own  # e_i = (S1 - y_i S0) / (S0 - c_i), c_i ~ its grid point's mean
            sq = (count * s1.square() - 2 * s0 * s1 * sy + s0.square() * syy) / den.square()
            mse = sq.where(occupied, 0.0).sum(-1) / self.y.shape[0]  # (H,)
            ok = den.where(occupied, math.inf).amin(-1) >= _COARSE_WEIGHT
            for i, v, good in zip(idx, mse.tolist(), ok.tolist(), strict=True):
                out[i] = v if good else None
        return out

    def _k1(self, hs: list[float]) -> torch.Tensor:
        """(H, 1): K(step / h), the weight between neighbouring grid points."""
        u = self.step / torch.tensor(hs, dtype=self.counts.dtype)[:, None]
        return _GAUSSIAN.weight(u)

    def _reach(self, h: float) -> int:
        """Grid steps the kernel of width h reaches: it underflows past 39 h."""
        return min(self.size - 1, int(39.0 * h / self.step) + 1)

    def _fft_size(self, reach: int) -> int:
        return 1 << math.ceil(math.log2(self.size + 2 * reach + 1))

    def _smooth(self, hs: list[float]) -> torch.Tensor:
        """(H, 2, G): the kernel sum and the kernel-weighted y sum at every grid point."""
        size, step, dtype = self.size, self.step, self.counts.dtype
        reach = self._reach(max(hs))
        n_fft = self._fft_size(reach)
        offsets = torch.arange(-reach, reach + 1, dtype=dtype)  # (2L+1,)
        h_t = torch.tensor(hs, dtype=dtype)[:, None]  # (H, 1)
        taps = _GAUSSIAN.weight(offsets.abs()[None, :] * step / h_t)  # (H, 2L+1) K(0) = 1
        if n_fft not in self._spectra:  # the data's spectrum, once per FFT length
            self._spectra[n_fft] = torch.fft.rfft(torch.stack([self.counts, self.sums]), n=n_fft)
        signal = self._spectra[n_fft]  # (2, F)
        spec = signal[None] * torch.fft.rfft(taps, n=n_fft)[:, None]  # (H, 2, F)
        return torch.fft.irfft(spec, n=n_fft)[..., reach : reach + size]  # (H, 2, G)

    def _batch(self, hs: list[float]) -> list[float | None]:
        size = self.size
        smooth = self._smooth(hs)  # (H, 2, G)
        table = torch.cat([smooth[..., :-1], smooth.diff(dim=-1)], dim=1)  # (H, 4, G-1)
        rows = table.permute(2, 0, 1).reshape(size - 1, -1)  # (G-1, H*4): value, slope
        at = _take_rows(rows, self.left).view(-1, len(hs), 4)  # (N, H, 4) one gather
        frac = self.frac[:, None]
        s0 = at[..., 0] + frac * at[..., 2]  # (N, H) kernel sum at each x_i, own weight in
        s1 = at[..., 1] + frac * at[..., 3]  # (N, H) sum K y
        own = 1.0 - self.spread[:, None] * (1.0 - self._k1(hs).T)  # (N, H) c_i
        den = s0 - own  # the others' weight: the point's own binned weight taken out
        y = self.y[:, None]
        err = (s1 - y * s0) / den  # (S1 - c y) / (S0 - c) - y: the leave-one-out error
        mse = err.square_().mean(0)  # (H,)
        ok = den.amin(0) >= MIN_WEIGHT  # (H,)
        return [v if good else None for v, good in zip(mse.tolist(), ok.tolist(), strict=True)]


def _take_rows(table: torch.Tensor, idx: torch.Tensor) -> torch.Tensor:
    """table[idx] for a (G, C) table: numpy's take on CPU (measured 10x faster than torch's
    index_select for rows of a few floats), index_select elsewhere."""
    if table.device.type == "cpu":
        return torch.from_numpy(np.take(table.numpy(), idx.numpy(), axis=0))
    return table.index_select(0, idx)

"""Coordinates where floating point is accurate: centre and scale x, and undo it afterwards.

Kernel regression does not care where the origin is or what unit x is measured in: with
x' = (x - c) / s and w' = w s, every u = |x - x_i| w (and so every weight) is unchanged. Real
data are not near 0 and 1: timestamps sit around 1e9, incomes around 1e5, lengths around 1e-6.
In raw coordinates x^2 overflows at 1e155, w^2 underflows, and float32 cannot tell 1e8 from
1e8 + 5. So the numerical paths compute in the data's frame, where the points lie in [-1, 1].

The scale is a power of two, so dividing by it is exact: scaling itself never rounds. Data in
R^D share one scale for every column (a per-column scale would change which keys are nearest).

>>> f = frame_of(torch.tensor([1e8, 1e8 + 4.0, 1e8 + 8.0], dtype=torch.float64))
>>> f.to_unit(torch.tensor([1e8 + 4.0], dtype=torch.float64))
tensor([0.], dtype=torch.float64)
>>> f.scale, f.w_to_unit(0.5), f.w_from_unit(4.0)
(8.0, 4.0, 0.5)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

__all__ = ["Frame", "frame_of"]


@dataclass(frozen=True)
class Frame:
    """x' = (x - centre) / scale: centre () or (D,), scale one positive power of two."""

    centre: torch.Tensor  # () for 1-D points, (D,) for points in R^D
    scale: float

    def to_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Points (N,) or (N, D) in the frame's coordinates."""
        return (x - self.centre.to(x.dtype)) / self.scale

    def from_unit(self, x: torch.Tensor) -> torch.Tensor:
        """Points back in the data's own coordinates."""
        return x * self.scale + self.centre.to(x.dtype)

    def w_to_unit(self, w):
        """The width w (per unit of x) as a width per unit of x': w * scale."""
        return w * self.scale

    def w_from_unit(self, w):
        """A width found in the frame, back per unit of x: w' / scale."""
        return w / self.scale


def frame_of(x: torch.Tensor) -> Frame:
    """The frame that puts the points x (N,) or (N, D) inside [-1, 1].

    The centre is the midpoint of each column's range (computed as min/2 + max/2, which cannot
    overflow), the scale the power of two at or above the largest distance from it. Constant
    data get scale 1 (the callers refuse constant x where it matters).

    >>> frame_of(torch.tensor([[0.0, 10.0], [2.0, 30.0]])).centre
    tensor([ 1., 20.])
    """
    cols = x.detach().reshape(x.shape[0], -1)  # (N, D)
    lo, hi = cols.min(dim=0).values, cols.max(dim=0).values  # (D,)
    centre = lo / 2 + hi / 2  # (D,)
    half = float((hi / 2 - lo / 2).max())  # largest distance from the centre, cannot overflow
    if not half > 0 or not math.isfinite(half):
        scale = 1.0
    else:
        scale = math.ldexp(1.0, min(math.frexp(half)[1], 1023))  # 2^e > half >= 2^(e-1)
    centre = centre.reshape(()) if x.ndim == 1 else centre
    return Frame(centre=centre, scale=scale)

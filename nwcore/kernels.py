"""The kernel table: one entry per kernel, holding every formula any path needs.

Every kernel here is symmetric, so only u = |x - x_i| w >= 0 matters. Each path reads its
kernel from the table and nothing else: the dense path (`pooling.kernel_attention`) takes the
softmax of `score`, log K(u) (-inf outside the window, so pooling is a stable softmax); the
sorted-window paths (`fast`, the leave-one-out objective in `bandwidth`) and the binned taps
use `weight`, K(u) / K(0), and `radius`; the bandwidth search reads the flags. Adding a kernel
is one `Kernel` entry in `TABLE`.

Names are checked once, at the public entry (`as_kernel`); the entry itself is passed down,
and `as_kernel` hands an entry back unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from nwcore.errors import NWError

__all__ = [
    "Kernel",
    "TABLE",
    "KERNELS",
    "COMPACT_KERNELS",
    "as_kernel",
    "check_kernel",
    "kernel_score",
    "kernel_value",
]

Fn = Callable[[torch.Tensor], torch.Tensor]


@dataclass(frozen=True)
class Kernel:
    """One kernel. u >= 0 everywhere except `score`, which also takes signed u.

    name, formula: the UI's name and one-line K(u).
    score(u): log K(u), elementwise, -inf where K = 0; finite gradients everywhere (dense path).
    weight(u): K(u) / K(0) for u >= 0, computed in place on u (window paths, binned taps).
    slope(u), curvature(u): d weight / du and d^2 weight / du^2 for u >= 0 (0 where weight is
        flat; the steps of boxcar at the edge are left out), for derivatives of the objective.
    radius: K(u) = 0 for u > radius; inf where K never vanishes.
    closed: K(radius) > 0, the window includes its edge (boxcar); else K(radius) = 0.
    flat: K is constant: every key weighs the same (average pooling, the LOO MSE ignores w).
    quadratic: log K(u) = -u^2 / 2 (the Gaussian): scores are dot products of [x, 1] and
        [w^2 x_i, -w^2 x_i^2 / 2] (fused attention), weights relative to the nearest key are
        exp(-(w^2/2)(d^2 - d_min^2)), and the leave-one-out MSE is smooth in log h.
    steps: K takes one value inside its window, so the leave-one-out MSE is piecewise constant
        in h, changing only at pairwise distances (exact search: `nwcore.breakpoints`).
    """

    name: str
    formula: str
    score: Fn
    weight: Fn
    slope: Fn
    curvature: Fn
    radius: float
    closed: bool = False
    flat: bool = False
    quadratic: bool = False
    steps: bool = False

    @property
    def compact(self) -> bool:
        """Zero outside |u| <= radius: a query can find no key in its window."""
        return math.isfinite(self.radius)


_LOG_3_4 = math.log(0.75)


def _inside(u: torch.Tensor) -> torch.Tensor:
    return u.abs() < 1.0  # strict: K(+-1) = 0 for epanechnikov and triangular


def _safe_abs(u: torch.Tensor) -> torch.Tensor:
    """|u| inside the window, 0 outside: the log then never sees 0 (the double-`where` trick
    that keeps gradients finite at and beyond the edge)."""
    a = u.abs()
    return torch.where(a < 1.0, a, torch.zeros_like(a))


def _outside(u: torch.Tensor, score: torch.Tensor) -> torch.Tensor:
    return torch.where(_inside(u), score, torch.full_like(u, -math.inf))


def _zero(u: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(u)


def _gaussian_score(u):
    return -0.5 * u.square()


def _gaussian_weight(u):
    return u.square_().mul_(-0.5).exp_()  # exp(-u^2 / 2)


def _gaussian_slope(u):
    return -u * torch.exp(-0.5 * u.square())


def _gaussian_curvature(u):
    return (u.square() - 1.0) * torch.exp(-0.5 * u.square())


def _boxcar_score(u):
    return torch.where(u.abs() <= 1.0, torch.zeros_like(u), torch.full_like(u, -math.inf))


def _boxcar_weight(u):
    return u.le_(1.0)  # 1 inside |u| <= 1, else 0, in u's dtype


def _constant_weight(u):
    return u.fill_(1.0)


def _epanechnikov_score(u):
    return _outside(u, _LOG_3_4 + torch.log1p(-_safe_abs(u).square()))


def _epanechnikov_weight(u):
    return u.square_().neg_().add_(1.0).clamp_(min=0.0)  # (1 - u^2)_+


def _epanechnikov_slope(u):
    return torch.where(u < 1.0, -2.0 * u, torch.zeros_like(u))


def _epanechnikov_curvature(u):
    return torch.where(u < 1.0, torch.full_like(u, -2.0), torch.zeros_like(u))


def _triangular_score(u):
    return _outside(u, torch.log1p(-_safe_abs(u)))


def _triangular_weight(u):
    return u.neg_().add_(1.0).clamp_(min=0.0)  # (1 - u)_+


def _triangular_slope(u):
    return torch.where(u < 1.0, torch.full_like(u, -1.0), torch.zeros_like(u))


# name -> entry, in the order the UI lists them. The 3/4 of the Epanechnikov kernel is kept in
# its score so that exp(score) is the real kernel; it cancels in every ratio.
TABLE: dict[str, Kernel] = {
    k.name: k
    for k in (
        Kernel(
            "gaussian",
            "exp(-u^2/2)",
            _gaussian_score,
            _gaussian_weight,
            _gaussian_slope,
            _gaussian_curvature,
            radius=math.inf,
            quadratic=True,
        ),
        Kernel(
            "boxcar",
            "1[|u| <= 1]",
            _boxcar_score,
            _boxcar_weight,
            _zero,
            _zero,
            radius=1.0,
            closed=True,
            steps=True,
        ),
        Kernel(
            "constant",
            "1",
            _zero,
            _constant_weight,
            _zero,
            _zero,
            radius=math.inf,
            flat=True,
        ),
        Kernel(
            "epanechnikov",
            "3/4 (1 - u^2)_+",
            _epanechnikov_score,
            _epanechnikov_weight,
            _epanechnikov_slope,
            _epanechnikov_curvature,
            radius=1.0,
        ),
        Kernel(
            "triangular",
            "(1 - |u|)_+",
            _triangular_score,
            _triangular_weight,
            _triangular_slope,
            _zero,
            radius=1.0,
        ),
    )
}
# Views of the table for the UI and the CLI: name -> formula, and the compact names.
KERNELS: dict[str, str] = {name: k.formula for name, k in TABLE.items()}
COMPACT_KERNELS = frozenset(name for name, k in TABLE.items() if k.compact)


def check_kernel(kernel: Any) -> str:
    """Return `kernel` if it is a known kernel name, else raise NWError listing the names.

    >>> check_kernel("gaussian")
    'gaussian'
    """
    names = ", ".join(TABLE)
    if not isinstance(kernel, str):
        raise NWError(
            f"kernel must be a name (a str), got {type(kernel).__name__} {kernel!r}: "
            f"choose one of {names}"
        )
    if kernel not in TABLE:
        raise NWError(f"unknown kernel {kernel!r}: choose one of {names}")
    return kernel


def as_kernel(kernel: Any) -> Kernel:
    """The table entry for a kernel name (checked), or the entry itself when given one.

    >>> as_kernel("boxcar").radius, as_kernel(as_kernel("boxcar")).closed
    (1.0, True)
    """
    if isinstance(kernel, Kernel):
        return kernel
    return TABLE[check_kernel(kernel)]


def kernel_score(u: torch.Tensor, kernel: str | Kernel = "gaussian") -> torch.Tensor:
    """log K(u), elementwise; -inf where the kernel is zero.

    >>> kernel_score(torch.tensor([0.5, 2.0]), "gaussian")
    tensor([-0.1250, -2.0000])

    Gradients are finite everywhere, also at and beyond the window edge: the value inside
    the log is replaced by a safe one before the log is taken (the double-`where` trick).
    """
    return as_kernel(kernel).score(u)


def kernel_value(u: torch.Tensor, kernel: str | Kernel = "gaussian") -> torch.Tensor:
    """K(u) itself, for plots: exp of the score.

    >>> kernel_value(torch.tensor([0.0, 0.5, 2.0]), "epanechnikov")
    tensor([0.7500, 0.5625, 0.0000])
    """
    return kernel_score(u, kernel).exp()

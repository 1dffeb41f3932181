"""Kernels as score functions: log K(u), so that pooling is a stable softmax.

Every kernel here is symmetric, so only |u| matters. A score of -inf means "outside the
window" (K(u) = 0). Normalising constants (1/sqrt(2 pi), 3/4) cancel in the softmax; we keep
the 3/4 of the Epanechnikov kernel anyway so that exp(score) is the real kernel.
"""

from __future__ import annotations

import math

import torch

from nwcore.errors import NWError

__all__ = ["KERNELS", "COMPACT_KERNELS", "kernel_score", "kernel_value", "check_kernel"]

# name -> one-line formula, in the order the UI lists them
KERNELS: dict[str, str] = {
    "gaussian": "exp(-u^2/2)",
    "boxcar": "1[|u| <= 1]",
    "constant": "1",
    "epanechnikov": "3/4 (1 - u^2)_+",
    "triangular": "(1 - |u|)_+",
}
# kernels that are zero outside |u| <= 1: a query can find no key in its window
COMPACT_KERNELS = frozenset({"boxcar", "epanechnikov", "triangular"})

_LOG_3_4 = math.log(0.75)


def check_kernel(kernel: str) -> str:
    """Return `kernel` if it is a known kernel name, else raise NWError listing the names.

    >>> check_kernel("gaussian")
    'gaussian'
    """
    if not isinstance(kernel, str):
        raise NWError(
            f"kernel must be a name (a str), got {type(kernel).__name__} {kernel!r}: "
            f"choose one of {', '.join(KERNELS)}"
        )
    if kernel not in KERNELS:
        raise NWError(f"unknown kernel {kernel!r}: choose one of {', '.join(KERNELS)}")
    return kernel


def kernel_score(u: torch.Tensor, kernel: str = "gaussian") -> torch.Tensor:
    """log K(u), elementwise; -inf where the kernel is zero.

    >>> kernel_score(torch.tensor([0.5, 2.0]), "gaussian")
    tensor([-0.1250, -2.0000])

    Gradients are finite everywhere, also at and beyond the window edge: the value inside
    the log is replaced by a safe one before the log is taken (the double-`where` trick).
    """
    check_kernel(kernel)
    if kernel == "gaussian":
        return -0.5 * u.square()
    if kernel == "constant":
        return torch.zeros_like(u)
    a = u.abs()
    inside = a < 1.0  # strict: K(+-1) = 0 for these two
    minus_inf = torch.full_like(u, -math.inf)
    if kernel == "boxcar":
        return torch.where(a <= 1.0, torch.zeros_like(u), minus_inf)
    safe = torch.where(inside, a, torch.zeros_like(a))
    if kernel == "epanechnikov":
        return torch.where(inside, _LOG_3_4 + torch.log1p(-safe.square()), minus_inf)
    return torch.where(inside, torch.log1p(-safe), minus_inf)  # triangular


def kernel_value(u: torch.Tensor, kernel: str = "gaussian") -> torch.Tensor:
    """K(u) itself, for plots: exp of the score.

    >>> kernel_value(torch.tensor([0.0, 0.5, 2.0]), "epanechnikov")
    tensor([0.7500, 0.5625, 0.0000])
    """
    return kernel_score(u, kernel).exp()

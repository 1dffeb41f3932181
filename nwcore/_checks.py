"""Input checks shared by nwcore's modules: turn whatever the caller gave into a float tensor,
or raise NWError saying what to change."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch

from nwcore import kernels
from nwcore.errors import NWError


def as_float_tensor(x: Any, name: str) -> torch.Tensor:
    """A floating tensor from a tensor, array or list; lists and integers become float64."""
    try:
        # lists and arrays go through numpy so Python floats stay float64
        t = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise NWError(
            f"{name} must be numbers (a list, array or tensor of floats): {exc}"
        ) from None
    if t.dtype == torch.bool or t.is_complex():
        raise NWError(f"{name} must be real numbers, got dtype {t.dtype}; convert it to float")
    if not t.is_floating_point():
        t = t.to(torch.float64)
    return t


def check_finite(t: torch.Tensor, name: str) -> None:
    """Refuse NaN and inf, naming how many there are and where the first one is."""
    bad = ~torch.isfinite(t.detach())
    if bad.any():
        first = tuple(int(i) for i in bad.nonzero()[0])
        raise NWError(
            f"{name} holds {int(bad.sum())} NaN/inf value(s), the first at index {first}; "
            "drop or fill those rows before pooling"
        )


def as_points(x: Any, name: str) -> torch.Tensor:
    """Points as (N,) for 1-D data or (N, D) for data in R^D: non-empty and finite."""
    t = as_float_tensor(x, name)
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim not in (1, 2):
        raise NWError(f"{name} must have shape (N,) or (N, D), got {tuple(t.shape)}")
    if t.shape[0] == 0 or t.numel() == 0:
        raise NWError(f"{name} is empty: give at least one point")
    check_finite(t, name)
    return t


def as_values(y: Any, n: int, name: str = "values") -> torch.Tensor:
    """Values (N,) matching N keys."""
    t = as_float_tensor(y, name)
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim != 1:
        raise NWError(f"{name} must have shape (N,), one value per key, got {tuple(t.shape)}")
    if t.shape[0] != n:
        raise NWError(
            f"{name} has {t.shape[0]} entries but there are {n} keys: give one value per key"
        )
    check_finite(t, name)
    return t


def same_space(queries: torch.Tensor, keys: torch.Tensor) -> None:
    """Queries and keys must live in the same space: both 1-D, or both (., D) with one D."""
    dq = 1 if queries.ndim == 1 else queries.shape[1]
    dk = 1 if keys.ndim == 1 else keys.shape[1]
    if dq != dk:
        raise NWError(
            f"queries have {dq} feature(s) but keys have {dk}: give queries with the same "
            "number of columns as the training x"
        )


def as_bandwidth_param(w: Any, name: str = "w") -> torch.Tensor:
    """w as a finite float tensor (a scalar, or (H,) for several heads)."""
    t = as_float_tensor(w, name)
    if t.ndim > 1:
        raise NWError(f"{name} must be a number or one number per head, got shape {tuple(t.shape)}")
    check_finite(t, name)
    return t


def as_kernel(kernel: Any) -> kernels.Kernel:
    """The kernel table's entry for a name (checked: NWError listing the names), or the entry
    itself when given one, so a call path checks its kernel once and passes the entry down."""
    return kernels.as_kernel(kernel)


def as_whole(value: Any, name: str, lo: int, hi: int | None = None) -> int:
    """A whole number in [lo, hi] (an int or numpy integer; not a bool, float or str)."""
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))
    span = f"from {lo} to {hi}" if hi is not None else f">= {lo}"
    if not ok or value < lo or (hi is not None and value > hi):
        raise NWError(f"{name} must be a whole number {span}, got {value!r}")
    return int(value)


def as_real(value: Any, name: str, lo: float | None = None, hint: str = "") -> float:
    """A finite real number (int, float or numpy scalar; not a bool or str), at least lo."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)
    )
    if not ok or not math.isfinite(value) or (lo is not None and value < lo):
        need = "a finite number" + (f" >= {lo:g}" if lo is not None else "")
        raise NWError(f"{name} must be {need}, got {value!r}" + (f"; {hint}" if hint else ""))
    return float(value)


def as_probability(p: Any, name: str = "dropout") -> float:
    """A dropout probability in [0, 1)."""
    p = as_real(p, name, 0.0, "use e.g. 0.1")
    if p >= 1.0:
        raise NWError(f"{name} must be a probability in [0, 1), got {p}; use e.g. 0.1.")
    return p

"""The one memory limit of nwcore's dense paths, checked before anything is allocated.

Dense pooling, leave-one-out and training build (queries x keys x heads) matrices; at n = 1e5
that is tens of GB. Every dense path (and the export CLI and the dashboard, which call them)
asks `check_dense` first and refuses with a message that names the memory and the way out.

>>> dense_bytes(1000, 1000)
8000000
>>> max_train_points("d2l", heads=1) >= 1000
True
"""

from __future__ import annotations

import math

from nwcore.errors import NWError

__all__ = [
    "DENSE_BYTES_LIMIT",
    "dense_bytes",
    "check_dense",
    "check_training",
    "max_train_points",
]

# 1 GiB for one call's dense matrices: a laptop or a shared workshop server keeps working while
# one user's call runs, and a class of sessions cannot take the machine down.
DENSE_BYTES_LIMIT = 1 << 30

# Training keeps several (N, N, H) float64 tensors alive at once (distances, scores, weights,
# and their gradients); this is how many, measured on torch's autograd for the parametric model.
_TRAIN_COPIES = {"d2l": 6, "converged": 6}


def dense_bytes(n_queries: int, n_keys: int, heads: int = 1, itemsize: int = 8, copies: int = 1):
    """Bytes of `copies` dense (queries, keys, heads) matrices of `itemsize`-byte floats."""
    return int(n_queries) * int(n_keys) * int(heads) * int(itemsize) * int(copies)


def check_dense(
    n_queries: int,
    n_keys: int,
    *,
    heads: int = 1,
    itemsize: int = 8,
    copies: int = 1,
    what: str = "this call",
    way_out: str = "use fewer points",
) -> None:
    """Refuse, before allocating, a dense computation above DENSE_BYTES_LIMIT.

    >>> check_dense(100_000, 100_000, what="nadaraya_watson", way_out="use need_weights=False")
    Traceback (most recent call last):
    ...
    nwcore.errors.NWError: nadaraya_watson would need 80.0 GB of memory for 100000 x 100000 ...
    """
    need = dense_bytes(n_queries, n_keys, heads, itemsize, copies)
    if need > DENSE_BYTES_LIMIT:
        shape = f"{n_queries} x {n_keys}" + (f" x {heads} heads" if heads > 1 else "")
        raise NWError(
            f"{what} would need {need / 1e9:.1f} GB of memory for {shape} dense matrices "
            f"(the limit is {DENSE_BYTES_LIMIT / 1e9:.1f} GB): {way_out}"
        )


def max_train_points(mode: str, heads: int = 1) -> int:
    """The most training points a dense leave-one-out training fits in DENSE_BYTES_LIMIT.

    One-head `converged` training uses the windowed search, which has no dense matrix, so it
    is limited only by the data size (`nwcore.MAX_POINTS`).
    """
    if mode == "converged" and heads == 1:
        from nwcore.data import MAX_POINTS

        return MAX_POINTS
    copies = _TRAIN_COPIES.get(mode, 6)
    return int(math.isqrt(DENSE_BYTES_LIMIT // (8 * copies * max(int(heads), 1))))


def check_training(n: int, mode: str, heads: int = 1) -> None:
    """Refuse, before allocating, leave-one-out training on n points that exceeds the limit.

    >>> check_training(20_000, "converged", heads=3)
    Traceback (most recent call last):
    ...
    nwcore.errors.NWError: converged training with 3 heads would need 57.6 GB of memory ...
    """
    if n <= max_train_points(mode, heads):
        return
    check_dense(
        n,
        n,
        heads=heads,
        copies=_TRAIN_COPIES.get(mode, 6),
        what=f"{mode} training with {heads} head" + ("s" if heads > 1 else ""),
        way_out=(
            "use mode='converged' with heads=1 (its search needs no dense matrix), "
            f"or train on at most {max_train_points(mode, heads)} points"
        ),
    )

"""Datasets: the book's two experiments, a few other targets, and a checked CSV loader.

Synthetic data follow the book's recipe: x_train = sort(rand(n) * 5) drawn with torch's
generator in float32 (so a seed gives the same draw as the book's code), y = f(x) + noise,
test grid arange(0, 5, 0.1). Tensors are returned in float64.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import torch

from nwcore._checks import as_real, as_whole
from nwcore.errors import NWError

__all__ = [
    "Dataset",
    "DATASETS",
    "DEFAULT_SEED",
    "MIN_POINTS",
    "MAX_POINTS",
    "MAX_CSV_BYTES",
    "make_dataset",
    "truth",
    "load_csv",
    "csv_columns",
]

DEFAULT_SEED = 7  # fixed so every participant sees the same picture; d2l mode overshoots here
MIN_POINTS = 3  # leave-one-out needs a point left out and two to pool
MAX_POINTS = 200_000  # above this the exact paths get slow in a live lesson
MAX_CSV_BYTES = 20 * 1024 * 1024
_X_MAX = 5.0
_MAX_SEED = 2**64 - 1  # the largest seed torch.Generator takes
# "3,14" or "-1.234,5": a number written with a decimal comma (and maybe dot thousands)
_COMMA_DECIMAL = re.compile(r"^\s*[-+]?\d{1,3}(\.?\d{3})*,\d+\s*$")


@dataclass(frozen=True)
class _Target:
    label: str
    formula: str
    f: Callable[[torch.Tensor], torch.Tensor]
    n_train: int
    noise: float


DATASETS: dict[str, _Target] = {
    "classic": _Target("classic d2l", "2 sin(x) + x^0.8", lambda x: 2 * x.sin() + x**0.8, 50, 0.5),
    "d2l_new": _Target("newer d2l", "2 sin(x) + x", lambda x: 2 * x.sin() + x, 40, 1.0),
    "step": _Target("step", "1[x > 2.5] * 2", lambda x: 2.0 * (x > 2.5).to(x.dtype), 50, 0.3),
    "sinc": _Target(
        "sinc",
        "3 sin(3(x-2.5)) / (3(x-2.5))",
        lambda x: 3 * torch.sinc(3 * (x - 2.5) / math.pi),
        60,
        0.3,
    ),
    "linear": _Target("linear", "0.8 x - 1", lambda x: 0.8 * x - 1.0, 50, 0.5),
}


@dataclass(frozen=True)
class Dataset:
    """Training points, a query grid and, for synthetic data, the truth on that grid."""

    name: str
    x_train: torch.Tensor  # (N,) or (N, D), sorted when 1-D
    y_train: torch.Tensor  # (N,)
    x_test: torch.Tensor | None  # (Q,) query grid for 1-D data
    y_truth: torch.Tensor | None  # (Q,) f on the grid when f is known
    description: str
    x_label: str = "x"
    y_label: str = "y"

    @property
    def n_train(self) -> int:
        return int(self.x_train.shape[0])

    @property
    def dim(self) -> int:
        return 1 if self.x_train.ndim == 1 else int(self.x_train.shape[1])


def truth(name: str, x: Any) -> torch.Tensor:
    """The noiseless target f(x) of a synthetic dataset.

    >>> truth("linear", torch.tensor([0.0, 5.0]))
    tensor([-1.,  3.])
    """
    return _target(name).f(torch.as_tensor(x))


def _target(name: str) -> _Target:
    if not isinstance(name, str) or name not in DATASETS:
        raise NWError(f"unknown dataset {name!r}: choose one of {', '.join(DATASETS)}")
    return DATASETS[name]


def make_dataset(
    name: str = "classic",
    n_train: int | None = None,
    noise: float | None = None,
    seed: int = DEFAULT_SEED,
) -> Dataset:
    """A synthetic dataset; n_train and noise default to the experiment's own.

    >>> d = make_dataset("classic")
    >>> d.n_train, d.x_test.shape, d.y_truth.shape
    (50, torch.Size([50]), torch.Size([50]))
    """
    target = _target(name)
    n = target.n_train if n_train is None else n_train
    sigma = target.noise if noise is None else noise
    if (
        isinstance(n, bool)
        or not isinstance(n, (int, np.integer))
        or not MIN_POINTS <= n <= MAX_POINTS
    ):
        raise NWError(
            f"n_train must be a whole number from {MIN_POINTS} to {MAX_POINTS}, got {n!r}"
        )
    sigma = as_real(sigma, "noise", 0.0, "the noise is a standard deviation, e.g. 0.5")
    seed = as_whole(seed, "seed", 0, _MAX_SEED)
    gen = torch.Generator().manual_seed(seed)
    x_train, _ = torch.sort(torch.rand(int(n), generator=gen) * _X_MAX)  # float32, as the book
    noise_draw = torch.normal(0.0, 1.0, (int(n),), generator=gen)
    x_train = x_train.to(torch.float64)
    y_train = target.f(x_train) + sigma * noise_draw.to(torch.float64)
    x_test = torch.arange(0, _X_MAX, 0.1, dtype=torch.float64)
    return Dataset(
        name=name,
        x_train=x_train,
        y_train=y_train,
        x_test=x_test,
        y_truth=target.f(x_test),
        description=(
            f"{target.label}: y = {target.formula} + N(0, {sigma:g}^2), n = {n}, seed {seed}"
        ),
    )


def _read_frame(source: Any, max_bytes: int) -> pd.DataFrame:
    """Bytes, a path or a file-like object -> a DataFrame, or NWError saying what to fix."""
    if isinstance(source, (str, os.PathLike)):
        try:
            with open(source, "rb") as fh:
                raw = fh.read(max_bytes + 1)
        except OSError as exc:
            raise NWError(f"cannot read {source}: {exc.strerror}; check the path") from None
    elif isinstance(source, (bytes, bytearray)):
        raw = bytes(source[: max_bytes + 1])
    else:
        if hasattr(source, "seek"):
            source.seek(0)
        raw = source.read(max_bytes + 1)
    if isinstance(raw, str):
        raw = raw.encode()
    if len(raw) > max_bytes:
        raise NWError(
            f"the file is larger than {max_bytes // (1024 * 1024)} MB: upload a smaller sample "
            "(a few thousand rows is plenty for kernel regression)"
        )
    if not raw.strip():
        raise NWError("the file is empty: upload a CSV with a header row and numeric columns")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NWError(
            f"the file is not UTF-8 text (bad byte at position {exc.start}): "
            "save it as 'CSV UTF-8' and upload again"
        ) from None
    try:
        frame = pd.read_csv(io.StringIO(text), sep=None, engine="python")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error) as exc:
        raise NWError(f"could not read the file as CSV ({exc}): check the separators") from None
    if frame.shape[1] == 0:
        raise NWError("no columns found: the first line must be a header such as x,y")
    return frame


def csv_columns(source: Any, max_bytes: int = MAX_CSV_BYTES) -> list[str]:
    """Column names of a CSV that hold numbers (at least one numeric entry), for pickers.

    >>> csv_columns(b"a,b,label\\n1,2,x\\n3,4,y\\n")
    ['a', 'b']
    """
    frame = _read_frame(source, max_bytes)
    return [str(c) for c in frame.columns if pd.to_numeric(frame[c], errors="coerce").notna().any()]


def _decimal_hint(cells: pd.Series) -> str:
    """A hint when text cells look like numbers with a decimal comma ("2,5"), else ''."""
    text = cells.dropna().astype(str)
    comma = text[text.str.match(_COMMA_DECIMAL)]
    if comma.empty:
        return ""
    return (
        f". Cells such as {comma.iloc[0]!r} use a decimal comma: save the file with a point "
        "as the decimal separator (2.5, not 2,5)"
    )


def _numeric_column(frame: pd.DataFrame, col: str) -> np.ndarray:
    if col not in frame.columns:
        names = ", ".join(map(str, frame.columns))
        raise NWError(f"no column named {col!r} in the file; its columns are: {names}")
    raw = frame[col]
    values = pd.to_numeric(raw, errors="coerce")
    bad = values.isna() & raw.notna()
    if bad.any():
        rows = [int(i) + 2 for i in np.flatnonzero(bad.to_numpy())[:5]]  # +2: header, 1-based
        sample = ", ".join(repr(str(v)) for v in raw[bad].head(3))
        raise NWError(
            f"column {col!r} has {int(bad.sum())} non-numeric entries "
            f"(lines {rows}, e.g. {sample}): pick a numeric column or fix those cells"
            + _decimal_hint(raw[bad])
        )
    arr = values.to_numpy(dtype=np.float64, copy=True)  # writable, so torch can share it
    missing = ~np.isfinite(arr)
    if missing.any():
        rows = [int(i) + 2 for i in np.flatnonzero(missing)[:5]]
        raise NWError(
            f"column {col!r} has {int(missing.sum())} empty, NaN or infinite entries "
            f"(lines {rows}): remove those rows or fill them in"
        )
    return arr


# y's size where squared errors (the MSEs, the training loss) stay inside float64: a square
# of 1e150 is 1e300 (a sum of 200,000 of them still fits), a square of 1e-150 is 1e-300.
VALUE_SCALE = (1e-150, 1e150)


def _check_value_scale(y: np.ndarray, col: str) -> None:
    """Refuse y (N,) whose squared errors overflow or underflow float64 (y = 0 is fine)."""
    top = float(np.abs(y).max())
    lo, hi = VALUE_SCALE
    if top == 0.0 or lo <= top <= hi:
        return
    line = int(np.argmax(np.abs(y))) + 2  # +2: the header, 1-based
    power = round(math.log10(top))
    change = f"divide it by 1e{power}" if top > hi else f"multiply it by 1e{-power}"
    raise NWError(
        f"column {col!r} holds values of size up to {top:.3g} (line {line}): their squared "
        f"errors do not fit in floating point (sizes from {lo:g} to {hi:g} work); rescale the "
        f"column, e.g. {change}"
    )


def load_csv(
    source: Any,
    x_col: str | list[str] | None = None,
    y_col: str | None = None,
    *,
    max_bytes: int = MAX_CSV_BYTES,
) -> Dataset:
    """Load (x, y) from a CSV: one x column (1-D) or several (x in R^D), and one y column.

    >>> d = load_csv(b"t,v\\n2,1\\n0,3\\n1,2\\n", "t", "v")
    >>> d.x_train, d.y_train
    (tensor([0., 1., 2.], dtype=torch.float64), tensor([3., 2., 1.], dtype=torch.float64))

    Defaults: x is the first numeric column and y the second. Refuses, with a message saying
    what to change: unreadable or non-UTF-8 files, missing or non-numeric columns, NaN/inf,
    fewer than MIN_POINTS rows, x that does not vary, y too large or too small to square
    (VALUE_SCALE). 1-D data is sorted by x.
    """
    frame = _read_frame(source, max_bytes)
    numeric = [
        str(c) for c in frame.columns if pd.to_numeric(frame[c], errors="coerce").notna().any()
    ]
    if x_col is None or y_col is None:
        if len(numeric) < 2:
            raise NWError(
                f"need two numeric columns (x and y), found {len(numeric)} "
                f"among {list(map(str, frame.columns))}: add a numeric column or pick others"
                + _decimal_hint(frame.stack())
            )
        x_col = numeric[0] if x_col is None else x_col
        if y_col is None:
            taken = [x_col] if isinstance(x_col, str) else list(x_col)
            y_col = next((c for c in numeric if c not in taken), None)
            if y_col is None:
                raise NWError("no numeric column is left for y: pick the y column")
    x_cols = [x_col] if isinstance(x_col, str) else list(x_col)
    if not x_cols:
        raise NWError("pick at least one x column")
    if y_col in x_cols:
        raise NWError(f"x and y are both {y_col!r}: pick a different column for one of them")
    xs = np.stack([_numeric_column(frame, c) for c in x_cols], axis=1)  # (N, D)
    ys = _numeric_column(frame, y_col)  # (N,)
    if len(ys) < MIN_POINTS:
        raise NWError(
            f"the file has {len(ys)} data rows; kernel regression needs at least {MIN_POINTS}"
        )
    if len(ys) > MAX_POINTS:
        raise NWError(f"the file has {len(ys)} rows; use at most {MAX_POINTS} (take a sample)")
    _check_value_scale(ys, str(y_col))
    if np.all(xs.max(axis=0) == xs.min(axis=0)):
        raise NWError(
            f"x ({', '.join(x_cols)}) is the same in every row: pick a column that varies"
        )
    x_t = torch.from_numpy(xs)
    if x_t.shape[1] == 1:
        x_t, order = torch.sort(x_t[:, 0])
        y_t = torch.from_numpy(ys)[order]
        lo, hi = float(x_t[0]), float(x_t[-1])
        x_test = torch.linspace(lo, hi, 200, dtype=torch.float64)
    else:
        y_t, x_test = torch.from_numpy(ys), None
    return Dataset(
        name="csv",
        x_train=x_t,
        y_train=y_t,
        x_test=x_test,
        y_truth=None,
        description=f"CSV: x = {', '.join(x_cols)}, y = {y_col}, n = {len(ys)}",
        x_label=", ".join(x_cols),
        y_label=str(y_col),
    )

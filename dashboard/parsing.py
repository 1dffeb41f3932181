"""Turn what people type into numbers, or raise nwcore.NWError saying what to fix."""

from __future__ import annotations

import math

import nwcore
from dashboard.text import t

MAX_ROWS = 12  # small matrices only: the point is to read every cell


def parse_matrix(text: str, what: str, max_rows: int = MAX_ROWS) -> list[list[float]]:
    """Rows of comma-separated numbers; every row the same length.

    >>> parse_matrix("1, 0\\n0.5, 2", "Queries")
    [[1.0, 0.0], [0.5, 2.0]]
    """
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise nwcore.NWError(t("parse_empty", what=what))
    if len(lines) > max_rows:
        raise nwcore.NWError(t("parse_too_many", what=what, max=max_rows))
    rows: list[list[float]] = []
    for number, line in enumerate(lines, start=1):
        row = []
        for cell in line.replace(";", ",").split(","):
            row.append(_number(cell, what, number))
        if rows and len(row) != len(rows[0]):
            raise nwcore.NWError(
                t("parse_ragged", what=what, line=number, got=len(row), want=len(rows[0]))
            )
        rows.append(row)
    return rows


def _number(cell: str, what: str, line: int) -> float:
    try:
        value = float(cell.strip())
    except ValueError:
        raise nwcore.NWError(t("parse_bad", what=what, line=line, value=cell.strip())) from None
    if not math.isfinite(value):
        raise nwcore.NWError(t("parse_bad", what=what, line=line, value=cell.strip()))
    return value


def parse_numbers(text: str) -> list[float]:
    """A comma- or space-separated list of finite numbers.

    >>> parse_numbers("1, 2 3")
    [1.0, 2.0, 3.0]
    """
    out = []
    for cell in text.replace(",", " ").replace(";", " ").split():
        try:
            value = float(cell)
        except ValueError:
            raise nwcore.NWError(t("number_bad", value=cell)) from None
        if not math.isfinite(value):
            raise nwcore.NWError(t("number_bad", value=cell))
        out.append(value)
    return out


def parse_lengths(text: str, count: int, max_len: int) -> list[int]:
    """`count` whole numbers in [0, max_len], one valid length per query.

    >>> parse_lengths("3, 0", 2, 4)
    [3, 0]
    """
    cells = text.replace(",", " ").split()
    if len(cells) != count:
        raise nwcore.NWError(t("valid_lens_count", want=count, got=len(cells)))
    out = []
    for cell in cells:
        try:
            value = int(cell)
        except ValueError:
            raise nwcore.NWError(t("valid_lens_range", value=cell, max=max_len)) from None
        if not 0 <= value <= max_len:
            raise nwcore.NWError(t("valid_lens_range", value=cell, max=max_len))
        out.append(value)
    return out

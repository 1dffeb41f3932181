"""The dashboard's small presentation helpers (parsing typed input, escaping, display reduction)."""

from __future__ import annotations

import doctest
import importlib

import numpy as np
import pytest

import nwcore
from dashboard import charts, parsing, text


@pytest.mark.parametrize(
    "module", ["dashboard.text", "dashboard.common", "dashboard.charts", "dashboard.parsing"]
)
def test_helper_docstring_examples(module) -> None:
    failures, _ = doctest.testmod(importlib.import_module(module), verbose=False)
    assert failures == 0


def test_text_table_holds_the_contract_labels() -> None:
    assert all(isinstance(v, str) and v for v in text.TEXT.values())
    for label in ("Dataset", "Kernel", "w", "Heads"):  # users and tests find controls by these
        assert label in text.TEXT.values()
    for series in ("average", "nonparametric", "parametric"):
        assert text.TEXT[f"series_{series}"] == series


def test_plain_neutralises_markdown_html_and_streamlit_directives() -> None:
    raw = "<img src=x onerror=alert(1)> ![a](http://e.invalid) :red[x] $x$ **b**"
    escaped = text.plain(raw)
    assert escaped.replace("\\", "") == raw
    for special in "<>![]():$*":
        assert all(escaped[i - 1] == "\\" for i, ch in enumerate(escaped) if ch == special)


def test_reduce_for_display_keeps_rows_stochastic() -> None:
    rng = np.random.default_rng(0)
    weights = rng.random((250, 400))
    weights /= weights.sum(axis=1, keepdims=True)
    shown, rows, cols = charts.reduce_for_display(weights)
    assert shown.shape == (100, 100) and len(rows) == 100 and len(cols) == 100
    assert np.allclose(shown.sum(axis=1), 1.0)
    assert rows[0] == 0 and rows[-1] == 249


@pytest.mark.parametrize(
    ("typed", "fragment"),
    [
        ("", "is empty"),
        ("1, a", "'a' is not a number"),
        ("1, nan", "'nan' is not a number"),
        ("1, 2\n3", "line 2 has 1 numbers"),
        ("\n".join(["1"] * 20), "at most 12 rows"),
    ],
)
def test_parse_matrix_refuses_bad_rows_with_a_message(typed, fragment) -> None:
    with pytest.raises(nwcore.NWError, match=fragment):
        parsing.parse_matrix(typed, "Queries")


@pytest.mark.parametrize(("typed", "fragment"), [("1", "give 2"), ("1, -1", "from 0 to 3")])
def test_parse_lengths_refuses_bad_lengths(typed, fragment) -> None:
    with pytest.raises(nwcore.NWError, match=fragment):
        parsing.parse_lengths(typed, 2, 3)

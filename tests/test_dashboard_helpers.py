"""The dashboard's small presentation helpers (parsing typed input, escaping, display reduction)."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys

import numpy as np
import pytest

import nwcore
from dashboard import charts, limits, params, parsing, text


@pytest.mark.parametrize(
    "module",
    [
        "dashboard.text",
        "dashboard.common",
        "dashboard.charts",
        "dashboard.parsing",
        "dashboard.spec",
        "dashboard.params",
        "dashboard.controls",
        "dashboard.exercises",
        "dashboard.toy_models",
    ],
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


def test_the_table_of_controls_loads_without_torch_or_onnxruntime() -> None:
    code = (
        "import sys, dashboard.params, dashboard.spec, dashboard.limits; "
        "print(sorted(m for m in ('torch', 'onnxruntime', 'nwcore', 'export') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_dashboards_copies_of_nwcores_numbers_are_nwcores() -> None:
    assert limits.DATASETS == {k: (d.n_train, d.noise) for k, d in nwcore.DATASETS.items()}
    assert limits.KERNELS == tuple(nwcore.KERNELS)
    assert limits.MODES == tuple(nwcore.MODES)
    assert (limits.MIN_POINTS, limits.MAX_HEADS) == (nwcore.MIN_POINTS, nwcore.MAX_HEADS)
    assert limits.DEFAULT_SEED == nwcore.DEFAULT_SEED


def test_n_train_steps_reach_the_round_numbers_and_every_datasets_own() -> None:
    steps = set(limits.N_TRAIN_STEPS)
    assert {3, 10, 50, 100, 500, 1000, limits.MAX_LIVE_POINTS} <= steps
    assert {n for n, _ in limits.DATASETS.values()} <= steps
    assert list(limits.N_TRAIN_STEPS) == sorted(steps)


def test_w_grid_follows_the_data_scale_in_decades() -> None:
    # an explicit loop over the grid's definition: 10 steps per decade, 3 significant digits
    for spread, first, last in ((1.0, 0.01, 1000.0), (300.0, 1e-4, 10.0), (3e-6, 1e4, 1e9)):
        grid = params.w_grid(spread)
        assert (grid[0], grid[-1], len(grid)) == (first, last, 51)
        ratios = [b / a for a, b in zip(grid, grid[1:], strict=False)]
        assert all(1.2 < r < 1.33 for r in ratios)
    engel = params.w_grid(276.0)
    assert engel[0] < 0.0085 < engel[-1]  # Silverman's w for engel-like x fits on it
    assert params.w_grid(1.0, keep=1e-5)[0] == 1e-5  # a link's w far off is kept on the grid

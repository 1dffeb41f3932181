"""Page 1 on uploaded CSVs unlike the book's data, driven headless with AppTest: incomes in the
thousands, timestamps, lengths at 1e-6, tight clusters, heavy tails, ties, a few distinct x,
three rows, unsorted and integer columns, 20,000 rows, and files that must be refused.

Every number checked here is computed again independently: Silverman's rule and the spread with
numpy, the leave-one-out error with an explicit loop over the points (`loo_loop`).
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.test_dashboard import chart_frames, csv_app, fit_chart, metrics, no_errors, table, texts
from tests.test_dashboard import upload as upload_bytes
from tests.unusual_data import unusual

KERNELS = ("gaussian", "boxcar", "constant", "epanechnikov", "triangular")


# --- the data -----------------------------------------------------------------------------


def csv_text(x: np.ndarray, y: np.ndarray, header: str = "x,y") -> bytes:
    """x (N,), y (N,) as a CSV in the file's order (repr keeps every digit)."""
    rows = (f"{float(a)!r},{float(b)!r}" for a, b in zip(x, y, strict=True))
    return ("\n".join([header, *rows]) + "\n").encode()


def kind_data(kind: str) -> tuple[np.ndarray, np.ndarray]:
    """x (N,), y (N,) of one kind, N <= 100 (so w starts at the leave-one-out optimum)."""
    g = np.random.default_rng(11)
    if kind in ("offset", "tiny", "clusters", "heavy_x", "heavy_noise"):
        return unusual(kind, 60, seed=0)
    if kind == "engel":  # incomes 400-5000, food expenditure 250-2000
        x = g.uniform(400, 5000, 80)
        return x, 120 + 0.35 * x + 60 * g.standard_normal(80)
    if kind == "timestamps":  # seconds since 1970, one year of them
        x = np.round(1.6e9 + g.uniform(0, 3e7, 80))
        return x, np.sin((x - 1.6e9) / 3e6) + 0.2 * g.standard_normal(80)
    if kind == "ties":  # x rounded to 1..5: many equal keys
        x = g.integers(1, 6, 60).astype(float)
        return x, 0.5 * x + g.standard_normal(60)
    if kind == "two_values":
        x = g.integers(0, 2, 40).astype(float)
        return x, x + 0.3 * g.standard_normal(40)
    if kind == "three_values":
        x = 10.0 * g.integers(0, 3, 40)
        return x, np.cos(x) + 0.3 * g.standard_normal(40)
    if kind == "three_rows":
        return np.array([1.0, 2.0, 4.0]), np.array([2.0, 5.0, 3.0])
    if kind == "negative":  # x < 0 everywhere, descending in the file
        x = -np.sort(g.uniform(1, 100, 50))[::-1]
        return x, np.sqrt(-x) + 0.3 * g.standard_normal(50)
    if kind == "descending":
        x = np.sort(g.uniform(0, 10, 50))[::-1]
        return x, np.sin(x) + 0.2 * g.standard_normal(50)
    raise ValueError(kind)


KINDS = (
    "offset",
    "tiny",
    "clusters",
    "heavy_x",
    "heavy_noise",
    "engel",
    "timestamps",
    "ties",
    "two_values",
    "three_values",
    "three_rows",
    "negative",
    "descending",
)


# --- independent computations -------------------------------------------------------------


def spread(x: np.ndarray) -> float:
    """Silverman's A = min(std, IQR / 1.349), the std with n - 1 (as nwcore's rule)."""
    x = np.asarray(x, dtype=float)
    iqr = np.subtract(*np.percentile(x, [75, 25])) / 1.349
    std = x.std(ddof=1)
    return min(std, iqr) if iqr > 0 else std


def silverman_w(x: np.ndarray) -> float:
    return 1.0 / (0.9 * spread(x) * len(x) ** -0.2)


def kernel_weights(u: np.ndarray, kernel: str) -> np.ndarray:
    """K(u) for u >= 0, the Gaussian relative to its largest value (a softmax's max shift)."""
    if kernel == "gaussian":
        s = -(u**2) / 2
        return np.exp(s - s.max())
    if kernel == "boxcar":
        return (u <= 1).astype(float)
    if kernel == "constant":
        return np.ones_like(u)
    if kernel == "epanechnikov":
        return 0.75 * np.maximum(1 - u**2, 0)
    return np.maximum(1 - u, 0)  # triangular


def loo_loop(x: np.ndarray, y: np.ndarray, kernel: str, w: float) -> float:
    """Leave-one-out MSE, one point at a time: point i predicted from the others; an empty
    window takes the mean y of the nearest other keys (the page's documented rule)."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    total = 0.0
    for i in range(len(x)):
        d = np.abs(np.delete(x, i) - x[i])  # (N - 1,)
        others = np.delete(y, i)
        k = kernel_weights(d * abs(w), kernel)
        if k.sum() > 0:
            pred = k @ others / k.sum()
        else:
            pred = others[d == d.min()].mean()
        total += (pred - y[i]) ** 2
    return total / len(x)


# --- the page -----------------------------------------------------------------------------


def loaded(kind: str) -> tuple[AppTest, np.ndarray, np.ndarray]:
    x, y = kind_data(kind)
    at = upload_bytes(csv_app(), csv_text(x, y), f"{kind}.csv")
    no_errors(at)
    return at, x, y


NOT_A_NUMBER = re.compile(r"(?<![\w.])-?(nan|inf)(?![\w.])", re.IGNORECASE)


def numbers_defined(at: AppTest) -> None:
    """No exception or error; no nan/inf in the tables; every drawn curve point finite."""
    no_errors(at)
    defined(at)


def defined(at: AppTest) -> None:
    """No exception; no nan/inf in the tables; every drawn curve point finite."""
    assert not at.exception, at.exception
    for element in at.table:
        shown = element.value.to_string()
        assert not NOT_A_NUMBER.search(shown), shown
    for frame in chart_frames(fit_chart(at)):
        if "curve" in frame and "qi" in frame:  # the curves (and the empty-window crosses)
            assert np.isfinite(frame["y"].to_numpy(dtype=float)).all(), frame
            assert np.isfinite(frame["x"].to_numpy(dtype=float)).all(), frame


def w_slider(at: AppTest) -> tuple[float, list[float]]:
    slider = at.select_slider(key="w")
    return float(slider.value), [float(v) for v in slider.options]


def np_loo(at: AppTest) -> float:
    return float(metrics(at)["nonparametric"]["leave-one-out MSE"])


# --- loading: w starts on the data's scale ------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_start_w_follows_the_data_and_the_rule_buttons_type_their_rules(kind) -> None:
    at, x, y = loaded(kind)
    numbers_defined(at)
    start, options = w_slider(at)
    assert options[0] <= start <= options[-1] and start in options
    assert "w started at the leave-one-out optimum" in texts(at.caption)
    a = spread(x)
    assert 0.05 < start * a < 200, (start, a)  # 1/w comparable with the spread of x
    assert not at.warning, texts(at.warning)  # the start w is not "tiny" or "huge" for its data
    # the start (the optimum snapped to the grid) predicts the points at least about as well
    # as Silverman's rule, by an explicit leave-one-out loop
    assert loo_loop(x, y, "gaussian", start) <= 1.05 * loo_loop(x, y, "gaussian", silverman_w(x))
    assert np_loo(at) == pytest.approx(loo_loop(x, y, "gaussian", start), rel=1e-3)

    at.button(key="w_use_silverman").click().run()
    numbers_defined(at)
    assert float(at.text_input(key="w_exact").value) == pytest.approx(silverman_w(x), rel=1e-3)

    at.button(key="w_use_loo").click().run()
    numbers_defined(at)
    best = float(at.text_input(key="w_exact").value)
    loss = loo_loop(x, y, "gaussian", best)
    assert loss <= loo_loop(x, y, "gaussian", best * 1.2) * (1 + 1e-6)
    widest = 1 / (4 * np.ptp(x))  # the search's widest window (4 x the extent): three rows
    if best > 1.01 * widest:  # would do better still at w -> 0, average pooling
        assert loss <= loo_loop(x, y, "gaussian", best / 1.2) * (1 + 1e-6)
    assert f"w = {best:.4g}," in texts(at.caption)


@pytest.mark.parametrize("kind", ["engel", "tiny", "timestamps", "ties", "three_values"])
def test_every_kernel_at_both_ends_of_the_slider_stays_defined(kind) -> None:
    at, x, y = loaded(kind)
    start, options = w_slider(at)
    for kernel in KERNELS:
        at.selectbox(key="kernel").set_value(kernel).run()
        numbers_defined(at)
        assert np_loo(at) == pytest.approx(loo_loop(x, y, kernel, start), rel=1e-3), kernel
    for end in (options[0], options[-1]):
        at.select_slider(key="w").set_value(end).run()
        numbers_defined(at)
        assert np_loo(at) == pytest.approx(loo_loop(x, y, "triangular", end), rel=1e-3)
    # the narrowest window leaves queries empty: the page says so, and they are still drawn
    assert "have no training point inside their window" in texts(at.warning)


# --- w's notes are relative to the data's scale -------------------------------------------


def suggested_range(text: str) -> tuple[float, float]:
    found = re.search(r"Try w between (\S+) and (\S+) for these data", text)
    assert found, text
    return float(found.group(1)), float(found.group(2))


@pytest.mark.parametrize("kind", ["tiny", "timestamps", "engel"])
def test_tiny_and_huge_w_notes_are_relative_to_the_data(kind) -> None:
    """Was: w = 1e7 on lengths at 1e-6 (the page's own start) was called huge, and every note
    suggested w between 0.1 and 30 whatever the unit of x."""
    at, x, _ = loaded(kind)
    start, _ = w_slider(at)
    assert not at.warning, texts(at.warning)
    for factor, word in ((1e-8, "is tiny"), (1e8, "is huge")):
        at.text_input(key="w_exact").input(f"{start * factor:.6g}").run()
        numbers_defined(at)
        note = texts(at.warning)
        assert word in note, note
        lo, hi = suggested_range(note)
        assert lo <= start <= hi and lo <= silverman_w(x) <= hi, (lo, hi, start)
    at.text_input(key="w_exact").input("0").run()
    no_errors(at)  # (h = 1/w = inf in the table: w = 0's bandwidth, said in words above)
    suggested = float(re.search(r"Try w = (\S+)\.", texts(at.warning)).group(1))
    assert 0.1 < suggested * spread(x) < 10  # w = 1 in the data's own unit


def test_a_typed_w_whose_square_underflows_is_average_pooling() -> None:
    """Was: w = 1e-300 (or any w with w^2 below the smallest float) raised ZeroDivisionError in
    the Gaussian leave-one-out error, and the page showed 'Something went wrong'."""
    at, x, y = loaded("engel")
    at.text_input(key="w_exact").input("1e-300").run()
    numbers_defined(at)
    m = metrics(at)
    assert m["nonparametric"]["leave-one-out MSE"] == m["average"]["leave-one-out MSE"]
    assert np_loo(at) == pytest.approx(loo_loop(x, y, "constant", 1.0), rel=1e-3)


# --- training -----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["engel", "tiny", "offset", "ties", "three_rows"])
def test_training_every_mode_on_unusual_data_gives_finite_widths(kind) -> None:
    at, x, y = loaded(kind)
    for heads, mode in ((1, "d2l"), (1, "converged"), (3, "d2l"), (3, "converged")):
        at.slider(key="heads").set_value(heads).run()
        at.radio(key="mode").set_value(mode).run()
        at.button(key="train").click().run()
        numbers_defined(at)
        rows = table(at, "rule").set_index("rule")
        learned = [float(rows.loc[f"learned, head {h}", "w"]) for h in range(1, heads + 1)]
        assert all(math.isfinite(w) and w > 0 for w in learned), learned
        assert math.isfinite(float(metrics(at)["parametric"]["leave-one-out MSE"]))
        if (heads, mode) == (1, "converged"):  # the one-head optimum is the LOO optimum
            best = float(rows.loc["leave-one-out optimum", "w"])
            assert learned[0] == pytest.approx(best, rel=1e-3)
            loss = loo_loop(x, y, "gaussian", learned[0])
            assert loss <= loo_loop(x, y, "gaussian", silverman_w(x)) * (1 + 1e-6)


# --- shapes of data -----------------------------------------------------------------------


def test_unsorted_x_is_sorted_and_the_fit_matches_the_files_order() -> None:
    at, x, y = loaded("descending")
    curves = [f for f in chart_frames(fit_chart(at)) if "curve" in f and "qi" in f]
    nonparametric = pd.concat(curves).query("curve == 'nonparametric'")
    assert np.all(np.diff(nonparametric["x"].to_numpy()) > 0)
    assert nonparametric["x"].min() == pytest.approx(x.min())
    assert nonparametric["x"].max() == pytest.approx(x.max())
    at.selectbox(key="kernel").set_value("epanechnikov").run()
    start, _ = w_slider(at)
    assert np_loo(at) == pytest.approx(loo_loop(x, y, "epanechnikov", start), rel=1e-3)


def test_integer_columns_load_as_numbers() -> None:
    content = ("n,count\n" + "".join(f"{i},{i * i % 17}\n" for i in range(40))).encode()
    at = upload_bytes(csv_app(), content, "ints.csv")
    numbers_defined(at)
    start, options = w_slider(at)
    x, y = np.arange(40.0), np.arange(40) ** 2 % 17.0
    assert options[0] <= start <= options[-1]
    assert np_loo(at) == pytest.approx(loo_loop(x, y, "gaussian", start), rel=1e-3)


def test_constant_y_starts_at_silverman_not_at_an_arbitrary_optimum() -> None:
    """Was: with y constant every w fits exactly, and w started at the search's narrowest
    window (h = 1/8 of the spacing), so a compact kernel left most queries empty."""
    x = np.arange(20.0)
    at = upload_bytes(csv_app(), csv_text(x, np.full(20, 3.0)), "flat.csv")
    numbers_defined(at)
    start, _ = w_slider(at)
    assert "w started at Silverman's rule" in texts(at.caption)
    assert abs(math.log10(start * 0.9 * spread(x) * 20**-0.2)) <= 0.05  # the grid's step
    at.selectbox(key="kernel").set_value("boxcar").run()
    numbers_defined(at)
    assert not at.warning, texts(at.warning)  # every query has keys in its window


def test_x_near_1e_minus_200_loads_and_its_rules_are_right() -> None:
    """Was: Silverman's std of x near 1e-200 squared to 0, and the upload was refused as
    'all x are equal'."""
    x, y = unusual("tiny", 60, seed=0)
    x = x * 1e-194  # x near 1e-200, the same shape
    at = upload_bytes(csv_app(), csv_text(x, y), "minute.csv")
    numbers_defined(at)
    start, options = w_slider(at)
    a = spread(x * 1e200) * 1e-200  # numpy's std of x itself underflows: scaled, then back
    assert 0.3 < start * a < 100 and options[0] <= start <= options[-1]
    at.button(key="w_use_silverman").click().run()
    numbers_defined(at)
    expected = 1 / (0.9 * a * 60**-0.2)
    assert float(at.text_input(key="w_exact").value) == pytest.approx(expected, rel=1e-3)


def test_twenty_thousand_rows_are_sampled_and_start_at_silverman() -> None:
    g = np.random.default_rng(5)
    x = g.uniform(0, 10, 20_000)
    y = np.sin(x) + 0.3 * g.standard_normal(20_000)
    rows = "".join(f"{a:.6f},{b:.6f}\n" for a, b in zip(x, y, strict=True))
    at = upload_bytes(csv_app(), f"x,y\n{rows}".encode(), "big.csv")
    numbers_defined(at)
    assert "fixed random sample of 5000" in texts(at.info)
    start, options = w_slider(at)
    assert "w started at Silverman's rule" in texts(at.caption)
    sample = 1 / (0.9 * spread(x) * 5000**-0.2)  # the sample's spread is the file's, about
    assert abs(math.log10(start / sample)) < 0.1 and options[0] <= start <= options[-1]
    at.selectbox(key="kernel").set_value("epanechnikov").run()
    numbers_defined(at)


# --- files that are refused, with what to change ------------------------------------------


@pytest.mark.parametrize(
    ("scale", "fragment"), [(1e200, "divide it by 1e200"), (1e-200, "multiply it by 1e200")]
)
def test_y_too_large_or_small_to_square_is_refused_with_a_rescale_hint(scale, fragment) -> None:
    """Was: y near 1e200 loaded, every leave-one-out MSE showed 'inf', and Train failed with
    'w must be a finite number, got nan'."""
    x = np.linspace(0, 5, 40)
    good = upload_bytes(csv_app(), csv_text(x, np.sin(x)), "good.csv")
    at = upload_bytes(good, csv_text(x, (1.5 + np.sin(x)) * scale), "scaled.csv")
    errors = texts(at.error).replace("\\", "")
    assert "This file was not used" in errors and fragment in errors, errors
    assert "Still showing the previous data" in texts(at.info)
    at.button(key="train").click().run()  # the session goes on with what it had
    defined(at)
    assert "learned, head 1" in set(table(at, "rule")["rule"])


def test_y_near_1e150_still_loads_and_trains() -> None:
    x = np.linspace(0, 5, 40)
    y = (1 + np.sin(x) / 3 + 0.01 * np.random.default_rng(2).standard_normal(40)) * 7e149
    at = upload_bytes(csv_app(), csv_text(x, y), "big_y.csv")
    numbers_defined(at)
    start, _ = w_slider(at)
    expected = loo_loop(x, y / 1e150, "gaussian", start) * 1e300  # the loop's squares overflow
    assert np_loo(at) == pytest.approx(expected, rel=1e-3)
    at.button(key="train").click().run()
    numbers_defined(at)


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b"x,y\n1,2\n2,\n3,4\n4,5\n5,\n", ("2 empty, NaN or infinite entries", "lines [3, 6]")),
        (b"x,y\n1,2\n2,oops\n3,4\n4,5\n", ("1 non-numeric entries", "'oops'")),
        (b"day,v\n2024-01-01,1\n2024-01-02,2\n2024-01-03,4\n", ("1 numeric column",)),
    ],
    ids=["missing cells", "text cell", "dates as text"],
)
def test_missing_text_and_date_cells_are_refused_with_where_they_are(content, fragments) -> None:
    at = upload_bytes(csv_app(), content, "cells.csv")
    assert not at.exception
    errors = texts(at.error).replace("\\", "")
    assert "This file was not used" in errors
    for fragment in fragments:
        assert fragment in errors, errors

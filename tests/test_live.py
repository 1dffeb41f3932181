"""dashboard.live's w-independent parts, against explicit loops; its spec across clicks."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
from streamlit.testing.v1 import AppTest

from dashboard import live, text
from dashboard.text_zh import TEXT_ZH

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
LABELS = ("x", "y", "live")


def test_table_rows_match_a_loop() -> None:
    q, x = np.array([0.0, 2.0, 2.5]), np.array([1.0, 3.0, 1.0])
    y = np.array([5.0, 6.0, 7.0])
    table = live.live_table(q, x, y, stride=2)
    assert len(table) == len(q) * len(x)
    for row in table.itertuples():
        d = [abs(q[row.qi] - xk) for xk in x]
        nearest = [k for k, dk in enumerate(d) if dk == min(d)]
        assert row.xq == q[row.qi] and row.y == y[row.ki]
        assert row.d == d[row.ki] and row.dd == d[row.ki] ** 2 - min(d) ** 2
        assert row.near == ((row.ki in nearest) / len(nearest))
        assert row.yn == sum(y[k] for k in nearest) / len(nearest)  # ties shared
        assert row.hq == row.qi - row.qi % 2


def test_heatmap_cells_tile_the_unit_square_row_by_row() -> None:
    """The heat dataset: the shown rows' cells, each (row, key) once, at its grid place."""
    q, x = np.linspace(0, 1, 5), np.array([0.2, 0.9, 0.4])
    y = np.array([1.0, 2.0, 3.0])
    data, _, stride = live.live_data(q, x, y, "gaussian", 1.0, {})
    heat, table = data["live_heat"], live.live_table(q, x, y, stride)
    shown = list(range(0, len(q), stride))
    assert len(heat) == len(shown) * len(x)
    for r, qi in enumerate(shown):
        for k in range(len(x)):
            (cell,) = heat[(heat.hq == qi) & np.isclose(heat.x0, k / len(x))].itertuples()
            ref = table[(table.qi == qi) & (table.ki == k)].iloc[0]
            assert (cell.d, cell.dd, cell.near) == (ref.d, ref.dd, ref.near)
            assert np.isclose(cell.y0, r / len(shown))
            assert np.isclose(cell.x1 - cell.x0, live.OVERLAP / len(x))
    rows = data["live_rows"]
    assert rows["hq"].tolist() == shown and np.allclose(rows.y1 - rows.y0, 1 / len(shown))


def test_heat_stride_keeps_the_heatmap_under_its_cell_limit() -> None:
    for n_q, n_k in [(1, 1), (50, 50), (49, 60), (200, 15), (7, 3000)]:
        stride = live.heat_stride(n_q, n_k)
        shown = len(range(0, n_q, stride))
        assert shown * n_k <= max(live.HEAT_CELLS, n_k), (n_q, n_k, stride)
        if stride > 1:  # no smaller stride would have fitted
            assert len(range(0, n_q, stride - 1)) * n_k > live.HEAT_CELLS, (n_q, n_k, stride)


def test_large_data_is_binned_to_the_live_limit() -> None:
    rng = np.random.default_rng(1)
    x, y, q = rng.normal(1e8, 1e-3, 900), rng.standard_cauchy(900), np.linspace(0, 1, 200)
    spec, binned, _ = live.live_chart(q, x, y, "gaussian", 1.0, {}, LABELS)
    assert binned and len(spec["datasets"]["live_cells"]) <= live.MAX_LIVE_CELLS
    xb, yb = live.bin_keys(x, y, 3)
    order = np.argsort(x, kind="stable")
    assert np.allclose(yb, [y[order[i * 300 : (i + 1) * 300]].mean() for i in range(3)])
    assert np.allclose(xb, [x[order[i * 300 : (i + 1) * 300]].mean() for i in range(3)])


def test_server_curves_are_drawn_unchanged_beside_the_live_one() -> None:
    q, x = np.linspace(0, 1, 4), np.array([0.0, 0.5, 1.0])
    y = np.array([1.0, -2.0, 3.0])
    fixed = {"parametric": np.array([9.0, 8.0, 7.0, 6.0]), "average": np.full(4, 2 / 3)}
    spec, binned, stride = live.live_chart(q, x, y, "boxcar", 2.0, fixed, LABELS)
    assert not binned and stride == 1
    rows = spec["datasets"]["live_fixed"]
    for name, curve in fixed.items():
        got = rows[rows.series == name]
        assert list(zip(got.xq, got.v, strict=True)) == list(zip(q, curve, strict=True))
    color = spec["vconcat"][0]["layer"][1]["encoding"]["color"]["scale"]
    assert color["domain"] == ["live", "average", "parametric"]  # the legend's order
    meta = spec["datasets"]["live_meta"].iloc[0]
    assert (meta.y_lo, meta.y_hi) == (-2.0, 9.0)  # every curve inside the fixed y scale
    assert (meta.x_lo, meta.x_hi) == (0.0, 1.0)
    assert list(live.KERNEL_EXPR)[int(meta.kid)] == "boxcar"


def test_the_spec_does_not_change_with_the_data_or_the_kernel() -> None:
    """Two data sets, kernels and sizes (one binned): the same spec, but for the sidebar w."""
    rng = np.random.default_rng(0)
    a = live.live_chart(
        np.linspace(0, 5, 50), rng.uniform(0, 5, 50), rng.normal(size=50), "gaussian", 1.0,
        {"average": np.zeros(50)}, LABELS,
    )[0]  # fmt: skip
    b = live.live_chart(
        np.linspace(-3, 9, 200), rng.uniform(-3, 9, 400), rng.normal(size=400), "triangular",
        1.0, {"average": np.ones(200)}, LABELS,
    )[0]  # fmt: skip
    a.pop("datasets"), b.pop("datasets")
    assert json.dumps(a, sort_keys=True) == json.dumps(b, sort_keys=True)


def _live_element(at: AppTest):
    (chart,) = [c for c in at.get("vega_lite_chart") if '"live_cells"' in c.proto.spec]
    return chart


def test_page_clicks_keep_the_live_spec_and_swap_its_data() -> None:
    """Kernel, seed, n_train, w, Dataset: the live chart's spec string stays the same, so
    Streamlit keeps the drawn view and swaps its datasets (the sidebar w travels as w0)."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception, at.exception
    first = _live_element(at).proto.spec
    seen = {d.name: d.data.data for d in _live_element(at).proto.datasets}
    for click in (
        lambda: at.selectbox(key="kernel").set_value("epanechnikov"),
        lambda: at.number_input(key="seed").set_value(8),
        lambda: at.select_slider(key="n_train").set_value(40),
        lambda: at.select_slider(key="w").set_value(3.16),
        lambda: at.selectbox(key="dataset").set_value("d2l_new"),
    ):
        click().run()
        assert not at.exception, at.exception
        chart = _live_element(at)
        assert chart.proto.spec == first
        now = {d.name: d.data.data for d in chart.proto.datasets}
        assert now != seen  # the click's change travels in the data
        seen = now
    meta = pa.ipc.open_stream(seen["live_meta"]).read_pandas().iloc[0]
    assert list(live.KERNEL_EXPR)[int(meta.kid)] == "epanechnikov"
    assert meta.w0 == at.select_slider(key="w").value  # the slider starts at the sidebar w


def test_zh_translates_the_titles_not_the_data() -> None:
    """The live chart in Chinese: translated slider, title and axis titles; the same datasets."""
    got = {}
    for lang in ("en", "zh"):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["lang"] = lang
        at.run()
        assert not at.exception, at.exception
        chart = _live_element(at)
        frames = {
            d.name: pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets
        }
        got[lang] = (json.loads(chart.proto.spec), frames)
    table = {"en": text.TEXT, "zh": TEXT_ZH}
    for lang, (spec, _) in got.items():
        dumped = json.dumps(spec, ensure_ascii=False)
        for key in ("live_slider", "live_title_w", "live_series", "heat_axis_key", "f_weight"):
            assert table[lang][key] in dumped, (lang, key)
    assert TEXT_ZH["live_slider"] != text.TEXT["live_slider"]
    zh_spec = json.dumps(got["zh"][0], ensure_ascii=False)
    assert TEXT_ZH["series_average"] in zh_spec and TEXT_ZH["series_parametric"] in zh_spec
    (_, en), (_, zh) = got["en"], got["zh"]
    assert en.keys() == zh.keys()
    for name in en:
        pd.testing.assert_frame_equal(en[name], zh[name])


def test_the_page_reuses_the_points_tables_only_for_the_same_points():
    """The page keeps the points' tables per process (live._arrow_geometry): each set of points
    gets its own tables back, equal to the ones built fresh, after other points came between."""
    rng = np.random.default_rng(3)
    sets = [np.sort(rng.uniform(0, 5, 30)) for _ in range(2)]
    a, b = [(s, s[::3].copy(), np.sin(s[::3])) for s in sets]
    for q, x, y in (a, b, a, b):
        tables, binned, stride, y_keys = live._arrow_geometry(q, x, y)
        fresh, fresh_binned, fresh_stride, _ = live.live_geometry(q, x, y)
        assert (binned, stride) == (fresh_binned, fresh_stride)
        assert set(tables) == set(fresh)
        for name, frame in fresh.items():
            got = tables[name].to_pandas()
            pd.testing.assert_frame_equal(got, frame.reset_index(drop=True), check_dtype=False)
        np.testing.assert_array_equal(y_keys, y)

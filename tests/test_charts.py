"""Chart specs: data field names are stable across languages; only titles are translated."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import chart_data as cd
from dashboard import charts, text
from dashboard.text_zh import TEXT_ZH

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
SCHEMA = {
    cd.X,
    cd.Y,
    cd.CURVE,
    cd.QI,
    cd.QUERY,
    cd.KEY,
    cd.WEIGHT,
    cd.KI,
    cd.PANEL,
    cd.STEP,
    cd.LOSS,
}
SCHEMA |= {cd.GX, cd.GY, cd.PANEL_MAX, cd.PI, cd.LO, cd.HI, "marker"}  # grid, hover, markers
SCHEMA |= {"title"}  # the fit chart's title: the one row of its "meta" dataset
SCHEMA |= {"x0", "fw", "url", "url_own", "w", "own"}  # heatmap images and the colour legend's ends
SCHEMA |= set(charts.SERIES_COLORS)  # the hover data: one column per curve, by its key


def _walk(node, key):
    """Every value stored under `key` anywhere in a nested spec."""
    if isinstance(node, dict):
        for k, v in node.items():
            if k == key:
                yield v
            yield from _walk(v, key)
    elif isinstance(node, list):
        for v in node:
            yield from _walk(v, key)


def _frames(spec: dict) -> dict[str, pd.DataFrame]:
    """A spec's datasets as pandas frames (the fit chart's are Arrow tables, sent as they are)."""
    return {k: v.to_pandas() if isinstance(v, pa.Table) else v for k, v in spec["datasets"].items()}


def _fit_spec():
    q = np.linspace(0.0, 5.0, 6)  # (Q,)
    k = np.linspace(0.0, 5.0, 4)  # (K,)
    weights = np.full((6, 4), 0.25)  # (Q, K), rows sum to 1
    curves = cd.concat(
        [cd.curve_frame(q, np.sin(q), "truth"), cd.curve_frame(q, np.cos(q), "nonparametric")]
    )
    points = cd.points_frame(k, np.sin(k))
    empty = cd.curve_frame(q[:1], np.cos(q[:1]), "nonparametric")
    heat = charts.heatmaps([("np", weights)], q, k)
    return charts.fit_with_heatmaps(
        curves, points, empty, heat, title="t", x_label="x", y_label="y"
    )


def _specs(lang: str, monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    monkeypatch.setattr(text, "current_lang", lambda: lang)
    monkeypatch.setattr(charts, "current_lang", lambda: lang)
    return [_fit_spec(), charts.loss_chart([1, 2, 3], [1.0, 0.5, 0.25])]


def test_field_names_do_not_change_with_language(monkeypatch):
    en = _specs("en", monkeypatch)
    zh = _specs("zh", monkeypatch)
    for spec_en, spec_zh in zip(en, zh, strict=True):
        fields_en = sorted(set(map(str, _walk(spec_en, "field"))))
        fields_zh = sorted(set(map(str, _walk(spec_zh, "field"))))
        assert fields_en == fields_zh
        # the data columns themselves carry the schema names, not translated ones
        for frame in _frames(spec_zh).values():
            assert set(frame.columns) <= SCHEMA
    titles_zh = set(map(str, _walk(zh, "title")))
    # titles do follow the language (the loss chart's title and axes, heatmap axes, tooltips)
    for key in ("loss_title", "loss_step", "loss_value", "f_weight", "f_query", "heat_axis_key"):
        assert TEXT_ZH[key] in titles_zh, key
    assert "leave-one-out MSE" not in titles_zh


# --- readability (issue 11): each item checked on the spec or the data the chart draws ------


def _layers(spec: dict) -> list[dict]:
    """Every unit spec (one mark) inside a spec, with the name of the data it draws."""
    out = []
    stack = [spec]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if "mark" in node:
                out.append(node)
            stack.extend(v for k, v in node.items() if k != "datasets")
        elif isinstance(node, list):
            stack.extend(node)
    return out


def _layer_on(spec: dict, data: str, mark: str | None = None) -> dict:
    found = [
        layer
        for layer in _layers(spec)
        if layer.get("data", {}).get("name") == data
        and (mark is None or (layer["mark"]["type"] if isinstance(layer["mark"], dict)
                              else layer["mark"]) == mark)
    ]  # fmt: skip
    assert len(found) == 1, (data, mark, len(found))
    return found[0]


def test_legend_has_entries_for_training_points_and_empty_window_crosses():
    spec = _fit_spec()  # has points and one empty-window query
    markers = _frames(spec)["markers"]
    assert sorted(set(markers["marker"])) == ["empty", "points"]
    assert (markers["marker"] == "points").sum() == 4  # the 4 training points, 1 cross
    for enc in [_layer_on(spec, "markers")["encoding"]]:  # one layer: one merged legend
        assert enc["shape"]["scale"] == {
            "domain": ["points", "empty"],
            "range": ["circle", "cross"],
        }
        assert enc["color"]["scale"]["domain"] == ["points", "empty"]
        assert enc["shape"]["legend"] is not None and enc["color"]["legend"] is not None
        # the legend shows translated names, the data keep the keys
        assert text.TEXT["series_points"] in enc["shape"]["legend"]["labelExpr"]
        assert text.TEXT["legend_empty"] in enc["shape"]["legend"]["labelExpr"]


def test_hover_tooltip_lists_every_curve_at_the_query():
    q = np.array([0.0, 1.0, 3.0])  # (Q,)
    ys = {"truth": np.sin(q), "average": np.full(3, 2.0), "nonparametric": np.cos(q)}
    curves = cd.concat([cd.curve_frame(q, y, name) for name, y in ys.items()])
    spec = charts.fit_with_heatmaps(
        curves, cd.points_frame(), cd.empty_curves(), None,
        title="t", x_label="x", y_label="y",
    )  # fmt: skip
    strip = _layer_on(spec, "hover", "rect")
    fields = [tip["field"] for tip in strip["encoding"]["tooltip"]]
    assert fields == ["x", "truth", "average", "nonparametric"]
    hover = _frames(spec)["hover"]
    for i, x in enumerate(q):  # one row per query holds each curve's value there
        row = hover[hover["x"] == x].iloc[0]
        for name, y in ys.items():
            assert row[name] == pytest.approx(y[i], abs=0)
    # strips tile [min x, max x] without gaps: each query owns the x closest to it
    assert hover["lo"].tolist() == [0.0, 0.5, 2.0] and hover["hi"].tolist() == [0.5, 2.0, 3.0]
    assert any(p.get("name") == "query" for p in _walk(spec, "params") for p in p)


def _strip(key: str) -> str:
    return key[cd.KEY_PREFIX :]


def _shown_labels(keys) -> list[str]:
    """The tick labels an axis shows for these band keys (charts.FIT_LABEL_EXPR, in Python):
    in band order, the label of each key flagged '1'."""
    keys = sorted(set(keys))
    return [k[cd.KEY_PREFIX + 1 :] for k in keys if k[cd.KEY_PREFIX : cd.KEY_PREFIX + 1] == "1"]


def test_heatmap_axes_show_tick_values_of_the_query_and_key_x():
    spec = _fit_spec()
    k = np.linspace(0.0, 5.0, 4)  # the keys _fit_spec uses
    q = np.linspace(0.0, 5.0, 6)
    data = _frames(spec)
    assert _shown_labels(data["titles"]["gx"]) == [f"{v:.4g}" for v in k]
    assert _shown_labels(data["rows"]["gy"]) == [f"{v:.4g}" for v in _ticks_of(q, 5)]
    axes = {  # the x axis is drawn by the titles' text layer, the y axis by the row bands
        "x": _layer_on(spec, "titles", "text")["encoding"]["x"],
        "y": _layer_on(spec, "rows", "rect")["encoding"]["y"],
    }
    for enc in axes.values():  # every band's label is in its key; the flag says which show
        assert enc["axis"]["labelExpr"] == charts.FIT_LABEL_EXPR
        assert enc["axis"]["labelOverlap"] is False  # Vega must not drop shown ones
        assert enc["sort"] == "ascending"  # band keys sort in grid order
    assert charts.FIT_LABEL_EXPR == (
        "substring(datum.value, 8, 9) == '1' ? substring(datum.value, 9) : ''"
    )


def _ticks_of(values: np.ndarray, n: int) -> np.ndarray:
    idx = np.unique(np.linspace(0, len(values) - 1, n).round().astype(int))
    return values[idx]


def _two_panel_spec(wa: np.ndarray, wb: np.ndarray, q: np.ndarray, k: np.ndarray, **kw) -> dict:
    heat = charts.heatmaps([("a", wa), ("b", wb)], q, k)
    return charts.fit_with_heatmaps(
        cd.curve_frame(q, q, "average"), cd.points_frame(), cd.empty_curves(), heat,
        title=kw.get("title", "t"), x_label="x", y_label="y",
    )  # fmt: skip


def _png(url: str) -> np.ndarray:
    """Decode an 8-bit RGB PNG data URL (what raster.png_url writes) with zlib alone."""
    import base64
    import struct
    import zlib

    raw = base64.b64decode(url.split(",", 1)[1])
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, size = 8, b"", None
    while pos < len(raw):
        (n,) = struct.unpack(">I", raw[pos : pos + 4])
        kind, body = raw[pos + 4 : pos + 8], raw[pos + 8 : pos + 8 + n]
        assert (
            zlib.crc32(kind + body) & 0xFFFFFFFF == struct.unpack(">I", raw[pos + 8 + n :][:4])[0]
        )
        if kind == b"IHDR":
            size = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + n
    w, h = size
    rows = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + 3 * w)
    assert (rows[:, 0] == 0).all()  # filter type 0 on every row
    return rows[:, 1:].reshape(h, w, 3)


def test_one_colour_scale_per_heatmap_is_an_option():
    q, k = np.linspace(0, 1, 3), np.linspace(0, 1, 2)
    wa = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])  # (Q, K) rows sum to 1
    wb = np.array([[0.6, 0.4], [0.55, 0.45], [0.5, 0.5]])  # flatter: darker on a shared scale
    spec = _two_panel_spec(wa, wb, q, k)
    params = [p for ps in _walk(spec, "params") for p in ps]
    own = [p for p in params if p["name"] == charts.OWN_SCALE]
    assert own and own[0]["value"] is False and own[0]["bind"]["input"] == "checkbox"
    images = _layer_on(spec, "images", "image")
    calc = {tr["as"]: tr["calculate"] for tr in images["transform"] if "calculate" in tr}
    assert calc["img"] == f"{charts.OWN_SCALE} ? datum.url_own : datum.url"
    data = _frames(spec)["images"]
    top_colour = [253, 231, 37]  # viridis' last stop: the largest weight of the scale
    for (_, row), w in zip(data.sort_values("pi").iterrows(), (wa, wb), strict=True):
        cells_shared, cells_own = _png(row["url"]), _png(row["url_own"])  # (3, 2, 3)
        assert cells_shared.shape == cells_own.shape == (3, 2, 3)  # one pixel per cell
        i, j = np.unravel_index(np.argmax(w), w.shape)
        assert cells_own[i, j].tolist() == top_colour  # own scale: the panel's max is the top
        assert (cells_shared[i, j].tolist() == top_colour) == (w.max() == 0.9)  # shared: a's
        order = np.argsort(w.ravel())  # more weight, brighter (viridis rises in green)
        assert np.all(np.diff(cells_shared.reshape(-1, 3)[order, 1].astype(int)) >= 0)
    legend = _frames(spec)["legend"]
    assert legend["w"].tolist() == [0.0, 0.9] and legend["own"].tolist() == [0.0, 1.0]


def test_the_fit_spec_does_not_change_with_the_data():
    """Everything a click changes (curves, weights, their x, the title, the panel titles, a
    third panel in the same grid) is in the datasets: the spec's JSON stays the same, so
    Streamlit keeps the drawn chart and swaps its data (issue 11, speed of a click)."""
    q, k = np.linspace(0, 1, 3), np.linspace(0, 1, 2)
    wa = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
    one = _two_panel_spec(wa, wa[::-1], q, k, title="classic, seed 1")
    other = _two_panel_spec(wa[:, ::-1], wa, q * 3 + 1, k * 2 + 1, title="sinc, seed 9")
    data_one, data_other = one.pop("datasets"), other.pop("datasets")
    assert json.dumps(one, sort_keys=True) == json.dumps(other, sort_keys=True)
    assert data_one["meta"]["title"].to_pylist() == ["classic, seed 1"]  # the title is data
    assert not data_one["images"].equals(data_other["images"])


def test_heatmap_bands_in_the_data_sort_in_grid_order():
    """The axes' domains are the bands found in the data, sorted: with the gap between panel
    columns and the title bands present (as empty titles), the sorted keys are the grid."""
    q, k = np.linspace(0, 1, 3), np.linspace(0, 1, 2)
    wa = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])
    spec = _two_panel_spec(wa, wa, q, k)
    rows, titles = _frames(spec)["rows"], _frames(spec)["titles"]
    grid = cd.panel_grid(2, ["r"] * 3, ["c"] * 2, 2, 1)  # the same layout, other labels
    x_seen = sorted(set(titles["gx"]))
    y_seen = sorted(set(rows["gy"]) | set(titles["gy"]))
    assert [key[: cd.KEY_PREFIX] for key in x_seen] == [
        g[: cd.KEY_PREFIX] for g in grid["x_domain"]
    ]
    assert [key[: cd.KEY_PREFIX] for key in y_seen] == [
        g[: cd.KEY_PREFIX] for g in grid["y_domain"]
    ]


def _heads_spec(n_tokens: int, heads: int, show_text: bool = True) -> tuple[dict, list[str]]:
    rng = np.random.default_rng(0)
    labels = [f"{i}: tok{i}" for i in range(n_tokens)]
    names = [f"head {h + 1}" for h in range(heads)]
    frames = []
    for h in range(heads):
        w = rng.dirichlet(np.ones(n_tokens), size=n_tokens)  # (T, T), rows sum to 1
        frames.append(cd.cell_frame({cd.WEIGHT: w}, labels, labels).assign(panel=names[h]))
    cells = pd.concat(frames, ignore_index=True)
    cells[cd.LABEL] = [f"{v:.2f}" for v in cells[cd.WEIGHT]]
    spec = charts.matrix_heatmap(
        cells, x=cd.KEY, y=cd.QUERY, value=cd.WEIGHT, x_order=labels, y_order=labels,
        title="heads", titles={cd.QUERY: "Q", cd.KEY: "K"}, facet=cd.PANEL, facet_order=names,
        show_text=show_text,
    )  # fmt: skip
    return spec, labels


@pytest.mark.parametrize(("n_tokens", "heads"), [(10, 2), (16, 8)])
def test_every_token_is_labelled_on_both_axes_of_every_head(n_tokens, heads):
    spec, labels = _heads_spec(n_tokens, heads)
    rect = _layer_on(spec, "cells", "rect")["encoding"]
    x_domain = [_strip(v) for v in rect["x"]["scale"]["domain"]]
    y_domain = [_strip(v) for v in rect["y"]["scale"]["domain"]]
    columns = min(2, heads)
    grid_rows = -(-heads // columns)
    for token in labels:  # once per panel column / panel row: no panel without its labels
        assert x_domain.count(token) == columns
        assert y_domain.count(token) == grid_rows
    for axis in (rect["x"]["axis"], rect["y"]["axis"]):
        assert axis["labelOverlap"] is False  # Vega may not hide any of them
    assert "values" not in rect["x"]["axis"]  # every band keeps its label
    # each cell sits in its head's panel: the keys of head h's cells are in its grid position
    cells = _frames(spec)["cells"]
    for h in range(heads):
        sub = cells[cells["panel"] == f"head {h + 1}"]
        assert set(sub["gx"].str[:2]) == {f"{h % columns:02d}"}
        assert set(sub["gy"].str[:2]) == {f"{h // columns:02d}"}
        assert (sub["gx"].map(_strip) == sub["key"]).all()
        assert (sub["gy"].map(_strip) == sub["query"]).all()


def test_cell_text_is_white_on_dark_cells():
    # viridis: 0 is dark purple, 1 bright yellow; redblue: both ends dark, the middle light
    assert cd.dark_cells(np.array([0.0, 0.3, 0.6, 1.0]), diverging=False).tolist() == [
        True, True, False, False,
    ]  # fmt: skip
    assert cd.dark_cells(np.array([-1.0, 0.0, 0.5, 0.9]), diverging=True).tolist() == [
        True, False, False, True,
    ]  # fmt: skip
    spec, _ = _heads_spec(4, 2)
    text_layer = _layer_on(spec, "cells", "text")["encoding"]["color"]
    assert text_layer["condition"]["value"] == "white" and text_layer["value"] == "#222"
    assert text_layer["condition"]["test"] == f"{charts.OWN_SCALE} ? datum.dark_own : datum.dark"
    cells = _frames(spec)["cells"]
    lo = cells["weight"].min()
    assert cells.loc[cells["weight"] == lo, "dark"].all()  # the darkest cell gets white text


@pytest.mark.parametrize("page", ["pages_/scoring.py", "pages_/self_attention.py"])
def test_page_chart_data_keep_stable_field_names_in_every_language(page):
    """The scoring and self-attention charts' data columns are the same in English and
    Chinese (only titles change), read from the pages as Streamlit runs them."""
    columns = {}
    for lang in ("en", "zh"):
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params["lang"] = lang
        at.run().switch_page(page).run()
        assert not at.exception, at.exception
        columns[lang] = [
            sorted(pa.ipc.open_stream(d.data.data).read_pandas().columns)
            for chart in at.get("vega_lite_chart")
            for d in chart.proto.datasets
        ]
        titles = " ".join(chart.proto.spec for chart in at.get("vega_lite_chart"))
        zh_weight = json.dumps(TEXT_ZH["f_weight"])[1:-1]  # as the spec's JSON writes it
        assert (zh_weight in titles) == (lang == "zh")  # titles follow the language
    assert columns["en"] == columns["zh"] and columns["en"]
    for frame_columns in columns["en"]:
        assert set(frame_columns) <= MATRIX_SCHEMA, frame_columns


MATRIX_SCHEMA = {
    cd.QUERY, cd.KEY, cd.SCORE, cd.WEIGHT, cd.MASKED, cd.LABEL, cd.PANEL, cd.ROW, cd.FEATURE,
    cd.VALUE, cd.GX, cd.GY, cd.PANEL_MAX, cd.DARK, "dark_own",
}  # fmt: skip


def test_one_heatmap_panel_takes_the_whole_width_and_offset_ticks_stay_distinct():
    """An untrained page has one panel: its image spans every key band (no gap, no second
    column). Keys around 1e8 (a CSV's offset) get tick labels that still tell them apart."""
    q = 1e8 + np.array([3.25, 40.0, 410.5])  # (Q,)
    k = 1e8 + np.array([0.5, 200.0, 399.0, 420.0])  # (K,)
    w = np.full((3, 4), 0.25)
    heat = charts.heatmaps([("np", w)], q, k)
    spec = charts.fit_with_heatmaps(
        cd.curve_frame(q, q, "average"), cd.points_frame(k, k), cd.empty_curves(), heat,
        title="t", x_label="x", y_label="y",
    )  # fmt: skip
    images = _frames(spec)["images"]
    assert images["x0"].tolist() == [0.0] and images["fw"].tolist() == [1.0]
    titles = _frames(spec)["titles"]
    assert len(set(titles["gx"])) == 4  # one band per key
    assert all(key[2] == ":" for key in titles["gx"])  # and no gap band
    labels = _shown_labels(titles["gx"])
    assert len(set(labels)) == len(labels) == 4  # all four shown, all different
    assert [float(v) for v in labels] == pytest.approx(k, abs=0.5)

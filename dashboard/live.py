"""The live view: NW pooling computed in the browser while an in-chart w slider moves.

Pure functions build the data (named datasets, every w-independent column precomputed) and
a spec that depends only on the labels, the language and which server curves are drawn: a
click elsewhere on the page (Kernel, seed, n_train, Dataset, w) swaps the datasets of the
drawn view instead of building a new one. The slider moves s = log10(w / w0) over the fixed
S_SPAN around the sidebar w0; w0, the kernel and the axes' domains come from a one-row
dataset, read by expressions.

Per event the browser evaluates the kernel once per cell, sums it per query (one aggregate)
for the curve, and once more per heatmap cell (the shown rows only, a dataset of their own,
so no filter runs per event) for the weights. nwcore's empty-window rule (nearest key's value,
ties shared, marked) uses the precomputed nearest-key value. Dragging the slider re-runs the
dataflow in the browser: no message goes to the server.

Speed (tests/bench/live.py): Streamlit runs Vega with its CSP-safe expression interpreter, so
every expression evaluated per row or per mark costs: the spec keeps them few, fixes every
scale's domain (no axis or legend is laid out again per event), turns off the per-item ARIA
descriptions, and draws the hover highlight as its own static layer.
"""

from __future__ import annotations

import functools
import json
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from dashboard.chart_data import arrow
from dashboard.charts import HEAT_SCHEME, SERIES_COLORS, label_expr
from dashboard.text import current_lang, t

# keys x queries computed per event; above this the keys are binned. Measured with
# tests/bench/live.py (headless Chromium, 2 cores, load ~1): 3,000 cells p50 ~12 ms; 6,000
# 29 ms and 9,000 31-38 ms (target p50 <= 33 ms), so 3,000 stays; results/live-*.md.
MAX_LIVE_CELLS = 60 * 50
# heatmap rects drawn per event (more query rows are thinned for display): the heatmap is most
# of the cost of an event (kernel, sum, weight and five encoders per rect), so 13 rows of 50
# keys (measured: half the rows, half the time; tests/bench/results/live-*.md)
HEAT_CELLS = 13 * 50
OVERLAP = 1.25  # heatmap rects reach a quarter into the next one (drawn over it): no seams
S_SPAN = (-2.5, 2.5)  # the slider: s = log10(w / w0), decades either side of the sidebar w
# y axes drawn inside the plot, their title above it: with width="stretch" Streamlit gives each
# vconcat child the column's width, so nothing may stick out to the left (fits at 400 px).
INNER_Y_AXIS = {
    "labelAlign": "left",
    "labelPadding": -4,
    "ticks": False,
    "domain": False,
    "titleAngle": 0,
    "titleAlign": "left",
    "titleBaseline": "bottom",
    "titleX": 0,
    "titleY": -6,
}
ONE_ROW = ("live_meta",)  # read by expressions: data('live_meta')[0].kid
NO_AXIS = {"labels": False, "ticks": False, "domain": False, "grid": False}

# K(u), u = d w, as a Vega expression of the cell (datum.d, datum.dd) and the signals w, w2.
# gaussian relative to the query's nearest key (dd = d^2 - d0^2), so exp never underflows
# to 0 for every key (the softmax's max subtraction).
KERNEL_EXPR: dict[str, str] = {
    "gaussian": "exp(-0.5 * w2 * datum.dd)",
    "boxcar": "datum.d * w <= 1 ? 1 : 0",
    "constant": "1",
    "epanechnikov": "datum.d * w < 1 ? 0.75 * (1 - w2 * datum.d * datum.d) : 0",
    "triangular": "datum.d * w < 1 ? 1 - datum.d * w : 0",
}


def kernel_switch() -> str:
    """Every kernel in one expression, picked by the signal `kid` (its index in KERNEL_EXPR)."""
    *rest, last = KERNEL_EXPR.values()
    return "".join(f"kid == {i} ? ({e}) : " for i, e in enumerate(rest)) + f"({last})"


def bin_keys(x: np.ndarray, y: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys above the live limit: `n_bins` equal-count bins, each its mean x and mean y."""
    order = np.argsort(x, kind="stable")
    parts = np.array_split(order, n_bins)
    return np.array([x[p].mean() for p in parts]), np.array([y[p].mean() for p in parts])


def heat_stride(n_q: int, n_k: int) -> int:
    """Show every `stride`-th query row in the heatmap, so it draws at most HEAT_CELLS rects."""
    return max(1, math.ceil(n_q / max(1, HEAT_CELLS // n_k)))


def live_table(q: np.ndarray, x: np.ndarray, y: np.ndarray, stride: int = 1) -> pd.DataFrame:
    """The query x key table: every w-independent column, one row per (query, key).

    d = |q - x|, dd = d^2 - d0^2 (d0 the query's nearest-key distance), near = the key's
    share of the nearest ties, yn = the query's nearest-key value (the empty-window result),
    hq = the heatmap row that shows this query (rows are thinned by `stride`).
    """
    d = np.abs(q[:, None] - x[None, :])  # (Q, K)
    d0 = d.min(axis=1, keepdims=True)  # (Q, 1) distance to the nearest key
    near = d == d0  # (Q, K)
    share = near / near.sum(axis=1, keepdims=True)  # (Q, K), rows sum to 1
    n_q, n_k = d.shape
    qi = np.arange(n_q)
    return pd.DataFrame(
        {
            "qi": np.repeat(qi, n_k),
            "hq": np.repeat(qi - qi % stride, n_k),
            "ki": np.tile(np.arange(n_k), n_q),
            "xq": np.repeat(q, n_k),
            "y": np.tile(y, n_q),
            "d": d.ravel(),
            "dd": (d * d - d0 * d0).ravel(),
            "near": share.ravel(),
            "yn": np.repeat(share @ y, n_k),
        }
    )


def start_w(x: np.ndarray, w: float) -> float:
    """The w the slider starts at (s = 0): the sidebar's |w|; for w = 0 (every kernel flat)
    the low end of the data's scale, 0.01 / spread, so the slider can move it."""
    return float(abs(w)) or 1e-2 / (float(np.ptp(x)) or 1.0)


def live_geometry(
    q: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[dict[str, pd.DataFrame], bool, int, np.ndarray]:
    """What the live chart draws that depends on the points only (not on the kernel or w):
    the datasets cells, heat, rows and queries (see live_data), whether the keys were binned,
    the heat stride and the keys' y after binning (K',)."""
    binned = len(q) * len(x) > MAX_LIVE_CELLS
    if binned:
        x, y = bin_keys(x, y, max(2, MAX_LIVE_CELLS // len(q)))
    n_q, n_k = len(q), len(x)
    stride = heat_stride(n_q, n_k)
    table = live_table(q, x, y, stride)
    shown = np.arange(0, n_q, stride)  # the heatmap's query rows, top to bottom
    band = pd.DataFrame({"hq": shown, "y0": np.arange(len(shown)) / len(shown)})
    band["y1"] = band["y0"] + 1 / len(shown)
    heat = table[table["qi"] % stride == 0][["hq", "ki", "d", "dd", "near"]].merge(band, on="hq")
    heat["x0"] = heat["ki"] / n_k
    heat["x1"] = heat["x0"] + OVERLAP / n_k
    heat["y1"] = heat["y0"] + OVERLAP / len(shown)
    queries = table[table["ki"] == 0][["qi", "xq", "yn", "hq"]].reset_index(drop=True)
    mid = (q[1:] + q[:-1]) / 2  # (Q - 1,) hover strips: each query's share of the x axis
    queries["lo"] = np.concatenate([[q.min()], mid]) if n_q else []
    queries["hi"] = np.concatenate([mid, [q.max()]]) if n_q else []
    datasets = {
        "live_cells": table[["qi", "y", "d", "dd"]],
        "live_heat": heat.drop(columns=["ki"]),
        "live_rows": band,
        "live_queries": queries,
    }
    return datasets, binned, stride, y


def live_settings(
    q: np.ndarray,
    x: np.ndarray,
    y_keys: np.ndarray,
    kernel: str,
    w: float,
    fixed: dict[str, np.ndarray],
) -> dict[str, pd.DataFrame]:
    """What changes with the kernel, w and the server's curves: live_meta and live_fixed."""
    # NW y_hat is a convex combination of y: a fixed y domain, so no axis is laid out per event
    ys = np.concatenate([y_keys, *fixed.values()])
    meta = {
        "w0": start_w(x, w),
        "kid": list(KERNEL_EXPR).index(kernel),
        "x_lo": float(q.min()),
        "x_hi": float(q.max()),
        "y_lo": float(ys.min()),
        "y_hi": float(ys.max()),
    }
    datasets = {"live_meta": pd.DataFrame([meta])}
    if fixed:  # drawn only then (the spec has the layer only then)
        datasets["live_fixed"] = pd.DataFrame(
            {
                "xq": np.tile(q, len(fixed)),
                "v": np.concatenate([*fixed.values()]),
                "series": np.repeat(list(fixed), len(q)),
            }
        )
    return datasets


def live_data(
    q: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    kernel: str,
    w: float,
    fixed: dict[str, np.ndarray],
) -> tuple[dict[str, pd.DataFrame], bool, int]:
    """The live chart's datasets, whether the keys were binned to stay live, the heat stride.

    q (Q,), x (K,), y (K,) numpy; w the sidebar's w (the slider's s = 0); fixed: series name
    -> (Q,) curve drawn unchanged (average, parametric). Datasets: cells (Q*K rows, what the
    curve sums), heat (the shown rows' cells, their rects in [0, 1] x [0, 1]), rows (one per
    shown row: its band, for hover and the carry click), queries (Q: x, nearest-key value,
    heatmap row, hover strip), fixed (the server's curves) and meta (one row: the kernel's
    index, w0, the axes' domains).
    """
    datasets, binned, stride, y_keys = live_geometry(q, x, y)
    return datasets | live_settings(q, x, y_keys, kernel, w, fixed), binned, stride


def _meta(field: str, default: float) -> str:
    """A live_meta field as an expression (the default while the dataset is still empty)."""
    return f"length(data('live_meta')) ? data('live_meta')[0].{field} : {default}"


@functools.lru_cache(maxsize=64)
def _template(labels: tuple[str, str, str], series: tuple[str, ...], lang: str) -> str:
    """The spec as JSON: labels (x title, y title, live series name), the server's series drawn
    beside the live curve, and the language of the other titles. Nothing data-dependent."""
    x_t, y_t, live_name = labels
    names = [live_name, *series]
    color = {
        "scale": {
            "domain": names,
            "range": [SERIES_COLORS["nonparametric"]] + [SERIES_COLORS[n] for n in series],
        },
        # the server's series by their translated names (the data keep the keys)
        "legend": {
            "title": None,
            "orient": "bottom",
            "columns": 2,
            "labelExpr": label_expr(series),
        },
    }
    x_enc = {
        "field": "xq",
        "type": "quantitative",
        "title": x_t,
        "axis": {"labelFlush": True},
        "scale": {"domain": {"expr": "[x_lo, x_hi]"}, "nice": False, "padding": 2},
    }
    y_scale = {"domain": {"expr": "[y_lo, y_hi]"}, "zero": False, "nice": False}
    curve = [  # one row per query, from the cells: sum_k K and sum_k K y
        {"calculate": kernel_switch(), "as": "k"},
        {"calculate": "datum.k * datum.y", "as": "ky"},
        {
            "aggregate": [
                {"op": "sum", "field": "k", "as": "ks"},
                {"op": "sum", "field": "ky", "as": "kys"},
            ],
            "groupby": ["qi"],
        },
        {
            "lookup": "qi",
            "from": {"data": {"name": "live_queries"}, "key": "qi", "fields": ["xq", "yn"]},
        },
        {"calculate": "datum.ks > 0 ? datum.kys / datum.ks : datum.yn", "as": "y_hat"},
        {"calculate": "datum.ks > 0 ? 0 : 1", "as": "empty"},
    ]
    hover = {"name": "row", "select": {"type": "point", "on": "pointerover", "fields": ["hq"]}}
    carry = {"name": "carry", "select": {"type": "point", "on": "click", "fields": ["w"]}}
    layers = []
    if series:
        layers.append(
            {
                "data": {"name": "live_fixed"},
                "mark": {"type": "line", "strokeDash": [4, 3], "clip": True},
                "encoding": {
                    "x": x_enc,
                    "y": {"field": "v", "type": "quantitative"},
                    "color": {"field": "series", "type": "nominal", **color},
                },
            }
        )
    layers += [
        {
            "data": {"name": "live_cells"},
            "transform": curve,
            "mark": {"type": "line", "clip": True},
            "encoding": {
                "x": x_enc,
                "y": {
                    "field": "y_hat",
                    "type": "quantitative",
                    "title": y_t,
                    "scale": y_scale,
                    "axis": INNER_Y_AXIS,
                },
                "color": {"datum": live_name, "type": "nominal", **color},
            },
        },
        {
            "data": {"name": "live_cells"},
            "transform": [*curve, {"filter": "datum.empty == 1"}],
            "mark": {"type": "point", "shape": "cross", "color": "black", "clip": True},
            "encoding": {
                "x": {"field": "xq", "type": "quantitative"},
                "y": {"field": "y_hat", "type": "quantitative"},
            },
        },
        {  # hover strips: a query's column of the plot selects its heatmap row (static marks)
            "data": {"name": "live_queries"},
            "mark": {"type": "rect", "fill": "white", "fillOpacity": 0.001},
            "params": [hover],
            "encoding": {"x": {"field": "lo", "type": "quantitative"}, "x2": {"field": "hi"}},
        },
    ]
    # Vega-Lite keeps only the datasets a view draws: the one-row ones get an empty text mark
    layers += [{"data": {"name": n}, "mark": {"type": "text", "text": ""}} for n in ONE_ROW]
    fit = {"width": 520, "height": 300, "layer": layers}
    unit = {"type": "quantitative", "scale": {"domain": [0, 1], "nice": False, "zero": False}}
    heat = {
        "width": 520,
        "height": 220,
        "layer": [
            {
                "data": {"name": "live_heat"},
                "transform": [
                    {"calculate": kernel_switch(), "as": "k"},
                    {"joinaggregate": [{"op": "sum", "field": "k", "as": "ks"}], "groupby": ["hq"]},
                    {"calculate": "datum.ks > 0 ? datum.k / datum.ks : datum.near", "as": "alpha"},
                ],
                "mark": {"type": "rect", "clip": True},
                "encoding": {
                    "x": {**unit, "field": "x0", "title": t("heat_axis_key"), "axis": NO_AXIS},
                    "x2": {"field": "x1"},
                    "y": {
                        **unit,
                        "field": "y0",
                        "title": t("heat_axis_query"),
                        "axis": {**INNER_Y_AXIS, **NO_AXIS},
                        "scale": {**unit["scale"], "reverse": True},  # row 0 at the top
                    },
                    "y2": {"field": "y1"},
                    "color": {
                        "field": "alpha",
                        "type": "quantitative",
                        "title": t("f_weight"),
                        "scale": {"scheme": HEAT_SCHEME, "type": "sqrt", "domain": [0, 1]},
                        "legend": {"orient": "bottom"},
                    },
                },
            },
            {  # one band per shown row: dims the others on hover, carries w back on click
                "data": {"name": "live_rows"},
                "transform": [{"calculate": "w", "as": "w"}],
                "mark": {"type": "rect", "fill": "white", "stroke": "black"},
                "params": [carry],
                "encoding": {
                    "x": {"datum": 0, **unit},
                    "x2": {"datum": 1},
                    "y": {**unit, "field": "y0", "scale": {**unit["scale"], "reverse": True}},
                    "y2": {"field": "y1"},
                    "fillOpacity": {
                        "condition": {"param": "row", "empty": False, "value": 0},
                        "value": {"expr": "length(data('row_store')) ? 0.55 : 0.001"},
                    },
                    "strokeOpacity": {
                        "condition": {"param": "row", "empty": False, "value": 1},
                        "value": 0,
                    },
                },
            },
        ],
    }
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        # no per-item description strings (recomputed per event); no frame stroke past the edge
        "config": {"aria": False, "view": {"stroke": None}},
        "padding": {"left": 0, "right": 0, "top": 5},  # the column's edges are the chart's
        "usermeta": {
            "embedOptions": {
                # Streamlit picks SVG for this chart; canvas redraws it about twice as fast
                "renderer": "canvas",
            }
        },
        "params": [
            {"name": "w0", "expr": _meta("w0", 1)},
            {
                "name": "s",
                "value": 0,
                "bind": {
                    "input": "range",
                    "min": S_SPAN[0],
                    "max": S_SPAN[1],
                    "step": (S_SPAN[1] - S_SPAN[0]) / 500,
                    "name": t("live_slider"),
                },
            },
            {"name": "kid", "expr": _meta("kid", 0)},
            {"name": "x_lo", "expr": _meta("x_lo", 0)},
            {"name": "x_hi", "expr": _meta("x_hi", 1)},
            {"name": "y_lo", "expr": _meta("y_lo", 0)},
            {"name": "y_hi", "expr": _meta("y_hi", 1)},
            {"name": "w", "expr": "w0 * pow(10, s)"},
            {"name": "w2", "expr": "w * w"},
        ],
        "title": {"text": {"expr": f"'{t('live_title_w')} = ' + format(w, '.4~g')"}},
        "vconcat": [fit, heat],
        "resolve": {"scale": {"color": "independent"}},
    }
    del lang  # in the cache key: the titles above are in this language
    return json.dumps(spec)


def live_spec(labels: tuple[str, str, str], series: tuple[str, ...], view: int = 0) -> dict:
    """The live chart's Vega-Lite spec, without its datasets (see live_data).

    The slider moves s = log10(w / w0), w0 the sidebar w (from the data), and starts at 0. A
    start read from the data cannot work: Vega-Lite gives a param bound to an input its
    expression once, at init, before Streamlit inserts the datasets, and Streamlit drops
    vega-embed's `patch` option. So a click elsewhere (Kernel, seed, the sidebar w) keeps the
    view and the slider's offset from the sidebar w; `view` counts the carry clicks: after
    one the sidebar w is the live w, and a new view puts the slider back at 0 (no jump).
    """
    spec = json.loads(_template(labels, series, current_lang()))
    spec["usermeta"]["view"] = view
    return spec


def live_chart(
    q: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    kernel: str,
    w: float,
    fixed: dict[str, np.ndarray],
    labels: tuple[str, str, str],
    view: int = 0,
) -> tuple[dict, bool, int]:
    """The spec with its datasets (frames) for st.vega_lite_chart, whether the keys were
    binned, and the heatmap's stride."""
    datasets, binned, stride = live_data(q, x, y, kernel, w, fixed)
    spec = live_spec(labels, tuple(n for n in SERIES_COLORS if n in fixed), view)
    spec["datasets"] = datasets
    return spec, binned, stride


# The points' part of the live data as Arrow tables, per process: a click on Kernel, w or Heads
# keeps the points, so the page builds only live_settings (one row, and the server's curves).
_GEOMETRY: dict[bytes, tuple[dict[str, pa.Table], bool, int, np.ndarray]] = {}
_GEOMETRY_KEEP = 64  # at most ~130 KB each (MAX_LIVE_CELLS bounds the tables)


def _arrow_geometry(q: np.ndarray, x: np.ndarray, y: np.ndarray):
    key = b"|".join(np.ascontiguousarray(a, dtype=float).tobytes() for a in (q, x, y))
    hit = _GEOMETRY.get(key)
    if hit is None:
        datasets, binned, stride, y_keys = live_geometry(q, x, y)
        hit = ({k: arrow(v) for k, v in datasets.items()}, binned, stride, y_keys)
        if len(_GEOMETRY) >= _GEOMETRY_KEEP:
            _GEOMETRY.pop(next(iter(_GEOMETRY)), None)  # the oldest (dicts keep insertion order)
        _GEOMETRY[key] = hit
    return hit


def embeddable(spec: dict) -> dict:
    """The spec with its datasets as lists of rows: what vega-embed takes outside Streamlit."""
    data = {k: v.to_dict(orient="records") for k, v in spec["datasets"].items()}
    return {**spec, "datasets": data}


# --- the thin UI: one call under the pooling chart ------------------------------------------


def _carry_w() -> None:
    """Put the w clicked in the live chart into the sidebar's exact-w box (link follows)."""
    picked = st.session_state["live_chart"]["selection"].get("carry") or []
    if picked:
        st.session_state["w_exact"] = f"{float(picked[0]['w']):.4g}"
        st.session_state["live_view"] = st.session_state.get("live_view", 0) + 1


def section(
    q: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    kernel: str,
    w: float,
    fixed: dict[str, np.ndarray],
) -> None:
    """The live chart, what it computes, and a click that carries the explored w back."""
    st.markdown(f"**{t('live_heading')}**")
    labels = (t("f_x"), t("f_y"), t("live_series"))
    view = st.session_state.get("live_view", 0)
    geometry, binned, stride, y_keys = _arrow_geometry(q, x, y)
    settings = live_settings(q, x, y_keys, kernel, w, fixed)
    spec = live_spec(labels, tuple(n for n in SERIES_COLORS if n in fixed), view)
    spec["datasets"] = geometry | {k: arrow(v) for k, v in settings.items()}
    st.vega_lite_chart(
        spec=spec,
        key="live_chart",
        width="stretch",
        on_select=_carry_w,
        selection_mode=["carry"],
    )
    st.caption(t("live_caption", w=f"{w:g}", kernel=kernel))
    if binned:
        st.caption(t("live_binned", keys=len(x), queries=len(q), cells=MAX_LIVE_CELLS))
    if stride > 1:
        st.caption(
            t("live_thinned", stride=stride, shown=len(range(0, len(q), stride)), total=len(q))
        )

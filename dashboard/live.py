"""The live view: NW pooling computed in the browser while an in-chart w slider moves.

A pure function builds a Vega-Lite spec. Its data is the query x key table with every
w-independent column precomputed; per event the browser evaluates the kernel once per cell,
sums it per query (one joinaggregate), and draws the curve from one row per query and the
heatmap from at most HEAT_CELLS cells. nwcore's empty-window rule (nearest key's value, ties
shared, marked) uses the precomputed nearest-key value. Dragging the slider re-runs the
dataflow in the browser: no message goes to the server.

Speed (tests/bench/live.py): Streamlit runs Vega with its CSP-safe expression interpreter, so
every expression evaluated per row costs; the spec keeps them to two per cell, turns off the
per-item ARIA descriptions and fixes the curve's y scale so the axes are not laid out again.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.charts import HEAT_SCHEME, SERIES_COLORS
from dashboard.text import t

# keys x queries computed per event; above this the keys are binned. Measured with
# tests/bench/live.py (headless Chromium, 2 cores): see tests/bench/results/live-*.md.
MAX_LIVE_CELLS = 60 * 50
HEAT_CELLS = 25 * 50  # heatmap rects drawn per event; more query rows are thinned for display
W_SPAN = (1e-2, 1e3)  # the slider's w range, times 1 / spread of the keys
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


def w_range(x: np.ndarray) -> tuple[float, float]:
    """log10 of the slider's ends: 1/spread times W_SPAN."""
    spread = float(np.ptp(x)) or 1.0
    return math.log10(W_SPAN[0] / spread), math.log10(W_SPAN[1] / spread)


def _fixed_layer(q: np.ndarray, fixed: dict[str, np.ndarray], color: dict, x_t: str) -> dict:
    """The server's curves (average, parametric when trained): w-independent, drawn as given."""
    rows = [
        {"xq": float(qv), "v": float(v), "series": name}
        for name, curve in fixed.items()
        for qv, v in zip(q, curve, strict=True)
    ]
    return {
        "data": {"values": rows},
        "mark": {"type": "line", "strokeDash": [4, 3], "clip": True},
        "encoding": {
            "x": {"field": "xq", "type": "quantitative", "title": x_t},
            "y": {"field": "v", "type": "quantitative"},
            "color": {"field": "series", "type": "nominal", **color},
        },
    }


def live_spec(
    q: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    kernel: str,
    w: float,
    fixed: dict[str, np.ndarray],
    labels: tuple[str, str, str],
) -> tuple[dict, bool, int]:
    """The Vega-Lite spec, whether the keys were binned to stay live, and the heatmap's stride.

    q (Q,), x (K,), y (K,) numpy; w the starting w (its |w|); fixed: series name -> (Q,)
    curve drawn unchanged (average, parametric); labels (x title, y title, live series name).
    """
    binned = len(q) * len(x) > MAX_LIVE_CELLS
    if binned:
        x, y = bin_keys(x, y, max(2, MAX_LIVE_CELLS // len(q)))
    lo, hi = w_range(x)
    start = min(max(math.log10(abs(w)) if w else lo, lo), hi)
    stride = heat_stride(len(q), len(x))
    table = live_table(q, x, y, stride)
    x_t, y_t, live_name = labels
    # NW y_hat is a convex combination of y: a fixed y domain, so no axis is laid out per event
    ys = np.concatenate([y, *fixed.values()]) if fixed else y
    y_scale = {"domain": [float(ys.min()), float(ys.max())], "zero": False, "nice": False}
    names = [live_name, *(n for n in SERIES_COLORS if n in fixed)]
    color = {
        "scale": {
            "domain": names,
            "range": [SERIES_COLORS["nonparametric"]] + [SERIES_COLORS[n] for n in names[1:]],
        },
        "legend": {"title": None, "orient": "bottom", "columns": 2},
    }
    curve = [
        {"filter": "datum.ki == 0"},  # one row per query
        {"calculate": "datum.ks > 0 ? datum.kys / datum.ks : datum.yn", "as": "y_hat"},
        {"calculate": "datum.ks > 0 ? 0 : 1", "as": "empty"},
    ]
    hover = {"name": "row", "select": {"type": "point", "on": "pointerover", "fields": ["hq"]}}
    carry = {"name": "carry", "select": {"type": "point", "on": "click", "fields": ["w"]}}
    fit = {
        "width": 520,
        "height": 300,
        "layer": [
            *([_fixed_layer(q, fixed, color, x_t)] if fixed else []),
            {
                "transform": curve,
                "mark": {"type": "line", "clip": True},
                "params": [hover],
                "encoding": {
                    "x": {
                        "field": "xq",
                        "type": "quantitative",
                        "title": x_t,
                        "axis": {"labelFlush": True},
                        "scale": {"padding": 2},  # line ends (2 px wide) stay inside
                    },
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
                "transform": [*curve, {"filter": "datum.empty == 1"}],
                "mark": {"type": "point", "shape": "cross", "color": "black", "clip": True},
                "encoding": {
                    "x": {"field": "xq", "type": "quantitative"},
                    "y": {"field": "y_hat", "type": "quantitative"},
                },
            },
        ],
    }
    heat = {
        "width": 520,
        "height": 220,
        "transform": [
            {"filter": f"datum.qi % {stride} == 0"},
            {"calculate": "datum.ks > 0 ? datum.k / datum.ks : datum.near", "as": "alpha"},
            {"calculate": "w", "as": "w"},  # the click's value for carrying w back
        ],
        "mark": "rect",
        "params": [carry],
        "encoding": {
            "x": {
                "field": "ki",
                "type": "ordinal",
                "title": t("heat_axis_key"),
                "axis": {"labels": False, "ticks": False},
            },
            "y": {
                "field": "qi",
                "type": "ordinal",
                "title": t("heat_axis_query"),
                "axis": {**INNER_Y_AXIS, "labels": False},
            },
            "color": {
                "field": "alpha",
                "type": "quantitative",
                "title": t("f_weight"),
                "scale": {"scheme": HEAT_SCHEME, "type": "sqrt", "domainMin": 0},
                "legend": {"orient": "bottom"},
            },
            "opacity": {"condition": {"param": "row", "value": 1, "empty": True}, "value": 0.35},
        },
    }
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        # no per-item description strings (recomputed per event); no frame stroke past the edge
        "config": {"aria": False, "view": {"stroke": None}},
        "padding": {"left": 0, "right": 0, "top": 5},  # the column's edges are the chart's
        # Streamlit picks SVG for this chart; canvas redraws it about twice as fast (measured)
        "usermeta": {"embedOptions": {"renderer": "canvas"}},
        "data": {"name": "live_table", "values": table.to_dict(orient="records")},
        "params": [
            {
                "name": "logw",
                "value": start,
                "bind": {
                    "input": "range",
                    "min": lo,
                    "max": hi,
                    "step": (hi - lo) / 500,
                    "name": "log10 w ",
                },
            },
            {"name": "w", "expr": "pow(10, logw)"},
            {"name": "w2", "expr": "w * w"},
        ],
        "title": {"text": {"expr": f"'{t('live_title_w')} = ' + format(w, '.4~g')"}},
        "transform": [  # once per event and cell, shared by the curve, crosses and heatmap
            {"calculate": KERNEL_EXPR[kernel], "as": "k"},
            {"calculate": "datum.k * datum.y", "as": "ky"},
            {
                "joinaggregate": [
                    {"op": "sum", "field": "k", "as": "ks"},
                    {"op": "sum", "field": "ky", "as": "kys"},
                ],
                "groupby": ["qi"],
            },
        ],
        "vconcat": [fit, heat],
        "resolve": {"scale": {"color": "independent"}},
    }
    return spec, binned, stride


# --- the thin UI: one call under the pooling chart ------------------------------------------


def _carry_w() -> None:
    """Put the w clicked in the live chart into the sidebar's exact-w box (link follows)."""
    picked = st.session_state["live_chart"]["selection"].get("carry") or []
    if picked:
        st.session_state["w_exact"] = f"{float(picked[0]['w']):.4g}"


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
    spec, binned, stride = live_spec(q, x, y, kernel, w, fixed, labels)
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

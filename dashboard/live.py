"""The live view: NW pooling computed in the browser while an in-chart w slider moves.

A pure function builds a Vega-Lite spec. Its data is the query x key table; the kernel is a
Vega expression of u = |x - x_i| w, normalised per query (joinaggregate), pooled per query,
with nwcore's empty-window rule (nearest key's value, ties shared, marked). Dragging the
slider re-runs the dataflow in the browser: no message goes to the server.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import streamlit as st

# keys x queries redrawn per event. Measured (tests/bench/live.py, headless Chromium, 2 cores):
# 2,500 cells p50 32 ms, 60,000 cells p50 805 ms; above this the keys are binned.
MAX_LIVE_CELLS = 60 * 50
W_SPAN = (1e-2, 1e3)  # the slider's w range, times 1 / spread of the keys

# K(u) as a Vega expression of datum.u; gaussian relative to the query's nearest key (datum.r0)
# so exp never underflows to 0 for every key (the softmax's max subtraction).
KERNEL_EXPR: dict[str, str] = {
    "gaussian": "exp(-0.5 * (datum.u * datum.u - datum.r0 * datum.r0))",
    "boxcar": "datum.u <= 1 ? 1 : 0",
    "constant": "1",
    "epanechnikov": "datum.u < 1 ? 0.75 * (1 - datum.u * datum.u) : 0",
    "triangular": "datum.u < 1 ? 1 - datum.u : 0",
}


def bin_keys(x: np.ndarray, y: np.ndarray, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Keys above the live limit: `n_bins` equal-count bins, each its mean x and mean y."""
    order = np.argsort(x, kind="stable")
    parts = np.array_split(order, n_bins)
    return np.array([x[p].mean() for p in parts]), np.array([y[p].mean() for p in parts])


def live_table(q: np.ndarray, x: np.ndarray, y: np.ndarray) -> pd.DataFrame:
    """The query x key table: every w-independent column, one row per (query, key)."""
    d = np.abs(q[:, None] - x[None, :])  # (Q, K)
    d0 = d.min(axis=1, keepdims=True)  # (Q, 1) distance to the nearest key
    near = d == d0  # (Q, K)
    n_q, n_k = d.shape
    return pd.DataFrame(
        {
            "qi": np.repeat(np.arange(n_q), n_k),
            "ki": np.tile(np.arange(n_k), n_q),
            "xq": np.repeat(q, n_k),
            "y": np.tile(y, n_q),
            "d": d.ravel(),
            "d0": np.repeat(d0[:, 0], n_k),
            "near": (near / near.sum(axis=1, keepdims=True)).ravel(),
        }
    )


def w_range(x: np.ndarray) -> tuple[float, float]:
    """log10 of the slider's ends: 1/spread times W_SPAN."""
    spread = float(np.ptp(x)) or 1.0
    return math.log10(W_SPAN[0] / spread), math.log10(W_SPAN[1] / spread)


def live_spec(
    q: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    kernel: str,
    w: float,
    average: float,
    labels: tuple[str, str, str],
) -> tuple[dict, bool]:
    """The Vega-Lite spec and whether the keys were binned to stay live.

    q (Q,), x (K,), y (K,) numpy; w the starting w (its |w|); labels (x, y, slider name).
    """
    binned = len(q) * len(x) > MAX_LIVE_CELLS
    if binned:
        x, y = bin_keys(x, y, max(2, MAX_LIVE_CELLS // len(q)))
    lo, hi = w_range(x)
    start = min(max(math.log10(abs(w)) if w else lo, lo), hi)
    table = live_table(q, x, y)
    x_label, y_label, slider = labels
    step = (hi - lo) / 500
    calc = [
        {"calculate": "pow(10, logw)", "as": "w"},
        {"calculate": "datum.d * datum.w", "as": "u"},
        {"calculate": "datum.d0 * datum.w", "as": "r0"},
        {"calculate": KERNEL_EXPR[kernel], "as": "k"},
        {"joinaggregate": [{"op": "sum", "field": "k", "as": "ksum"}], "groupby": ["qi"]},
        {"calculate": "datum.ksum > 0 ? datum.k / datum.ksum : datum.near", "as": "alpha"},
        {"calculate": "datum.alpha * datum.y", "as": "ay"},
    ]
    curve = [
        {
            "aggregate": [
                {"op": "sum", "field": "ay", "as": "y_hat"},
                {"op": "max", "field": "ksum", "as": "ksum"},
            ],
            "groupby": ["qi", "xq"],
        },
        {"calculate": "datum.ksum > 0 ? 0 : 1", "as": "empty"},
    ]
    hover = {"name": "row", "select": {"type": "point", "on": "pointerover", "fields": ["qi"]}}
    fit = {
        "width": 520,
        "height": 320,
        "layer": [
            {
                "data": {
                    "values": [
                        {"xq": float(q.min()), "v": average},
                        {"xq": float(q.max()), "v": average},
                    ]
                },
                "mark": {"type": "line", "strokeDash": [4, 3], "color": "#888"},
                "encoding": {
                    "x": {"field": "xq", "type": "quantitative", "title": x_label},
                    "y": {"field": "v", "type": "quantitative", "title": y_label},
                },
            },
            {
                "name": "live_curve",
                "transform": curve,
                "mark": {"type": "line", "point": False, "color": "#d62728"},
                "params": [hover],
                "encoding": {
                    "x": {"field": "xq", "type": "quantitative", "title": x_label},
                    "y": {"field": "y_hat", "type": "quantitative", "title": y_label},
                },
            },
            {
                "transform": [*curve, {"filter": "datum.empty == 1"}],
                "mark": {"type": "point", "shape": "cross", "color": "#d62728"},
                "encoding": {
                    "x": {"field": "xq", "type": "quantitative"},
                    "y": {"field": "y_hat", "type": "quantitative"},
                },
            },
        ],
    }
    heat = {
        "width": 320,
        "height": 320,
        "mark": "rect",
        "encoding": {
            "x": {"field": "ki", "type": "ordinal", "axis": None, "title": "key"},
            "y": {"field": "qi", "type": "ordinal", "axis": None, "title": "query"},
            "color": {"field": "alpha", "type": "quantitative", "scale": {"scheme": "reds"}},
            "opacity": {"condition": {"param": "row", "value": 1, "empty": True}, "value": 0.35},
        },
    }
    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "data": {"name": "live_table", "values": table.to_dict(orient="records")},
        "params": [
            {
                "name": "logw",
                "value": start,
                "bind": {"input": "range", "min": lo, "max": hi, "step": step, "name": slider},
            }
        ],
        "title": {"text": {"expr": "'live w = ' + format(pow(10, logw), '.4~g')"}},
        "transform": calc,  # once per event, shared by the curve, its crosses and the heatmap
        "hconcat": [fit, heat],
    }
    return spec, binned


# --- the thin UI: one call under the pooling chart ------------------------------------------


def _carry_w() -> None:
    """Put the typed live w into the sidebar's exact-w box (the sidebar and link follow)."""
    st.session_state["w_exact"] = f"{st.session_state['live_w']:g}"


def section(q: np.ndarray, x: np.ndarray, y: np.ndarray, kernel: str, w: float) -> None:
    """The live chart, what it computes, and a way to carry the explored w back."""
    st.markdown("**Live view: drag w inside the chart (computed in your browser)**")
    spec, binned = live_spec(q, x, y, kernel, w, float(np.mean(y)), ("x", "y", "log10 w"))
    st.vega_lite_chart(spec=spec, key="live_chart")
    st.caption(
        f"The live curve and heatmap use the w shown above the chart (slider: log10 w); "
        f"every number elsewhere on the page (metrics, bandwidth table, link, export) uses "
        f"the sidebar w = {w:g}. Dashed: average pooling. Crosses: queries with no key in "
        f"the {kernel} window, given their nearest key's value."
    )
    if binned:
        st.caption(
            f"{len(x)} keys x {len(q)} queries is above the live limit ({MAX_LIVE_CELLS} "
            f"cells): the live view pools over binned keys (bin means); the server's curves "
            f"above are exact."
        )
    left, right = st.columns([2, 1])
    left.number_input("w explored (type it here)", value=abs(w) or 1.0, format="%g", key="live_w")
    right.button("Use this w in the sidebar", on_click=_carry_w, key="live_w_carry")

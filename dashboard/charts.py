"""Altair chart builders: presentation only (the numbers come from nwcore)."""

from __future__ import annotations

import functools
import json

import altair as alt
import numpy as np
import pandas as pd

from dashboard import chart_data as cd
from dashboard.text import current_lang, t

# One colour per series, fixed so the legend reads the same on every page and setting.
SERIES_COLORS = {
    "truth": "#7f7f7f",
    "average": "#2ca02c",
    "nonparametric": "#1f77b4",
    "parametric": "#d62728",
}
HEAT_SCHEME = "viridis"
_TITLE_ROOM = {"top": 24, "left": 5, "right": 5, "bottom": 5}
MAX_HEAT_CELLS = 100  # rows and columns shown per heatmap; larger matrices are reduced for display


def reduce_for_display(
    weights: np.ndarray, max_rows: int = MAX_HEAT_CELLS, max_cols: int = MAX_HEAT_CELLS
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shrink a (Q, K) weight matrix for drawing: keep evenly spaced query rows and sum
    neighbouring key columns (so each row still sums to 1).

    >>> w, rows, cols = reduce_for_display(np.full((4, 6), 1 / 6), max_rows=2, max_cols=3)
    >>> w.shape, rows.tolist(), cols.tolist(), w.sum(axis=1).round(6).tolist()
    ((2, 3), [0, 3], [0, 2, 4], [1.0, 1.0])

    Returns the reduced matrix, the query rows kept and the first key index of each column.
    """
    n_rows, n_cols = weights.shape
    rows = np.arange(n_rows)
    if n_rows > max_rows:
        rows = np.unique(np.linspace(0, n_rows - 1, max_rows).round().astype(int))
    kept = weights[rows]
    cols = np.arange(n_cols)
    if n_cols > max_cols:
        groups = np.array_split(np.arange(n_cols), max_cols)
        cols = np.array([g[0] for g in groups])
        kept = np.add.reduceat(kept, cols, axis=1)
    return kept, rows, cols


def heat_frame(
    weights: np.ndarray,
    query_x: np.ndarray,
    key_x: np.ndarray,
    panel: str,
    rows: np.ndarray,
    cols: np.ndarray,
) -> pd.DataFrame:
    """Long-form cells of one (reduced) attention matrix, for a faceted heatmap."""
    q_idx, k_idx = np.meshgrid(rows, cols, indexing="ij")  # (Q', K')
    return pd.DataFrame(
        {
            cd.QI: q_idx.ravel(),
            cd.KI: k_idx.ravel(),
            cd.QUERY: np.round(query_x[q_idx.ravel()], 4),
            cd.KEY: np.round(key_x[k_idx.ravel()], 4),
            cd.WEIGHT: np.round(weights.ravel(), 5),
            cd.PANEL: panel,
        }
    )


def fit_with_heatmaps(
    curves: pd.DataFrame,
    points: pd.DataFrame,
    empty: pd.DataFrame,
    heat: pd.DataFrame,
    panels: list[str],
    *,
    title: str,
    x_label: str,
    y_label: str,
) -> dict:
    """The fit chart (truth, points, curves) over per-panel heatmaps, linked by the query.

    curves: x, y, series, qi (query index); points: x, y; empty: x, y, series for queries
    with an empty window; heat: cells from heat_frame. Hovering a query on the fit chart
    highlights its row in every heatmap, in the browser (no rerun).

    Returns a Vega-Lite spec for st.vega_lite_chart. The chart's structure depends only on a
    few strings, so it is built (and schema-checked) by altair once per structure and cached;
    each rerun only attaches its data. That keeps a rerun cheap when a class shares a server.
    """
    series = tuple(s for s in SERIES_COLORS if s in set(curves[cd.CURVE]))
    has_heat = not heat.empty
    template = _fit_template(
        series, len(panels), x_label, y_label, len(points) > 0, len(empty) > 0, has_heat,
        current_lang(),
    )  # fmt: skip
    spec = json.loads(template)
    (spec["vconcat"][0] if has_heat else spec)["title"] = title
    order = {name: i for i, name in enumerate(panels)}
    heat = heat.assign(pi=heat["panel"].map(order)) if has_heat else heat
    spec["datasets"] = {"curves": curves, "points": points, "empty": empty, "heat": heat}
    return spec


@functools.lru_cache(maxsize=512)
def _fit_template(
    series: tuple[str, ...],
    n_panels: int,
    x_label: str,
    y_label: str,
    has_points: bool,
    has_empty: bool,
    has_heat: bool,
    lang: str,  # titles are translated (field names are not): one template per language
) -> str:
    x_f, y_f, s_f = cd.X, cd.Y, cd.CURVE
    tx, ty, ts = t("f_x"), t("f_y"), t("f_series")
    query = alt.selection_point(
        name="query",
        fields=["qi"],
        nearest=True,
        on="pointerover",
        clear="pointerout",
        empty=True,
    )
    color = (
        alt.Color(
            f"{s_f}:N",
            scale=alt.Scale(domain=list(series), range=[SERIES_COLORS[s] for s in series]),
            legend=alt.Legend(title=None, orient="top", labelExpr=_label_expr(series)),
        )
        if series
        else alt.value(SERIES_COLORS["truth"])  # every curve hidden: nothing to colour
    )
    x_enc = alt.X(f"{x_f}:Q", title=x_label)
    y_enc = alt.Y(f"{y_f}:Q", title=y_label, scale=alt.Scale(zero=False))
    base = alt.Chart(alt.NamedData(name="curves"))
    lines = base.mark_line(strokeWidth=2.5, clip=True).encode(
        x=x_enc,
        y=y_enc,
        color=color,
        strokeDash=alt.condition(alt.datum[s_f] == "truth", alt.value([6, 4]), alt.value([1, 0])),
        tooltip=[
            f"{s_f}:N",
            alt.Tooltip(f"{x_f}:Q", format=".3f"),
            alt.Tooltip(f"{y_f}:Q", format=".3f"),
        ],
    )
    hover = (
        base.mark_point(size=40, filled=True)
        .encode(
            x=x_enc,
            y=y_enc,
            opacity=alt.value(0),
            tooltip=[
                alt.Tooltip(f"{s_f}:N", title=ts),
                alt.Tooltip(f"{x_f}:Q", format=".3f", title=tx),
                alt.Tooltip(f"{y_f}:Q", format=".3f", title=ty),
            ],
        )
        .add_params(query)
    )
    rule = base.mark_rule(color="#444", strokeDash=[2, 2]).encode(
        x=x_enc, opacity=alt.condition(query, alt.value(0.7), alt.value(0), empty=False)
    )
    layers = [lines, hover, rule]
    if has_points:
        layers.insert(
            0,
            alt.Chart(alt.NamedData(name="points"))
            .mark_circle(size=36, color="#ff7f0e", opacity=0.75, clip=True)
            .encode(
                x=x_enc,
                y=y_enc,
                tooltip=[
                    alt.Tooltip(f"{x_f}:Q", format=".3f", title=tx),
                    alt.Tooltip(f"{y_f}:Q", format=".3f", title=ty),
                ],
            ),
        )
    if has_empty:
        layers.append(
            alt.Chart(alt.NamedData(name="empty"))
            .mark_point(shape="cross", size=90, color="black", filled=True, clip=True)
            .encode(
                x=x_enc,
                y=y_enc,
                tooltip=[
                    alt.Tooltip(f"{s_f}:N", title=ts),
                    alt.Tooltip(f"{x_f}:Q", format=".3f", title=tx),
                ],
            )
        )
    fit = alt.layer(*layers).properties(title="", height=320, width="container")
    if not has_heat:
        return json.dumps(fit.to_dict())
    q_f, k_f, w_f = cd.QUERY, cd.KEY, cd.WEIGHT
    tq, tk, tw = t("f_query"), t("f_key"), t("f_weight")
    cell = 230 if n_panels > 1 else 320
    heatmap = (
        alt.Chart(alt.NamedData(name="heat"))
        .mark_rect()
        .encode(
            x=alt.X("ki:O", title=t("heat_axis_key"), axis=alt.Axis(labels=False, ticks=False)),
            y=alt.Y("qi:O", title=t("heat_axis_query"), axis=alt.Axis(labels=False, ticks=False)),
            color=alt.Color(
                f"{w_f}:Q",
                scale=alt.Scale(scheme=HEAT_SCHEME, type="sqrt", domainMin=0),
                legend=alt.Legend(title=tw),
            ),
            opacity=alt.condition(query, alt.value(1.0), alt.value(0.25)),
            tooltip=[
                alt.Tooltip(f"{q_f}:Q", format=".3f", title=tq),
                alt.Tooltip(f"{k_f}:Q", format=".3f", title=tk),
                alt.Tooltip(f"{w_f}:Q", format=".4f", title=tw),
            ],
        )
        .properties(width=cell, height=cell)
        .facet(
            facet=alt.Facet(
                "panel:N",
                sort=alt.EncodingSortField(field="pi", op="min"),  # panels in the caller's order
                title=None,
                header=alt.Header(labelFontSize=13),
            ),
            columns=min(3, n_panels),
        )
    )
    return json.dumps(alt.vconcat(fit, heatmap).resolve_scale(color="independent").to_dict())


def _label_expr(series: tuple[str, ...]) -> str:
    """Vega expression showing each curve's translated name in the legend (data keep the key)."""
    expr = "datum.label"
    for name in reversed(series):
        expr = f"datum.label === {json.dumps(name)} ? {json.dumps(t('series_' + name))} : {expr}"
    return expr


def loss_chart(steps: list[int], losses: list[float]) -> dict:
    """Leave-one-out MSE per training step (log scale when it spans decades), as a spec."""
    frame = cd.loss_frame(steps, losses)
    l_f = cd.LOSS
    positive = bool((frame[l_f] > 0).all())
    log_scale = positive and frame[l_f].max() > 10 * frame[l_f].min()
    spec = json.loads(_loss_template(log_scale, current_lang()))
    spec["datasets"] = {"loss": frame}
    return spec


@functools.lru_cache(maxsize=8)
def _loss_template(log_scale: bool, lang: str) -> str:
    s_f, l_f = cd.STEP, cd.LOSS
    chart = (
        alt.Chart(alt.NamedData(name="loss"))
        .mark_line(point=True)
        .encode(
            x=alt.X(f"{s_f}:Q", title=t("loss_step"), axis=alt.Axis(tickMinStep=1, format="d")),
            y=alt.Y(
                f"{l_f}:Q",
                title=t("loss_value"),
                scale=alt.Scale(type="log" if log_scale else "linear", zero=False),
            ),
            tooltip=[
                alt.Tooltip(f"{s_f}:Q", title=t("loss_step")),
                alt.Tooltip(f"{l_f}:Q", format=".5g", title=t("loss_value")),
            ],
        )
        # room above the title: without it Chromium clips the title's top under the progress
        # bar drawn just above the chart (issue 11 readability)
        .properties(title=t("loss_title"), height=200, width="container", padding=_TITLE_ROOM)
    )
    return json.dumps(chart.to_dict())


def matrix_heatmap(
    frame: pd.DataFrame,
    *,
    x: str,
    y: str,
    value: str,
    x_order: list[str],
    y_order: list[str],
    title: str,
    masked: str | None = None,
    facet: str | None = None,
    facet_order: list[str] | None = None,
    show_text: bool = True,
    scheme: str = HEAT_SCHEME,
    diverging: bool = False,
    cell: int = 56,
    tooltip: list[str] | None = None,
) -> alt.Chart | alt.FacetChart:
    """A labelled matrix heatmap (small matrices), optional masked cells and facets."""
    width = max(120, min(520, cell * len(x_order)))
    height = max(60, min(520, cell * len(y_order)))
    scale = (
        alt.Scale(scheme="redblue", domainMid=0, reverse=True)
        if diverging
        else alt.Scale(scheme=scheme)
    )
    color: alt.Color | dict = alt.Color(f"{value}:Q", scale=scale, legend=alt.Legend(title=value))
    if masked is not None:
        color = alt.condition(f"datum['{masked}']", alt.value("#e6e6e6"), color)
    base = alt.Chart().encode(
        x=alt.X(f"{x}:O", sort=x_order, title=None, axis=alt.Axis(labelAngle=-40, orient="top")),
        y=alt.Y(f"{y}:O", sort=y_order, title=None),
    )
    tips = tooltip or [y, x, alt.Tooltip(f"{value}:Q", format=".4f")]
    rect = base.mark_rect(stroke="white", strokeWidth=0.5).encode(color=color, tooltip=tips)
    layers = [rect]
    if show_text:
        layers.append(
            base.mark_text(fontSize=11).encode(
                text=alt.Text("label:N"),
                color=alt.value("#222"),
                tooltip=tips,
            )
        )
    chart = alt.layer(*layers, data=frame).properties(width=width, height=height)
    # Streamlit's default autosize "fit" squeezes the plot area to make room for axes; "pad" keeps
    # the cells at the size given here and grows the chart around them.
    pad = alt.AutoSizeParams(type="pad", contains="padding")
    if facet is not None:
        return chart.facet(
            facet=alt.Facet(f"{facet}:N", sort=facet_order, title=None),
            # as many panels per row as fit the page's ~960 px main column (labels included)
            columns=max(1, min(len(facet_order or []), 960 // (width + 60))),
        ).properties(title=title, autosize=pad)
    return chart.properties(title=title, autosize=pad)

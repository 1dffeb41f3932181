"""Altair chart builders: presentation only (the numbers come from nwcore)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import pyarrow as pa

from dashboard import chart_data as cd
from dashboard import raster
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


@dataclass(frozen=True)
class Heatmaps:
    """The fit chart's attention panels, reduced for display, on shared axes."""

    titles: tuple[str, ...]  # one per panel
    weights: tuple[np.ndarray, ...]  # (Q', K') per panel
    rows: np.ndarray  # (Q',) the query indices kept (the curves' qi)
    query: np.ndarray  # (Q',) their x
    key: np.ndarray  # (K',) x of each column's first key
    shape: tuple[int, int]  # (Q, K) before the reduction


def heatmaps(panels: list[tuple[str, np.ndarray]], query_x, key_x) -> Heatmaps:
    """(title, (Q, K) weights) per panel, at queries query_x (Q,) and keys key_x (K,).

    >>> h = heatmaps([("np", np.full((3, 2), 0.5))], np.arange(3.0), np.arange(2.0))
    >>> h.titles, h.weights[0].shape, h.rows.tolist(), h.key.tolist(), h.shape
    (('np',), (3, 2), [0, 1, 2], [0.0, 1.0], (3, 2))
    """
    reduced = [reduce_for_display(w) for _, w in panels]
    _, rows, cols = reduced[0]  # every panel has the same (Q, K): the same rows and columns
    return Heatmaps(
        titles=tuple(title for title, _ in panels),
        weights=tuple(w for w, _, _ in reduced),
        rows=rows,
        query=np.asarray(query_x, dtype=float)[rows],
        key=np.asarray(key_x, dtype=float)[cols],
        shape=panels[0][1].shape,
    )


FIT_HEIGHT = 320  # px, the fit chart's plot
RIGHT_PX = 8  # px kept right of the data for the half of the last tick label that sticks out
TITLE_PX = 22  # px above each row of heatmap panels for their titles
OWN_SCALE = "own_scale"  # in-browser checkbox: one colour scale per heatmap panel
MARKER_COLORS = {"points": "#ff7f0e", "empty": "#000000"}
MARKER_SHAPES = {"points": "circle", "empty": "cross"}
MARKER_SIZES = {"points": 36, "empty": 90}
# The fit heatmap's band labels: '1' + label where the axis labels the band, '0' + label elsewhere.
FIT_LABEL_EXPR = (
    f"substring(datum.value, {cd.KEY_PREFIX}, {cd.KEY_PREFIX + 1}) == '1'"
    f" ? substring(datum.value, {cd.KEY_PREFIX + 1}) : ''"
)


def left_margin(*values) -> int:
    """Pixels kept inside the plot, left of the data, for the y axis (labels and title).

    In a vconcat Streamlit sets each chart's width to its column's; an axis drawn outside that
    width would push the chart past the column, so the axis sits inside it. The margin follows
    the longest tick label the values can have (a rough 7 px per character).

    >>> left_margin(np.array([0.0, 4.0])), left_margin(np.array([1e8, 1e8 + 1]))
    (64, 136)
    """
    parts = [np.asarray(v, dtype=float).ravel() for v in values] + [np.zeros(1)]
    finite = np.concatenate(parts)
    finite = finite[np.isfinite(finite)]
    widest = float(np.max(np.abs(finite)))
    chars = len(f"{widest:,.0f}") + 4  # sign, decimals
    margin = 28 + 7 * chars
    return int(min(160, max(64, -(-margin // 8) * 8)))


def _ticks(keys: list[str], n: int) -> list[str]:
    """About n evenly spaced keys (first and last included) for an axis's tick labels."""
    if len(keys) <= n:
        return list(keys)
    idx = np.unique(np.linspace(0, len(keys) - 1, n).round().astype(int))
    return [keys[i] for i in idx]


def fmt_tick(value: float, digits: int = 4) -> str:
    """A short tick label for a coordinate (4 significant digits unless told).

    >>> fmt_tick(0.123456), fmt_tick(1234.5678), fmt_tick(100000002.5), fmt_tick(-3e-7)
    ('0.1235', '1235', '1e+08', '-3e-07')
    """
    return f"{value:.{digits}g}"


def fit_with_heatmaps(
    curves: cd.Columns,
    points: cd.Columns,
    empty: cd.Columns,
    heat: Heatmaps | None,
    *,
    title: str,
    x_label: str,
    y_label: str,
) -> dict:
    """The fit chart (truth, points, curves) over per-panel heatmaps, linked by the query.

    curves: x, y, curve, qi (query index); points: x, y; empty: x, y, curve for queries
    with an empty window; heat: the attention panels (`heatmaps`) or None. Hovering a query
    on the fit chart lists every curve's value there and highlights its row in every heatmap,
    in the browser (no rerun). The heatmap panels are one view laid out as a grid
    (chart_data.panel_grid), so both charts take their column's width at any screen width.

    Returns a Vega-Lite spec for st.vega_lite_chart(width="stretch"). Everything a click
    changes (the data, the title, the panels, their tick labels) travels in the named
    datasets; the spec itself depends only on a few layout choices, so Streamlit keeps the
    drawn chart and swaps its data instead of building a new one (issue 11, speed of a click).
    """
    drawn = set(curves[cd.CURVE].tolist())
    series = tuple(s for s in SERIES_COLORS if s in drawn)
    has_heat = heat is not None
    n_panels = len(heat.titles) if has_heat else 0
    margin = left_margin(curves[cd.Y], points[cd.Y], heat.query if has_heat else [])
    columns = max(1, min(_heat_columns(n_panels), n_panels))  # one panel: full width
    n_rows = len(heat.rows) if has_heat else 0
    step = round(_panel_px(n_panels) / max(n_rows, 1), 3)  # px per heatmap band
    template = _fit_template(
        series, columns, step, n_rows, margin, x_label, y_label, len(points[cd.X]) > 0,
        has_heat, current_lang(),
    )  # fmt: skip
    spec = json.loads(template)
    px, py, ex, ey = points[cd.X], points[cd.Y], empty[cd.X], empty[cd.Y]  # (n,), (n,), (e,), (e,)
    markers = {
        cd.X: np.concatenate([px, ex]),
        cd.Y: np.concatenate([py, ey]),
        "marker": ["points"] * len(px) + ["empty"] * len(ex),
    }
    datasets = {  # Arrow tables: Streamlit sends them as they are (chart_data.arrow)
        "curves": cd.table(curves),
        "markers": cd.table(markers),
        "hover": cd.table(hover_columns(curves)),
        "meta": cd.table({"title": [title]}),
    }
    if has_heat:
        datasets |= _heat_grid(heat, columns)
    spec["datasets"] = datasets
    return spec


def hover_columns(curves: cd.Columns) -> cd.Columns:
    """One row per query: its x, the strip of x closest to it (lo, hi) and every curve's y.

    >>> q = np.array([0.0, 1.0, 3.0])
    >>> f = hover_columns(cd.curve_frame(q, np.array([5.0, 6, 7]), "average"))
    >>> np.column_stack([f["x"], f["lo"], f["hi"], f["average"]]).tolist()
    [[0.0, 0.0, 0.5, 5.0], [1.0, 0.5, 2.0, 6.0], [3.0, 2.0, 3.0, 7.0]]
    """
    if len(curves[cd.X]) == 0:
        return {cd.QI: np.zeros(0, int), cd.X: np.zeros(0), cd.LO: np.zeros(0), cd.HI: np.zeros(0)}
    qi, slot = np.unique(curves[cd.QI], return_inverse=True)  # (Q,), (rows,)
    x = np.empty(len(qi))
    x[slot] = curves[cd.X]
    wide = {cd.QI: qi, cd.X: x}
    names, ys = curves[cd.CURVE], curves[cd.Y]  # (rows,), (rows,)
    for name in sorted(set(names)):  # one column per curve, its value at each query
        col = np.full(len(qi), np.nan)
        mine = names == name
        col[slot[mine]] = ys[mine]
        wide[name] = col
    order = np.argsort(x, kind="stable")  # (Q,)
    x = x[order]
    mid = (x[1:] + x[:-1]) / 2  # (Q-1,)
    columns = {k: v[order] for k, v in wide.items()}
    columns[cd.LO] = np.concatenate([x[:1], mid])
    columns[cd.HI] = np.concatenate([mid, x[-1:]])
    return columns


def _heat_columns(n_panels: int) -> int:
    return 2 if n_panels <= 4 else 3


def _panel_px(n_panels: int) -> int:
    return 230 if n_panels > 1 else 300


def _title_bands(n_rows: int, panel_px: int) -> int:
    return max(1, -(-n_rows * TITLE_PX // panel_px))


def _heat_grid(heat: Heatmaps, columns: int) -> dict[str, pa.Table]:
    """The heatmap panels as images placed in the panel grid, with what the axes need.

    Each band key carries its tick label and whether the axis shows it (FIT_LABEL_EXPR), so
    the axes' domains and ticks come from the data; every band is in "titles" (the panel
    titles, and empty ones for the other bands). Returns the datasets:
    images: x0, fw (the panel's start and width, fractions of the bands), gy (its first row),
    url, url_own (shared / own colour scale: one pixel per cell, drawn unsmoothed), pi;
    rows: gy, qi, query (one per heatmap row: the hover highlight and its tooltip);
    titles: gx, gy, pi, panel; legend: w, own (the colour legend's two ends).
    """
    panels, mats = list(heat.titles), heat.weights  # mats: (Q', K') per panel
    n_rows, n_cols = mats[0].shape
    grid = cd.panel_grid(
        len(panels),
        _tick_labels(list(heat.query)),
        _tick_labels(list(heat.key)),
        columns,
        _title_bands(n_rows, _panel_px(len(panels))),
    )
    top = max(float(m.max()) for m in mats)
    x_bands = columns * n_cols + columns - 1  # panel columns and the gaps between them
    n = len(panels)
    images = {
        # where the panel starts and how wide it is, as fractions of the bands' width
        "x0": [(i % columns) * (n_cols + 1) / x_bands for i in range(n)],
        "fw": [n_cols / x_bands] * n,
        cd.GY: [grid["y"][i // columns][0] for i in range(n)],
        "url": [raster.heat_url(m, top) for m in mats],
        "url_own": [raster.heat_url(m, float(m.max())) for m in mats],
        cd.PI: list(range(n)),
    }
    band_rows = {
        cd.GY: [key for keys in grid["y"] for key in keys],
        cd.QI: np.tile(heat.rows, len(grid["y"])),
        cd.QUERY: np.tile(heat.query, len(grid["y"])),
    }
    title_gx = [grid["x"][i % columns][0] for i in range(n)]
    title_gy = [grid["title_y"][i // columns] for i in range(n)]
    bare_x = sorted(set(grid["x_domain"]) - set(title_gx))
    bare_y = sorted(set(grid["y_domain"]) - set(title_gy))
    spacers = len(bare_x) + len(bare_y)  # the other bands: no title
    titles = {
        cd.GX: title_gx + bare_x + [grid["x_domain"][0]] * len(bare_y),
        cd.GY: title_gy + [grid["y_domain"][0]] * len(bare_x) + bare_y,
        cd.PI: list(range(n)) + [-1] * spacers,
        cd.PANEL: list(panels) + [""] * spacers,
    }
    legend = {"w": [0.0, top], "own": [0.0, 1.0]}
    return {
        "images": cd.table(images),
        "rows": cd.table(band_rows),
        "titles": cd.table(titles),
        "legend": cd.table(legend),
    }


def _tick_labels(values: list[float], n: int = 5) -> list[str]:
    """Band labels for an axis: '1' + the value where a tick is labelled (about n of them,
    first and last included), '0' + the value elsewhere (the tooltip still reads it).
    Enough digits that the labels differ across the axis (x = 1e8 + offsets stays readable).

    >>> [v[1:] for v in _tick_labels([1e8 + 3.25, 1e8 + 410.5], n=2)]
    ['100000003', '100000410']
    >>> [v[1:] for v in _tick_labels([0.16555, 4.8496], n=2)]  # 4 digits where x spans ~0
    ['0.1656', '4.85']
    """
    v = np.asarray(values, dtype=float)
    spread = float(np.ptp(v)) if len(v) > 1 else 0.0
    top = float(np.max(np.abs(v))) if len(v) else 0.0
    digits = 4 + (max(0, int(np.floor(np.log10(top / spread)))) if spread > 0 and top > 0 else 0)
    shown = set(_ticks(list(range(len(values))), n))
    return [("1" if i in shown else "0") + fmt_tick(x, digits) for i, x in enumerate(values)]


@functools.lru_cache(maxsize=512)
def _fit_template(
    series: tuple[str, ...],
    columns: int,  # heatmap panels per row
    step: float,  # px per heatmap band: the heatmap's height follows its rows in the data
    n_rows: int,  # query rows per heatmap panel (key columns travel in the data)
    margin: int,
    x_label: str,
    y_label: str,
    has_points: bool,
    has_heat: bool,
    lang: str,  # titles are translated (field names are not): one template per language
) -> str:
    x_f, y_f, s_f = cd.X, cd.Y, cd.CURVE
    tx, ty = t("f_x"), t("f_y")
    query = alt.selection_point(
        name="query",
        fields=[cd.QI],
        on="pointerover",
        clear="pointerout",
        empty=True,
    )
    color = alt.Color(
        f"{s_f}:N",
        scale=alt.Scale(domain=list(series), range=[SERIES_COLORS[s] for s in series]),
        legend=alt.Legend(
            title=None, orient="top", columns=4, labelLimit=110, labelExpr=label_expr(series)
        ),
    )
    # A second legend for the marks that are not curves: the training points, the crosses.
    # The crosses' entry is always there (the spec must not change when a window empties).
    markers = ["points", "empty"] if has_points else ["empty"]
    marker_legend = alt.Legend(
        title=None, orient="bottom", labelLimit=160, labelExpr=label_expr(markers)
    )
    marker_color = alt.Color(
        "marker:N",
        scale=alt.Scale(domain=markers, range=[MARKER_COLORS[m] for m in markers]),
        legend=marker_legend,
    )
    marker_shape = alt.Shape(
        "marker:N",
        scale=alt.Scale(domain=markers, range=[MARKER_SHAPES[m] for m in markers]),
        legend=marker_legend,
    )
    # The y axis sits inside the chart's width (left_margin); the x axis ends flush with it.
    x_scale = alt.Scale(range=[margin, alt.ExprRef(f"width - {RIGHT_PX}")])
    x_enc = alt.X(f"{x_f}:Q", title=x_label, scale=x_scale, axis=alt.Axis(labelFlush=True))
    y_axis = alt.Axis(offset=-margin, labelLimit=margin - 30)
    y_enc = alt.Y(f"{y_f}:Q", title=y_label, scale=alt.Scale(zero=False), axis=y_axis)
    base = alt.Chart(alt.NamedData(name="curves"))
    lines = base.mark_line(strokeWidth=2.5, clip=True).encode(
        x=x_enc,
        y=y_enc,
        color=color if series else alt.value(SERIES_COLORS["truth"]),
        strokeDash=alt.condition(alt.datum[s_f] == "truth", alt.value([6, 4]), alt.value([1, 0])),
    )
    # Each query owns the strip of x closest to it (hover data): pointing anywhere in the strip
    # selects the query, lists every curve's value there and draws its rule.
    strips = alt.Chart(alt.NamedData(name="hover"))
    band = (
        strips.mark_rect(color="#000", opacity=0)
        .encode(
            x=alt.X(f"{cd.LO}:Q", scale=x_scale),
            x2=f"{cd.HI}:Q",
            tooltip=[alt.Tooltip(f"{x_f}:Q", format=".4g", title=tx)]
            + [alt.Tooltip(f"{s}:Q", format=".4g", title=legend_name(s)) for s in series],
        )
        .add_params(query)
    )
    rule = strips.mark_rule(color="#444", strokeDash=[2, 2], strokeWidth=1.5).encode(
        x=x_enc, opacity=alt.condition(query, alt.value(0.7), alt.value(0), empty=False)
    )
    # the markers in one layer, so one legend shows each marker's colour and shape together;
    # on top of the hover strips, so a point shows its own tooltip
    markers_layer = (
        alt.Chart(alt.NamedData(name="markers"))
        .mark_point(filled=True, opacity=0.8, clip=True)
        .encode(
            x=x_enc,
            y=y_enc,
            color=marker_color,
            shape=marker_shape,
            size=alt.condition(  # not a size scale: a one-marker point scale gives NaN
                alt.datum.marker == "empty",
                alt.value(MARKER_SIZES["empty"]),
                alt.value(MARKER_SIZES["points"]),
            ),
            tooltip=[
                alt.Tooltip(f"{x_f}:Q", format=".4g", title=tx),
                alt.Tooltip(f"{y_f}:Q", format=".4g", title=ty),
            ],
        )
    )
    layers = [lines, rule, band, markers_layer]
    # The title is the "meta" dataset's one row (it changes with the data, the spec does not);
    # an empty text mark keeps that dataset in the compiled chart.
    layers.append(alt.Chart(alt.NamedData(name="meta")).mark_text())
    title = alt.TitleParams(
        text=alt.ExprRef("length(data('meta')) ? data('meta')[0].title : ''"),
        anchor="start",
        limit=alt.ExprRef("width"),  # a long title is cut with an ellipsis, not wider
    )
    fit = alt.layer(*layers).properties(name="fit", title=title, height=FIT_HEIGHT)
    fit = fit.resolve_scale(color="independent", shape="independent")  # two legends
    if not has_heat:
        return json.dumps(fit.properties(padding=_PADDING).to_dict())
    own = alt.param(name=OWN_SCALE, value=False, bind=alt.binding_checkbox(name=t("heat_own")))
    # Band domains from the data, sorted: the band keys sort in their grid order. No padding,
    # so a band is (plot width) / (bands) px wide and an image of K' bands fits its panel.
    x_h = alt.X(
        f"{cd.GX}:O",
        title=t("heat_axis_key"),
        sort="ascending",
        scale=alt.Scale(
            type="band",
            range=[margin, alt.ExprRef(f"width - {RIGHT_PX}")],
            paddingInner=0,
            paddingOuter=0,
        ),
        axis=alt.Axis(labelExpr=FIT_LABEL_EXPR, labelAngle=-45, labelOverlap=False, ticks=False),
    )
    y_h = alt.Y(
        f"{cd.GY}:O",
        title=t("heat_axis_query"),
        sort="ascending",
        scale=alt.Scale(type="band", paddingInner=0, paddingOuter=0),
        axis=alt.Axis(
            labelExpr=FIT_LABEL_EXPR,
            labelOverlap=False,  # most bands are unlabelled ('' labels): keep every tick's
            offset=-margin,
            labelLimit=margin - 30,
            ticks=False,
        ),
    )
    tq, tw = t("f_query"), t("f_weight")
    images = (
        alt.Chart(alt.NamedData(name="images"))
        .transform_calculate(img=f"{OWN_SCALE} ? datum.url_own : datum.url")
        .mark_image(
            aspect=False,
            smooth=False,  # one pixel per cell, stretched: cells stay sharp squares
            align="left",
            baseline="top",
            width=alt.ExprRef(f"(width - {RIGHT_PX} - {margin}) * data('images')[0].fw"),
            height=step * n_rows,
        )
        .encode(  # x on its own 0..1 scale (a band scale would centre the image)
            x=alt.X(
                "x0:Q",
                scale=alt.Scale(domain=[0, 1], range=[margin, alt.ExprRef(f"width - {RIGHT_PX}")]),
                axis=None,
            ),
            y=_at_start(y_h),
            url=alt.Url("img:N"),
        )
    )
    # Hovering a query on the fit chart veils every other row of every panel.
    veil = (
        alt.Chart(alt.NamedData(name="rows"))
        .mark_rect(color="white")
        .encode(
            x=alt.value(margin),
            x2=alt.value("width"),
            y=y_h,
            opacity=alt.condition(query, alt.value(0.0), alt.value(0.7)),
            tooltip=[alt.Tooltip(f"{cd.QUERY}:Q", format=".4g", title=tq)],
        )
    )
    # The colour legend: an invisible mark over the legend's two ends, on the images' scale.
    legend = (
        alt.Chart(alt.NamedData(name="legend"))
        .transform_calculate(shade=f"{OWN_SCALE} ? datum.own : datum.w")
        .mark_point(opacity=0)
        .encode(
            color=alt.Color(
                "shade:Q",
                scale=alt.Scale(scheme=HEAT_SCHEME, type="sqrt", domainMin=0, nice=False),
                legend=alt.Legend(title=tw, orient="bottom", direction="horizontal"),
            )
        )
    )
    titles = (
        alt.Chart(alt.NamedData(name="titles"))
        .mark_text(
            align="left",
            baseline="top",  # from the top of the title bands (TITLE_PX) down
            fontSize=12,
            limit=alt.ExprRef(f"(width - {margin}) / {columns} - 8"),
        )
        .encode(x=_at_start(x_h), y=y_h, text=alt.Text(f"{cd.PANEL}:N"))
    )
    heatmap = (
        alt.layer(images, veil, titles, legend)
        .resolve_scale(x="independent")
        .add_params(own)
        .properties(name="heat", height={"step": step})
    )
    return json.dumps(
        alt.vconcat(fit, heatmap)
        .resolve_scale(color="independent", shape="independent", x="independent", y="independent")
        .properties(padding=_PADDING)
        .to_dict()
    )


_PADDING = {"left": 0, "right": 0, "top": 5, "bottom": 5}  # the column is the chart's width


def _at_start(channel):
    """The same position channel, placing marks at the start of their band (not its middle)."""
    placed = channel.copy()
    placed.bandPosition = 0
    return placed


def legend_name(key: str) -> str:
    """The translated name of a legend entry: a curve, the training points or the crosses."""
    return t("legend_empty") if key == "empty" else t(f"series_{key}")


def label_expr(keys: list[str] | tuple[str, ...]) -> str:
    """Vega expression showing each entry's translated name in the legend (data keep the key)."""
    expr = "datum.label"
    for name in reversed(keys):
        expr = f"datum.label === {json.dumps(name)} ? {json.dumps(legend_name(name))} : {expr}"
    return expr


def loss_chart(steps: list[int], losses: list[float]) -> dict:
    """Leave-one-out MSE per training step (log scale when it spans decades), as a spec."""
    frame = cd.loss_frame(steps, losses)
    loss = frame[cd.LOSS]  # (steps,)
    positive = bool((loss > 0).all())
    log_scale = positive and bool(loss.max() > 10 * loss.min())
    spec = json.loads(_loss_template(log_scale, current_lang()))
    spec["datasets"] = {"loss": cd.table(frame)}
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
    titles: dict[str, str],
    masked: str | None = None,
    facet: str | None = None,
    facet_order: list[str] | None = None,
    show_text: bool = True,
    diverging: bool = False,
    cell: int = 40,
    tooltip: list[str] | None = None,
    every_x_label: bool = True,
) -> dict:
    """A labelled matrix heatmap (small matrices), optional masked cells and panels.

    frame: one row per cell with stable field names (x, y, value, "label" for the cell text,
    `masked` and `facet` if given); `titles` maps each field to its translated title. Every
    x_order / y_order label is on the axes (tokens, keys, queries). Panels (facet_order) are
    laid out as a grid of two in one view, with a checkbox for one colour scale per panel.
    every_x_label=False lets Vega skip x labels that would overlap (feature indices).

    Returns a Vega-Lite spec for st.vega_lite_chart(width="stretch"): the chart takes its
    column's width, the height follows the rows (`cell` px each).
    """
    panels = facet_order or [""]
    columns = 2 if facet else 1
    grid = cd.panel_grid(len(panels), y_order, x_order, columns, 1 if facet else 0)
    p = frame[facet].map({n: i for i, n in enumerate(panels)}).to_numpy() if facet else 0
    i = frame[y].map({n: k for k, n in enumerate(y_order)}).to_numpy()
    j = frame[x].map({n: k for k, n in enumerate(x_order)}).to_numpy()
    xs = np.array(grid["x"], dtype=object)  # (columns, X)
    ys = np.array(grid["y"], dtype=object)  # (grid rows, Y)
    v = frame[value].to_numpy(dtype=float)
    hidden = frame[masked].to_numpy(dtype=bool) if masked else np.zeros(len(v), dtype=bool)
    groups = frame[facet] if facet else pd.Series(0, index=frame.index)
    top = pd.Series(np.abs(v), index=frame.index).groupby(groups).transform("max").to_numpy()
    dark_own = np.zeros(len(v), dtype=bool)
    for _, idx in pd.Series(range(len(v))).groupby(groups.to_numpy()).groups.items():
        dark_own[idx] = cd.dark_cells(v[idx], diverging)
    cells = frame.assign(
        **{
            cd.GX: xs[p % columns, j],
            cd.GY: ys[p // columns, i],
            cd.PANEL_MAX: np.where(top > 0, top, 1.0),
            cd.DARK: cd.dark_cells(v, diverging) & ~hidden,
            "dark_own": dark_own & ~hidden,
        }
    )
    shade = "shade" if facet else value
    own = alt.param(name=OWN_SCALE, value=False, bind=alt.binding_checkbox(name=t("heat_own")))
    scale = (
        alt.Scale(scheme="redblue", domainMid=0, reverse=True)
        if diverging
        else alt.Scale(scheme=HEAT_SCHEME)
    )
    color: alt.Color | dict = alt.Color(
        f"{shade}:Q", scale=scale, legend=alt.Legend(title=titles.get(value, value))
    )
    if masked is not None:
        color = alt.condition(f"datum['{masked}']", alt.value("#e6e6e6"), color)
    many = len(grid["x_domain"]) > 12
    base = alt.Chart(alt.NamedData(name="cells")).encode(
        x=alt.X(
            f"{cd.GX}:O",
            scale=alt.Scale(domain=grid["x_domain"]),
            title=titles.get(x),
            axis=alt.Axis(
                orient="top",
                labelExpr=cd.LABEL_EXPR,
                labelAngle=-90 if many else -40,
                labelOverlap=not every_x_label,
                labelLimit=90,
                labelFontSize=10 if many else 11,
                ticks=False,
            ),
        ),
        y=alt.Y(
            f"{cd.GY}:O",
            scale=alt.Scale(domain=grid["y_domain"]),
            title=titles.get(y),
            axis=alt.Axis(labelExpr=cd.LABEL_EXPR, labelOverlap=False, labelLimit=110, ticks=False),
        ),
    )
    tips = [
        alt.Tooltip(f"{f}:Q", format=".4f", title=titles.get(f, f))
        if pd.api.types.is_float_dtype(frame[f])
        else alt.Tooltip(f"{f}:N", title=titles.get(f, f))
        for f in (tooltip or [y, x, value])
    ]
    rect = base.mark_rect(stroke="white", strokeWidth=0.5).encode(color=color, tooltip=tips)
    if facet:
        rect = rect.transform_calculate(
            shade=f"{OWN_SCALE} ? datum['{value}'] / datum.{cd.PANEL_MAX} : datum['{value}']"
        )
    layers = [rect]
    if show_text:
        dark = f"{OWN_SCALE} ? datum.dark_own : datum.{cd.DARK}" if facet else f"datum.{cd.DARK}"
        layers.append(
            base.mark_text(fontSize=11).encode(
                text=alt.Text("label:N"),
                color=alt.condition(dark, alt.value("white"), alt.value("#222")),
                tooltip=tips,
            )
        )
    if facet:
        heads = pd.DataFrame(
            {
                cd.GX: [grid["x"][k % columns][0] for k in range(len(panels))],
                cd.GY: [grid["title_y"][k // columns] for k in range(len(panels))],
                cd.PANEL: panels,
            }
        )
        layers.append(
            alt.Chart(alt.Data(values=heads.to_dict("records")))
            .mark_text(align="left", baseline="middle", fontSize=12, fontWeight="bold")
            .encode(
                x=alt.X(f"{cd.GX}:O", bandPosition=0),
                y=alt.Y(f"{cd.GY}:O"),
                text=alt.Text(f"{cd.PANEL}:N"),
            )
        )
    chart = alt.layer(*layers).properties(
        title=title,
        width="container",
        height=cell * len(grid["y_domain"]),
        autosize=alt.AutoSizeParams(type="fit-x", contains="padding"),
    )
    if facet:
        chart = chart.add_params(own)
    spec = chart.to_dict()
    spec["datasets"] = {"cells": cells}
    return spec

"""Chart data schema: stable field names, the same in every language.

Only titles, axis labels and legends are translated (in dashboard/charts.py); the columns of
the frames that the charts draw never change with `?lang=`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

X, Y, CURVE, QI = "x", "y", "curve", "qi"  # fit chart: one row per (query, curve)
LO, HI = "lo", "hi"  # hover strips: the x interval closest to each query
QUERY, KEY, WEIGHT, KI, PANEL = "query", "key", "weight", "ki", "panel"  # heatmap cells
PI = "pi"  # a heatmap cell's panel (its index in the panel list)
STEP, LOSS = "step", "loss"  # loss chart
SCORE, MASKED, LABEL = "score", "masked", "label"  # matrix heatmaps (scoring, self-attention)
ROW, FEATURE, VALUE = "row", "feature", "value"  # real-valued matrices (encodings, outputs)


def arrow(frame: pd.DataFrame) -> pa.Table:
    """A frame as an Arrow table built column by column, which Streamlit sends as it is.

    Given a pandas frame, Streamlit runs pa.Table.from_pandas (index, pandas metadata, dtype
    inference), about a fifth of a click's server time on the pooling page (profiled under the
    load test; tests/load/results/NOTES.md). NaN becomes null, as in that conversion, so Vega
    leaves out the same values.

    >>> arrow(pd.DataFrame({"x": [1.0, np.nan], "curve": ["a", "b"]})).to_pydict()
    {'x': [1.0, None], 'curve': ['a', 'b']}
    """
    return table({str(c): v for c, v in frame.items()})


def table(columns: dict[str, Any]) -> pa.Table:
    """Columns (numpy arrays or lists, the same length) as an Arrow table; NaN becomes null.

    >>> table({"x": np.array([0.5, np.nan]), "marker": ["points", "empty"]}).to_pydict()
    {'x': [0.5, None], 'marker': ['points', 'empty']}
    """
    return pa.table({k: pa.array(np.asarray(v), from_pandas=True) for k, v in columns.items()})


def arrow_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A chart spec with its frames (spec["datasets"]) as Arrow tables, for st.vega_lite_chart."""
    if "datasets" not in spec:
        return spec
    data = {k: arrow(v) if isinstance(v, pd.DataFrame) else v for k, v in spec["datasets"].items()}
    return {**spec, "datasets": data}


# The fit and loss charts' rows are plain columns (name -> (rows,) array), not pandas frames:
# building, concatenating and converting frames was ~5% of a click's server CPU under the load
# test (py-spy, tests/bench/results/NOTES.md, round 4). `table` makes them the Arrow tables.
Columns = dict[str, np.ndarray]


def curve_frame(x: np.ndarray, y: np.ndarray, curve: str) -> Columns:
    """One curve's rows: x (Q,), y (Q,), its name and the query index."""
    n = len(x)
    return {
        X: np.asarray(x, dtype=float),
        Y: np.asarray(y, dtype=float),
        CURVE: np.full(n, curve, dtype=object),
        QI: np.arange(n),
    }


def empty_curves() -> Columns:
    return curve_frame(np.zeros(0), np.zeros(0), "")


def concat(parts: list[Columns]) -> Columns:
    """Rows of several curves (each from curve_frame) one after the other.

    >>> both = concat([curve_frame(np.array([0.0]), np.array([1.0]), "a"), empty_curves()])
    >>> {k: v.tolist() for k, v in both.items()}
    {'x': [0.0], 'y': [1.0], 'curve': ['a'], 'qi': [0]}
    """
    if not parts:
        return empty_curves()
    return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}


def points_frame(x: np.ndarray | None = None, y: np.ndarray | None = None) -> Columns:
    """Training points (n,), or no points."""
    return {
        X: np.zeros(0) if x is None else np.asarray(x, dtype=float),
        Y: np.zeros(0) if y is None else np.asarray(y, dtype=float),
    }


def cell_frame(
    matrices: dict[str, np.ndarray],
    row_names: list[str],
    col_names: list[str],
    row: str = QUERY,
    col: str = KEY,
) -> pd.DataFrame:
    """Long form of same-shape (R, C) matrices: one row per cell, one column per matrix.

    >>> cell_frame({WEIGHT: np.array([[0.25, 0.75]])}, ["q1"], ["k1", "k2"]).to_dict("list")
    {'query': ['q1', 'q1'], 'key': ['k1', 'k2'], 'weight': [0.25, 0.75]}
    """
    n_rows, n_cols = len(row_names), len(col_names)
    out = {
        row: np.repeat(np.asarray(row_names, dtype=object), n_cols).tolist(),
        col: np.tile(np.asarray(col_names, dtype=object), n_rows).tolist(),
    }
    for name, m in matrices.items():
        m = np.asarray(m)
        if m.shape != (n_rows, n_cols):
            raise ValueError(f"{name}: shape {m.shape}, expected {(n_rows, n_cols)}")
        out[name] = m.ravel().tolist()
    return pd.DataFrame(out)


def loss_frame(steps: list[int], losses: list[float]) -> Columns:
    return {STEP: np.asarray(steps, dtype=int), LOSS: np.asarray(losses, dtype=float)}


# --- panel grids: several matrices in one view, so the view can take its column's width -------
GX, GY = "gx", "gy"  # band keys of a cell (panel position + row/column + its label)
PANEL_MAX, DARK = "panel_max", "dark"  # the panel's largest value; text on this cell goes white
KEY_PREFIX = 8  # characters before the label in a band key: "pp:iiiii"
LABEL_EXPR = f"substring(datum.value, {KEY_PREFIX})"  # the axis shows only the label part


def band_key(position: int, index: int, label: str = "", gap: bool = False) -> str:
    """A band key: panel position, index, then the label (gap and title bands have none).
    Keys sort in grid order: a gap or title band ('-') comes before its panel's bands (':').

    >>> band_key(1, 7, "0.25"), band_key(0, 2, gap=True), sorted(["01:00000", "01-00000"])
    ('01:000070.25', '00-00002', ['01-00000', '01:00000'])
    """
    return f"{position:02d}{'-' if gap else ':'}{index:05d}{'' if gap else label}"


def panel_grid(
    n_panels: int, row_labels: list[str], col_labels: list[str], columns: int, title_bands: int
) -> dict:
    """Band domains laying out n_panels matrices (rows x cols, the same labels in each) in a
    grid of `columns` panels per row, with one gap band between panel columns and
    `title_bands` bands above each row of panels for their titles (title_y: the first).

    Returns x_domain, y_domain, x[pcol][j] and y[prow][i] (the keys of column j / row i of a
    panel in grid column pcol / grid row prow) and title_y[prow] (the band of the titles).
    """
    columns = max(1, min(columns, n_panels))
    grid_rows = -(-n_panels // columns)
    x = [[band_key(pc, j, lab) for j, lab in enumerate(col_labels)] for pc in range(columns)]
    y = [[band_key(pr, i, lab) for i, lab in enumerate(row_labels)] for pr in range(grid_rows)]
    x_domain: list[str] = []
    for pc in range(columns):
        if pc:
            x_domain.append(band_key(pc, 0, gap=True))
        x_domain += x[pc]
    y_domain: list[str] = []
    title_y = []
    for pr in range(grid_rows):
        titles = [band_key(pr, g, gap=True) for g in range(title_bands)]
        title_y.append(titles[0] if titles else None)
        y_domain += titles + y[pr]
    return {"x_domain": x_domain, "y_domain": y_domain, "x": x, "y": y, "title_y": title_y}


def dark_cells(values: np.ndarray, diverging: bool, sqrt: bool = False) -> np.ndarray:
    """Whether a cell's colour is dark enough that its text must be white.

    viridis (sequential): the low end is dark purple, so values below 45% of the range (a sqrt
    scale starts at 0 and is compared after the sqrt); redblue (diverging, centred at 0): both
    ends are dark, so |value| above 60% of the largest |value|.

    >>> dark_cells(np.array([0.0, 0.2, 1.0]), diverging=False).tolist()
    [True, True, False]
    >>> dark_cells(np.array([-2.0, 0.5, 1.9]), diverging=True).tolist()
    [True, False, True]
    """
    v = np.asarray(values, dtype=float)
    if v.size == 0:
        return np.zeros(0, dtype=bool)
    if diverging:
        top = float(np.max(np.abs(v)))
        return np.abs(v) > 0.6 * top if top > 0 else np.zeros(v.shape, dtype=bool)
    lo, hi = float(np.min(v)), float(np.max(v))
    if sqrt:
        lo, hi, v = 0.0, np.sqrt(max(hi, 0.0)), np.sqrt(np.clip(v, 0, None))
    if hi <= lo:
        return np.ones(v.shape, dtype=bool)  # one colour: the scale's dark start
    return (v - lo) / (hi - lo) < 0.45

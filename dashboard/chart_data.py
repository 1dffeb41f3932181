"""Chart data schema: stable field names, the same in every language.

Only titles, axis labels and legends are translated (in dashboard/charts.py); the columns of
the frames that the charts draw never change with `?lang=`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

X, Y, CURVE, QI = "x", "y", "curve", "qi"  # fit chart: one row per (query, curve)
QUERY, KEY, WEIGHT, KI, PANEL = "query", "key", "weight", "ki", "panel"  # heatmap cells
STEP, LOSS = "step", "loss"  # loss chart


def curve_frame(x: np.ndarray, y: np.ndarray, curve: str) -> pd.DataFrame:
    """One curve's rows: x (Q,), y (Q,), its name and the query index."""
    return pd.DataFrame({X: x, Y: y, CURVE: curve, QI: np.arange(len(x))})


def empty_curves() -> pd.DataFrame:
    return pd.DataFrame({X: [], Y: [], CURVE: [], QI: []})


def points_frame(x: np.ndarray | None = None, y: np.ndarray | None = None) -> pd.DataFrame:
    """Training points (n,), or an empty frame with the same columns."""
    return pd.DataFrame({X: [] if x is None else x, Y: [] if y is None else y})


def loss_frame(steps: list[int], losses: list[float]) -> pd.DataFrame:
    return pd.DataFrame({STEP: steps, LOSS: losses})

"""Chart specs: data field names are stable across languages; only titles are translated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import chart_data as cd
from dashboard import charts, text
from dashboard.text_zh import TEXT_ZH

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
SCHEMA |= {cd.GX, cd.GY, cd.PANEL_MAX, cd.LO, cd.HI}  # panel grid, hover strips
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


def _fit_spec():
    q = np.linspace(0.0, 5.0, 6)  # (Q,)
    k = np.linspace(0.0, 5.0, 4)  # (K,)
    weights = np.full((6, 4), 0.25)  # (Q, K), rows sum to 1
    curves = pd.concat(
        [cd.curve_frame(q, np.sin(q), "truth"), cd.curve_frame(q, np.cos(q), "nonparametric")]
    )
    points = cd.points_frame(k, np.sin(k))
    empty = cd.curve_frame(q[:1], np.cos(q[:1]), "nonparametric")
    heat = charts.heat_frame(weights, q, k, "np", np.arange(6), np.arange(4))
    return charts.fit_with_heatmaps(
        curves, points, empty, heat, ["np"], title="t", x_label="x", y_label="y"
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
        for frame in spec_zh["datasets"].values():
            assert set(frame.columns) <= SCHEMA
    titles_zh = set(map(str, _walk(zh, "title")))
    # titles do follow the language (the loss chart's title and axes, heatmap tooltips)
    for key in ("loss_title", "loss_step", "loss_value", "f_weight", "f_query", "f_key"):
        assert TEXT_ZH[key] in titles_zh, key
    assert "leave-one-out MSE" not in titles_zh

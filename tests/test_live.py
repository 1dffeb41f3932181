"""dashboard.live's w-independent parts, against explicit loops."""

from __future__ import annotations

import numpy as np

from dashboard import live


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
    spec, binned, _ = live.live_spec(q, x, y, "gaussian", 1.0, {}, ("x", "y", "live"))
    assert binned and len(spec["data"]["values"]) <= live.MAX_LIVE_CELLS
    xb, yb = live.bin_keys(x, y, 3)
    order = np.argsort(x, kind="stable")
    assert np.allclose(yb, [y[order[i * 300 : (i + 1) * 300]].mean() for i in range(3)])
    assert np.allclose(xb, [x[order[i * 300 : (i + 1) * 300]].mean() for i in range(3)])


def test_server_curves_are_drawn_unchanged_beside_the_live_one() -> None:
    q, x = np.linspace(0, 1, 4), np.array([0.0, 0.5, 1.0])
    y = np.array([1.0, -2.0, 3.0])
    fixed = {"parametric": np.array([9.0, 8.0, 7.0, 6.0]), "average": np.full(4, 2 / 3)}
    spec, binned, stride = live.live_spec(q, x, y, "boxcar", 2.0, fixed, ("x", "y", "live"))
    assert not binned and stride == 1
    rows = spec["vconcat"][0]["layer"][0]["data"]["values"]
    for name, curve in fixed.items():
        got = [(r["xq"], r["v"]) for r in rows if r["series"] == name]
        assert got == list(zip(q.tolist(), curve.tolist(), strict=True))
    color = spec["vconcat"][0]["layer"][1]["encoding"]["color"]["scale"]
    assert color["domain"] == ["live", "average", "parametric"]  # the legend's order
    lo, hi = spec["vconcat"][0]["layer"][1]["encoding"]["y"]["scale"]["domain"]
    assert lo == -2.0 and hi == 9.0  # every curve inside the fixed y scale

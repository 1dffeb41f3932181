"""dashboard.live's w-independent parts, against explicit loops."""

from __future__ import annotations

import numpy as np

from dashboard import live


def test_table_rows_match_a_loop() -> None:
    q, x, y = np.array([0.0, 2.0]), np.array([1.0, 3.0, 1.0]), np.array([5.0, 6.0, 7.0])
    table = live.live_table(q, x, y)
    for row in table.itertuples():
        d = [abs(q[row.qi] - xk) for xk in x]
        assert row.d == abs(q[row.qi] - x[row.ki]) and row.d0 == min(d)
        ties = sum(di == min(d) for di in d)
        assert row.near == ((row.d == min(d)) / ties)


def test_large_data_is_binned_to_the_live_limit() -> None:
    rng = np.random.default_rng(1)
    x, y, q = rng.normal(1e8, 1e-3, 900), rng.standard_cauchy(900), np.linspace(0, 1, 200)
    spec, binned = live.live_spec(q, x, y, "gaussian", 1.0, 0.0, ("x", "y", "w"))
    assert binned and len(spec["data"]["values"]) <= live.MAX_LIVE_CELLS
    xb, yb = live.bin_keys(x, y, 3)
    order = np.argsort(x, kind="stable")
    assert np.allclose(yb, [y[order[i * 300 : (i + 1) * 300]].mean() for i in range(3)])
    assert np.allclose(xb, [x[order[i * 300 : (i + 1) * 300]].mean() for i in range(3)])

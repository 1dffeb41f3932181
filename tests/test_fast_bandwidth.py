"""The windowed leave-one-out objective and search against the dense (N, N) computation."""

import pytest
import torch

import nwcore
from nwcore.bandwidth import _LooObjective


def _dense_loo_mse(x, y, kernel, w):
    """Leave-one-out MSE straight from the plain path (an (N, N) matrix)."""
    fit = nwcore.leave_one_out(x, y, kernel, w)
    return float(((fit.y_hat - y) ** 2).mean())


@pytest.mark.parametrize("kernel", ["gaussian", "boxcar", "epanechnikov", "triangular"])
def test_windowed_loo_equals_dense_loo(kernel):
    d = nwcore.make_dataset("classic", n_train=700, seed=1)
    x, y = d.x_train, d.y_train
    x = x.clone()
    x[100:105] = x[99]  # duplicate x: the nearest other key is at distance 0
    for w in [0.2, 3.0, 30.0, 3000.0]:
        assert nwcore.loo_mse(x, y, kernel, w) == pytest.approx(
            _dense_loo_mse(x, y, kernel, w), rel=1e-10
        )


def test_loo_bandwidth_matches_a_dense_grid_at_moderate_n():
    d = nwcore.make_dataset("sinc", n_train=3000, seed=2)
    res = nwcore.loo_bandwidth(d.x_train, d.y_train)
    dense = {
        h: _dense_loo_mse(d.x_train, d.y_train, "gaussian", 1 / h)
        for h in torch.logspace(-2.5, 0, 60, dtype=torch.float64).tolist()
    }
    best_h = min(dense, key=dense.get)
    assert res.loss <= min(dense.values()) + 1e-12
    assert res.h == pytest.approx(best_h, rel=0.1)  # the dense grid's own spacing
    assert res.loss == pytest.approx(_dense_loo_mse(d.x_train, d.y_train, "gaussian", res.w))


def test_screening_picks_the_same_optimum_as_exact_evaluation():
    # n above the screening threshold: compare with a search that evaluates every grid point
    d = nwcore.make_dataset("classic", n_train=2000, seed=3)
    res = nwcore.loo_bandwidth(d.x_train, d.y_train)
    obj = _LooObjective(d.x_train, d.y_train, "gaussian")
    hs = torch.linspace(0.5, 2.0, 61, dtype=torch.float64) * res.h
    losses = [obj(1 / float(h)) for h in hs]
    assert res.loss <= min(losses) + 1e-12
    assert res.loss == min(res.losses)

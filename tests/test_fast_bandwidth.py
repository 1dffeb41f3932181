"""The windowed leave-one-out objective and search against the dense (N, N) computation."""

import numpy as np
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


def _numpy_gaussian_loo_mse(x, y, hs):
    """Gaussian leave-one-out MSE per h from one dense numpy (N, N) matrix of squared
    distances (independent of nwcore's paths); each row shifted by its nearest other key's
    distance so that small h does not underflow."""
    x, y = x.numpy(), y.numpy()
    sq = (x[:, None] - x[None, :]) ** 2  # (N, N)
    np.fill_diagonal(sq, np.inf)  # leave the point itself out
    sq -= sq.min(axis=1, keepdims=True)
    out = {}
    for h in hs:
        k = np.exp(-sq / (2 * h * h))  # (N, N), the nearest other key weighs 1
        out[h] = float(np.mean((k @ y / k.sum(axis=1) - y) ** 2))
    return out


def test_loo_bandwidth_matches_a_dense_grid_at_moderate_n():
    d = nwcore.make_dataset("sinc", n_train=3000, seed=2)
    res = nwcore.loo_bandwidth(d.x_train, d.y_train)
    dense = _numpy_gaussian_loo_mse(d.x_train, d.y_train, np.logspace(-2.5, 0, 60).tolist())
    best_h = min(dense, key=dense.get)
    assert res.loss <= min(dense.values()) + 1e-12
    assert res.h == pytest.approx(best_h, rel=0.1)  # the dense grid's own spacing
    assert res.loss == pytest.approx(_numpy_gaussian_loo_mse(d.x_train, d.y_train, [res.h])[res.h])


def test_screening_picks_the_same_optimum_as_exact_evaluation():
    # n above the screening threshold: compare with a search that evaluates every grid point
    d = nwcore.make_dataset("classic", n_train=2000, seed=3)
    res = nwcore.loo_bandwidth(d.x_train, d.y_train)
    obj = _LooObjective(d.x_train, d.y_train, "gaussian")
    hs = torch.linspace(0.5, 2.0, 61, dtype=torch.float64) * res.h
    losses = [obj(1 / float(h)) for h in hs]
    assert res.loss <= min(losses) + 1e-12
    assert res.loss == min(res.losses)

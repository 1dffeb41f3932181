"""Binned leave-one-out bandwidths against the exact search, and their refusals."""

import math
import warnings

import pytest
import torch

import nwcore
from nwcore import NWError
from nwcore.binned_loo import BinnedLoo
from tests.unusual_data import unusual


def _data(kind: str, n: int):
    if kind == "classic":
        d = nwcore.make_dataset("classic", n_train=n, seed=4)
        return d.x_train, d.y_train
    x, y = unusual({"clusters": "wide_clusters", "heavy": "heavy_noise"}.get(kind, kind), n, 11)
    return torch.from_numpy(x), torch.from_numpy(y)


@pytest.mark.parametrize("kind", ["classic", "offset", "tiny", "clusters", "heavy"])
def test_binned_bandwidth_is_within_one_percent_of_the_exact_optimum(kind):
    x, y = _data(kind, 20_000)
    exact = nwcore.loo_bandwidth(x, y)
    binned = nwcore.loo_bandwidth_binned(x, y)
    assert binned.h == pytest.approx(exact.h, rel=0.01)
    # the binned objective at its h is the exact LOO error there, up to binning
    assert binned.loss == pytest.approx(nwcore.loo_mse(x, y, "gaussian", binned.w), rel=1e-3)


def test_binned_objective_removes_the_points_own_weight():
    # against an explicit loop: each point's prediction from the others only
    x, y = _data("classic", 300)
    h = 0.3
    ref = nwcore.loo_mse(x, y, "gaussian", 1 / h)
    got = BinnedLoo(x, y, 1 << 14)(h)
    assert got == pytest.approx(ref, rel=1e-5)
    xs, ys = x.tolist(), y.tolist()
    total = 0.0
    for i in range(len(xs)):
        ks = [math.exp(-(((xs[i] - xj) / h) ** 2) / 2) for xj in xs]
        ks[i] = 0.0
        total += (sum(k * v for k, v in zip(ks, ys, strict=True)) / sum(ks) - ys[i]) ** 2
    assert got == pytest.approx(total / len(xs), rel=1e-5)


def test_binned_bandwidth_warns_at_the_grids_resolution_limit():
    x, y = _data("classic", 5000)
    with pytest.warns(UserWarning, match=r"grid_size > 64 or use loo_bandwidth"):
        nwcore.loo_bandwidth_binned(x, y, grid_size=64)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nwcore.loo_bandwidth_binned(x, y)  # the default grid resolves it: no warning


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"x": torch.ones(10, 2), "y": torch.ones(10)}, "takes 1-D x"),
        ({"x": torch.ones(10), "y": torch.arange(10.0)}, "all x are equal"),
        ({"x": torch.arange(2.0), "y": torch.arange(2.0)}, "at least 3 points"),
        ({"x": torch.arange(9.0), "y": torch.arange(9.0), "grid_size": 8}, "grid_size"),
        ({"x": torch.arange(9.0), "y": torch.arange(9.0), "grid_size": 1e3}, "grid_size"),
        ({"x": torch.tensor([0.0, 1.0, math.nan]), "y": torch.arange(3.0)}, "x"),
        ({"x": "abc", "y": torch.arange(3.0)}, "x"),
        ({"x": torch.arange(9.0), "y": torch.arange(8.0)}, "y"),
        ({"x": torch.arange(9.0), "y": torch.arange(9.0), "grid_size": True}, "grid_size"),
    ],
)
def test_binned_bandwidth_refuses_bad_input(kwargs, message):
    with pytest.raises(NWError, match=message):
        nwcore.loo_bandwidth_binned(**kwargs)

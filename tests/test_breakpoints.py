"""The boxcar leave-one-out optimum against an exhaustive search over every interval of h."""

import numpy as np
import pytest
import torch

import nwcore


def _boxcar_loo_mse(x, y, h):
    """Boxcar leave-one-out MSE by an explicit loop over the points: the others within h,
    or, with none, the mean of the nearest others."""
    n = len(x)
    err = 0.0
    for i in range(n):
        d = np.abs(x - x[i])
        d[i] = np.inf
        inside = d <= h
        if not inside.any():
            inside = d == d.min()
        err += (y[inside].mean() - y[i]) ** 2
    return err / n


def _exhaustive(x, y):
    """The least boxcar LOO MSE over one h inside every interval between distinct pairwise
    distances (the objective is constant on each)."""
    d = np.unique(np.abs(x[:, None] - x[None, :]))
    d = d[d > 0]
    hs = np.concatenate([[d[0] / 2], np.sqrt(d[:-1] * d[1:]), [2 * d[-1]]])
    return min(_boxcar_loo_mse(x, y, h) for h in hs)


def _datasets():
    rng = np.random.default_rng(7)
    for seed in range(6):
        x = rng.uniform(0, 5, 30)
        yield f"uniform{seed}", x, np.sin(x) + 0.3 * rng.standard_normal(30)
    x = np.concatenate([rng.normal(0, 0.01, 15), rng.normal(3, 0.01, 15)])
    yield "clusters", x, x + rng.standard_normal(30)
    x = 1e8 + rng.uniform(0, 1, 30)
    yield "offset", x, rng.standard_normal(30)
    x = 1e-6 * rng.uniform(0, 1, 30)
    yield "tiny", x, 1e5 * rng.standard_t(2, 30)
    x = np.round(rng.uniform(0, 3, 30), 1)  # many equal x and equal distances
    yield "ties", x, x**2 + rng.standard_normal(30)


@pytest.mark.parametrize(("name", "x", "y"), [pytest.param(*d, id=d[0]) for d in _datasets()])
def test_boxcar_search_finds_the_exhaustive_optimum(name, x, y):
    res = nwcore.loo_bandwidth(torch.tensor(x), torch.tensor(y), "boxcar")
    best = _exhaustive(x, y)
    assert res.loss == pytest.approx(_boxcar_loo_mse(x, y, res.h), rel=1e-9), name
    assert res.loss <= best * (1 + 1e-9), name


def test_boxcar_on_engel_finds_the_better_width():
    engel = pytest.importorskip("statsmodels.datasets.engel").load_pandas().data
    x, y = engel["income"].to_numpy(), engel["foodexp"].to_numpy()
    res = nwcore.loo_bandwidth(torch.tensor(x), torch.tensor(y), "boxcar")
    assert res.loss == pytest.approx(_boxcar_loo_mse(x, y, 70.71), rel=1e-9)
    assert res.loss == pytest.approx(15006.6, abs=0.05)

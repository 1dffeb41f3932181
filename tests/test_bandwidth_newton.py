"""Newton steps of the Gaussian bandwidth search: its analytic derivatives against finite
differences of a dense numpy leave-one-out loop, and its optimum against scipy's bounded
minimiser of the same numpy objective, on data unlike the book's."""

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

import nwcore
from nwcore.bandwidth import _LooObjective, _standard_x
from tests.unusual_data import unusual


def _numpy_loo(x: np.ndarray, y: np.ndarray, h: float) -> float:
    """Dense leave-one-out MSE, each row shifted by its nearest other key (no underflow)."""
    sq = (x[:, None] - x[None, :]) ** 2  # (N, N)
    np.fill_diagonal(sq, np.inf)
    sq -= sq.min(axis=1, keepdims=True)
    k = np.exp(-sq / (2 * h * h))
    return float(np.mean((k @ y / k.sum(axis=1) - y) ** 2))


def _richardson(f, t: float, e: float) -> tuple[float, float]:
    """First and second derivative of f at t by central differences, Richardson-extrapolated
    (error O(e^4))."""

    def central(step):
        fp, f0, fm = f(t + step), f(t), f(t - step)
        return (fp - fm) / (2 * step), (fp - 2 * f0 + fm) / step**2

    d1a, d2a = central(e)
    d1b, d2b = central(e / 2)
    return (4 * d1b - d1a) / 3, (4 * d2b - d2a) / 3


def _data(kind: str, n: int):
    return unusual({"heavy": "heavy_x"}.get(kind, kind), n, seed=7)


@pytest.mark.parametrize("kind", ["offset", "tiny", "clusters", "heavy"])
def test_derivatives_match_finite_differences_of_a_dense_loop(kind):
    x, y = _data(kind, 400)
    spread = float(np.std(x - np.median(x)))
    obj = _LooObjective(torch.from_numpy(x), torch.from_numpy(y), "gaussian")
    # small h: narrow windows (direct sums); large h: fused attention
    for rel_h in (0.003, 0.03, 0.2, 1.0):
        h = rel_h * spread
        loss, d1, d2 = obj.derivatives(1 / h)
        ref1, ref2 = _richardson(lambda t: _numpy_loo(x, y, math.exp(t)), math.log(h), 1e-3)
        scale = _numpy_loo(x, y, h)
        assert loss == pytest.approx(scale, rel=1e-9)
        assert d1 == pytest.approx(ref1, rel=1e-5, abs=1e-8 * scale)
        assert d2 == pytest.approx(ref2, rel=1e-5, abs=1e-6 * scale)


@pytest.mark.parametrize("kind", ["offset", "tiny", "clusters", "heavy"])
def test_newton_search_finds_scipys_optimum_of_the_dense_loop(kind):
    x, y = _data(kind, 600)
    res = nwcore.loo_bandwidth(torch.from_numpy(x), torch.from_numpy(y))
    # scipy's bounded Brent on the numpy objective in log h, around the search's basin
    t0 = math.log(res.h)
    ref = minimize_scalar(
        lambda t: _numpy_loo(x, y, math.exp(t)),
        bounds=(t0 - 0.5, t0 + 0.5),
        method="bounded",
        options={"xatol": 1e-9},
    )
    assert math.log(res.h) == pytest.approx(ref.x, abs=1e-5)
    assert res.loss <= ref.fun * (1 + 1e-12)
    # and no point of a wide dense grid is better: the global basin, not just a local one
    grid = np.exp(np.linspace(t0 - 6, t0 + 4, 121))
    assert res.loss <= min(_numpy_loo(x, y, h) for h in grid) * (1 + 1e-12)


def test_newton_takes_few_exact_evaluations_near_the_optimum(monkeypatch):
    d = nwcore.make_dataset("classic", n_train=1000, seed=0)
    calls = []
    derivatives = _LooObjective.derivatives

    def counting(self, w):
        calls.append(w)
        return derivatives(self, w)

    monkeypatch.setattr(_LooObjective, "derivatives", counting)
    res = nwcore.loo_bandwidth(d.x_train, d.y_train)
    assert len(calls) <= 4  # 3 here (plain Newton from the grid point took 4, Brent 12)
    # the search runs in standard units: x / s1, centred, / s2 (powers of two)
    (s1, s2), _ = _standard_x(d.x_train)
    assert res.w * s1 * s2 == pytest.approx(calls[-1], rel=1e-12)


def _numpy_loo_chunked(x: np.ndarray, y: np.ndarray, h: float) -> float:
    """_numpy_loo in blocks of rows, for n where the (N, N) matrix does not fit at once."""
    total = 0.0
    for s in range(0, x.shape[0], 500):
        sq = (x[s : s + 500, None] - x[None, :]) ** 2  # (rows, N)
        sq[np.arange(sq.shape[0]), np.arange(s, s + sq.shape[0])] = np.inf
        sq -= sq.min(axis=1, keepdims=True)
        k = np.exp(-sq / (2 * h * h))
        total += float(np.sum((k @ y / k.sum(axis=1) - y[s : s + 500]) ** 2))
    return total / x.shape[0]


@pytest.mark.parametrize("kind", ["offset", "clusters", "heavy"])
def test_search_from_the_binned_minimum_ends_at_the_dense_optimum(kind):
    # 10,000 points: Newton starts from the binned objective's minimum (a different path)
    x, y = _data(kind, 10_000)
    res = nwcore.loo_bandwidth(torch.from_numpy(x), torch.from_numpy(y))
    here = _numpy_loo_chunked(x, y, res.h)
    assert res.loss == pytest.approx(here, rel=1e-9)
    for factor in (math.exp(-1e-3), math.exp(1e-3), 0.7, 1.4):  # no better point nearby
        assert here <= _numpy_loo_chunked(x, y, res.h * factor) * (1 + 1e-12)

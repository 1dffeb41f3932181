"""Bandwidth rules against statsmodels, and the leave-one-out objective against a loop."""

import math

import pytest
import torch
from statsmodels.nonparametric import bandwidths

import nwcore
from nwcore import NWError


@pytest.mark.parametrize("seed", [0, 5])
def test_silverman_and_scott_match_statsmodels(seed):
    d = nwcore.make_dataset("classic", n_train=80, seed=seed)
    x = d.x_train.numpy()
    assert nwcore.silverman(d.x_train) == pytest.approx(bandwidths.bw_silverman(x), rel=1e-6)
    assert nwcore.scott(d.x_train) == pytest.approx(bandwidths.bw_scott(x), rel=1e-6)


def test_rules_use_iqr_when_it_is_smaller_than_std():
    # heavy tails: IQR / 1.349 is far below the standard deviation
    x = torch.tensor([-50.0] + [0.01 * i for i in range(100)] + [50.0], dtype=torch.float64)
    assert nwcore.silverman(x) == pytest.approx(bandwidths.bw_silverman(x.numpy()), rel=1e-6)


def test_loo_mse_equals_explicit_loop():
    d = nwcore.make_dataset("classic", n_train=25, seed=9)
    xs, ys = d.x_train.tolist(), d.y_train.tolist()
    for w in [0.3, 2.0, 9.0]:
        total = 0.0
        for i in range(len(xs)):
            ks = [math.exp(-(((xs[i] - xj) * w) ** 2) / 2) for xj in xs]
            ks[i] = 0.0
            total += (sum(k * v for k, v in zip(ks, ys, strict=True)) / sum(ks) - ys[i]) ** 2
        assert nwcore.loo_mse(d.x_train, d.y_train, "gaussian", w) == pytest.approx(
            total / len(xs), rel=1e-10
        )


def test_loo_bandwidth_reports_each_evaluation():
    d = nwcore.make_dataset("classic")
    seen = []
    res = nwcore.loo_bandwidth(d.x_train, d.y_train, callback=lambda *a: seen.append(a))
    assert len(seen) == res.evaluations == len(res.losses)
    assert res.loss == min(res.losses)
    assert res.w == pytest.approx(1 / res.h)


def test_loo_bandwidth_in_r2_beats_every_grid_point():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(60, 2, generator=g, dtype=torch.float64) * 3
    y = x[:, 0].sin() + x[:, 1] + 0.2 * torch.randn(60, generator=g, dtype=torch.float64)
    res = nwcore.loo_bandwidth(x, y)
    for h in torch.logspace(-1.5, 0.8, 40).tolist():
        assert res.loss <= nwcore.loo_mse(x, y, "gaussian", 1 / h) + 1e-12


@pytest.mark.parametrize(
    ("x", "message"),
    [([1.0], "at least 2"), ([2.0, 2.0, 2.0], "all x are equal"), ([], "empty")],
)
def test_rules_refuse_degenerate_x(x, message):
    with pytest.raises(NWError, match=message):
        nwcore.silverman(x)


def test_loo_bandwidth_refuses_constant_x():
    with pytest.raises(NWError, match="all x are equal"):
        nwcore.loo_bandwidth([1.0, 1.0, 1.0, 1.0], [1.0, 2.0, 3.0, 4.0])


@pytest.mark.parametrize("kernel", ["gaussian", "boxcar", "epanechnikov"])
@pytest.mark.parametrize("scale", [1e154, 1e-150])
def test_loo_bandwidth_does_not_depend_on_the_scale_of_y(kernel, scale):
    """y in the 1e154s (squared errors overflow) or the 1e-150s (near underflow): the same
    optimum as for y itself, and the loss scaled by scale^2."""
    g = torch.Generator().manual_seed(4)
    x = torch.rand(150, dtype=torch.float64, generator=g) * 3
    y = x.cos() + 0.3 * torch.randn(150, dtype=torch.float64, generator=g)
    base, big = nwcore.loo_bandwidth(x, y, kernel), nwcore.loo_bandwidth(x, y * scale, kernel)
    assert big.h == pytest.approx(base.h, rel=1e-9)
    assert big.loss / scale / scale == pytest.approx(base.loss, rel=1e-9)


@pytest.mark.parametrize("kernel", ["gaussian", "boxcar", "epanechnikov", "triangular"])
@pytest.mark.parametrize("scale", [1e300, 1e155, 1e-40, 1e-300])
def test_loo_bandwidth_and_loo_mse_follow_the_scale_of_x(kernel, scale):
    """x in the 1e300s (squared distances overflow) down to the 1e-300s (they underflow): h
    scales with x, the loss does not move, and loo_mse at the scaled w agrees (these raised
    ZeroDivisionError or returned NaN before the search worked in standard units)."""
    g = torch.Generator().manual_seed(5)
    x = torch.rand(120, dtype=torch.float64, generator=g) * 4
    y = x.sin() + 0.2 * torch.randn(120, dtype=torch.float64, generator=g)
    base, got = nwcore.loo_bandwidth(x, y, kernel), nwcore.loo_bandwidth(x * scale, y, kernel)
    assert got.h / scale == pytest.approx(base.h, rel=1e-9)
    assert got.w * scale == pytest.approx(base.w, rel=1e-9)
    assert got.loss == pytest.approx(base.loss, rel=1e-9)
    mse = nwcore.loo_mse(x * scale, y, kernel, base.w / scale)
    assert mse == pytest.approx(nwcore.loo_mse(x, y, kernel, base.w), rel=1e-9)


def test_loo_bandwidth_of_points_in_the_plane_near_1e300():
    g = torch.Generator().manual_seed(6)
    x = torch.rand(80, 2, dtype=torch.float64, generator=g)
    y = x.sum(1).cos() + 0.1 * torch.randn(80, dtype=torch.float64, generator=g)
    base, got = nwcore.loo_bandwidth(x, y), nwcore.loo_bandwidth(x * 1e300, y)
    assert got.h / 1e300 == pytest.approx(base.h, rel=1e-9)
    assert got.loss == pytest.approx(base.loss, rel=1e-9)

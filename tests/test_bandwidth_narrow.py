"""The grid's narrow widths, evaluated together from one band of sorted neighbours
(`nwcore.loo_narrow`), against the dense (N, N) leave-one-out of the plain path."""

import math

import pytest
import torch

import nwcore
from nwcore.bandwidth import _LooObjective
from tests.unusual_data import unusual


def _dense_loo_mse(x, y, kernel, w):
    fit = nwcore.leave_one_out(x, y, kernel, w)  # the plain path: an (N, N) matrix
    return float(((fit.y_hat - y) ** 2).mean())


def _cases():
    for kind in ("offset", "tiny", "clusters", "heavy_x"):
        x, y = unusual(kind, 400, seed=3)
        yield kind, torch.from_numpy(x), torch.from_numpy(y)
    d = nwcore.make_dataset("classic", n_train=300, seed=1)
    x = d.x_train.clone()
    x[100:105] = x[99]  # duplicate x: the nearest other key is at distance 0
    yield "duplicates", x, d.y_train
    d = nwcore.make_dataset("classic", n_train=40, seed=2)  # the band holds every key
    yield "small", d.x_train, d.y_train


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "triangular", "boxcar"])
@pytest.mark.parametrize(("kind", "x", "y"), list(_cases()), ids=lambda v: str(v)[:12])
def test_narrow_widths_equal_the_dense_leave_one_out(kernel, kind, x, y):
    obj = _LooObjective(x, y, kernel)
    hs = torch.logspace(math.log10(obj.h_min), math.log10(obj.h_max), 48).tolist()
    got = obj.narrow([1 / h for h in hs])
    done = [(h, v) for h, v in zip(hs, got, strict=True) if v is not None]
    assert len(done) >= 10  # the small widths at least
    if kind == "small":
        assert len(done) == len(hs)  # 40 points: every width fits the band
    # None only above the narrow ones: windows grow with h
    assert all(v is not None for v in got[: len(done)])
    for h, v in done:
        assert v == pytest.approx(_dense_loo_mse(x, y, kernel, 1 / h), rel=1e-10, abs=1e-300)

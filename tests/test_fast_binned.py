"""The binned path (`nw_binned`) against the exact result, and its empty-window rule."""

import pytest
import torch

import nwcore
from nwcore import NWError


def _data(n=20_000, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(n, generator=g, dtype=torch.float64) * 5
    y = 2 * x.sin() + x**0.8 + 0.5 * torch.randn(n, generator=g, dtype=torch.float64)
    return x, y


def test_linear_binning_matches_a_loop():
    x = torch.tensor([0.0, 0.3, 1.0, 1.75, 2.0], dtype=torch.float64)
    y = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
    counts, sums = nwcore.linear_binning(x, y, 0.0, 0.5, 5)
    want_c, want_s = [0.0] * 5, [0.0] * 5
    for xi, yi in zip(x.tolist(), y.tolist(), strict=True):
        pos = xi / 0.5
        left = min(int(pos), 3)
        f = pos - left
        want_c[left] += 1 - f
        want_c[left + 1] += f
        want_s[left] += (1 - f) * yi
        want_s[left + 1] += f * yi
    torch.testing.assert_close(counts, torch.tensor(want_c, dtype=torch.float64))
    torch.testing.assert_close(sums, torch.tensor(want_s, dtype=torch.float64))
    assert float(counts.sum()) == pytest.approx(5.0)


@pytest.mark.parametrize("h", [0.05, 0.2])
def test_binned_gaussian_is_close_to_exact_on_the_grid_and_off_it(h):
    x, y = _data()
    fit = nwcore.nw_binned(x, y, None, "gaussian", 1 / h)
    assert fit.approximate and fit.grid.shape == (401,)
    exact = nwcore.nadaraya_watson(fit.grid, x, y, "gaussian", 1 / h, need_weights=False).y_hat
    assert float((fit.y_hat - exact).abs().max()) <= 1e-3 * float(y.std())
    q = torch.rand(500, generator=torch.Generator().manual_seed(5), dtype=torch.float64) * 5
    off = nwcore.nw_binned(x, y, q, "gaussian", 1 / h)
    exact_q = nwcore.nadaraya_watson(q, x, y, "gaussian", 1 / h, need_weights=False).y_hat
    assert float((off.y_hat - exact_q).abs().max()) <= 2e-3 * float(y.std())


def test_fft_and_direct_convolution_agree():
    x, y = _data(5000)
    a = nwcore.nw_binned(x, y, None, "gaussian", 10.0, convolution="direct")
    b = nwcore.nw_binned(x, y, None, "gaussian", 10.0, convolution="fft")
    assert (a.convolution, b.convolution) == ("direct", "fft")
    torch.testing.assert_close(a.y_hat, b.y_hat, rtol=0, atol=1e-9)


@pytest.mark.parametrize("kernel", ["boxcar", "epanechnikov", "triangular"])
def test_binned_compact_kernel_gaps_use_the_nearest_key_rule(kernel):
    # keys in two clusters with a gap: the grid points in the gap have no key in the window
    x = torch.cat([torch.linspace(0, 1, 200), torch.linspace(4, 5, 200)]).double()
    y = torch.cat([torch.zeros(200), torch.ones(200)]).double()
    q = torch.tensor([0.5, 1.8, 3.2, 4.5, 8.0], dtype=torch.float64)
    fit = nwcore.nw_binned(x, y, q, kernel, w=5.0)
    exact = nwcore.nadaraya_watson(q, x, y, kernel, 5.0)
    assert torch.isfinite(fit.y_hat).all() and torch.isfinite(fit.grid_y).all()
    torch.testing.assert_close(fit.y_hat, exact.y_hat, rtol=0, atol=1e-6)
    assert torch.equal(fit.empty, exact.empty)
    assert fit.empty.tolist() == [False, True, True, False, True]


def test_constant_kernel_and_zero_w_are_the_mean():
    x, y = _data(1000)
    for kernel, w in [("constant", 3.0), ("gaussian", 0.0)]:
        fit = nwcore.nw_binned(x, y, torch.tensor([1.0, 2.0]), kernel, w)
        torch.testing.assert_close(fit.y_hat, y.mean().expand(2))


def test_binned_refuses_bad_input():
    with pytest.raises(NWError, match="1-D"):
        nwcore.nw_binned([[0.0, 1.0]], [1.0])
    with pytest.raises(NWError, match="NaN"):
        nwcore.nw_binned([0.0, float("nan")], [1.0, 2.0])
    with pytest.raises(NWError, match="NaN"):
        nwcore.nw_binned([0.0, 1.0], [1.0, float("inf")])
    with pytest.raises(NWError, match="one y per x"):
        nwcore.nw_binned([0.0, 1.0], [1.0])
    with pytest.raises(NWError, match="grid_size"):
        nwcore.nw_binned([0.0, 1.0], [1.0, 2.0], grid_size=1)
    with pytest.raises(NWError, match="convolution"):
        nwcore.nw_binned([0.0, 1.0], [1.0, 2.0], convolution="wavelet")

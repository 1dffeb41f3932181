"""The fast pieces of nw_binned on the CPU (blocked complex binning, np.convolve over the
kernel's nonzero taps, y checked through its binned sums) against explicit loops and the
exact path."""

import math
import warnings

import numpy as np
import pytest
import torch

import nwcore
from nwcore import NWError
from nwcore import binned as nb

# the kernels written out by hand (u >= 0), independent of nwcore's table
FORMULAS = {
    "gaussian": lambda u: math.exp(-0.5 * u * u),
    "boxcar": lambda u: 1.0 if u <= 1.0 else 0.0,
    "epanechnikov": lambda u: 0.75 * (1.0 - u * u) if u < 1.0 else 0.0,
    "triangular": lambda u: 1.0 - u if u < 1.0 else 0.0,
}


def _loop_binning(x, y, start, step, size):
    counts, sums = [0.0] * size, [0.0] * size
    end = start + step * (size - 1)
    for xi, yi in zip(x, y, strict=True):
        pos = (min(max(xi, start), end) - start) / step
        left = min(int(math.floor(pos)), size - 2)
        f = pos - left
        counts[left] += 1 - f
        counts[left + 1] += f
        sums[left] += (1 - f) * yi
        sums[left + 1] += f * yi
    return np.array(counts), np.array(sums)


@pytest.mark.parametrize(
    "binning,block",
    [(nwcore.linear_binning, 7), (nwcore.linear_binning, 1 << 15), (nb._linear_binning_torch, 0)],
)
def test_blocked_binning_matches_a_loop_across_blocks(monkeypatch, binning, block):
    # 7: many blocks and a short last one; the torch path (accelerators) has no blocks
    monkeypatch.setattr(nb, "_BIN_BLOCK", block)
    rng = np.random.default_rng(3)
    x = np.concatenate([rng.uniform(0.0, 2.0, 300), [0.0, 2.0, 0.5, 1.5]])  # ends, nodes
    y = rng.normal(size=x.shape[0])
    for size in (2, 5, 41):
        counts, sums = binning(
            torch.from_numpy(x), torch.from_numpy(y), 0.0, 2.0 / (size - 1), size
        )
        want_c, want_s = _loop_binning(x.tolist(), y.tolist(), 0.0, 2.0 / (size - 1), size)
        np.testing.assert_allclose(counts.numpy(), want_c, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(sums.numpy(), want_s, rtol=1e-12, atol=1e-12)
        assert float(counts.sum()) == pytest.approx(x.shape[0], rel=1e-14)


def test_binning_counts_points_outside_the_grid_at_its_ends():
    x = torch.tensor([-3.0, 0.2, 0.7, 1.0, 9.0], dtype=torch.float64)
    y = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
    counts, sums = nwcore.linear_binning(x, y, 0.0, 0.5, 3)
    want_c, want_s = _loop_binning(x.tolist(), y.tolist(), 0.0, 0.5, 3)
    np.testing.assert_allclose(counts.numpy(), want_c, rtol=1e-14)
    np.testing.assert_allclose(sums.numpy(), want_s, rtol=1e-14)
    assert x.tolist() == [-3.0, 0.2, 0.7, 1.0, 9.0]  # the caller's x is not clamped in place


def test_binning_no_points_gives_zeros():
    counts, sums = nwcore.linear_binning(
        torch.zeros(0).double(), torch.zeros(0).double(), 0.0, 1.0, 4
    )
    assert counts.tolist() == [0.0] * 4 and sums.tolist() == [0.0] * 4


def test_binning_refuses_nan_x():
    with pytest.raises(NWError, match="NaN"):
        nwcore.linear_binning(torch.tensor([0.0, math.nan]), torch.ones(2), 0.0, 1.0, 3)


@pytest.mark.parametrize("kernel", list(FORMULAS))
@pytest.mark.parametrize("h_steps", [0.3, 1.7, 2.5, 6.0, 40.0])
def test_taps_are_the_kernel_at_every_offset_with_only_zeros_left_out(kernel, h_steps):
    # h = 0.3 steps: the Gaussian underflows to 0 past ~12 offsets, and so is cut there
    size, step = 60, 0.1
    a = 1.0 / (h_steps * step)
    taps = nb._taps(nwcore.kernels.as_kernel(kernel), a, step, size - 1, torch.float64, "cpu")
    reach = (taps.shape[0] - 1) // 2
    full = [FORMULAS[kernel](abs(k) * (step * a)) for k in range(-(size - 1), size)]
    kept = full[size - 1 - reach : size + reach]
    np.testing.assert_allclose(taps.numpy(), kept, rtol=1e-14, atol=0)
    assert all(v == 0.0 for v in full[: size - 1 - reach] + full[size + reach :])
    assert kept[0] != 0.0  # cut at the last nonzero offset, not before


@pytest.mark.parametrize("conv", [nb._conv_numpy, nb._conv_toeplitz])  # CPU, accelerator
@pytest.mark.parametrize("size,reach", [(2, 1), (9, 3), (50, 49), (50, 80), (401, 120)])
def test_direct_convolution_matches_a_double_loop(conv, size, reach):
    rng = np.random.default_rng(size + reach)
    signal = rng.normal(size=(2, size))
    half = rng.uniform(0.1, 1.0, reach + 1)
    taps = np.concatenate([half[::-1], half[1:]])  # symmetric (2L+1,)
    got = conv(torch.from_numpy(signal), torch.from_numpy(taps)).numpy()
    want = np.zeros_like(signal)
    for c in range(2):
        for g in range(size):
            for j in range(size):
                if abs(g - j) <= reach:
                    want[c, g] += signal[c, j] * taps[g - j + reach]
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel", list(FORMULAS))
@pytest.mark.parametrize("h", [0.05, 0.3, 1.1])
def test_keys_on_grid_nodes_give_the_exact_fit_with_empty_windows(kernel, h):
    # keys on 3 of every 4 nodes of the grid (step 1/8: exact in binary), with a gap (nodes
    # 12-27 empty), so binning is exact and the binned fit is the exact one; h = 0.05 (0.4
    # steps): the Gaussian's taps underflow within the grid and compact windows are empty
    nodes = torch.linspace(0.0, 5.0, 41, dtype=torch.float64)
    assert torch.equal(nodes * 8, torch.arange(41.0, dtype=torch.float64))
    idx = [i for i in range(41) if i % 4 != 3 and not 12 <= i <= 27]
    x = nodes[idx].repeat_interleave(2)
    y = torch.sin(3 * x) + torch.tensor([0.2, -0.1]).repeat(len(idx)).double()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # h under two grid steps: the warning is not the point
        fit = nwcore.nw_binned(x, y, None, kernel, 1 / h, grid_size=41, convolution="direct")
    exact = nwcore.nadaraya_watson_fast(nodes, x, y, kernel, 1 / h)
    np.testing.assert_allclose(fit.y_hat.numpy(), exact.y_hat.numpy(), rtol=0, atol=1e-12)
    assert torch.equal(fit.empty, exact.empty)
    if kernel != "gaussian" and h < 1:
        assert bool(fit.empty.any())  # the gap was exercised


@pytest.mark.parametrize(
    "interpolate,block",
    [(nb._interpolate_numpy, 7), (nb._interpolate_numpy, 1 << 15), (nb._interpolate_torch, 0)],
)
def test_interpolation_matches_np_interp_and_flags_empty_neighbours(
    monkeypatch, interpolate, block
):
    monkeypatch.setattr(nb, "_BIN_BLOCK", block)  # the CPU's blocks; the torch path has none
    rng = np.random.default_rng(7)
    size, lo, step = 23, -1.5, 0.25
    grid = lo + step * np.arange(size)
    grid_y = rng.normal(size=size)
    empty = np.zeros(size, bool)
    empty[[4, 5, 17]] = True
    q = np.concatenate([rng.uniform(grid[0], grid[-1], 200), grid, [grid[0], grid[-1]]])
    y_hat, flag = interpolate(
        torch.from_numpy(grid_y), torch.from_numpy(empty), torch.from_numpy(q), lo, step
    )
    np.testing.assert_allclose(y_hat.numpy(), np.interp(q, grid, grid_y), rtol=0, atol=1e-12)
    want = []
    for qi in q:  # a query next to an empty grid point, or on one
        left = min(int(math.floor((qi - lo) / step)), size - 2)
        want.append(bool(empty[left] or empty[left + 1]))
    assert flag.tolist() == want and any(want) and not all(want)


def test_queries_are_refused_with_a_message():
    x, y = torch.linspace(0, 1, 50).double(), torch.ones(50).double()
    with pytest.raises(NWError, match="queries holds 1 NaN/inf"):
        nwcore.nw_binned(x, y, torch.tensor([0.5, math.nan]).double())
    with pytest.raises(NWError, match="queries must be 1-D like x"):
        nwcore.nw_binned(x, y, torch.zeros(3, 2).double())
    with pytest.raises(NWError, match="queries is empty"):
        nwcore.nw_binned(x, y, [])
    fit = nwcore.nw_binned(x, y, 0.5)  # one number: one query
    assert fit.y_hat.shape == (1,)


def test_nan_or_inf_y_is_refused_on_every_path():
    x = torch.linspace(0, 1, 5000, dtype=torch.float64)
    for bad in (math.nan, math.inf, -math.inf):
        y = torch.ones(5000, dtype=torch.float64)
        y[4321] = bad
        for kernel, w in (("gaussian", 10.0), ("epanechnikov", 10.0), ("constant", 1.0)):
            with pytest.raises(
                NWError, match=r"y holds 1 NaN/inf value\(s\), the first at index \(4321,\)"
            ):
                nwcore.nw_binned(x, y, None, kernel, w)
        with pytest.raises(NWError, match="NaN/inf"):
            nwcore.nw_binned(x, y, None, "gaussian", 10.0, grid_size=3000)  # FFT


def test_huge_finite_y_is_not_refused():
    # the total of the binned sums overflows to inf, but every y is finite: the full check
    # lets it through, and the fit (per grid point sums stay finite) is y itself
    x = torch.linspace(0, 1, 100, dtype=torch.float64)
    y = torch.full((100,), 1e307, dtype=torch.float64)
    fit = nwcore.nw_binned(x, y, None, "gaussian", 200.0)  # kernel sums ~1.3: no overflow
    np.testing.assert_allclose(fit.y_hat.numpy(), 1e307, rtol=1e-12)


@pytest.mark.parametrize("queries", [None, 50])
def test_y_near_the_float_limit_whose_sums_overflow_pools_as_scaled_y(queries):
    """y = +-1.7e308: the binned sums overflow (inf - inf = NaN). NW is linear in y, so the
    fit must be the fit of y / 1.7e308 times 1.7e308: finite, never NaN, no warning."""
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(10_000, dtype=torch.float64, generator=gen)
    y = torch.rand(10_000, generator=gen, dtype=torch.float64).lt(0.5).to(torch.float64) * 2 - 1
    q = None if queries is None else torch.rand(queries, dtype=torch.float64, generator=gen)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = nwcore.nw_binned(x, y * 1.7e308, q, "gaussian", 20.0)
    unit = nwcore.nw_binned(x, y, q, "gaussian", 20.0)
    assert bool(torch.isfinite(fit.y_hat).all()) and bool(torch.isfinite(fit.grid_y).all())
    np.testing.assert_allclose(fit.y_hat.numpy(), unit.y_hat.numpy() * 1.7e308, rtol=1e-12)

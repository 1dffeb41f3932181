"""nw_binned warns when the bandwidth is under two grid steps, and its advice works."""

import re
import warnings

import pytest
import torch

import nwcore


def _data(n=20_000, offset=0.0):
    g = torch.Generator().manual_seed(5)
    x = offset + torch.rand(n, generator=g, dtype=torch.float64) * 5
    y = 2 * (x - offset).sin() + 0.5 * torch.randn(n, generator=g, dtype=torch.float64)
    return x, y


@pytest.mark.parametrize("offset", [0.0, 1e8])
def test_small_h_warns_with_the_step_and_a_grid_size_that_fits(offset):
    x, y = _data(offset=offset)
    h = 0.005  # grid 401 on [0, 5]: step 0.0125, 0.4 steps per h
    exact = nwcore.nadaraya_watson_fast(x[:500], x, y, "gaussian", 1 / h).y_hat
    with pytest.warns(UserWarning, match=r"h = 1/w = 0\.005 is under 2 grid steps") as rec:
        coarse = nwcore.nw_binned(x, y, x[:500], "gaussian", 1 / h)
    message = str(rec[0].message)
    assert "step 0.0125" in message and "grid_size=401" in message
    assert rec[0].filename == __file__  # points at the caller's line
    needed = int(re.search(r"grid_size >= (\d+)", message).group(1))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the advised grid: no warning
        fine = nwcore.nw_binned(x, y, x[:500], "gaussian", 1 / h, grid_size=needed)
    err_coarse = float((coarse.y_hat - exact).abs().max() / y.std())
    err_fine = float((fine.y_hat - exact).abs().max() / y.std())
    assert err_coarse > 0.05  # what the warning is about
    assert err_fine < 0.1 * err_coarse


@pytest.mark.parametrize("kernel", ["epanechnikov", "boxcar"])
def test_compact_kernels_warn_too_and_wide_bandwidths_do_not(kernel):
    x, y = _data(2000)
    with pytest.warns(UserWarning, match="grid steps"):
        nwcore.nw_binned(x, y, None, kernel, 1 / 0.01)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nwcore.nw_binned(x, y, None, kernel, 1 / 0.05)  # 4 steps per h
        nwcore.nw_binned(x, y, None, "constant", 1e6)  # no bandwidth at all

"""nwcore.threads: small leave-one-out searches run on one torch thread, and give the
caller's thread count back, also when the search fails."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import nwcore
from nwcore import threads


def _data(n: int) -> tuple[np.ndarray, np.ndarray]:
    g = np.random.default_rng(5)
    x = 1e3 + g.uniform(0, 5, n)
    return x, np.sin(x) + 0.3 * g.standard_normal(n)


@pytest.fixture
def two_threads():
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(before)


def test_a_small_search_runs_on_one_thread_and_restores_the_count(two_threads) -> None:
    seen = []
    x, y = _data(300)
    nwcore.loo_bandwidth(x, y, callback=lambda i, loss, w: seen.append(torch.get_num_threads()))
    assert seen and set(seen) == {1}
    assert torch.get_num_threads() == 2


def test_a_large_search_keeps_every_thread(two_threads) -> None:
    seen = []
    x, y = _data(threads.SERIAL_MAX_POINTS + 1)
    nwcore.loo_bandwidth(x, y, callback=lambda i, loss, w: seen.append(torch.get_num_threads()))
    assert seen and set(seen) == {2}


def test_the_count_comes_back_when_the_search_fails(two_threads) -> None:
    def stop(i, loss, w):
        raise KeyboardInterrupt  # a user stopping a long search

    x, y = _data(200)
    with pytest.raises(KeyboardInterrupt):
        nwcore.loo_bandwidth(x, y, callback=stop)
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "boxcar"])
def test_one_thread_or_two_find_the_same_width(kernel, two_threads, monkeypatch) -> None:
    """The same optimum either way: the serial block changes the schedule, not the result."""
    x, y = _data(800)
    serial = nwcore.loo_bandwidth(x, y, kernel)
    monkeypatch.setattr(threads, "SERIAL_MAX_POINTS", 0)  # now the search keeps both threads
    seen = []
    both = nwcore.loo_bandwidth(
        x, y, kernel, callback=lambda i, loss, w: seen.append(torch.get_num_threads())
    )
    assert set(seen) == {2}
    assert both.h == pytest.approx(serial.h, rel=1e-9)
    assert both.loss == pytest.approx(serial.loss, rel=1e-9)

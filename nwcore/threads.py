"""Small searches run on one CPU thread.

A bandwidth search at a few thousand points is hundreds of small torch ops (a band of
neighbours, a window's sums, a few hundred kB each). Split over torch's intra-op threads, each
op ends on a barrier that waits for every thread; when another process holds a core (a shared
server, a test run, a browser), that wait is a scheduler time slice per op. Measured with
loo_bandwidth on the 2-core machine (tests/bench/results/NOTES.md, "Threads"): with one other
busy process, two threads took 1.5-6.5x the time of one up to n = 3,000 (700-950 ms against
20-27 ms at n = 1,000 while a test suite ran); on quiet cores two threads gain 1.1-1.5x there.
Above SERIAL_MAX_POINTS the ops are large enough that the second thread wins (1.6-1.8x
quiet) and loses less when busy (1.3-1.6x): those searches keep every thread.

>>> import torch
>>> before = torch.get_num_threads()
>>> with serial_below(10, limit=100):
...     torch.get_num_threads()
1
>>> torch.get_num_threads() == before
True
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch

__all__ = ["SERIAL_MAX_POINTS", "serial_below"]

# Up to this many points a leave-one-out search runs on one thread (see the module docstring
# and the measurement it cites for where the second thread starts to pay).
SERIAL_MAX_POINTS = 5_000


@contextlib.contextmanager
def serial_below(n: int, limit: int | None = None) -> Iterator[None]:
    """One torch CPU thread inside the block when n <= limit (SERIAL_MAX_POINTS by default);
    the caller's count after it.

    torch.set_num_threads applies to the calling thread's own parallel regions (OpenMP): other
    threads already using torch keep their count (a thread that starts using torch while the
    block runs starts with one). CUDA work is unaffected.
    """
    limit = SERIAL_MAX_POINTS if limit is None else limit
    before = torch.get_num_threads()
    if n > limit or before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)

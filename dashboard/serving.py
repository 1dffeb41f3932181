"""How one server process shares itself between a class: the garbage collector set up for a
long-lived server, and one page run at a time.

With torch, pandas and Streamlit imported a process holds ~260,000 objects that live as long
as it does; every full collection walks all of them (~125 ms of one core on the 2-core class
machine, measured in tests/load/results/NOTES.md), and while it runs no participant's page
moves. `gc.freeze()` after the first page has run moves them out of the collector's sight:
later collections walk only what the sessions create. Nothing is disabled: reference counting
frees as before and cycles made by sessions are still collected (.streamlit/config.toml also
turns off Streamlit's extra full collection after every script run).
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_frozen = False


def freeze_imports_once() -> None:
    """Call at the end of a script run; the first call in a process freezes, later ones return."""
    global _frozen
    if _frozen:
        return
    with _lock:
        if not _frozen:
            gc.collect()  # what is garbage now is not frozen with the rest
            gc.freeze()
            _frozen = True


# One page run at a time per process; the others wait on a semaphore, using no CPU. Torch ops
# release the GIL many times per run: with 30 runs in flight each release hands the GIL to
# another thread, and the run waits to get it back (a convoy). Measured with the load test,
# 30 participants, no think time, one process: p95 13.4 s and 275 ms CPU per click with no
# limit, 3.0 s and 89 ms with one slot, 3.7 s and 120 ms with two (tests/load/results/NOTES.md).
# DASHBOARD_SCRIPT_SLOTS=0 turns the limit off.
SLOTS = int(os.environ.get("DASHBOARD_SCRIPT_SLOTS", "1"))
_slots = threading.BoundedSemaphore(max(SLOTS, 1))
_held = threading.local()


@contextlib.contextmanager
def script_slot() -> Iterator[None]:
    """Around a page's run: wait until fewer than SLOTS pages run in this process."""
    if SLOTS <= 0:
        yield
        return
    with _slots:
        _held.value = True
        try:
            yield
        finally:
            _held.value = False


@contextlib.contextmanager
def slot_released() -> Iterator[None]:
    """Around seconds of work inside a page run (training on request): give the slot to the
    other participants meanwhile, so one Train click does not stall every click behind it."""
    if not getattr(_held, "value", False):
        yield
        return
    _held.value = False
    _slots.release()
    try:
        yield
    finally:
        _slots.acquire()
        _held.value = True

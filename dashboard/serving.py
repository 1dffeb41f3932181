"""Once per server process: the garbage collector set up for a long-lived class server.

With torch, pandas and Streamlit imported a process holds ~260,000 objects that live as long
as it does; every full collection walks all of them (~125 ms of one core on the 2-core class
machine, measured in tests/load/results/NOTES.md), and while it runs no participant's page
moves. `gc.freeze()` after the first page has run moves them out of the collector's sight:
later collections walk only what the sessions create. Nothing is disabled: reference counting
frees as before and cycles made by sessions are still collected (.streamlit/config.toml also
turns off Streamlit's extra full collection after every script run).
"""

from __future__ import annotations

import gc
import threading

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

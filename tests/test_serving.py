"""dashboard/serving.py: one page run at a time per process, and training outside that slot.

Checked with real threads and events (what Streamlit's script threads do), not by reading the
semaphore's internals.
"""

from __future__ import annotations

import threading
import time

import pytest

from dashboard import serving

WAIT_S = 5.0  # a generous bound on every wait: a deadlock fails the test instead of hanging it


@pytest.fixture(autouse=True)
def one_slot(monkeypatch):
    monkeypatch.setattr(serving, "SLOTS", 1)
    monkeypatch.setattr(serving, "_slots", threading.BoundedSemaphore(1))


def _run_all(targets):
    threads = [threading.Thread(target=f) for f in targets]
    for th in threads:
        th.start()
    for th in threads:
        th.join(WAIT_S)
        assert not th.is_alive(), "a page run never got the slot"


def test_page_runs_take_turns():
    inside, most = [0], [0]
    lock = threading.Lock()

    def page():
        with serving.script_slot():
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.02)  # long enough for every other thread to try to enter
            with lock:
                inside[0] -= 1

    _run_all([page] * 6)
    assert most[0] == 1


def test_no_limit_when_slots_is_zero(monkeypatch):
    monkeypatch.setattr(serving, "SLOTS", 0)
    both_in = threading.Barrier(2, timeout=WAIT_S)  # broken (an error) unless both are inside

    def page():
        with serving.script_slot():
            both_in.wait()

    _run_all([page, page])


def test_training_gives_the_slot_to_other_pages():
    training, other_done, order = threading.Event(), threading.Event(), []

    def trainer():
        with serving.script_slot():
            with serving.slot_released():
                training.set()
                assert other_done.wait(WAIT_S), "the other page waited for the training"
                order.append("training ends")
            order.append("trainer's page ends")

    def other():
        assert training.wait(WAIT_S)
        with serving.script_slot():
            order.append("other page")
        other_done.set()

    _run_all([trainer, other])
    assert order == ["other page", "training ends", "trainer's page ends"]


def test_the_trainer_waits_for_its_slot_back():
    """After training, the trainer's page goes on only when the page that took the slot is done."""
    released, took_slot, order = threading.Event(), threading.Event(), []

    def trainer():
        with serving.script_slot():
            with serving.slot_released():
                released.set()
                assert took_slot.wait(WAIT_S)
            order.append("trainer resumes")

    def other():
        assert released.wait(WAIT_S)
        with serving.script_slot():
            took_slot.set()
            time.sleep(0.05)
            order.append("other page ends")

    _run_all([trainer, other])
    assert order == ["other page ends", "trainer resumes"]


def test_released_outside_a_page_run_is_a_no_op():
    with serving.slot_released():  # not in a slot: nothing to give back (no ValueError)
        pass
    with serving.script_slot():  # and the slot still admits exactly one run
        assert not serving._slots.acquire(blocking=False)

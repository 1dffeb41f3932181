"""Faults: the server killed in the middle of training comes back with no clean-up."""

import asyncio
import subprocess

from tests.load.server import ROOT, DashboardServer
from tests.load.stclient import StreamlitSession, run_sync


def _untracked_files() -> set[str]:
    out = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    return set(out.stdout.splitlines()) if out.returncode == 0 else set()


async def _start_training(url: str) -> None:
    async with StreamlitSession(url) as s:
        await s.rerun()
        s.set("n_train", 1000)  # big enough that training is still running when we kill
        s.set("Heads", 8)
        s.set("Training mode", "converged")
        await s.rerun()
        s.set("Train", True)
        await s.send_rerun()
        await asyncio.sleep(1.0)  # the script is now inside training


async def _train_to_the_end(url: str) -> list[str]:
    async with StreamlitSession(url, timeout=120) as s:
        first = await s.rerun()
        assert not first.exceptions and not first.errors
        s.set("Train", True)
        result = await s.rerun()
        assert not result.exceptions, result.exceptions
        return result.texts


def test_server_killed_mid_training_restarts_clean(tmp_path):
    before = _untracked_files()
    server = DashboardServer(log_path=tmp_path / "first.log").start()
    try:
        run_sync(_start_training(server.ws))
    finally:
        server.kill()  # SIGKILL: no shutdown handlers run
    assert server.proc.returncode != 0

    # same port, nothing cleaned up by hand
    with DashboardServer(port=server.port, log_path=tmp_path / "second.log") as again:
        texts = run_sync(_train_to_the_end(again.ws))
    assert any("Trained in" in t for t in texts), texts
    assert _untracked_files() == before, "the crash left files behind in the repository"

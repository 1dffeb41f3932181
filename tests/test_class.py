"""`make class`: N dashboard processes behind HAProxy (tests/load/cluster.py).

Checked against what HAProxy and Streamlit say themselves: `haproxy -c` judges the generated
config, each process's /_stcore/metrics counts the sessions it holds (stickiness), and the
page a participant gets back after its process is killed is compared with the link it opened.
"""

from __future__ import annotations

import asyncio
import re
import tomllib
import urllib.request
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.load.cluster import HAPROXY, ClassServer, check_config, haproxy_config
from tests.load.server import ROOT, DashboardServer
from tests.load.stclient import RunResult, StreamlitSession, run_sync

needs_haproxy = pytest.mark.skipif(
    not Path(HAPROXY).exists(),
    reason=f"HAProxy not installed at {HAPROXY} (.ci/run installs it; apt-get install haproxy)",
)
LINK = "seed=4242&kernel=boxcar&w=2&heads=2&mode=converged&train=1"  # trains only when asked


def _seeds(result: RunResult) -> set[int]:
    text = "\n".join(result.texts + result.charts)
    return {int(s) for s in re.findall(r"\bseed (\d+)", text)}


def _shows_link_view(result: RunResult) -> None:
    """The page for LINK: no error, its own seed only, boxcar at w = 2, the trained model."""
    assert not result.exceptions and not result.errors, (result.exceptions, result.errors)
    assert _seeds(result) == {4242}
    assert "K(u) = 1[|u| <= 1]" in result.texts  # the boxcar's caption
    assert "w = 2, bandwidth h = 1/w = 0.5" in result.texts
    assert any("Trained in" in t for t in result.texts), result.texts


def _active_sessions(http: str) -> int:
    """The number of open tabs a dashboard process holds, from Streamlit's own metrics."""
    req = urllib.request.Request(f"{http}/_stcore/metrics", headers={"Accept": "text/plain"})
    with urllib.request.urlopen(req, timeout=10) as r:
        text = r.read().decode()
    return int(re.search(r"^active_sessions (\d+)", text, re.M).group(1))


@needs_haproxy
def test_generated_config_is_valid_haproxy(tmp_path):
    cfg = tmp_path / "haproxy.cfg"
    cfg.write_text(haproxy_config([18001, 18002, 18003, 18004], port=18000, address="0.0.0.0"))
    assert check_config(cfg) is None
    cfg.write_text(haproxy_config([18001], port=18000) + "    nonsense-keyword 1\n")
    assert check_config(cfg), "haproxy -c must refuse a broken config (else the check is void)"


def test_process_count_is_refused_with_the_range():
    with pytest.raises(ValueError, match="1 to 16 processes, not 0"):
        ClassServer(0)


@needs_haproxy
def test_sticky_sessions_and_failover(tmp_path):
    """Tabs stay on their process; when it dies they reconnect to another one and the page
    comes back from the link; `make class` then starts the dead process again."""
    with ClassServer(2, build=tmp_path) as server:
        run_sync(_sticky_and_failover(server))
        assert server.restart_dead() in ([0], [1])
        assert all(b.proc.poll() is None for b in server.backends)


async def _sticky_and_failover(server: ClassServer) -> None:
    backends = server.backends
    async with StreamlitSession(server.ws, timeout=120) as tab:
        _shows_link_view(await tab.rerun(LINK))
        assert dict(parse_qsl(tab.query_string)) == dict(parse_qsl(LINK))  # the address bar
        home = server.process_of(tab.cookies)
        assert home in (0, 1), tab.cookies
        other = 1 - home
        # more tabs of the same browser (same cookie) land on the same process ...
        async with (
            StreamlitSession(server.ws, cookies=tab.cookies) as t2,
            StreamlitSession(server.ws, cookies=tab.cookies) as t3,
        ):
            await t2.rerun()
            await t3.rerun()
            assert _active_sessions(backends[home].http) == 3
            assert _active_sessions(backends[other].http) == 0
        # ... and a second participant (no cookie yet) goes to the other, less busy one
        async with StreamlitSession(server.ws) as neighbour:
            first = await neighbour.rerun("seed=777")
            assert _seeds(first) == {777}
            assert server.process_of(neighbour.cookies) == other

            backends[home].kill()  # the participant's process dies (SIGKILL)
            with pytest.raises(Exception):  # noqa: B017, PT011 - the tab's connection is gone
                await tab.rerun()

            # the browser reconnects with its cookie and the address bar's query string
            async with StreamlitSession(server.ws, timeout=120, cookies=tab.cookies) as again:
                _shows_link_view(await again.rerun(tab.query_string))
                assert server.process_of(again.cookies) == other
            assert _seeds(await neighbour.rerun()) == {777}  # the neighbour saw nothing of it


def test_closed_tab_session_is_dropped_after_the_ttl(tmp_path):
    """A reconnect within server.disconnectedSessionTTL resumes the tab's session; after it,
    the session is gone and the tab gets a new one (the page is rebuilt from the link)."""
    ttl = 3
    options = {"server.disconnectedSessionTTL": str(ttl)}
    with DashboardServer(log_path=tmp_path / "ttl.log", options=options) as server:
        run_sync(_resume_before_and_after_ttl(server.ws, ttl))


async def _resume_before_and_after_ttl(url: str, ttl: float) -> None:
    async with StreamlitSession(url, timeout=120) as tab:
        await tab.rerun("seed=4242")
    async with StreamlitSession(url, resume=tab.session_id) as back:
        await back.rerun("seed=4242")
    assert back.session_id == tab.session_id  # resumed: a network blip costs nothing
    await asyncio.sleep(ttl + 1.5)
    async with StreamlitSession(url) as other:  # any tab closing reaps expired sessions
        await other.rerun()
    async with StreamlitSession(url, resume=tab.session_id) as late:
        result = await late.rerun("seed=4242")
    assert late.session_id != tab.session_id
    assert _seeds(result) == {4242}


def test_shipped_config_bounds_closed_tabs():
    """The shipped settings drop a closed tab's session within two minutes."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert 10 <= config["server"]["disconnectedSessionTTL"] <= 120

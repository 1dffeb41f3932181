"""Class-sized load test: participants on the dashboard, one process or several behind HAProxy.

    python -m tests.load [--sessions 30] [--interactions 20] [--think 0] [--processes 1]
                         [--url http://host:port/] [--out tests/bench/results]

Each participant is a protocol-level browser tab (tests/load/stclient.py) with its own seed.
It loads the page, picks its seed, then changes Kernel, w, Heads, noise and n_train and
presses Train, checking after every step that the page ran without an exception or an error
and shows *its own* seed (so no participant ever sees another's data). Reported: latency per
interaction (send to script finished; p50/p95/max), the servers' resident memory (all
processes together) after 60 and after all interactions, how the participants spread over
the processes, the machine's load average, and every problem seen.

--processes 1 (the default) starts one server, as `make run` does; --processes N > 1 starts
N behind HAProxy, as `make class N=...` does (tests/load/cluster.py), and every participant
goes through the proxy with its sticky-session cookie. --url drives a setup that is already
running (memory is then not measured). Without --url traffic goes to 127.0.0.1 only, and the
run is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

from tests.load.cluster import ClassServer
from tests.load.server import ROOT, DashboardServer
from tests.load.stclient import RunResult, StreamlitSession

KERNELS = ["gaussian", "boxcar", "epanechnikov", "triangular", "constant"]
W_VALUES = ["0.501", "1", "2", "5.01", "10", "0.2"]  # as the w select_slider labels them
_SEED = re.compile(r"\bseed (\d+)")
TIME_LIMIT_S = 900  # the whole run stops here whatever happens
MAX_SESSIONS = 300


class Tally:
    def __init__(self, rss_probe, early_mark: int):
        self.latencies: list[float] = []
        self.problems: list[str] = []
        self.rss_probe = rss_probe
        self.early_mark = early_mark
        self.rss_early: int | None = None
        self.rss_600: int | None = None
        self.process_of: dict[int, str] = {}  # participant -> sticky cookie (proxied runs)

    def record(self, who: int, step: str, result: RunResult, seed: int) -> None:
        self.latencies.append(result.seconds)
        if len(self.latencies) == self.early_mark:
            self.rss_early = self.rss_probe()
        if len(self.latencies) == 600:
            self.rss_600 = self.rss_probe()
        for exc in result.exceptions:
            self.problems.append(f"participant {who}, {step}: exception {exc[:300]}")
        for err in result.errors:
            self.problems.append(f"participant {who}, {step}: error shown: {err[:200]}")
        seen = {int(s) for text in result.texts + result.charts for s in _SEED.findall(text)}
        if seed not in seen:
            self.problems.append(f"participant {who}, {step}: its own 'seed {seed}' not shown")
        if seen - {seed}:
            self.problems.append(f"participant {who}, {step}: saw other seeds {seen - {seed}}")


def plan(who: int, interactions: int) -> list[tuple[str, object]]:
    """A participant's own sequence of (widget label, value); Train is pressed once."""
    steps: list[tuple[str, object]] = []
    for j in range(interactions):
        k = who + j // 5  # each widget steps through its values as the rounds go by
        choice = j % 5
        if choice == 0:
            steps.append(("Kernel", KERNELS[k % len(KERNELS)]))
        elif choice == 1:
            steps.append(("w", W_VALUES[k % len(W_VALUES)]))
        elif choice == 2:
            steps.append(("Heads", 1 + k % 4))
        elif choice == 3:
            steps.append(("noise", round(0.1 + 0.1 * (k % 8), 2)))
        else:
            steps.append(("n_train", 30 + 10 * (k % 6)))
    steps[interactions // 2] = ("Train", True)
    return steps


async def participant(
    who: int, url: str, interactions: int, think: float, tally: Tally, start: asyncio.Event
):
    seed = 1000 + who
    pause = random.Random(seed)  # each participant reads the page for its own while
    await start.wait()
    async with StreamlitSession(url) as session:
        await session.rerun()  # the page as everyone first sees it
        tally.process_of[who] = next(iter(session.cookies.values()), "")
        session.set("seed", seed)
        tally.record(who, "pick seed", await session.rerun(), seed)
        for label, value in plan(who, interactions - 1):
            await asyncio.sleep(think * pause.uniform(0.5, 1.5))
            session.set(label, value)
            tally.record(who, f"{label}={value}", await session.rerun(), seed)


async def run(sessions: int, interactions: int, think: float, ws: str, rss_probe) -> Tally:
    tally = Tally(rss_probe, early_mark=60)
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(participant(i, ws, interactions, think, tally, start))
        for i in range(sessions)
    ]
    start.set()
    done = await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), TIME_LIMIT_S)
    for i, outcome in enumerate(done):
        if isinstance(outcome, BaseException):
            tally.problems.append(f"participant {i} stopped: {outcome!r}")
    return tally


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def ws_url(url: str) -> str:
    """The websocket address of a dashboard (or proxy) at http(s)://host:port/."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"--url must look like http://host:8501/, not {url!r}")
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/_stcore/stream"


@contextlib.contextmanager
def target(processes: int, url: str | None):
    """(websocket url, the server or None, what was measured) for the run.

    A server this run starts is warmed up first: each process serves the page once before
    the clock starts (its first page imports torch and the pages, ~3 s), as the facilitator's
    own look at the page before the class does."""
    if url:
        yield ws_url(url), None, f"the running setup at {url}"
    elif processes == 1:
        with DashboardServer(log_path=Path("/tmp/dashboard-load.log")) as server:
            asyncio.run(warm_up([server.ws]))
            yield server.ws, server, "one dashboard process (as `make run`)"
    else:
        with ClassServer(processes, build=ROOT / "build" / "load") as server:
            asyncio.run(warm_up([b.ws for b in server.backends]))
            yield server.ws, server, f"{processes} processes behind HAProxy"


async def warm_up(urls: list[str]) -> None:
    async def one(url: str) -> None:
        async with StreamlitSession(url, timeout=120) as session:
            await session.rerun()

    await asyncio.gather(*(one(u) for u in urls))


def measure(
    sessions: int, interactions: int, think: float, processes: int = 1, url: str | None = None
) -> dict:
    """One load run; the numbers as a dict (latencies in s, memory in bytes or None)."""
    load_before = os.getloadavg()
    with target(processes, url) as (ws, server, setup):
        rss_idle = server.rss_bytes() if server else None
        cpu_start, client_start = server.cpu_seconds() if server else None, time.process_time()
        t0 = time.perf_counter()
        probe = server.rss_bytes if server else (lambda: None)
        tally = asyncio.run(run(sessions, interactions, think, ws, probe))
        wall = time.perf_counter() - t0
        rss_end = server.rss_bytes() if server else None
        server_cpu = server.cpu_seconds() - cpu_start if server else None
        client_cpu = time.process_time() - client_start
    lat = tally.latencies
    spread = Counter(tally.process_of.values())
    return {
        "sessions": sessions,
        "interactions_each": interactions,
        "think_s": think,
        "processes": processes,
        "setup": setup,
        "wall_s": wall,
        "interactions": len(lat),
        "latency_s": {
            "p50": statistics.median(lat) if lat else None,
            "p95": percentile(lat, 0.95) if lat else None,
            "max": max(lat) if lat else None,
        },
        "rss_bytes": {
            "idle": rss_idle,
            "after_60": tally.rss_early or rss_end,
            "after_600": tally.rss_600,
            "end": rss_end,
        },
        "cpu_s": {"servers": server_cpu, "load_client": client_cpu},
        "participants_per_process": dict(sorted(spread.items())) if processes > 1 else {},
        "load_average_1min": {"before": load_before[0], "after": os.getloadavg()[0]},
        "problems": tally.problems,
    }


def passed(m: dict) -> bool:
    """The class targets: no problem, p95 <= 2 s, memory after 600 interactions (or at the end)
    <= 1.5x of after 60."""
    rss = m["rss_bytes"]
    late = rss["after_600"] or rss["end"]
    memory_ok = late is None or late <= 1.5 * rss["after_60"]
    p95 = m["latency_s"]["p95"]
    return not m["problems"] and p95 is not None and p95 <= 2.0 and memory_ok


def machine() -> str:
    return (
        f"{platform.machine()}, {_cpu_model()}, {_cores()} cores, Python "
        f"{sys.version.split()[0]}; shared with other engineers' test runs (load average "
        "recorded with each run); no GPU or larger machine was lent for this run"
    )


def report(m: dict, command: str) -> str:
    mib = 1024 * 1024
    lat, rss, load = m["latency_s"], m["rss_bytes"], m["load_average_1min"]

    def mem(value):
        return (
            "not measured (a setup this run did not start)"
            if value is None
            else (f"{value / mib:.0f} MiB")
        )

    n = max(m["interactions"], 1)
    cpu_servers = m["cpu_s"]["servers"]
    cpu = "not measured / " if cpu_servers is None else f"{cpu_servers / n * 1000:.0f} ms / "
    cpu += f"{m['cpu_s']['load_client'] / n * 1000:.0f} ms"

    def growth(value):
        if value is None or not rss["after_60"]:
            return ""
        return f" ({value / rss['after_60']:.2f}x of after 60; target <= 1.5x)"

    rows = [
        ("setup", m["setup"]),
        (
            "warm-up",
            "none"
            if m["rss_bytes"]["idle"] is None
            else "each process served the page once before the clock started",
        ),
        ("participants at once", f"{m['sessions']}"),
        ("think time between clicks", f"{m['think_s']:g} s mean (uniform 0.5x to 1.5x)"),
        ("interactions (total)", f"{m['interactions']}"),
        ("wall time", f"{m['wall_s']:.1f} s"),
        ("latency p50", f"{lat['p50'] * 1000:.0f} ms"),
        ("latency p95", f"{lat['p95'] * 1000:.0f} ms (target <= 2000 ms)"),
        ("latency max", f"{lat['max'] * 1000:.0f} ms"),
        ("server RSS before the first click", mem(rss["idle"])),
        ("server RSS after 60 interactions", mem(rss["after_60"])),
        (
            f"server RSS after {m['interactions']} interactions",
            mem(rss["end"]) + growth(rss["end"]),
        ),
        ("problems (errors, exceptions, foreign data)", f"{len(m['problems'])}"),
        ("CPU per interaction: servers / load client", cpu),
        ("load average (1 min) before / after", f"{load['before']:.2f} / {load['after']:.2f}"),
    ]
    if rss["after_600"] is not None and m["interactions"] > 600:
        rows.insert(
            -4,
            ("server RSS after 600 interactions", mem(rss["after_600"]) + growth(rss["after_600"])),
        )
    if m["participants_per_process"]:
        spread = ", ".join(f"{k}: {v}" for k, v in m["participants_per_process"].items())
        rows.insert(2, ("participants per process (sticky cookie)", spread))
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    table = "\n".join(
        ["| measure | value |", "| --- | --- |"] + [f"| {a} | {b} |" for a, b in rows]
    )
    text = (
        f"# Load test: {m['sessions']} participants, {m['setup']}\n\n"
        f"Machine: {machine()}. Date: {date}.\nCommand: `{command}`.\n\n{table}\n"
    )
    if m["problems"]:
        text += "\nProblems:\n\n" + "\n".join(f"- {p}" for p in m["problems"][:50]) + "\n"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=30, help="participants at once")
    parser.add_argument("--interactions", type=int, default=20, help="interactions each")
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a participant looks at the page between clicks (0: click at once)",
    )
    parser.add_argument(
        "--processes", type=int, default=1, help="dashboard processes (> 1: behind HAProxy)"
    )
    parser.add_argument("--url", help="drive this running setup instead (http://host:port/)")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "tests/bench/results", help="where to write results"
    )
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= MAX_SESSIONS:
        parser.error(f"--sessions must be 1 to {MAX_SESSIONS} (the run must stay bounded)")
    if not 2 <= args.interactions <= 200:
        parser.error("--interactions must be 2 to 200 (the run must stay bounded)")
    if not 0 <= args.think <= 10:
        parser.error("--think must be 0 to 10 seconds")
    if not 1 <= args.processes <= 16:
        parser.error("--processes must be 1 to 16")
    if args.url:
        try:
            ws_url(args.url)
        except ValueError as exc:
            parser.error(str(exc))

    try:
        m = measure(args.sessions, args.interactions, args.think, args.processes, args.url)
    except RuntimeError as exc:  # a server or the proxy did not start
        print(f"load test: {exc}", file=sys.stderr)
        return 2
    if not m["interactions"]:
        print("no interaction finished; problems:\n" + "\n".join(m["problems"][:20]))
        return 1
    command = f"python -m tests.load {' '.join(argv if argv is not None else sys.argv[1:])}"
    text = report(m, command.strip())
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"load-{args.sessions}x{args.interactions}-think{args.think:g}s"
    if args.url:
        stem += "-url"
    elif args.processes > 1:
        stem += f"-p{args.processes}"
    (args.out / f"{stem}.md").write_text(text)
    (args.out / f"{stem}.json").write_text(json.dumps(m, indent=2))
    return 0 if passed(m) else 1


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _cores() -> int:
    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())

"""Class-sized load test: 30 participants on one dashboard server, over loopback only.

    python -m tests.load [--sessions 30] [--interactions 20] [--out tests/bench/results]

Each participant is a protocol-level browser tab (tests/load/stclient.py) with its own seed.
It loads the page, picks its seed, then changes Kernel, w, Heads, noise and n_train and
presses Train, checking after every step that the page ran without an exception or an error
and shows *its own* seed (so no participant ever sees another's data). Reported: latency per
interaction (send to script finished; p50/p95/max), the server's resident memory after 60
and after all interactions, and every problem seen. Traffic goes to 127.0.0.1 only, and the
run is bounded in count and in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import re
import statistics
import sys
import time
from pathlib import Path

from tests.load.server import ROOT, DashboardServer
from tests.load.stclient import RunResult, StreamlitSession

KERNELS = ["gaussian", "boxcar", "epanechnikov", "triangular", "constant"]
W_VALUES = ["0.501", "1", "2", "5.01", "10", "0.2"]  # as the w select_slider labels them
_SEED = re.compile(r"\bseed (\d+)")
TIME_LIMIT_S = 600  # the whole run stops here whatever happens


class Tally:
    def __init__(self, rss_probe, early_mark: int):
        self.latencies: list[float] = []
        self.problems: list[str] = []
        self.rss_probe = rss_probe
        self.early_mark = early_mark
        self.rss_early: int | None = None

    def record(self, who: int, step: str, result: RunResult, seed: int) -> None:
        self.latencies.append(result.seconds)
        if len(self.latencies) == self.early_mark:
            self.rss_early = self.rss_probe()
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
        session.set("seed", seed)
        tally.record(who, "pick seed", await session.rerun(), seed)
        for label, value in plan(who, interactions - 1):
            await asyncio.sleep(think * pause.uniform(0.5, 1.5))
            session.set(label, value)
            tally.record(who, f"{label}={value}", await session.rerun(), seed)


async def run(sessions: int, interactions: int, think: float, server: DashboardServer) -> Tally:
    tally = Tally(server.rss_bytes, early_mark=60)
    start = asyncio.Event()
    tasks = [
        asyncio.create_task(participant(i, server.ws, interactions, think, tally, start))
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
        "--out", type=Path, default=ROOT / "tests/bench/results", help="where to write results"
    )
    args = parser.parse_args(argv)
    if (
        not 1 <= args.sessions <= 100
        or not 2 <= args.interactions <= 200
        or not 0 <= args.think <= 10
    ):
        parser.error("use 1..100 sessions and 2..200 interactions (the run must stay bounded)")

    with DashboardServer(log_path=Path("/tmp/dashboard-load.log")) as server:
        rss_idle = server.rss_bytes()
        t0 = time.perf_counter()
        tally = asyncio.run(run(args.sessions, args.interactions, args.think, server))
        wall = time.perf_counter() - t0
        rss_end = server.rss_bytes()

    lat = tally.latencies
    if not lat:
        print("no interaction finished; problems:\n" + "\n".join(tally.problems[:20]))
        return 1
    rss_early = tally.rss_early or rss_end
    mib = 1024 * 1024
    rows = [
        ("participants at once", f"{args.sessions}"),
        ("think time between clicks", f"{args.think:g} s mean (uniform 0.5x to 1.5x)"),
        ("interactions (total)", f"{len(lat)}"),
        ("wall time", f"{wall:.1f} s"),
        ("latency p50", f"{statistics.median(lat) * 1000:.0f} ms"),
        ("latency p95", f"{percentile(lat, 0.95) * 1000:.0f} ms (target < 2000 ms)"),
        ("latency max", f"{max(lat) * 1000:.0f} ms"),
        ("server RSS idle", f"{rss_idle / mib:.0f} MiB"),
        ("server RSS after 60 interactions", f"{rss_early / mib:.0f} MiB"),
        (
            f"server RSS after {len(lat)} interactions",
            f"{rss_end / mib:.0f} MiB ({rss_end / rss_early:.2f}x of after 60; target <= 1.5x)",
        ),
        ("problems (errors, exceptions, foreign data)", f"{len(tally.problems)}"),
    ]
    machine = f"{platform.machine()}, {_cpu_model()}, Python {sys.version.split()[0]}"
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    table = "\n".join(
        ["| measure | value |", "| --- | --- |"] + [f"| {a} | {b} |" for a, b in rows]
    )
    report = (
        f"# Load test: {args.sessions} participants on one server\n\n"
        f"Machine: {machine}; {_cores()} cores. Date: {date}.\n"
        f"Command: `python -m tests.load --sessions {args.sessions} "
        f"--interactions {args.interactions} --think {args.think:g}`.\n\n{table}\n"
    )
    if tally.problems:
        report += "\nProblems:\n\n" + "\n".join(f"- {p}" for p in tally.problems[:50]) + "\n"
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"load-{args.sessions}x{args.interactions}-think{args.think:g}s"
    (args.out / f"{stem}.md").write_text(report)
    (args.out / f"{stem}.json").write_text(
        json.dumps(
            {
                "sessions": args.sessions,
                "think_s": args.think,
                "wall_s": wall,
                "interactions": len(lat),
                "latency_s": {"p50": statistics.median(lat), "p95": percentile(lat, 0.95)},
                "rss_bytes": {"idle": rss_idle, "after_60": rss_early, "end": rss_end},
                "problems": tally.problems,
            },
            indent=2,
        )
    )
    ok = not tally.problems and percentile(lat, 0.95) < 2.0 and rss_end <= 1.5 * rss_early
    return 0 if ok else 1


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def _cores() -> int:
    import os

    return len(os.sched_getaffinity(0))


if __name__ == "__main__":
    sys.exit(main())

"""The sizing table: participants x processes, one load run each, side by side in one go.

    python -m tests.load.table [--sessions 30,60,100,200] [--processes 1,2,4]
                               [--think 3] [--interactions 10] [--out tests/load/results]

Each cell is a fresh run of tests/load (one process as `make run`, more behind HAProxy as
`make class`), the same participants clicking with the same think time; written as
capacity-<cores>core.md / .json with the machine, the date and each run's load average.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from tests.load.__main__ import MAX_SESSIONS, _cores, machine, measure
from tests.load.server import ROOT


def _ints(text: str) -> list[int]:
    return [int(v) for v in text.split(",") if v.strip()]


def cell(m: dict) -> str:
    lat, rss = m["latency_s"], m["rss_bytes"]
    text = f"{lat['p50']:.2f} / {lat['p95']:.2f} s, {rss['end'] / 2**20:.0f} MiB"
    if m["problems"]:
        text += f", **{len(m['problems'])} problems**"
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=_ints, default=[30, 60, 100, 200])
    parser.add_argument("--processes", type=_ints, default=[1, 2, 4])
    parser.add_argument("--think", type=float, default=3.0)
    parser.add_argument("--interactions", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / "tests/load/results")
    args = parser.parse_args(argv)
    if not all(1 <= s <= MAX_SESSIONS for s in args.sessions):
        parser.error(f"--sessions must each be 1 to {MAX_SESSIONS}")
    if not all(1 <= p <= 16 for p in args.processes):
        parser.error("--processes must each be 1 to 16")

    runs = []
    for sessions in args.sessions:
        for processes in args.processes:
            print(f"{sessions} participants, {processes} processes ...", flush=True)
            m = measure(sessions, args.interactions, args.think, processes)
            runs.append(m)
            print(f"  {cell(m)}; load {m['load_average_1min']}", flush=True)

    head = "| participants | " + " | ".join(f"{p} process{'es' * (p > 1)}" for p in args.processes)
    lines = [head + " |", "|---" * (len(args.processes) + 1) + "|"]
    for sessions in args.sessions:
        row = [m for m in runs if m["sessions"] == sessions]
        lines.append(f"| {sessions} | " + " | ".join(cell(m) for m in row) + " |")
    loads = "\n".join(
        f"- {m['sessions']} x {m['processes']}: load average {m['load_average_1min']['before']:.2f}"
        f" before, {m['load_average_1min']['after']:.2f} after; wall {m['wall_s']:.0f} s; "
        f"servers' CPU {m['cpu_s']['servers'] / m['interactions'] * 1000:.0f} ms per interaction"
        for m in runs
    )
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    command = "python -m tests.load.table " + " ".join(argv if argv is not None else sys.argv[1:])
    report = (
        f"# Sizing table: participants x dashboard processes ({_cores()} cores)\n\n"
        f"Machine: {machine()}. Date: {date}.\nCommand: `{command.strip()}`.\n\n"
        f"Each cell: latency p50 / p95 per interaction, then the servers' resident memory "
        f"(all processes) at the end. {args.interactions} interactions per participant, "
        f"{args.think:g} s mean think time between clicks (uniform 0.5x to 1.5x); one "
        "process is `make run`, more are `make class` (HAProxy). The load client runs on "
        "the same cores.\n\n" + "\n".join(lines) + "\n\nEach run:\n\n" + loads + "\n"
    )
    print(report)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"capacity-{_cores()}core"
    (args.out / f"{stem}.md").write_text(report)
    (args.out / f"{stem}.json").write_text(json.dumps(runs, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`python -m tests.bench [--quick] [--only SECTION ...]`: run the benchmarks, print markdown
tables, and write them to tests/bench/results/<device>[-quick].md and .json.

Sections: pooling (target 1), binned (2), bandwidth (3), onnx (4), dashboard (5), growth (6),
live (7), clicks (issue 11: every pooling-page control, click to chart).
Every case runs in its own child process (see common.py for how time and memory are taken).
"""

from __future__ import annotations

import argparse
import importlib
import json
import time
from pathlib import Path

from tests.bench.common import device_label, machine, table

SECTIONS = ("pooling", "binned", "bandwidth", "onnx", "dashboard", "growth", "live", "clicks")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    parser.add_argument("--only", nargs="+", choices=SECTIONS, help="run only these sections")
    parser.add_argument(
        "--out",
        default=str(Path(__file__).parent / "results"),
        help="folder for the results files (default tests/bench/results)",
    )
    args = parser.parse_args()
    device = device_label()
    info = machine()
    started = time.perf_counter()
    header = [
        f"# Benchmarks ({device}{', quick' if args.quick else ''})",
        "",
        "Produced by `make bench` (`python -m tests.bench`). Medians of repeated runs, peers "
        "measured side by side in the same run. No timing is asserted in `make test`.",
        "",
        table(["", ""], [[k, str(v)] for k, v in info.items()]),
    ]
    print("\n".join(header), flush=True)
    parts, results = [], {"machine": info, "quick": args.quick, "sections": {}}
    for name in args.only or SECTIONS:
        t0 = time.perf_counter()
        module = importlib.import_module(f"tests.bench.{name}")
        md, res = module.run(args.quick, device)
        md += f"\n\n_section time: {time.perf_counter() - t0:.0f} s_"
        parts.append(md)
        results["sections"][name] = res
        print("\n" + md, flush=True)
    total = time.perf_counter() - started
    footer = f"\n_total bench time: {total:.0f} s_\n"
    print(footer)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    stem = device + ("-quick" if args.quick else "") + ("-partial" if args.only else "")
    (out / f"{stem}.md").write_text("\n".join(header) + "\n\n" + "\n\n".join(parts) + footer)
    results["total_seconds"] = total
    (out / f"{stem}.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    print(f"wrote {out / (stem + '.md')} and .json")


if __name__ == "__main__":
    main()

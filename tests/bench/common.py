"""Shared benchmark machinery: the machine header, timing, and cases run in a child process.

Timing: wall clock (time.perf_counter) of the call; the median over repeats, after one
warm-up call unless the case is slow. Memory: each case runs in a fresh child process
(`python -m tests.bench.child`). After building the inputs it resets the kernel's peak-RSS
counter (`echo 5 > /proc/self/clear_refs`) and notes the RSS; after the measured calls it
reads the peak (VmHWM). The table shows the difference: the extra memory the computation
needed at its peak, whatever allocated it (torch, numpy, the allocator's caches).
"""

from __future__ import annotations

import datetime
import gc
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def machine() -> dict[str, Any]:
    """What the numbers were measured on."""
    import numpy
    import torch

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gib = math.nan
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_gib = int(line.split()[1]) / 2**20
    except OSError:
        pass
    info = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "ram_gib": round(mem_gib, 1),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "load_average": os.getloadavg()[0] if hasattr(os, "getloadavg") else math.nan,
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def device_label() -> str:
    import torch

    return "cuda" if torch.cuda.is_available() else "cpu"


def median_time(fn: Callable[[], Any], repeats: int = 5, warmup: bool = True) -> float:
    """Median wall time of fn() in seconds."""
    if warmup:
        fn()
    times = []
    for _ in range(repeats):
        _sync()
        start = time.perf_counter()
        fn()
        _sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def _status_kib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak() -> float:
    """Start a memory measurement: returns the baseline in MiB.

    Linux: writing 5 to /proc/self/clear_refs resets the peak RSS (VmHWM) to the current
    RSS, so temporaries of the set-up do not hide the computation's own peak. Elsewhere the
    baseline is ru_maxrss, the peak so far (then the rise can read low)."""
    gc.collect()
    try:
        Path("/proc/self/clear_refs").write_text("5")
        rss = _status_kib("VmRSS")
        if rss is not None:
            return rss / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def peak_rss_mib() -> float:
    hwm = _status_kib("VmHWM")
    if hwm is not None:
        return hwm / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_case(module: str, name: str, timeout: float = 900.0, **params: Any) -> dict[str, Any]:
    """Run `tests.bench.<module>.case_<name>(**params)` in a fresh Python process.

    Returns the case's dict plus `peak_mib` (peak RSS increase) or {"error": ...}.
    """
    cmd = [sys.executable, "-m", "tests.bench.child", module, name, json.dumps(params)]
    try:
        proc = subprocess.run(
            cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    return {"error": f"exit {proc.returncode}: {' | '.join(tail)}"}


def fmt_time(seconds: float | None) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "-"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.0f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def fmt_mib(mib: float | None) -> str:
    if mib is None or not math.isfinite(mib):
        return "-"
    return f"{mib:.0f} MiB" if mib < 1024 else f"{mib / 1024:.2f} GiB"


def fmt(x: float | None, spec: str = ".3g") -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    return format(x, spec)


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def adaptive_time(fn: Callable[[], Any], budget: float = 6.0) -> tuple[float, int]:
    """(median seconds, runs): the first call counts as a run when it is slow (over
    budget / 3, where one more call would not fit the budget); else one warm-up call and
    3 to 21 timed ones within the budget."""
    _sync()
    start = time.perf_counter()
    fn()
    _sync()
    first = time.perf_counter() - start
    if first > budget / 3:
        return first, 1
    runs = int(max(3, min(21, budget // max(first, 1e-9))))
    return median_time(fn, repeats=runs, warmup=False), runs


def measured(fn: Callable[[], Any], budget: float = 6.0) -> dict[str, Any]:
    """Time fn adaptively and report the peak RSS increase over the call(s)."""
    before = reset_peak()
    seconds, runs = adaptive_time(fn, budget)
    return {"seconds": seconds, "runs": runs, "peak_mib": peak_rss_mib() - before}

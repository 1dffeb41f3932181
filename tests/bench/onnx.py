"""Target 4: the exported model, onnxruntime (CPU) against torch eager.

The model: `train_parametric` on the classic dataset with 50 keys (converged, each kernel, one
and three heads), then `export.export_trained`. Both sides compute y_hat and the attention
weights. onnxruntime runs the raw InferenceSession (CPUExecutionProvider, default threads),
without the helper's input checks; torch runs `result.model(q, x, y)` under no_grad in
float32. Batch 1: p50 and p99 latency over many calls. Batch 10,000: throughput (queries per
second, median of runs).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

from tests.bench.common import fmt, fmt_time, run_case, table


def ready() -> str | None:
    try:
        import onnxruntime  # noqa: F401

        import export

        export.export_trained  # noqa: B018
    except (ImportError, AttributeError) as exc:
        return f"export/onnxruntime not ready: {exc}"
    return None


def _latencies(fn, calls: int) -> list[float]:
    for _ in range(min(50, calls)):
        fn()
    out = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def case_onnx(batch: int, calls: int, kernel: str = "gaussian", heads: int = 1) -> dict[str, Any]:
    import numpy as np
    import onnxruntime as ort
    import torch

    import export
    import nwcore

    d = nwcore.make_dataset("classic", n_train=50)
    result = nwcore.train_parametric(d.x_train, d.y_train, kernel, heads)
    with tempfile.TemporaryDirectory() as tmp:
        summary = export.export_trained(result, tmp)
        sess = ort.InferenceSession(summary.files["model"], providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    q32 = (np.random.default_rng(0).random(batch) * 5).astype(np.float32)
    model = result.model.float()
    xk, yk = result.x.float(), result.y.float()
    qt = torch.from_numpy(q32)
    torch.set_grad_enabled(False)  # inference only from here on
    ort_out = sess.run(None, {name: q32})
    torch_out = model(qt, xk, yk)
    err = float(np.abs(ort_out[0] - torch_out[0].numpy()).max())
    t_ort = _latencies(lambda: sess.run(None, {name: q32}), calls)
    t_torch = _latencies(lambda: model(qt, xk, yk), calls)

    def pct(ts, p):
        return sorted(ts)[min(len(ts) - 1, int(p * len(ts)))]

    return {
        "ort_p50": statistics.median(t_ort),
        "ort_p99": pct(t_ort, 0.99),
        "torch_p50": statistics.median(t_torch),
        "torch_p99": pct(t_torch, 0.99),
        "max_abs_diff": err,
        "batch": batch,
        "kernel": kernel,
        "heads": heads,
    }


def run(quick: bool, device: str = "cpu") -> tuple[str, dict[str, Any]]:
    why = ready()
    if why:
        return f"## Target 4: exported model\n\nSkipped: {why}.", {"skipped": why}
    import nwcore

    res = {"batch1": run_case("onnx", "onnx", batch=1, calls=500 if quick else 3000)}
    for kernel in nwcore.KERNELS:
        for heads in (1, 3):
            res[f"batch10000-{kernel}-h{heads}"] = run_case(
                "onnx", "onnx", batch=10_000, calls=10 if quick else 30, kernel=kernel, heads=heads
            )
    rows = []
    for key, r in res.items():
        if "error" in r:
            rows.append([key, r["error"], "", "", "", ""])
            continue
        b = r["batch"]
        rows.append(
            [
                f"{b:,} ({r['kernel']}, {r['heads']} head{'s' if r['heads'] > 1 else ''})",
                f"{fmt_time(r['ort_p50'])} (p99 {fmt_time(r['ort_p99'])})",
                f"{fmt_time(r['torch_p50'])} (p99 {fmt_time(r['torch_p99'])})",
                fmt(r["torch_p50"] / r["ort_p50"], ".2f"),
                f"{fmt(b / r['ort_p50'], '.3g')} / {fmt(b / r['torch_p50'], '.3g')}",
                fmt(r["max_abs_diff"], ".1e"),
            ]
        )
    md = "\n".join(
        [
            "## Target 4: exported model (50 keys), onnxruntime CPU vs torch eager",
            "",
            "`speed-up` = torch p50 / onnxruntime p50, measured side by side in one run. "
            "Targets (issue 10): batch 1 p50 <= 20 us; batch 10,000 throughput >= 2x torch "
            "eager's for 1 and 3 heads and every kernel.",
            "",
            table(
                [
                    "batch",
                    "onnxruntime p50",
                    "torch eager p50",
                    "speed-up",
                    "queries/s ort / torch",
                    "max |diff|",
                ],
                rows,
            ),
        ]
    )
    return md, res

"""Target 6: growth of time and peak memory with n, for each path.

Exact paths take Q = K = n (so their work grows like n^2, or n x window for compact kernels);
the binned path takes n keys and answers on its 401-point grid, or at n off-grid queries.
Cases whose estimate (from the previous size and the path's order) exceeds the budget are
not run and show the estimate instead.
"""

from __future__ import annotations

from typing import Any

from tests.bench.common import fmt_mib, fmt_time, run_case, table

SIZES = (1_000, 10_000, 100_000, 1_000_000)
# path -> (bench module, case, params, order of growth used to estimate skipped sizes)
PATHS = {
    "plain exact, gaussian (float32)": ("pooling", "plain", {"dtype": "float32"}, 2),
    "fast exact, gaussian w=1 (float32)": ("pooling", "fast", {"dtype": "float32"}, 2),
    "fast exact, epanechnikov w=20 (float64)": (
        "pooling",
        "fast",
        {"dtype": "float64", "kernel": "epanechnikov"},
        2,
    ),
    "binned, 401-grid out (float64)": ("growth", "binned", {"queries": False}, 1),
    "binned, n off-grid queries (float64)": ("growth", "binned", {"queries": True}, 1),
}


def case_binned(n: int, queries: bool) -> dict[str, Any]:
    import torch

    import nwcore
    from tests.bench.common import measured

    g = torch.Generator().manual_seed(3)
    x = torch.rand(n, generator=g, dtype=torch.float64) * 5
    y = x.sin() + 0.5 * torch.randn(n, generator=g, dtype=torch.float64)
    q = torch.rand(n, generator=g, dtype=torch.float64) * 5 if queries else None
    return measured(lambda: nwcore.nw_binned(x, y, q, "gaussian", 20.0), budget=2.0)


def run(quick: bool, device: str = "cpu") -> tuple[str, dict[str, Any]]:
    budget = 8.0 if quick else 30.0  # seconds one case may be expected to take
    res: dict[str, Any] = {}
    rows = []
    for label, (module, case, params, order) in PATHS.items():
        row = [label]
        prev = None
        for n in SIZES:
            estimate = None
            if prev is not None and "seconds" in prev[1]:
                estimate = prev[1]["seconds"] * (n / prev[0]) ** order
            if estimate is not None and estimate > budget:
                row.append(f"~{fmt_time(estimate)} (est., not run)")
                res[f"{label} n={n}"] = {"estimate_seconds": estimate}
                prev = (n, {"seconds": estimate})
                continue
            r = run_case(module, case, n=n, **params)
            res[f"{label} n={n}"] = r
            if "error" in r:
                row.append(r["error"][:60])
                prev = None
                continue
            row.append(f"{fmt_time(r['seconds'])} / {fmt_mib(r['peak_mib'])}")
            prev = (n, r)
        rows.append(row)
    md = "\n".join(
        [
            "## Target 6: growth with n (median time / peak memory increase)",
            "",
            "Exact paths: Q = K = n, uniform on [0, 5]. Binned: Gaussian w = 20, grid 401. "
            "Memory = rise of a fresh child process's peak RSS over the measured calls. "
            f"Cases estimated above {budget:.0f} s are not run; their estimate assumes "
            "O(n^2) for exact paths, O(n) for binned.",
            "",
            table(["path"] + [f"n = {n:,}" for n in SIZES], rows),
        ]
    )
    return md, res

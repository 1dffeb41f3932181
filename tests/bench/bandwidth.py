"""Target 3: learning the bandwidth (leave-one-out / least-squares CV) against statsmodels.

Same data for both (the classic dataset at n points): statsmodels
`KernelReg(reg_type='lc', bw='cv_ls')` and `nwcore.loo_bandwidth` (what
`train_parametric(mode="converged")` runs for one head). Large n: ours only, with its exact
LOO loss at the optimum. Binned: `nwcore.loo_bandwidth_binned` at n = 1e5 (against the exact
optimum of the same data) and 1e6, with R KernSmooth's plug-in `dpill` as the peer (timed
inside R, a different criterion: its h is shown, not compared). The n = 1,000 comparison is
repeated on tests/unusual_data.py's kinds: a number that holds on the book's data only does
not count.
"""

from __future__ import annotations

from typing import Any

from tests.bench.common import fmt, fmt_time, measured, run_case, table

UNUSUAL_SEED = 11


def _data(n: int, kind: str = "classic"):
    """The classic dataset at n points, or one of tests/unusual_data.py's kinds (seed 11):
    data unlike the book's, on which the speed-up is checked too."""
    import torch

    import nwcore

    if kind == "classic":
        d = nwcore.make_dataset("classic", n_train=n, seed=0)
        return d.x_train, d.y_train
    from tests.unusual_data import unusual

    x, y = unusual(kind, n, seed=UNUSUAL_SEED)
    return torch.from_numpy(x), torch.from_numpy(y)


def case_ours(n: int, kind: str = "classic") -> dict[str, Any]:
    import nwcore

    x, y = _data(n, kind)
    out = {}

    def run():  # up to 5,000 points the search runs on one thread by itself (nwcore.threads)
        out["r"] = nwcore.loo_bandwidth(x, y)

    r = measured(run, budget=3.0 if n <= 10_000 else 1.0)
    res = out["r"]
    r.update(h=res.h, loss=res.loss, evaluations=res.evaluations)
    return r


def _binned_data(n: int):
    """The classic dataset where make_dataset has it (n <= 200,000, so the exact optimum
    above is of the same data); beyond, the binned section's data (uniform x on [0, 5])."""
    if n <= 200_000:
        return _data(n)
    from tests.bench.binned import _data as uniform_data

    return uniform_data(n)


def case_binned(n: int) -> dict[str, Any]:
    import torch

    import nwcore

    x, y = _binned_data(n)
    torch.set_num_threads(1)  # memory-bound passes, like KernSmooth's
    out = {}

    def run():
        out["r"] = nwcore.loo_bandwidth_binned(x, y)

    r = measured(run, budget=3.0)
    r.update(h=out["r"].h, evaluations=out["r"].evaluations)
    return r


DPILL = r"""
suppressMessages(library(KernSmooth))
con <- file(Sys.getenv("NW_DATA"), "rb")
d <- readBin(con, "double", n = 2 * as.integer(Sys.getenv("NW_N")))
close(con)
n <- length(d) / 2; x <- d[1:n]; y <- d[(n + 1):(2 * n)]
h <- dpill(x, y)
times <- c()
for (i in 1:3) times <- c(times, system.time(dpill(x, y))[["elapsed"]])
cat(sprintf("TIME %.6f\nH %.17g\n", median(times), h))
"""


def case_dpill(n: int) -> dict[str, Any]:
    import subprocess
    import tempfile
    from pathlib import Path

    import numpy as np

    from tests.bench.binned import r_available

    why = r_available()
    if why:
        return {"error": why}
    x, y = _binned_data(n)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "xy.bin"
        np.concatenate([x.numpy(), y.numpy()]).astype("<f8").tofile(path)
        env = {"NW_DATA": str(path), "NW_N": str(n), "PATH": "/usr/bin:/bin"}
        proc = subprocess.run(
            ["Rscript", "-e", DPILL], capture_output=True, text=True, env=env, check=False
        )
    if proc.returncode != 0:
        return {"error": " ".join(proc.stderr.strip().splitlines()[-1:])}
    got = {ln.split()[0]: float(ln.split()[1]) for ln in proc.stdout.splitlines() if ln.strip()}
    return {"seconds": got["TIME"], "h": got["H"], "runs": 3, "timer": "R system.time"}


def case_statsmodels(n: int, kind: str = "classic") -> dict[str, Any]:
    import warnings

    from statsmodels.nonparametric.kernel_regression import KernelReg

    import nwcore

    x, y = _data(n, kind)
    out = {}

    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out["bw"] = KernelReg(y.numpy(), x.numpy(), "c", reg_type="lc", bw="cv_ls").bw[0]

    r = measured(run, budget=1.0)  # one run: it takes seconds
    r["h"] = abs(float(out["bw"]))  # cv_ls can end on a negative h: the kernel is symmetric
    r["loss"] = nwcore.loo_mse(x, y, "gaussian", 1.0 / r["h"])  # its LOO MSE, by our code
    return r


def _unusual_rows(res: dict[str, Any]) -> list[list[str]]:
    """statsmodels against loo_bandwidth at n = 1,000 on each unusual kind."""
    from tests.unusual_data import KINDS

    rows = []
    for kind in KINDS:
        sm = run_case("bandwidth", "statsmodels", n=1000, kind=kind)
        ours = run_case("bandwidth", "ours", n=1000, kind=kind)
        res[f"unusual {kind}"] = {"statsmodels": sm, "ours": ours}
        speed = sm["seconds"] / ours["seconds"] if "seconds" in sm and "seconds" in ours else None
        rows.append(
            [
                kind,
                fmt_time(sm.get("seconds")),
                fmt_time(ours.get("seconds")) + f" ({ours.get('runs', '-')}x)",
                fmt(speed, ".0f") + "x" if speed else "-",
                fmt(sm.get("h"), ".5g") + " / " + fmt(ours.get("h"), ".5g"),
                fmt(sm.get("loss"), ".6g") + " / " + fmt(ours.get("loss"), ".6g"),
                sm.get("error", "") + ours.get("error", ""),
            ]
        )
    return rows


def run(quick: bool, device: str = "cpu") -> tuple[str, dict[str, Any]]:
    res: dict[str, Any] = {}
    rows = []
    for n in (1000,) if quick else (1000, 2000):
        sm = run_case("bandwidth", "statsmodels", n=n)
        ours = run_case("bandwidth", "ours", n=n)
        res[f"n={n}"] = {"statsmodels": sm, "ours": ours}
        speed = sm["seconds"] / ours["seconds"] if "seconds" in sm and "seconds" in ours else None
        rel = abs(ours["h"] / sm["h"] - 1) if "h" in sm and "h" in ours else None
        rows.append(
            [
                f"{n:,}",
                fmt_time(sm.get("seconds")),
                fmt_time(ours.get("seconds")) + f" ({ours.get('runs', '-')}x)",
                fmt(speed, ".0f") + "x" if speed else "-",
                fmt(sm.get("h"), ".5f"),
                fmt(ours.get("h"), ".5f"),
                fmt(100 * rel, ".3f") + " %" if rel is not None else "-",
                str(ours.get("evaluations", "-")),
                sm.get("error", "") + ours.get("error", ""),
            ]
        )
    exact_h = {}
    for n in (10_000,) if quick else (10_000, 100_000):
        ours = run_case("bandwidth", "ours", n=n)
        res[f"n={n}"] = {"ours": ours}
        exact_h[n] = ours.get("h")
        rows.append(
            [
                f"{n:,}",
                "not run",
                fmt_time(ours.get("seconds")) + f" ({ours.get('runs', '-')}x)",
                "-",
                "-",
                fmt(ours.get("h"), ".5f"),
                "-",
                str(ours.get("evaluations", "-")),
                ours.get("error", ""),
            ]
        )
    urows = _unusual_rows(res)
    brows = []
    for n in (10_000, 1_000_000) if quick else (100_000, 1_000_000):
        binned = run_case("bandwidth", "binned", n=n)
        dpill = run_case("bandwidth", "dpill", n=n)
        res[f"binned n={n}"] = {"loo_bandwidth_binned": binned, "dpill": dpill}
        ref = exact_h.get(n)
        rel = abs(binned["h"] / ref - 1) if ("h" in binned and ref) else None
        t_b, t_r = binned.get("seconds"), dpill.get("seconds")
        brows.append(
            [
                f"{n:,}",
                fmt_time(t_b) + f" ({binned.get('runs', '-')}x)",
                fmt(binned.get("h"), ".5f"),
                fmt(ref, ".5f") if ref else "not run",
                fmt(100 * rel, ".3f") + " %" if rel is not None else "-",
                fmt_time(t_r),
                fmt(dpill.get("h"), ".5f"),
                fmt(t_b / t_r, ".2f") if (t_b and t_r) else "-",
                binned.get("error", "") + dpill.get("error", ""),
            ]
        )
    md = "\n".join(
        [
            "## Target 3: learning the bandwidth",
            "",
            "classic dataset (seed 0) at n points, Gaussian kernel. `speed-up` = statsmodels "
            "time / ours, same data, same run. `evals` = exact LOO evaluations (the grid phase "
            "screens large bandwidths with a binned objective from n = 500 on; Newton steps "
            "with analytic derivatives refine the best grid point). Targets: >= 100x "
            "and h within 1 % at n = 1,000; n = 100,000 exact under 20 s.",
            "",
            table(
                [
                    "n",
                    "statsmodels cv_ls",
                    "loo_bandwidth",
                    "speed-up",
                    "h statsmodels",
                    "h ours",
                    "h diff",
                    "evals",
                    "note",
                ],
                rows,
            ),
            "",
            "The same at n = 1,000 on data unlike the book's (tests/unusual_data.py, seed "
            f"{UNUSUAL_SEED}: x near 1e8, x at 1e-6 with y at 1e5, tight and wide clusters, "
            "Student-t x, Student-t noise). LOO MSE: each h's leave-one-out error by "
            "nwcore.loo_mse (lower is better; statsmodels can stop at a local optimum).",
            "",
            table(
                [
                    "kind",
                    "statsmodels cv_ls",
                    "loo_bandwidth",
                    "speed-up",
                    "h statsmodels / ours",
                    "LOO MSE statsmodels / ours",
                    "note",
                ],
                urows,
            ),
            "",
            "Binned leave-one-out (`loo_bandwidth_binned`, own binned weight removed; one torch "
            "thread) against the exact optimum of the same data above, and R KernSmooth's "
            "plug-in `dpill` (another criterion, so its h differs; timed in R, median of 3). "
            "Targets: <= 2 s at n = 1,000,000; h within 1 % of the exact optimum at 100,000. "
            "n = 1,000,000 uses the binned section's data (make_dataset stops at 200,000).",
            "",
            table(
                [
                    "n",
                    "loo_bandwidth_binned",
                    "h binned",
                    "h exact",
                    "h diff",
                    "dpill (R)",
                    "h dpill",
                    "time / dpill",
                    "note",
                ],
                brows,
            ),
        ]
    )
    return md, res

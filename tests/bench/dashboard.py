"""Target 5: the dashboard, from changing `w` to the updated chart, in headless Chromium.

A Streamlit server on a free localhost port, Debian's /usr/bin/chromium driven by playwright.
Each change types a new value into the sidebar's "exact w (optional)" box and presses Enter;
the clock stops when the fit chart's accessible description (st.vega_lite_chart alt=...)
says the new w, checked in the page on every animation frame. Median over several changes,
after one unmeasured change to warm caches.
"""

from __future__ import annotations

import statistics
import time
from typing import Any

from tests.bench.common import ROOT, fmt_time, run_case, table
from tests.load.server import CHROMIUM, CHROMIUM_ARGS, DashboardServer

W_VALUES = ["1.5", "2.5", "3.5", "4.5", "5.5", "6.5", "7.5", "8.5"]
HAS_TEXT = """(frag) => {
  const host = document.querySelector('[data-testid="stVegaLiteChart"]');
  if (!host) return false;
  const els = [host, ...host.querySelectorAll('[aria-label],[title]')];
  return els.some(e => ((e.getAttribute('aria-label') || '') + (e.getAttribute('title') || ''))
    .includes(frag));
}"""


def ready() -> str | None:
    if not (ROOT / "dashboard" / "app.py").exists():
        return "dashboard/app.py not found"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
        import streamlit  # noqa: F401
    except ImportError as exc:
        return f"missing package: {exc}"
    return None


def case_w_to_chart(n_train: str, changes: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    try:
        server = DashboardServer().start()
    except RuntimeError as exc:
        return {"error": f"streamlit did not start: {exc}"}
    url = server.http
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            page = browser.new_page(viewport={"width": 1400, "height": 2000})
            page.set_default_timeout(60_000)
            page.goto(url)
            page.wait_for_function(HAS_TEXT, arg="w = 1.")
            sidebar = page.locator('[data-testid="stSidebar"]')
            label = "default"
            if n_train == "max":  # the n_train slider's largest value
                slider = sidebar.locator('[data-testid="stSlider"]').filter(
                    has=page.get_by_text("n_train", exact=True)
                )
                thumb = slider.get_by_role("slider")
                thumb.focus()
                thumb.press("End")
                page.wait_for_timeout(3000)
                label = thumb.get_attribute("aria-valuenow") or "max"
            box = sidebar.get_by_role("textbox", name="exact w (optional)")
            times = []
            for value in W_VALUES[: changes + 1]:
                box.fill(value)
                start = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(HAS_TEXT, arg=f"w = {value}.", polling="raf")
                times.append(time.perf_counter() - start)
            browser.close()
        return {
            "median": statistics.median(times[1:]),
            "min": min(times[1:]),
            "max": max(times[1:]),
            "changes": len(times) - 1,
            "n_train": label,
        }
    finally:
        server.stop()


def run(quick: bool, device: str = "cpu") -> tuple[str, dict[str, Any]]:
    why = ready()
    if why:
        return f"## Target 5: dashboard\n\nSkipped: {why}.", {"skipped": why}
    changes = 3 if quick else 7
    res = {
        "default": run_case("dashboard", "w_to_chart", n_train="default", changes=changes),
        "max": run_case("dashboard", "w_to_chart", n_train="max", changes=changes),
    }
    rows = []
    for key, target in (("default", "300 ms"), ("max", "1 s (at 5,000)")):
        r = res[key]
        if "error" in r:
            rows.append([key, "-", "-", target, r["error"]])
            continue
        rows.append(
            [
                str(r["n_train"]),
                fmt_time(r["median"]),
                f"{fmt_time(r['min'])} .. {fmt_time(r['max'])} ({r['changes']} changes)",
                target,
                "",
            ]
        )
    md = "\n".join(
        [
            "## Target 5: dashboard, `w` change to updated chart (headless Chromium)",
            "",
            "Typed w + Enter until the fit chart's description shows the new w. The dashboard "
            "offers n_train up to its slider maximum (dashboard/compute.py MAX_LIVE_POINTS, "
            "5,000), and the large case runs at that maximum. Heatmaps are downsampled for "
            "display (at most 100 x 100 cells); the numbers are computed on all points.",
            "",
            table(["n_train", "median", "range", "target", "note"], rows),
        ]
    )
    return md, res

"""Section live (issue 12): per input event, time from a new w to the redrawn live chart.

In headless Chromium, under Streamlit's own vega-embed: set the slider's signal, run the
dataflow, wait for the next animation frame (the paint). p50/p95 over a sweep of w.
Targets: default data p50 <= 16 ms, p95 <= 33 ms; the live maximum p50 <= 33 ms.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from dashboard import live
from tests.bench.common import table
from tests.load.server import CHROMIUM, CHROMIUM_ARGS, DashboardServer

# Embed `spec` with the page's own (Streamlit's) vega-embed as `res`; the caller's JS goes on.
EMBED_PRELUDE = """async ([spec, logws]) => {
  const js = [...document.scripts].map(s => s.src).concat(
    performance.getEntriesByType('resource').map(r => r.name));
  const path = js.find(s => /loadVegaEmbed\\.[^/]*\\.js$/.test(s));
  const {embed} = await (await import(path)).t();
  const div = document.createElement('div'); document.body.appendChild(div);
  const res = await embed(div, spec, {actions: false});
"""

SWEEP_JS = (
    EMBED_PRELUDE
    + """  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  const times = [];
  for (const lw of logws) {
    const t0 = performance.now();
    await res.view.signal('logw', lw).runAsync();
    await frame();
    times.push(performance.now() - t0);
  }
  res.view.finalize(); div.remove();
  return times;
}"""
)

# (label, keys, queries): the book's size, the live maximum (MAX_LIVE_CELLS), beyond it (binned)
CASES = [
    ("default (book)", 50, 50),
    ("live max", 60, 50),
    ("300 x 200, binned", 300, 200),
]


def _spec(n_keys: int, n_q: int) -> tuple[dict, bool]:
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 5, n_keys))
    y = 2 * np.sin(x) + x**0.8 + rng.normal(0, 0.5, n_keys)
    q = np.linspace(0, 5, n_q)
    fixed = {"average": np.full(n_q, y.mean())}
    spec, binned, _ = live.live_spec(q, x, y, "gaussian", 1.0, fixed, ("x", "y", "live"))
    return spec, binned


def run(quick: bool, device: str) -> tuple[str, dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    events = 40 if quick else 200
    rows, res = [], {}
    with DashboardServer() as dashboard, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page = browser.new_page()
        page.goto(dashboard.http)
        page.locator("input[type=range]").first.wait_for(state="attached", timeout=90_000)
        # the page's own charts drawn: Streamlit's vega-embed bundle is loaded by then
        page.locator('[data-testid="stVegaLiteChart"] canvas').first.wait_for(timeout=90_000)
        for label, n_keys, n_q in CASES:
            spec, binned = _spec(n_keys, n_q)
            lo, hi = np.log10(1e-2 / 5), np.log10(1e3 / 5)
            logws = list(np.linspace(lo, hi, events))
            ms = np.array(page.evaluate(SWEEP_JS, [spec, logws])[5:])  # drop warm-up events
            p50, p95 = float(np.percentile(ms, 50)), float(np.percentile(ms, 95))
            res[label] = {
                "keys": n_keys,
                "queries": n_q,
                "binned": binned,
                "p50_ms": p50,
                "p95_ms": p95,
                "events": len(ms),
            }
            rows.append(
                [
                    label,
                    f"{n_keys} x {n_q}",
                    "yes" if binned else "no",
                    f"{p50:.1f}",
                    f"{p95:.1f}",
                    str(len(ms)),
                ]
            )
        browser.close()
    md = "## live: in-browser redraw per w event (headless Chromium)\n\n" + table(
        ["case", "keys x queries", "binned", "p50 ms", "p95 ms", "events"], rows
    )
    return md, res

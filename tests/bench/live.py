"""Section live (issue 12): per input event, time from a new w to the redrawn live chart.

In headless Chromium, under Streamlit's own vega-embed with the options Streamlit passes (its
CSP-safe expression interpreter, as on the page; results before 2026-12-03 18:30 UTC were
taken without it, with compiled expressions): set the slider's signal s = log10(w / w0), run
the dataflow (Vega draws the canvas in it), wait for the next animation frame. p50/p95 over
random s, the cases interleaved (in a rotating order, gc() between) so they share the load.
Targets: default data p50 <= 16 ms, p95 <= 33 ms; the live maximum p50 <= 33 ms.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import streamlit

from dashboard import live
from tests.bench.common import table
from tests.load.server import CHROMIUM, CHROMIUM_ARGS, DashboardServer

# Streamlit's vega-embed loader, by its file name in this Streamlit's static files (a page
# fetches it only when a chart of some kinds needs it, so it is not always among its resources)
LOADER = next(
    (Path(streamlit.__file__).parent / "static" / "static" / "js").glob("loadVegaEmbed.*.js")
).name
# Embed `spec` with the page's own (Streamlit's) vega-embed as `res`; the caller's JS goes on.
EMBED_PRELUDE = """async ([spec, logws]) => {
  const js = [...document.scripts].map(s => s.src).concat(
    performance.getEntriesByType('resource').map(r => r.name));
  const here = js.find(s => /\\/static\\/js\\/[^/]*\\.js$/.test(s));
  const path = here.replace(/[^/]*$/, '@LOADER');
  const {embed, expressionInterpreter} = await (await import(path)).t();
  const div = document.createElement('div'); document.body.appendChild(div);
  // Streamlit's own embed options (ArrowVegaLiteChart): the CSP-safe interpreter, no eval
  const opts = {actions: false, ast: true, expr: expressionInterpreter, defaultStyle: false};
  const res = await embed(div, spec, opts);
""".replace("@LOADER", LOADER)

# Embed once and keep the view as window.liveViews[key]; a sweep then reuses it.
SETUP_JS = (
    EMBED_PRELUDE.replace("async ([spec, logws])", "async ([spec, key])")
    + """  window.liveViews = window.liveViews || {};
  window.liveViews[key] = res.view;
  return res.view.renderer() ? 1 : 0;
}"""
)

# Per event: set the slider's signal and run the dataflow (Vega draws the canvas inside
# runAsync): "work"; then wait for the next animation frame: "on screen".
SWEEP_JS = """async ([key, logws]) => {
  const view = window.liveViews[key];
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  const work = [], screen = [];
  await frame();
  for (const lw of logws) {
    const t0 = performance.now();
    await view.signal('s', lw).runAsync();
    work.push(performance.now() - t0);
    await frame();
    screen.push(performance.now() - t0);
  }
  return [work, screen];
}"""

FRAME_MS = 1000 / 60
# (label, keys, queries, renderer): the book's size, the live maximum (MAX_LIVE_CELLS), beyond
# it (binned); and the book's size drawn by no renderer (the dataflow and scenegraph alone) and
# by SVG (what Streamlit picks for this chart unless the spec asks for canvas): the profile.
CASES = [
    ("default (book)", 50, 50, "canvas"),
    ("live max", 60, 50, "canvas"),
    ("300 x 200, binned", 300, 200, "canvas"),
    ("default, no renderer", 50, 50, "none"),
    ("default, SVG", 50, 50, "svg"),
]


def _spec(n_keys: int, n_q: int, renderer: str = "canvas") -> tuple[dict, bool, int]:
    rng = np.random.default_rng(0)
    x = np.sort(rng.uniform(0, 5, n_keys))
    y = 2 * np.sin(x) + x**0.8 + rng.normal(0, 0.5, n_keys)
    q = np.linspace(0, 5, n_q)
    fixed = {"average": np.full(n_q, y.mean())}
    spec, binned, stride = live.live_chart(q, x, y, "gaussian", 1.0, fixed, ("x", "y", "live"))
    spec["usermeta"]["embedOptions"]["renderer"] = renderer
    return live.embeddable(spec), binned, stride


def run(quick: bool, device: str) -> tuple[str, dict[str, Any]]:
    from playwright.sync_api import sync_playwright

    rounds, per_round = (4, 12) if quick else (12, 20)
    samples: dict[str, tuple[list[float], list[float]]] = {c[0]: ([], []) for c in CASES}
    info = {}
    with DashboardServer() as dashboard, sync_playwright() as p:
        # gc() between sweeps: one case's garbage (the SVG case's DOM nodes) is not collected
        # in the next case's events (it made the case after it look 50% slower)
        args = [*CHROMIUM_ARGS, "--js-flags=--expose-gc"]
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=args)
        page = browser.new_page()
        page.goto(dashboard.http)
        page.locator("input[type=range]").first.wait_for(state="attached", timeout=90_000)
        # the page's own charts drawn: Streamlit's vega-embed bundle is loaded by then
        page.locator('[data-testid="stVegaLiteChart"] canvas').first.wait_for(timeout=90_000)
        for label, n_keys, n_q, renderer in CASES:
            spec, binned, stride = _spec(n_keys, n_q, renderer)
            page.evaluate(SETUP_JS, [spec, label])
            info[label] = (n_keys, n_q, binned, stride, renderer)
        lo, hi = live.S_SPAN  # s = log10(w / sidebar w)
        # rounds interleave the cases, so every case sees the same load (2 cores, shared),
        # each round in another order (no case is always first)
        labels = list(samples)
        for r in range(rounds):
            logws = list(np.random.default_rng(r).uniform(lo, hi, per_round + 2))
            for label in labels[r % len(labels) :] + labels[: r % len(labels)]:
                page.evaluate("() => window.gc()")
                work, screen = page.evaluate(SWEEP_JS, [label, logws])
                samples[label][0].extend(work[2:])  # two warm-up events per round
                samples[label][1].extend(screen[2:])
        browser.close()
    rows, res = [], {}
    base = float(np.median(samples[CASES[0][0]][0]))
    for label, (work, screen) in samples.items():
        n_keys, n_q, binned, stride, renderer = info[label]
        work_a, screen_a = np.array(work), np.array(screen)
        frames = np.ceil(screen_a / FRAME_MS - 0.05)  # frames until the redraw is on screen
        res[label] = {
            "keys": n_keys,
            "queries": n_q,
            "binned": binned,
            "heat_stride": stride,
            "renderer": renderer,
            "work_p50_ms": float(np.percentile(work_a, 50)),
            "work_p95_ms": float(np.percentile(work_a, 95)),
            "screen_p50_ms": float(np.percentile(screen_a, 50)),
            "screen_p95_ms": float(np.percentile(screen_a, 95)),
            "next_frame_share": float(np.mean(frames <= 1)),
            "events": len(work),
        }
        v = res[label]
        rows.append(
            [
                label,
                f"{n_keys} x {n_q}",
                "yes" if binned else "no",
                renderer,
                f"{v['work_p50_ms']:.1f}",
                f"{v['work_p95_ms']:.1f}",
                f"{v['work_p50_ms'] / base:.2f}",
                f"{v['screen_p50_ms']:.1f}",
                f"{v['screen_p95_ms']:.1f}",
                f"{100 * v['next_frame_share']:.0f}%",
                str(v["events"]),
            ]
        )
    md = (
        "## live: in-browser redraw per w event (headless Chromium, Streamlit's vega-embed)\n\n"
        "work: signal set to dataflow run and canvas drawn; on screen: to the next animation "
        "frame after the event (60 Hz, so at least one frame, 16.7 ms, after an event that "
        "starts on a frame); in next frame: share of events on screen one frame later. Cases "
        "interleaved round by round; ratio = work p50 / the default case's.\n\n"
        + table(
            [
                "case",
                "keys x queries",
                "binned",
                "renderer",
                "work p50 ms",
                "work p95 ms",
                "ratio",
                "on screen p50 ms",
                "on screen p95 ms",
                "in next frame",
                "events",
            ],
            rows,
        )
    )
    return md, res

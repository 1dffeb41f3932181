"""Section clicks (issue 11, "Speed of a click"): every control of the pooling page, click to
updated chart, in headless Chromium against a real Streamlit server.

The clock starts when playwright sends the click (or key press) and stops when all hold:
- the fit chart (the page's first Vega chart) shows something new: any change Vega makes to
  its SVG (a MutationObserver on the chart), or other pixels on a canvas (a hash of its
  ImageData, blank canvases ignored; the floor app's chart). Vega drew the new data, which
  only a new script run sends;
- the live chart (issue 12, a canvas), where the page has one, shows other pixels;
- the app's script state (`data-test-script-state` on `stApp`) is "notRunning": that run has
  finished. A MutationObserver armed before the click notes whether "running" was seen (under
  load React may apply "running" and "finished" in one commit) and whether Streamlit's
  `stStatusWidget` showed (it follows the same state, but leaves the DOM only after a 200 ms
  fade-out, so it is not the clock).
All are polled on every animation frame. The detector is checked on a deliberately slow
rerun (`DASHBOARD_BENCH_DELAY_S`, see dashboard/app.py): it must wait for the delay twice.

Also measured: the first render of a new session on a running server (a fresh browser context,
so nothing cached), and a cold start: launching `streamlit run dashboard/app.py` (what `make
run` runs) to the first chart drawn in an already open browser.
Targets: p50 <= 300 ms per control at the default data; first render <= 1.5 s; cold start
<= 6 s.
"""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from tests.bench.common import fmt_time, run_case, table
from tests.load.server import CHROMIUM, CHROMIUM_ARGS, DashboardServer

VIEWPORT = {"width": 1400, "height": 2000}

# The fit chart is the page's first Vega chart (the floor app's only one); the pooling page
# draws it as SVG (its heatmaps are images), the floor app's on a canvas. The live chart
# (`.st-key-live_chart`, issue 12) is a canvas; every pooling control changes both charts.
FIT_CHART = """() => document.querySelector('[data-testid="stVegaLiteChart"]')"""
LIVE_CANVAS = """() => {
  const c = document.querySelector('.st-key-live_chart canvas');
  return c && c.width > 0 && c.height > 0 ? c : null;
}"""
# A hash of a canvas's pixels (null while there is none or it is still blank).
PIXELS = """(c) => {
  if (!c) return null;
  const px = new Uint32Array(c.getContext('2d').getImageData(0, 0, c.width, c.height)
    .data.buffer);
  let h = 2166136261 >>> 0, drawn = false;
  for (let i = 0; i < px.length; i++) {
    if (px[i] !== 0) drawn = true;
    h = Math.imul(h ^ px[i], 16777619) >>> 0;
  }
  return drawn ? `${c.width}x${c.height}:${h}` : null;
}"""
# The fit chart's canvas, if it has one (the floor app).
FIT_CANVAS = f"""() => {{
  const chart = ({FIT_CHART})();
  const c = chart && chart.querySelector('canvas');
  return c && c.width > 0 && c.height > 0 ? c : null;
}}"""
STATE = """() => document.querySelector('[data-testid="stApp"]')
  ?.getAttribute('data-test-script-state')"""
# Before a click: note the charts' pixels, watch the fit chart's SVG for any change Vega
# makes to it (marks, axes, images; a new view replaces the svg), the script state and the
# status widget.
ARM = f"""() => {{
  const old = window.__bench;
  if (old) {{ old.observer.disconnect(); old.fitObserver.disconnect(); }}
  const b = window.__bench = {{ran: false, status: false, fitSvgChanged: false,
    fitPx: ({PIXELS})(({FIT_CANVAS})()), livePx: ({PIXELS})(({LIVE_CANVAS})())}};
  b.observer = new MutationObserver(() => {{
    if (({STATE})() === 'running') b.ran = true;
    if (document.querySelector('[data-testid="stStatusWidget"]')) b.status = true;
  }});
  b.observer.observe(document.body, {{attributes: true, childList: true, subtree: true}});
  b.fitObserver = new MutationObserver((records) => {{
    for (const r of records) {{
      const t = r.target.nodeType === 1 ? r.target : r.target.parentElement;
      const added = [...r.addedNodes].some((n) => n.nodeName.toLowerCase() === 'svg');
      if (added || (t && t.closest('svg'))) b.fitSvgChanged = true;
    }}
  }});
  b.fitObserver.observe(({FIT_CHART})(), {{attributes: true, childList: true, subtree: true,
    characterData: true}});
}}"""
# After it: the rerun finished, the fit chart shows something new (new pixels on a canvas,
# any change to an SVG), and so does the live chart where the page has one.
FIT_NEW = f"""() => {{
  const b = window.__bench;
  if (b.fitPx !== null) {{
    const px = ({PIXELS})(({FIT_CANVAS})());
    return px !== null && px !== b.fitPx;
  }}
  return b.fitSvgChanged;
}}"""
LIVE_NEW = f"""() => {{
  const b = window.__bench;
  if (b.livePx === null) return true;
  const px = ({PIXELS})(({LIVE_CANVAS})());
  return px !== null && px !== b.livePx;
}}"""
DONE = f"""() => ({STATE})() === 'notRunning' && ({FIT_NEW})() && ({LIVE_NEW})()"""
# A page is up: its first run finished and the fit chart is drawn (and the live one).
DRAWN = f"""() => {{
  if (({STATE})() !== 'notRunning') return false;
  const chart = ({FIT_CHART})();
  if (!chart || !chart.querySelector('svg, canvas')) return false;
  const live = document.querySelector('.st-key-live_chart');
  return !live || ({PIXELS})(({LIVE_CANVAS})()) !== null;
}}"""

CONTROLS = ("Dataset", "n_train", "seed", "Kernel", "w", "Heads", "mode")
# How each control changes: back and forth between two values (after the first change both
# are in the caches, as when a class clicks the same values), or to a value not seen before.
HOW = {
    "Dataset": "classic <-> sinc",
    "n_train": "50 <-> 60 (slider step)",
    "seed": "a new seed each time (no cache)",
    "Kernel": "gaussian <-> epanechnikov",
    "w": "one slider step right each time (new w)",
    "Heads": "1 <-> 2",
    "mode": "d2l <-> converged",
}


def ready() -> str | None:
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM}"
    try:
        import playwright.sync_api  # noqa: F401
        import streamlit  # noqa: F401
    except ImportError as exc:
        return f"missing package: {exc}"
    return None


def _actions(page: Any) -> dict[str, Any]:
    """Per control: act(i) prepares the i-th change and returns the call that makes it."""
    sb = page.locator('[data-testid="stSidebar"]')

    def pick(key: str, options: tuple[str, str]) -> Any:
        def act(i: int) -> Any:
            sb.locator(f".st-key-{key}").get_by_role("combobox").click()
            option = page.get_by_role("option", name=options[i % 2], exact=True)
            option.wait_for()
            return option.click

        return act

    def slide(key: str, back_and_forth: bool) -> Any:
        def act(i: int) -> Any:
            thumb = sb.locator(f".st-key-{key}").get_by_role("slider")
            thumb.focus()
            right = not back_and_forth or i % 2 == 0
            return lambda: thumb.press("ArrowRight" if right else "ArrowLeft")

        return act

    def seed(i: int) -> Any:
        box = sb.locator(".st-key-seed input")
        box.fill(str(100 + i))
        return lambda: box.press("Enter")

    def mode(i: int) -> Any:
        return (
            sb.locator(".st-key-mode label")
            .filter(has_text="converged" if i % 2 == 0 else "d2l")
            .first.click
        )

    return {
        "Dataset": pick("dataset", ("sinc", "classic")),
        "n_train": slide("n_train", back_and_forth=True),
        "seed": seed,
        "Kernel": pick("kernel", ("epanechnikov", "gaussian")),
        "w": slide("w", back_and_forth=False),
        "Heads": slide("heads", back_and_forth=True),
        "mode": mode,
    }


def _timed_change(page: Any, make_change: Any) -> tuple[float, bool]:
    """Seconds from the change to the finished rerun's new chart; whether the run was seen
    (script state "running" or the status widget)."""
    page.wait_for_function(f"() => ({STATE})() === 'notRunning'", timeout=60_000)
    page.wait_for_timeout(200)  # a rerun that follows the last one (query params) has begun
    page.wait_for_function(DRAWN, polling="raf", timeout=60_000)
    page.evaluate(ARM)
    start = time.perf_counter()
    make_change()
    try:
        page.wait_for_function(DONE, polling="raf", timeout=60_000)
    except Exception as exc:  # noqa: BLE001 - playwright's timeout, said in words
        probe = f"() => [window.__bench.ran, ({STATE})(), ({FIT_NEW})(), ({LIVE_NEW})()]"
        seen = page.evaluate(probe)
        raise RuntimeError(f"no new chart: ran, state, fit new, live new = {seen}") from exc
    elapsed = time.perf_counter() - start
    return elapsed, bool(page.evaluate("() => window.__bench.ran || window.__bench.status"))


def _pct(values: list[float], q: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _open(browser: Any, url: str) -> tuple[Any, float]:
    """A new participant: a fresh context (no cache), the page until its chart is drawn."""
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.set_default_timeout(90_000)
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(DRAWN, polling="raf", timeout=90_000)
    return page, time.perf_counter() - start


def case_clicks(changes: int, sessions: int, colds: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    out: dict[str, Any] = {"load_before": os.getloadavg()[0]}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        cold = []
        for _ in range(colds):  # launch to first chart, the browser already open
            page = browser.new_page(viewport=VIEWPORT)
            start = time.perf_counter()
            server = DashboardServer().launch().wait_ready()
            try:
                page.goto(server.http)
                page.wait_for_function(DRAWN, polling="raf", timeout=90_000)
                cold.append(time.perf_counter() - start)
            finally:
                page.close()
                server.stop()
        out["cold_start"] = cold
        with DashboardServer() as server:
            page, first = _open(browser, server.http)  # warms the server's caches
            firsts = [first]
            for _ in range(sessions):
                other, seconds = _open(browser, server.http)
                firsts.append(seconds)
                other.context.close()
            out["first_render"] = firsts[1:]
            out["first_render_first_session"] = firsts[0]
            page.set_default_timeout(20_000)
            actions = _actions(page)
            for name in CONTROLS:
                times, status = [], []
                for i in range(changes + 1):  # the first change (cold caches) kept apart
                    try:
                        seconds, showed = _timed_change(page, actions[name](i))
                    except RuntimeError as exc:
                        raise RuntimeError(f"{name}, change {i}: {exc}") from None
                    times.append(seconds)
                    status.append(showed)
                out[name] = {"times": times, "run_seen": sum(status)}
            page.context.close()
        browser.close()
    out["load_after"] = os.getloadavg()[0]
    return out


def case_slow_check(delay: float, changes: int) -> dict[str, Any]:
    """The detector on a rerun slowed by `delay` s before the page and again after it."""
    from playwright.sync_api import sync_playwright

    env = {"DASHBOARD_BENCH_DELAY_S": str(delay)}
    with DashboardServer(env=env) as server, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page, _ = _open(browser, server.http)
        act = _actions(page)["Kernel"]
        times = [_timed_change(page, act(i))[0] for i in range(changes + 1)]
        browser.close()
    return {"delay": delay, "times": times}


def case_floor(changes: int, sessions: int) -> dict[str, Any]:
    """The same first render and Kernel clicks on tests/bench/floor_app.py: Streamlit's own
    cost on this machine, side by side with the lab's (the targets cannot go below it)."""
    from playwright.sync_api import sync_playwright

    with DashboardServer(script="tests/bench/floor_app.py") as server, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        page, _ = _open(browser, server.http)
        firsts = []
        for _ in range(sessions):
            other, seconds = _open(browser, server.http)
            firsts.append(seconds)
            other.context.close()
        act = _actions(page)["Kernel"]
        times = [_timed_change(page, act(i))[0] for i in range(changes + 1)]
        browser.close()
    return {"first_render": firsts, "times": times}


def run(quick: bool, device: str = "cpu") -> tuple[str, dict[str, Any]]:
    why = ready()
    if why:
        return f"## clicks: dashboard\n\nSkipped: {why}.", {"skipped": why}
    changes, sessions, colds = (5, 3, 1) if quick else (12, 5, 3)
    res = run_case(
        "clicks", "clicks", timeout=1800, changes=changes, sessions=sessions, colds=colds
    )
    plain = run_case("clicks", "slow_check", delay=0.0, changes=3)
    slow = run_case("clicks", "slow_check", delay=0.5, changes=3)
    floor = run_case("clicks", "floor", changes=changes, sessions=sessions)
    if "error" in res:
        return f"## clicks: dashboard\n\nFailed: {res['error']}", res
    out = {"clicks": res, "slow_check": [plain, slow], "floor": floor}
    return markdown(res, [plain, slow], floor), out


def markdown(
    res: dict[str, Any], checks: list[dict[str, Any]], floor: dict[str, Any] | None = None
) -> str:
    """The section's tables from case_clicks' and case_slow_check's results."""
    rows = []
    for name in CONTROLS:
        times = res[name]["times"]
        later = times[1:]
        p50, p95 = _pct(later, 50), _pct(later, 95)
        rows.append(
            [
                name,
                HOW[name],
                fmt_time(times[0]),
                f"**{fmt_time(p50)}**",
                fmt_time(p95),
                str(len(later)),
                "yes" if p50 <= 0.3 else "no",
            ]
        )
    firsts, cold = res["first_render"], res["cold_start"]
    floor_rows = []
    if floor and "error" not in floor:
        kernel_p50 = _pct(res["Kernel"]["times"][1:], 50)
        floor_p50 = _pct(floor["times"][1:], 50)
        floor_first = statistics.median(floor["first_render"])
        floor_rows = [
            [
                "Kernel click, p50",
                fmt_time(kernel_p50),
                fmt_time(floor_p50),
                f"{kernel_p50 / floor_p50:.1f}x",
            ],
            [
                "first render, new session",
                fmt_time(statistics.median(firsts)),
                fmt_time(floor_first),
                f"{statistics.median(firsts) / floor_first:.1f}x",
            ],
        ]
    elif floor:
        floor_rows = [["floor app", floor["error"], "-", "-"]]
    starts = [
        [
            "first render, new session (running server)",
            f"**{fmt_time(statistics.median(firsts))}**",
            f"{fmt_time(min(firsts))} .. {fmt_time(max(firsts))} ({len(firsts)} sessions)",
            "1.5 s",
        ],
        [
            "cold start: launch to first chart",
            f"**{fmt_time(statistics.median(cold))}**",
            f"{fmt_time(min(cold))} .. {fmt_time(max(cold))} ({len(cold)} starts)",
            "6 s",
        ],
    ]
    check = []
    for r in checks:
        if "error" in r:
            check.append(["-", r["error"], "-", "-"])
            continue
        later = r["times"][1:]
        check.append(
            [
                f"{r['delay']:g} s",
                f"{fmt_time(statistics.median(later))} (min {fmt_time(min(later))})",
                f"{fmt_time(2 * r['delay'])}",
                "yes" if min(later) >= 2 * r["delay"] else "**no: stops early**",
            ]
        )
    return "\n".join(
        [
            "## clicks: pooling page, click to updated chart (headless Chromium)",
            "",
            "Each control changed in the sidebar of one session at the default data (classic, "
            "n_train 50, gaussian, w = 1, 1 head, d2l); the clock stops when the script run "
            "for the change has finished (`stApp` data-test-script-state), the fit chart's SVG "
            "has changed (a MutationObserver) and the live chart's canvas shows new pixels. "
            "`first` is the first change of that control (caches "
            "cold); p50/p95 over the later ones. Load average "
            f"{res['load_before']:.2f} before, {res['load_after']:.2f} after.",
            "",
            table(["control", "change", "first", "p50", "p95", "n", "p50 <= 300 ms"], rows),
            "",
            table(["", "median", "range", "target"], starts),
            "",
            "Floor: the same measurements on tests/bench/floor_app.py (one sidebar selectbox, "
            "one 50-point canvas chart), Streamlit's own cost on this machine, run after the "
            "lab's in the same bench run.",
            "",
            table(["", "pooling page", "floor app", "ratio"], floor_rows),
            "",
            "Detector check: Kernel changes with the rerun slowed by the delay before the "
            "page and again after it (`DASHBOARD_BENCH_DELAY_S`, its own server); every "
            "measured change must include both (>= 2 x delay). The 0 s row is the same case "
            "without the delay, for the difference (one run each: noisy under load).",
            "",
            table(["delay", "p50", "2 x delay", "every change >= 2 x delay"], check),
        ]
    )

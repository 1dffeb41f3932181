"""The live view in a real browser: values read back from the Vega view, and a 2 s drag.

The spec runs under Streamlit's own vega-embed (imported from the dashboard server's static
files), so what is checked is what the page shows. The reference is nwcore.nadaraya_watson.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import numpy as np
import pytest
import torch

import nwcore
from dashboard import live
from dashboard.common import fmt
from tests.bench.live import EMBED_PRELUDE
from tests.conftest import (
    ARTIFACTS,
    alt_text,
    no_exception,
    open_page,
    query,
    settle,
    share_link,
    sidebar_widget,
    wait_for,
    wait_for_alt,
)
from tests.load.server import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

# Embed a spec with Streamlit's vega-embed; return the curve (qi, y_hat, empty) at each slider
# value s = log10(w / w0).
EMBED_JS = (
    EMBED_PRELUDE
    + """  const nq = spec.usermeta.queries;
  const name = res.vgSpec.data.map(d => d.name).find(n => {
    const v = res.view.data(n); return v.length === nq && 'y_hat' in v[0] && 'empty' in v[0];
  });
  const out = [];
  for (const lw of logws) {
    await res.view.signal('s', lw).runAsync();
    out.push(res.view.data(name).map(r => [r.qi, r.y_hat, r.empty]));
  }
  res.view.finalize(); div.remove();
  return out;
}"""
)


@pytest.fixture(scope="module")
def page(server, browser) -> Iterator[object]:
    """One page on the shared dashboard server (tests/conftest.py), kept for the module."""
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    try:
        page.set_default_timeout(90_000)
        page.goto(server)
        page.locator("input[type=range]").first.wait_for(state="attached")
        # the page's own charts drawn: Streamlit's vega-embed bundle is loaded by then
        page.locator('[data-testid="stVegaLiteChart"] canvas').first.wait_for()
        yield page
    finally:
        page.close()


def _data(kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    if kind == "offset":  # x ~ 1e8 + [0, 5e-3], heavy-tailed y
        x = 1e8 + np.sort(rng.uniform(0, 5e-3, 60))
        y = rng.standard_t(2, 60) * 1e5
        q = np.linspace(x.min() - 1e-3, x.max() + 1e-3, 40)
    else:  # clusters with a gap: compact kernels leave queries with no key
        x = np.sort(np.concatenate([rng.normal(0, 0.1, 30), rng.normal(5, 0.1, 30)]))
        y = np.sin(x) + rng.normal(0, 0.3, 60)
        q = np.linspace(-1, 6, 50)
    return q, x, y


@pytest.mark.parametrize("kernel", list(nwcore.KERNELS))
@pytest.mark.parametrize("kind", ["clusters", "offset"])
def test_browser_curve_equals_nwcore(page, kernel: str, kind: str) -> None:
    q, x, y = _data(kind)
    fixed = {"average": np.full(len(q), y.mean())}
    w0 = 1 / float(np.ptp(x))  # the sidebar w the slider starts at
    spec, binned, _ = live.live_chart(q, x, y, kernel, w0, fixed, ("x", "y", "live"))
    assert not binned
    spec = live.embeddable(spec)
    spec["usermeta"]["queries"] = len(q)  # (Q,) rows: how the test finds the curve
    logws = list(np.linspace(*live.S_SPAN, 5))
    curves = page.evaluate(EMBED_JS, [spec, logws])
    scale = float(np.abs(y).max())
    for lw, curve in zip(logws, curves, strict=True):
        got = np.array(sorted(curve))  # (Q, 3) by query index
        ref = nwcore.nadaraya_watson(
            torch.tensor(q), torch.tensor(x), torch.tensor(y), kernel, w0 * 10.0**lw
        )
        np.testing.assert_allclose(got[:, 1], ref.y_hat.numpy(), rtol=1e-6, atol=1e-6 * scale)
        np.testing.assert_array_equal(got[:, 2].astype(bool), ref.empty.numpy())


def test_drag_sends_nothing_and_redraws(page) -> None:
    """Drag the in-chart slider for 2 s: no websocket frame sent, many redraws, no errors."""
    sent, errors = [], []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("websocket", lambda ws: ws.on("framesent", lambda f: sent.append(f)))
    page.goto(page.url)  # reconnect so the websocket listener sees the socket
    slider = page.locator("input[type=range]").first
    slider.wait_for(state="attached")
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=90_000
    )
    page.wait_for_timeout(1000)
    slider.scroll_into_view_if_needed()
    title = page.locator('[data-testid="stVegaLiteChart"]').nth(1)
    before, seen = len(sent), set()
    box = slider.bounding_box()
    page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
    page.mouse.down()
    t0, step = time.monotonic(), 0
    while time.monotonic() - t0 < 2.0:
        step += 1
        page.mouse.move(box["x"] + 2 + (step * 5) % int(box["width"] - 4), box["y"] + 8)
        seen.add(slider.input_value())
    page.mouse.up()
    assert len(sent) == before, f"{len(sent) - before} websocket frames sent while dragging"
    assert len(seen) >= 10, f"only {len(seen)} distinct slider values while dragging"
    assert title.is_visible()
    assert not [e for e in errors if not re.search(r"favicon", e)], errors


def _live_chart(page):
    """The live chart's element: the Vega-Lite chart that has the in-chart range input."""
    return page.locator('[data-testid="stVegaLiteChart"]').filter(
        has=page.locator("input[type=range]")
    )


@pytest.mark.parametrize("width", [400, 800, 1400])
def test_live_chart_fits_its_column(server, browser, width: int) -> None:
    """Curve and heatmap stretch to the main column and nothing sticks out of it."""
    page = open_page(browser, server, width=width)
    try:
        chart = _live_chart(page)
        chart.scroll_into_view_if_needed()
        canvas = chart.locator("canvas").first
        canvas.wait_for()
        column = page.locator('[data-testid="stMainBlockContainer"]').bounding_box()
        content = chart.bounding_box()  # the element Streamlit sizes to the column's content
        box = canvas.bounding_box()
        assert box["x"] >= column["x"] and box["x"] + box["width"] <= column["x"] + column["width"]
        assert box["width"] >= content["width"], (box, content)  # stretched, not a fixed 520 px
        assert page.evaluate("document.documentElement.scrollWidth") <= width  # no side scroll
        chart.screenshot(path=ARTIFACTS / f"live-chart-{width}.png")
    finally:
        page.context.close()


def test_slider_w_is_carried_into_the_sidebar_and_the_link(server, browser) -> None:
    """Move the in-chart slider (no rerun), click the heatmap: the sidebar w and link follow."""
    page = open_page(browser, server)
    try:
        chart = _live_chart(page)
        chart.scroll_into_view_if_needed()
        slider = chart.locator("input[type=range]")
        lo, hi = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
        slider.evaluate(
            "(el, v) => { el.value = v; el.dispatchEvent(new Event('input', {bubbles: true})); }",
            str(lo + 0.8 * (hi - lo)),
        )
        w = 10 ** float(slider.input_value())  # the value it snapped to, times the sidebar w 1
        assert "w = 1." in alt_text(page)  # the server's w is untouched by the drag
        box = chart.locator("canvas").first.bounding_box()
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] - 250)  # heatmap
        exact = page.get_by_role("textbox", name="exact w (optional)")
        wait_for(page, lambda: exact.input_value() != "", "the carried w in the sidebar box")
        settle(page)
        assert float(exact.input_value()) == pytest.approx(w, rel=1e-3)
        wait_for_alt(page, f"w = {fmt(float(exact.input_value()))}.")  # the fit uses it
        link = query(share_link(page))
        assert float(link["w_exact"][0]) == pytest.approx(w, rel=1e-3), link  # the exact-w box
        # a new view after the carry: its slider back at 0, i.e. at the carried (sidebar) w
        slider = _live_chart(page).locator("input[type=range]")
        wait_for(page, lambda: float(slider.input_value()) == 0.0, "the slider back at 0")
        no_exception(page)
    finally:
        page.context.close()


# Embed the spec, then report the canvas box; the caller moves the mouse, then reads the hover
# selection's store (the heatmap rows it highlights) with HOVERED_JS.
HOVER_SETUP_JS = (
    EMBED_PRELUDE
    + """  window.hoverView = res.view;
  div.style.cssText = 'position: fixed; left: 0; top: 0; z-index: 2147483647; background: white';
  const b = div.querySelector('canvas').getBoundingClientRect();
  return [b.x, b.y, b.width, b.height];
}"""
)
HOVERED_JS = "() => window.hoverView.data('row_store').map(t => t.values[0])"


def test_hovering_a_query_highlights_its_heatmap_row(page) -> None:
    """Sweep the pointer across the curve's plot: the hover picks each query's heatmap row
    (the shown row at or above it), left to right, every shown row once."""
    q, x, y = _data("clusters")
    spec, _, stride = live.live_chart(q, x, y, "gaussian", 1.0, {}, ("x", "y", "live"))
    assert stride > 1  # rows are thinned: a query maps to the shown row above it
    left, top, width, _ = page.evaluate(HOVER_SETUP_JS, [live.embeddable(spec), []])
    seen = []
    for i in range(1, 200):
        page.mouse.move(left + width * i / 200, top + 150)  # the middle of the curve's plot
        picked = page.evaluate(HOVERED_JS)
        if picked and (not seen or seen[-1] != picked[0]):
            seen.append(picked[0])
    assert seen == list(range(0, len(q), stride)), seen
    page.evaluate("() => { const v = window.hoverView; v.container().remove(); v.finalize(); }")


def test_a_kernel_click_keeps_the_drawn_view_and_the_slider(server, browser) -> None:
    """Kernel changed in the sidebar: Streamlit swaps the live chart's data in the drawn view
    (the same canvas element, the slider where the user left it), not a new view."""
    page = open_page(browser, server)
    try:
        chart = _live_chart(page)
        chart.scroll_into_view_if_needed()
        slider = chart.locator("input[type=range]")
        slider.evaluate(
            "el => { el.value = 1.2; el.dispatchEvent(new Event('input', {bubbles: true})); }"
        )
        moved = slider.input_value()
        chart.locator("canvas").first.evaluate("c => { c.dataset.before = 'yes'; }")
        sidebar_widget(page, "stSelectbox", "Kernel").click()
        page.get_by_role("option", name="boxcar", exact=True).click()
        wait_for_alt(page, "kernel boxcar")
        settle(page)
        canvas = _live_chart(page).locator("canvas").first
        assert canvas.get_attribute("data-before") == "yes", "the live chart was drawn anew"
        assert _live_chart(page).locator("input[type=range]").input_value() == moved
        no_exception(page)
    finally:
        page.context.close()

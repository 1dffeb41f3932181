"""Every chart fits its column (issue 11 item 4): each page at 400, 800 and 1400 px viewport width,
in English and Chinese, in headless Chromium.

A chart fits when the drawn graphic (the SVG or canvas inside Streamlit's vega-embed) lies inside
the element container Streamlit put it in, and the page has no horizontal scroll. The live w view
(key live_chart, dashboard/live.py) is measured by its own tests (tests/test_live_browser.py).
Screenshots go to test-artifacts/fit-*.png.
"""

from __future__ import annotations

import numpy as np
import pytest

from dashboard import chart_data as cd
from dashboard import charts
from tests.bench.live import EMBED_PRELUDE
from tests.conftest import ARTIFACTS, BROWSER, no_exception, open_page, settle, wait_for
from tests.test_charts import _png

pytestmark = BROWSER

WIDTHS = (400, 800, 1400)
# page path -> how many charts it draws at least, with its default settings (the live chart
# not counted): pooling (at "/") has the fit chart and the loss chart of the cheap first training
PAGES = {"": 2, "scoring": 2, "self-attention": 4, "exercises": 0}
TOLERANCE_PX = 1  # sub-pixel rounding of layout boxes

# For each chart: the drawn graphic's box and its element container's box (client pixels).
MEASURE = """() => {
  const out = [];
  for (const chart of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    const box = chart.closest('[data-testid="stElementContainer"]');
    const live = !!chart.querySelector('.vega-bindings input[type="range"]');  // the live w view
    const drawn = chart.querySelector('svg.marks, canvas.marks');
    if (!drawn) { out.push({key: 'chart ' + out.length, live, drawn: null}); continue; }
    const d = drawn.getBoundingClientRect(), b = box.getBoundingClientRect();
    const title = chart.querySelector('.role-title-text, .role-title text');
    const key = title ? title.textContent : 'chart ' + out.length;
    out.push({key, live, left: d.left, right: d.right, box_left: b.left, box_right: b.right});
  }
  const doc = document.scrollingElement || document.documentElement;
  const main = document.querySelector('[data-testid="stMain"]');
  return {charts: out, page_scroll: doc.scrollWidth - doc.clientWidth,
          main_scroll: main ? main.scrollWidth - main.clientWidth : 0};
}"""


def measure(page) -> dict:
    """Chart boxes and horizontal scroll, as MEASURE returns them."""
    return page.evaluate(MEASURE)


def misfits(charts: list[dict]) -> list[str]:
    """Readable descriptions of every chart that leaves its column."""
    bad = []
    for c in charts:
        if c.get("drawn", True) is None:
            bad.append(f"{c['key']}: no SVG or canvas drawn")
            continue
        over = c["right"] - c["box_right"]
        under = c["box_left"] - c["left"]
        if over > TOLERANCE_PX or under > TOLERANCE_PX:
            bad.append(
                f"{c['key']}: drawn {c['left']:.0f}..{c['right']:.0f} px, column "
                f"{c['box_left']:.0f}..{c['box_right']:.0f} px ({max(over, under):.0f} px out)"
            )
    return bad


def scroll(found: dict) -> list[str]:
    """Horizontal scroll of the page or of Streamlit's main area, if any."""
    return [
        f"{what}: {found[what]} px of horizontal scroll"
        for what in ("page_scroll", "main_scroll")
        if found[what] > TOLERANCE_PX
    ]


def ours(found: dict) -> list[dict]:
    return [c for c in found["charts"] if not c["live"]]


def check(found: dict, where: str) -> None:
    """Every chart but the live one fits; the page does not scroll sideways. A scroll that the
    live chart (dashboard/live.py, another task's) causes is an expected failure, with numbers."""
    assert misfits(ours(found)) == [], where
    live = misfits([c for c in found["charts"] if c["live"]])
    if scroll(found) and live:
        pytest.xfail(f"{where}: the live w view overflows ({live}; {scroll(found)})")
    assert scroll(found) == [], where


def _drawn(page, expected: int) -> bool:
    found = ours(measure(page))
    return len(found) >= expected and all(c.get("drawn", True) is not None for c in found)


# every page at every width in English; in Chinese at 800 px
CASES = [(p, w, "en") for p in PAGES for w in WIDTHS] + [(p, 800, "zh") for p in PAGES]


@pytest.mark.parametrize(
    ("path", "width", "lang"), CASES, ids=[f"{p or 'pooling'}-{w}-{lang}" for p, w, lang in CASES]
)
def test_every_chart_fits_its_column(server: str, browser, path: str, width: int, lang: str):
    query = "?lang=zh" if lang == "zh" else ""
    page = open_page(browser, f"{server}/{path}{query}", width=width)
    name = path or "pooling"
    try:
        wait_for(page, lambda: _drawn(page, PAGES[path]), f"{PAGES[path]} charts on {name}")
        settle(page)
        no_exception(page)
        page.screenshot(path=ARTIFACTS / f"fit-{name}-{width}-{lang}.png", full_page=True)
        found = measure(page)
        assert len(ours(found)) >= PAGES[path], found
        check(found, f"{name} at {width} px ({lang})")
    finally:
        page.context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_trained_pooling_chart_with_eight_heads_fits(server: str, browser, width: int):
    """The widest fit chart: nine heatmap panels (nonparametric + 8 heads) after training."""
    page = open_page(browser, f"{server}/?heads=8&mode=converged&train=1", width=width)
    try:
        page.get_by_text("Trained in", exact=False).first.wait_for()
        settle(page)
        wait_for(page, lambda: _drawn(page, 1), "the fit chart")
        no_exception(page)
        page.screenshot(path=ARTIFACTS / f"fit-pooling-8heads-{width}.png", full_page=True)
        check(measure(page), f"8 heads at {width} px")
    finally:
        page.context.close()


def test_hover_lists_every_curve_and_heatmaps_offer_their_own_scale(server: str, browser):
    """In Chromium: pointing at the fit chart shows one tooltip with every curve's value at
    that query; the legend names the training points; the own-scale checkbox is there."""
    page = open_page(browser, server, width=1400)
    try:
        wait_for(page, lambda: _drawn(page, 2), "the fit chart")
        settle(page)
        chart = page.locator('[data-testid="stVegaLiteChart"]').first
        box = chart.locator("canvas.marks, svg.marks").first.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + 200)
        tip = page.locator("#vg-tooltip-element")
        wait_for(page, lambda: tip.is_visible() and "nonparametric" in tip.inner_text(), "tooltip")
        shown = tip.inner_text()
        page.screenshot(path=ARTIFACTS / "fit-hover-tooltip.png")
        for name in ("x", "truth", "average", "nonparametric", "parametric"):
            assert name in shown, shown
        checkbox = chart.locator('.vega-bindings input[type="checkbox"]')
        assert checkbox.count() == 1
        assert "one colour scale per heatmap" in chart.locator(".vega-bindings").inner_text()
    finally:
        page.context.close()


# Embed a fit spec with Streamlit's vega-embed; return its band scales' domains and scale
# positions of the given keys, the drawn images' boxes, the colour scale's colours for the
# given weights (shared and own), and the pixels of each image's cells.
FIT_VIEW_JS = (
    EMBED_PRELUDE.replace("async ([spec, logws])", "async ([spec, probe])")
    + """  const view = res.view, scales = res.vgSpec.scales;
  const bands = scales.filter(s => s.type === 'band').map(s => {
    const sc = view.scale(s.name);
    return [s.name, sc.domain(), sc.bandwidth(), probe.keys.map(k => sc(k) ?? null)];
  });
  const images = [];
  const walk = node => {
    if (node.marktype === 'image')
      node.items.forEach(it => images.push([it.x, it.y, it.width, it.height, it.url, it.smooth]));
    (node.items || []).forEach(walk);
  };
  walk(view.scenegraph().root);
  const colour = view.scale(scales.find(s => s.type === 'sqrt').name);
  const shared = probe.weights.map(w => colour(w));
  await view.signal('own_scale', true).runAsync();
  const own = probe.own.map(w => view.scale(scales.find(s => s.type === 'sqrt').name)(w));
  const pixels = [];
  for (const [, , , , url] of images) {
    const img = new Image(); img.src = url; await img.decode();
    const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
    const g = c.getContext('2d'); g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    pixels.push([c.width, c.height, Array.from(d)]);
  }
  view.finalize(); div.remove();
  return {bands, images, shared, own, pixels};
}"""
)


def _rgb(css: str) -> list[int]:
    """'rgb(68, 1, 84)' or '#440154' -> [68, 1, 84]."""
    if css.startswith("#"):
        return [int(css[i : i + 2], 16) for i in (1, 3, 5)]
    return [round(float(v)) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3]]


def test_fit_heatmap_images_match_vegas_colour_scale_and_bands(server: str, browser):
    """In Chromium (Streamlit's vega-embed): the heatmap's band domains come out in grid order
    (panel columns with their gap, title bands above each row of panels); each panel's image
    covers exactly its bands; and every cell's pixel colour is what Vega's own colour scale
    (the legend's) gives that weight, on the shared scale and on the panel's own scale."""
    q, k = np.array([0.5, 1.25, 2.0]), np.array([-1.0, 3.5])  # (Q,), (K,)
    wa = np.array([[0.9, 0.1], [0.5, 0.5], [0.2, 0.8]])  # (Q, K)
    panels = ["nonparametric (w = 1)", "head 1", "head 2"]  # 3 panels: 2 grid rows
    mats = [wa, wa[::-1] * 0.5, wa[:, ::-1]]
    heat = charts.heatmaps(list(zip(panels, mats, strict=True)), q, k)
    spec = charts.fit_with_heatmaps(
        cd.curve_frame(q, q, "average"), cd.points_frame(k, k), cd.empty_curves(), heat,
        title="t", x_label="x", y_label="y",
    )  # fmt: skip
    images = spec["datasets"]["images"].to_pandas().sort_values("pi")  # Arrow tables
    grid = cd.panel_grid(3, ["r"] * 3, ["c"] * 2, 2, 1)
    titles = spec["datasets"]["titles"].to_pandas()
    first_x = list(titles[titles["pi"] >= 0].sort_values("pi")["gx"])  # each panel's first key
    spec["datasets"] = {n: f.to_pylist() for n, f in spec["datasets"].items()}
    for child in spec["vconcat"]:  # what Streamlit's width="stretch" does: the column's width
        child["width"] = 900
    probe = {
        "keys": first_x + list(images["gy"]),
        "weights": [float(w) for m in mats for w in m.ravel()],
        "own": [float(w / m.max()) for m in mats for w in m.ravel()],
    }
    page = open_page(browser, server, width=1400)
    try:
        page.locator('[data-testid="stVegaLiteChart"] canvas').first.wait_for()
        got = page.evaluate(FIT_VIEW_JS, [spec, probe])
    finally:
        page.context.close()
    prefix = cd.KEY_PREFIX
    by_domain = {tuple(key[:prefix] for key in b[1]): b for b in got["bands"]}
    x_band = by_domain[tuple(g[:prefix] for g in grid["x_domain"])]
    y_band = by_domain[tuple(g[:prefix] for g in grid["y_domain"])]
    assert len(got["images"]) == 3
    for p, (x, y, width, height, _, smooth) in enumerate(got["images"]):
        assert smooth is False  # one pixel per cell, stretched without blur
        assert x == pytest.approx(x_band[3][p], abs=0.5)  # at its panel's first key band
        assert y == pytest.approx(y_band[3][3 + p], abs=0.5)  # and its first query row
        assert width == pytest.approx(2 * x_band[2], abs=0.5)  # K' bands wide
        assert height == pytest.approx(3 * y_band[2], abs=0.5)  # Q' bands high
    cell = 0
    for p, (width, height, flat) in enumerate(got["pixels"]):
        px = np.array(flat, dtype=int).reshape(height, width, 4)[..., :3]
        for i in range(3):
            for j in range(2):
                centre = px[int((i + 0.5) * height / 3), int((j + 0.5) * width / 2)]
                want = _rgb(got["shared"][cell])
                assert np.abs(centre - want).max() <= 2, (panels[p], i, j, centre, want)
                cell += 1
    # the own-scale colours (Vega's, with the checkbox on) are the url_own images' pixels
    for p, row in enumerate(images.itertuples()):
        own = _png(row.url_own)
        for i in range(3):
            for j in range(2):
                want = _rgb(got["own"][p * 6 + i * 2 + j])
                assert np.abs(own[i, j].astype(int) - want).max() <= 2

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
from tests.bench.live import EMBED_PRELUDE
from tests.load.server import CHROMIUM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"no Chromium at {CHROMIUM}"),
]
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")

# Embed a spec with Streamlit's vega-embed; return the curve (xq, y_hat, empty) at log10 w.
EMBED_JS = (
    EMBED_PRELUDE
    + """  const nq = spec.usermeta.queries;
  const name = res.vgSpec.data.map(d => d.name).find(n => {
    const v = res.view.data(n); return v.length === nq && 'y_hat' in v[0] && 'empty' in v[0];
  });
  const out = [];
  for (const lw of logws) {
    await res.view.signal('logw', lw).runAsync();
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
    spec, binned, _ = live.live_spec(q, x, y, kernel, 1.0, fixed, ("x", "y", "live"))
    assert not binned
    spec["usermeta"] = {"queries": len(q)}
    lo, hi = live.w_range(x)
    logws = list(np.linspace(lo, hi, 5))
    curves = page.evaluate(EMBED_JS, [spec, logws])
    scale = float(np.abs(y).max())
    for lw, curve in zip(logws, curves, strict=True):
        got = np.array(sorted(curve))  # (Q, 3) by query index
        ref = nwcore.nadaraya_watson(
            torch.tensor(q), torch.tensor(x), torch.tensor(y), kernel, 10.0**lw
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

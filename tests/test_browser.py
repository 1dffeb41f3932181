"""The dashboard in a real browser: Streamlit server + headless Debian Chromium via playwright.

Screenshots land in test-artifacts/ (gitignored) for people to look at.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.load.server import CHROMIUM, CHROMIUM_ARGS, DashboardServer

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: install Debian's chromium (.ci/run does) "
        "or set CHROMIUM=/path/to/chromium",
    ),
]
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="the playwright package is not installed (requirements-dev.txt)"
)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """A dashboard server on a free localhost port; always stopped afterwards."""
    ARTIFACTS.mkdir(exist_ok=True)
    with DashboardServer(log_path=ARTIFACTS / "streamlit-server.log") as dashboard:
        yield dashboard.http


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


def _page(browser, url: str):
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.set_default_timeout(60_000)
    page.goto(url)
    return page


def _fit_chart(page):
    """The fit chart's container; its aria text says which kernel and w it shows."""
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for(state="visible")
    page.wait_for_timeout(500)
    return chart


def _settle(page) -> None:
    """Wait until Streamlit has finished rerunning (the status widget disappears)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(700)


def _chart_label(page) -> str:
    return (
        page.locator('[data-testid="stVegaLiteChart"] [aria-label]').first.get_attribute(
            "aria-label"
        )
        or page.locator('[data-testid="stVegaLiteChart"]').first.inner_text()
    )


def test_kernel_and_w_change_the_chart(server: str, browser) -> None:
    page = _page(browser, server)
    try:
        chart = _fit_chart(page)
        _settle(page)
        page.screenshot(path=ARTIFACTS / "browser-1-default.png", full_page=True)
        before_png = chart.screenshot(path=ARTIFACTS / "browser-chart-before.png")
        before_alt = _alt_text(page)
        assert "gaussian" in before_alt and "w = 1." in before_alt

        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Kernel").click()
        page.get_by_role("option", name=re.compile(r"^boxcar")).click()
        _wait_for_alt(page, "kernel boxcar")

        w_slider = sidebar.locator('[data-testid="stSlider"]').filter(
            has=page.get_by_text("w", exact=True)
        )
        thumb = w_slider.get_by_role("slider")
        thumb.focus()
        for _ in range(5):  # five log steps: w = 1 -> 3.16
            thumb.press("ArrowRight")
        _wait_for_alt(page, "w = 3.16.")
        _settle(page)
        page.get_by_text("bandwidth h = 1/w = 0.3165").wait_for()
        after_png = _fit_chart(page).screenshot(path=ARTIFACTS / "browser-chart-after.png")
        assert after_png != before_png
        page.screenshot(path=ARTIFACTS / "browser-2-boxcar-w3.png", full_page=True)

        # a narrow boxcar leaves queries with no key in their window: the page says so
        exact = sidebar.get_by_role("textbox", name="exact w (optional)")
        exact.fill("30")
        exact.press("Enter")
        _wait_for_alt(page, "w = 30.")
        page.get_by_text("have no training point inside their window").wait_for()
        _settle(page)
        page.screenshot(path=ARTIFACTS / "browser-3-empty-windows.png", full_page=True)
    finally:
        page.close()


def _wait_for_alt(page, fragment: str, timeout: float = 60) -> None:
    """Poll the fit chart's description until it mentions `fragment` (a rerun finished)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        text = _alt_text(page)
        if fragment in text:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"the fit chart never showed {fragment!r}; last: {text!r}")


def _alt_text(page) -> str:
    """The accessible description Streamlit gives the fit chart (st.altair_chart(alt=...))."""
    handle = page.locator('[data-testid="stVegaLiteChart"]').first
    for attr in ("aria-label", "title"):
        value = handle.get_attribute(attr)
        if value:
            return value
    inner = handle.locator("[aria-label], [role='img'], [role='graphics-document']").first
    return inner.get_attribute("aria-label") or ""


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def test_training_hover_and_other_pages_render(server: str, browser) -> None:
    page = _page(browser, server)
    try:
        chart = _fit_chart(page)
        _settle(page)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text(re.compile(r"Trained in \d+ steps")).first.wait_for()
        _settle(page)
        assert "parametric" in _alt_text(page)
        _no_exception(page)
        page.mouse.move(5, 5)  # no hover tooltip in the picture
        page.wait_for_timeout(300)
        page.screenshot(path=ARTIFACTS / "browser-4-trained.png", full_page=True)

        chart = _fit_chart(page)
        box = chart.bounding_box()
        page.mouse.move(box["x"] + box["width"] * 0.35, box["y"] + 150)
        page.wait_for_timeout(800)
        chart.screenshot(path=ARTIFACTS / "browser-5-hover-query.png")

        for path, name in (
            ("scoring", "browser-6-scoring.png"),
            ("self-attention", "browser-7-self-attention.png"),
        ):
            page.goto(f"{server}/{path}")
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(state="visible")
            _settle(page)
            _no_exception(page)
            page.screenshot(path=ARTIFACTS / name, full_page=True)
    finally:
        page.close()

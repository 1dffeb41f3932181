"""The dashboard in a real browser: Streamlit server + headless Debian Chromium via playwright.

Screenshots land in test-artifacts/ (gitignored) for people to look at.
"""

from __future__ import annotations

import re

from tests.conftest import (
    ARTIFACTS,
    BROWSER,
    alt_text,
    no_exception,
    open_page,
    settle,
    wait_for_alt,
)

pytestmark = BROWSER


def _fit_chart(page):
    """The fit chart's container, once drawn."""
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for(state="visible")
    page.wait_for_timeout(500)
    return chart


def test_kernel_and_w_change_the_chart(server: str, browser) -> None:
    page = open_page(browser, server)
    try:
        chart = _fit_chart(page)
        settle(page)
        page.screenshot(path=ARTIFACTS / "browser-1-default.png", full_page=True)
        before_png = chart.screenshot(path=ARTIFACTS / "browser-chart-before.png")
        before_alt = alt_text(page)
        assert "gaussian" in before_alt and "w = 1." in before_alt

        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.locator('[data-testid="stSelectbox"]').filter(has_text="Kernel").click()
        page.get_by_role("option", name=re.compile(r"^boxcar")).click()
        wait_for_alt(page, "kernel boxcar")

        w_slider = sidebar.locator('[data-testid="stSlider"]').filter(
            has=page.get_by_text("w", exact=True)
        )
        thumb = w_slider.get_by_role("slider")
        thumb.focus()
        for _ in range(5):  # five log steps: w = 1 -> 3.16
            thumb.press("ArrowRight")
        wait_for_alt(page, "w = 3.16.")
        settle(page)
        page.get_by_text("bandwidth h = 1/w = 0.3165").wait_for()
        after_png = _fit_chart(page).screenshot(path=ARTIFACTS / "browser-chart-after.png")
        assert after_png != before_png
        page.screenshot(path=ARTIFACTS / "browser-2-boxcar-w3.png", full_page=True)

        # a narrow boxcar leaves queries with no key in their window: the page says so
        exact = sidebar.get_by_role("textbox", name="exact w (optional)")
        exact.fill("30")
        exact.press("Enter")
        wait_for_alt(page, "w = 30.")
        page.get_by_text("have no training point inside their window").wait_for()
        settle(page)
        page.screenshot(path=ARTIFACTS / "browser-3-empty-windows.png", full_page=True)
    finally:
        page.context.close()


def test_training_hover_and_other_pages_render(server: str, browser) -> None:
    page = open_page(browser, server)
    try:
        chart = _fit_chart(page)
        settle(page)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text(re.compile(r"Trained in \d+ steps")).first.wait_for()
        settle(page)
        assert "parametric" in alt_text(page)
        no_exception(page)
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
            settle(page)
            no_exception(page)
            page.screenshot(path=ARTIFACTS / name, full_page=True)
    finally:
        page.context.close()

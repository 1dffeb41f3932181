"""Shared helpers for the browser tests: one dashboard server and one headless Chromium per
session, and the waits that make a test read the page only after Streamlit drew it.

Use the `server` (its http address) and `browser` fixtures and the functions below; mark a
browser test module with `pytestmark = BROWSER` (it then skips without Chromium/playwright).
Screenshots go to test-artifacts/ (gitignored) for people to look at.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.load.server import CHROMIUM, CHROMIUM_ARGS, DashboardServer

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
BROWSER = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason=f"no Chromium at {CHROMIUM}: install Debian's chromium (.ci/run does) "
        "or set CHROMIUM=/path/to/chromium",
    ),
    pytest.mark.skipif(
        importlib.util.find_spec("playwright") is None,
        reason="the playwright package is not installed (requirements-dev.txt)",
    ),
]


@pytest.fixture(scope="session")
def server() -> Iterator[str]:
    """A dashboard server on a free localhost port; always stopped afterwards."""
    ARTIFACTS.mkdir(exist_ok=True)
    with DashboardServer(log_path=ARTIFACTS / "streamlit-server.log") as dashboard:
        yield dashboard.http


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - only browser tests need it

    with sync_playwright() as p:
        chromium = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


class Requests:
    """Every URL a browser context asks for (page loads, scripts, fonts, websockets)."""

    def __init__(self) -> None:
        self.urls: list[str] = []

    def watch(self, context) -> None:
        context.on("request", lambda request: self.urls.append(request.url))
        context.on("websocket", lambda ws: self.urls.append(ws.url))

    def foreign(self) -> list[str]:
        out = []
        for url in self.urls:
            parts = urlsplit(url)
            if parts.scheme in ("data", "blob", "about"):
                continue
            if parts.hostname not in LOCAL_HOSTS:
                out.append(url)
        return out


@pytest.fixture()
def requests_seen() -> Requests:
    return Requests()


def open_page(browser, url: str, requests_seen: Requests | None = None, width: int = 1400):
    """A fresh browser context (no shared session or storage) on `url`, drawn and settled."""
    context = browser.new_context(viewport={"width": width, "height": 2200})
    if requests_seen is not None:
        requests_seen.watch(context)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator('[data-testid="stMainBlockContainer"] h1').first.wait_for()
    settle(page)
    return page


def settle(page) -> None:
    """Wait until Streamlit has finished rerunning (the status widget disappears)."""
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(700)


def wait_for(page, predicate: Callable[[], bool], what: str, timeout: float = 60) -> None:
    """Poll `predicate` until it holds (the page is redrawn piece by piece)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"never saw {what}")


def alt_text(page) -> str:
    """The fit chart's summary line under it (curves, kernel, w of the run that drew it); ''
    before it is drawn. (The chart's own aria-label is the same on every run, so that
    Streamlit keeps the drawn chart and swaps its data.)"""
    summary = page.locator(".st-key-fit_summary")
    if summary.count() == 0:
        return ""
    return summary.first.inner_text().strip()


def wait_for_alt(page, fragment: str, timeout: float = 60) -> None:
    """Wait until the fit chart's description mentions `fragment` (its rerun finished)."""
    wait_for(page, lambda: fragment in alt_text(page), f"the fit chart with {fragment!r}", timeout)


def query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def open_share(page):
    """Open the sidebar's 'share this view' popover (and the sidebar, where it is collapsed
    on a narrow screen); returns the popover's body."""
    body = page.locator('[data-testid="stPopoverBody"]').first
    if not body.is_visible():
        expand = page.locator('[data-testid="stExpandSidebarButton"]')
        if expand.count() and expand.first.is_visible():
            expand.first.click()
        page.locator('[data-testid="stSidebar"] [data-testid="stPopover"] button').first.click()
    body.locator('[data-testid="stCode"]').wait_for()
    return body


def share_link(page) -> str:
    """The text of the 'share this view' code block (its popover closed again after)."""
    body = open_share(page)
    text = body.locator('[data-testid="stCode"]').inner_text().strip()
    page.keyboard.press("Escape")
    body.wait_for(state="hidden")
    return text


def sidebar_widget(page, testid: str, label: str):
    """A sidebar widget of one kind (stSlider, stSelectbox, ...) by its exact label."""
    return (
        page.locator('[data-testid="stSidebar"]')
        .locator(f'[data-testid="{testid}"]')
        .filter(has=page.get_by_text(label, exact=True))
    )


def no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def link_notices(page) -> list[str]:
    """The texts of the 'values in this page's link were not used' notices shown."""
    warnings = page.locator('[data-testid="stAlertContentWarning"]')
    texts = [warnings.nth(i).inner_text() for i in range(warnings.count())]
    return [text for text in texts if "were not used" in text or "没有被使用" in text]

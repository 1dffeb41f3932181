"""Workshop mode in a real browser: links round-trip, facilitator options, Chinese, offline.

Same server and Chromium as tests/test_browser.py (and the same skip rules). Every request
the pages make is recorded: all of them must go to this machine. Screenshots land in
test-artifacts/workshop-*.png.
"""

from __future__ import annotations

import re
import time
import tomllib
from urllib.parse import parse_qs, urlsplit

import pytest

from tests import test_browser as tb
from tests.test_browser import ARTIFACTS, ROOT, _settle

# The same fixtures (a dashboard server on a free port, headless Chromium) and skip rules.
server = tb.server
browser = tb.browser

pytestmark = tb.pytestmark
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


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


def _open(browser, url: str, requests_seen: Requests):
    """A fresh browser context (no shared session or storage) on `url`."""
    context = browser.new_context(viewport={"width": 1400, "height": 2200})
    requests_seen.watch(context)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url)
    page.locator('[data-testid="stMainBlockContainer"] h1').first.wait_for()
    _settle(page)
    return page


def _wait_for(page, predicate, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"never saw {what}")


def _alt_text(page) -> str:
    """The fit chart's description (kernel, w, curves), once the chart is drawn."""
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for(state="visible")
    if chart.get_attribute("aria-label"):
        return chart.get_attribute("aria-label") or ""
    inner = chart.locator("[aria-label], [role='img'], [role='graphics-document']")
    if inner.count() == 0:
        return ""
    return inner.first.get_attribute("aria-label") or ""


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def _share_link(page) -> str:
    """The text of the sidebar's 'share this view' code block."""
    code = page.locator('[data-testid="stSidebar"] [data-testid="stCode"]').first
    code.wait_for()
    return code.inner_text().strip()


def _no_exception(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.locator('[data-testid="stAlertContentError"]').count() == 0


def _sidebar_widget(page, testid: str, label: str):
    return (
        page.locator('[data-testid="stSidebar"]')
        .locator(f'[data-testid="{testid}"]')
        .filter(has=page.get_by_text(label, exact=True))
    )


def test_usage_statistics_are_off() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False


def test_a_pooling_link_round_trips_and_every_request_stays_local(
    server: str, browser, requests_seen: Requests
) -> None:
    link = f"{server}/?kernel=boxcar&w=3.16&seed=11&heads=2&curves=average&curves=truth"
    page = _open(browser, link, requests_seen)
    try:
        _wait_for(page, lambda: "kernel boxcar" in _alt_text(page), "kernel boxcar")
        assert "w = 3.16." in _alt_text(page)
        seed = page.get_by_role("spinbutton", name="seed")
        _wait_for(page, lambda: seed.input_value() == "11", "seed 11")
        page.screenshot(path=ARTIFACTS / "workshop-1-link-opened.png", full_page=True)
        _no_exception(page)

        # change a control: the address bar follows
        thumb = _sidebar_widget(page, "stSlider", "w").get_by_role("slider")
        thumb.focus()
        thumb.press("ArrowRight")  # 3.16 -> 3.98
        _wait_for(page, lambda: "w = 3.98." in _alt_text(page), "w = 3.98")
        _settle(page)
        _wait_for(page, lambda: _query(page.url).get("w") == ["3.98"], "w=3.98 in the URL")
        url, shared = page.url, _share_link(page)
        assert _query(shared) == _query(url)
        for key, value in {"kernel": "boxcar", "seed": "11", "heads": "2"}.items():
            assert _query(url)[key] == [value], key
    finally:
        page.context.close()

    # the copied link, in a fresh browser (no session, no storage): the same view
    again = _open(browser, shared, requests_seen)
    try:
        _wait_for(again, lambda: "w = 3.98." in _alt_text(again), "w = 3.98 after reopening")
        assert "kernel boxcar" in _alt_text(again)
        assert again.get_by_role("spinbutton", name="seed").input_value() == "11"
        heads = _sidebar_widget(again, "stSlider", "Heads")
        assert heads.locator('[data-testid="stSliderThumbValue"]').inner_text() == "2"
        _no_exception(again)
    finally:
        again.context.close()
    assert requests_seen.urls, "no request was recorded"
    assert not requests_seen.foreign(), requests_seen.foreign()


def test_a_chinese_link_with_hidden_and_locked_controls_round_trips(
    server: str, browser, requests_seen: Requests
) -> None:
    link = f"{server}/?lang=zh&hide=heads,mode&lock=dataset,seed&w=2&train=1"
    page = _open(browser, link, requests_seen)
    try:
        page.get_by_role("heading", name=re.compile("注意力汇聚")).first.wait_for()
        page.get_by_text(re.compile(r"训练完成")).first.wait_for()  # train=1: trained on load
        _settle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text("Heads", exact=True).count() == 0  # hidden
        assert page.get_by_role("spinbutton", name="seed（随机种子）").is_disabled()  # locked
        assert "parametric" in _alt_text(page)
        page.mouse.move(5, 5)
        page.screenshot(path=ARTIFACTS / "workshop-2-zh-hide-lock-trained.png", full_page=True)
        _no_exception(page)

        _sidebar_widget(page, "stSelectbox", "Kernel").click()
        page.get_by_role("option", name="triangular").click()
        _wait_for(page, lambda: "triangular" in _alt_text(page), "kernel triangular")
        _settle(page)
        _wait_for(page, lambda: "kernel" in _query(page.url), "kernel in the URL")
        query = _query(page.url)
        assert query["lang"] == ["zh"] and query["hide"] == ["heads,mode"]
        assert query["lock"] == ["dataset,seed"] and query["w"] == ["2"]
        url = page.url

        # another page and back: the facilitator's options and the controls' values stay
        page.locator('[data-testid="stSidebarNav"] a').nth(1).click()
        page.get_by_role("heading", name="注意力评分函数").first.wait_for()
        _settle(page)
        assert _query(page.url)["hide"] == ["heads,mode"]
        page.locator('[data-testid="stSidebarNav"] a').nth(0).click()
        _wait_for(page, lambda: "triangular" in _alt_text(page), "kernel triangular back")
        _settle(page)
        query = _query(page.url)
        assert query["lock"] == ["dataset,seed"] and query["kernel"] == ["triangular"]
        assert page.get_by_role("spinbutton", name="seed（随机种子）").is_disabled()
        assert (
            page.locator('[data-testid="stSidebar"]').get_by_text("Heads", exact=True).count() == 0
        )
    finally:
        page.context.close()

    again = _open(browser, url, requests_seen)
    try:
        _wait_for(again, lambda: "triangular" in _alt_text(again), "kernel triangular again")
        assert "w = 2。" in _alt_text(again)
        assert again.get_by_role("spinbutton", name="seed（随机种子）").is_disabled()
        assert (
            again.locator('[data-testid="stSidebar"]').get_by_text("Heads", exact=True).count() == 0
        )
        again.get_by_role("heading", name=re.compile("注意力汇聚")).first.wait_for()
    finally:
        again.context.close()
    assert not requests_seen.foreign(), requests_seen.foreign()


def test_scoring_and_self_attention_links_round_trip(
    server: str, browser, requests_seen: Requests
) -> None:
    queries = "2, 0\n0, 2"
    link = (
        f"{server}/scoring?sc_scorer=dot&sc_attention=argmax"
        f"&sc_queries={queries.replace(chr(10), '%0A').replace(' ', '%20')}"
    )
    page = _open(browser, link, requests_seen)
    try:
        area = page.get_by_role("textbox", name="Queries")
        assert area.input_value() == queries
        page.get_by_text("dot product: q^T k").first.wait_for()  # the chosen scorer's caption
        area.fill("1, 1\n0, 2\n3, 0")
        area.press("Control+Enter")
        _settle(page)
        _wait_for(
            page, lambda: _query(page.url).get("sc_queries") == ["1, 1\n0, 2\n3, 0"], "new text"
        )
        page.screenshot(path=ARTIFACTS / "workshop-3-scoring-link.png", full_page=True)
        url = page.url
    finally:
        page.context.close()
    again = _open(browser, url, requests_seen)
    try:
        assert again.get_by_role("textbox", name="Queries").input_value() == "1, 1\n0, 2\n3, 0"
        assert _query(again.url)["sc_attention"] == ["argmax"]
        _no_exception(again)
    finally:
        again.context.close()

    page = _open(browser, f"{server}/self-attention?mha_pe=false&mha_heads=4", requests_seen)
    try:
        page.get_by_text("Positional encoding is off").first.wait_for()
        assert page.get_by_text("head 4").count() > 0
        page.screenshot(path=ARTIFACTS / "workshop-4-self-attention-link.png", full_page=True)
        _no_exception(page)
    finally:
        page.context.close()
    assert not requests_seen.foreign(), requests_seen.foreign()


def test_exercises_page_and_a_bad_link(server: str, browser, requests_seen: Requests) -> None:
    page = _open(browser, f"{server}/exercises?lang=zh", requests_seen)
    try:
        page.get_by_role("heading", name="练习", exact=True).first.wait_for()
        buttons = page.locator('[data-testid="stLinkButton"] a')
        assert buttons.count() == 8
        first = buttons.first.get_attribute("href")
        assert _query(first) == {"n_train": ["500"], "lang": ["zh"]}
        page.screenshot(path=ARTIFACTS / "workshop-5-exercises-zh.png", full_page=True)
        _no_exception(page)
    finally:
        page.context.close()

    page = _open(browser, f"{server}/?kernel=laplace&n_train=50000&w=abc", requests_seen)
    try:
        notice = page.locator('[data-testid="stAlertContentWarning"]').first
        notice.wait_for()
        assert "were not used" in notice.inner_text()
        _wait_for(page, lambda: "kernel gaussian" in _alt_text(page), "the default kernel")
        _settle(page)
        query = _query(page.url)
        assert "kernel" not in query and "n_train" not in query and "w" not in query
        page.screenshot(path=ARTIFACTS / "workshop-6-bad-link-notice.png", full_page=True)
        _no_exception(page)
    finally:
        page.context.close()
    assert not requests_seen.foreign(), requests_seen.foreign()

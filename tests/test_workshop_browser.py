"""Workshop mode in a real browser: links round-trip, facilitator options, Chinese, offline.

Same server and Chromium as tests/test_browser.py (and the same skip rules). Every request
the pages make is recorded: all of them must go to this machine. Screenshots land in
test-artifacts/workshop-*.png.
"""

from __future__ import annotations

import re
import tomllib

from tests.conftest import (
    ARTIFACTS,
    BROWSER,
    ROOT,
    Requests,
    alt_text,
    no_exception,
    open_page,
    query,
    settle,
    share_link,
    sidebar_widget,
    wait_for,
)

pytestmark = BROWSER


def test_usage_statistics_are_off() -> None:
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["browser"]["gatherUsageStats"] is False


def test_a_pooling_link_round_trips_and_every_request_stays_local(
    server: str, browser, requests_seen: Requests
) -> None:
    link = f"{server}/?kernel=boxcar&w=3.16&seed=11&heads=2&curves=average&curves=truth"
    page = open_page(browser, link, requests_seen)
    try:
        wait_for(page, lambda: "kernel boxcar" in alt_text(page), "kernel boxcar")
        assert "w = 3.16." in alt_text(page)
        seed = page.get_by_role("spinbutton", name="seed")
        wait_for(page, lambda: seed.input_value() == "11", "seed 11")
        page.screenshot(path=ARTIFACTS / "workshop-1-link-opened.png", full_page=True)
        no_exception(page)

        # change a control: the address bar follows
        thumb = sidebar_widget(page, "stSlider", "w").get_by_role("slider")
        thumb.focus()
        thumb.press("ArrowRight")  # 3.16 -> 3.98
        wait_for(page, lambda: "w = 3.98." in alt_text(page), "w = 3.98")
        settle(page)
        wait_for(page, lambda: query(page.url).get("w") == ["3.98"], "w=3.98 in the URL")
        url, shared = page.url, share_link(page)
        assert query(shared) == query(url)
        for key, value in {"kernel": "boxcar", "seed": "11", "heads": "2"}.items():
            assert query(url)[key] == [value], key
    finally:
        page.context.close()

    # the copied link, in a fresh browser (no session, no storage): the same view
    again = open_page(browser, shared, requests_seen)
    try:
        wait_for(again, lambda: "w = 3.98." in alt_text(again), "w = 3.98 after reopening")
        assert "kernel boxcar" in alt_text(again)
        seed = again.get_by_role("spinbutton", name="seed")
        # the summary line can be drawn before React puts the link's seed into the input box
        wait_for(again, lambda: seed.input_value() == "11", "the link's seed 11 in the box", 10)
        assert seed.input_value() == "11"
        heads = sidebar_widget(again, "stSlider", "Heads")
        assert heads.locator('[data-testid="stSliderThumbValue"]').inner_text() == "2"
        no_exception(again)
    finally:
        again.context.close()
    assert requests_seen.urls, "no request was recorded"
    assert not requests_seen.foreign(), requests_seen.foreign()


def test_a_chinese_link_with_hidden_and_locked_controls_round_trips(
    server: str, browser, requests_seen: Requests
) -> None:
    link = f"{server}/?lang=zh&hide=heads,mode&lock=dataset,seed&w=2&train=1"
    page = open_page(browser, link, requests_seen)
    try:
        page.get_by_role("heading", name=re.compile("注意力汇聚")).first.wait_for()
        page.get_by_text(re.compile(r"训练完成")).first.wait_for()  # train=1: trained on load
        settle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar.get_by_text("Heads", exact=True).count() == 0  # hidden
        assert page.get_by_role("spinbutton", name="seed（随机种子）").is_disabled()  # locked
        assert "parametric" in alt_text(page)
        page.mouse.move(5, 5)
        page.screenshot(path=ARTIFACTS / "workshop-2-zh-hide-lock-trained.png", full_page=True)
        no_exception(page)

        sidebar_widget(page, "stSelectbox", "Kernel").click()
        page.get_by_role("option", name="triangular").click()
        wait_for(page, lambda: "triangular" in alt_text(page), "kernel triangular")
        settle(page)
        wait_for(page, lambda: "kernel" in query(page.url), "kernel in the URL")
        params = query(page.url)
        assert params["lang"] == ["zh"] and params["hide"] == ["heads,mode"]
        assert params["lock"] == ["dataset,seed"] and params["w"] == ["2"]
        url = page.url

        # another page and back: the facilitator's options and the controls' values stay
        page.locator('[data-testid="stSidebarNav"] a').nth(1).click()
        page.get_by_role("heading", name="注意力评分函数").first.wait_for()
        settle(page)
        assert query(page.url)["hide"] == ["heads,mode"]
        page.locator('[data-testid="stSidebarNav"] a').nth(0).click()
        wait_for(page, lambda: "triangular" in alt_text(page), "kernel triangular back")
        settle(page)
        params = query(page.url)
        assert params["lock"] == ["dataset,seed"] and params["kernel"] == ["triangular"]
        assert page.get_by_role("spinbutton", name="seed（随机种子）").is_disabled()
        assert (
            page.locator('[data-testid="stSidebar"]').get_by_text("Heads", exact=True).count() == 0
        )
    finally:
        page.context.close()

    again = open_page(browser, url, requests_seen)
    try:
        wait_for(again, lambda: "triangular" in alt_text(again), "kernel triangular again")
        assert "w = 2。" in alt_text(again)
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
    page = open_page(browser, link, requests_seen)
    try:
        area = page.get_by_role("textbox", name="Queries")
        # a bound box is filled from the link after the page settles: wait for it
        wait_for(page, lambda: area.input_value() == queries, "the link's queries")
        page.get_by_text("dot product: q^T k").first.wait_for()  # the chosen scorer's caption
        area.fill("1, 1\n0, 2\n3, 0")
        area.press("Control+Enter")
        settle(page)
        wait_for(
            page, lambda: query(page.url).get("sc_queries") == ["1, 1\n0, 2\n3, 0"], "new text"
        )
        page.screenshot(path=ARTIFACTS / "workshop-3-scoring-link.png", full_page=True)
        url = page.url
    finally:
        page.context.close()
    again = open_page(browser, url, requests_seen)
    try:
        box = again.get_by_role("textbox", name="Queries")
        wait_for(again, lambda: box.input_value() == "1, 1\n0, 2\n3, 0", "the edited queries")
        assert query(again.url)["sc_attention"] == ["argmax"]
        no_exception(again)
    finally:
        again.context.close()

    page = open_page(browser, f"{server}/self-attention?mha_pe=false&mha_heads=4", requests_seen)
    try:
        page.get_by_text("Positional encoding is off").first.wait_for()
        # the heads' heatmap is drawn after the notice: wait for its fourth panel
        wait_for(page, lambda: page.get_by_text("head 4").count() > 0, "the panel of head 4")
        page.screenshot(path=ARTIFACTS / "workshop-4-self-attention-link.png", full_page=True)
        no_exception(page)
    finally:
        page.context.close()
    assert not requests_seen.foreign(), requests_seen.foreign()


def test_exercises_page_and_a_bad_link(server: str, browser, requests_seen: Requests) -> None:
    page = open_page(browser, f"{server}/exercises?lang=zh", requests_seen)
    try:
        page.get_by_role("heading", name="练习", exact=True).first.wait_for()
        buttons = page.locator('[data-testid="stLinkButton"] a')
        wait_for(page, lambda: buttons.count() == 8, "the 8 exercises' buttons")  # drawn in turn
        first = buttons.first.get_attribute("href")
        assert query(first) == {"n_train": ["500"], "w": ["1"], "lang": ["zh"]}
        page.screenshot(path=ARTIFACTS / "workshop-5-exercises-zh.png", full_page=True)
        no_exception(page)
    finally:
        page.context.close()

    page = open_page(browser, f"{server}/?kernel=laplace&n_train=50000&w=abc", requests_seen)
    try:
        notice = page.locator('[data-testid="stAlertContentWarning"]').first
        notice.wait_for()
        assert "were not used" in notice.inner_text()
        wait_for(page, lambda: "kernel gaussian" in alt_text(page), "the default kernel")
        settle(page)
        params = query(page.url)
        assert "kernel" not in params and "n_train" not in params and "w" not in params
        page.screenshot(path=ARTIFACTS / "workshop-6-bad-link-notice.png", full_page=True)
        no_exception(page)
    finally:
        page.context.close()
    assert not requests_seen.foreign(), requests_seen.foreign()

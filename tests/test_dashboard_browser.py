"""A new user's first steps in headless Chromium: picking csv, typos in boxes, hidden controls,
real data with units. Each test pins down a breakage a user met (issue 11, items 1-3).

Screenshots land in test-artifacts/first-steps-*.png (400 and 1400 px wide).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.conftest import (
    ARTIFACTS,
    BROWSER,
    alt_text,
    link_notices,
    open_page,
    query,
    settle,
    sidebar_widget,
    wait_for,
    wait_for_alt,
)

pytestmark = BROWSER


@pytest.fixture()
def engel_csv(tmp_path):
    """Engel-like data: food spending against income, x in the hundreds to thousands."""
    gen = np.random.default_rng(3)
    income = np.sort(gen.lognormal(7.0, 0.5, 235))  # ~ 400 .. 5000
    food = 0.5 * income**0.9 + gen.normal(0, 40, income.size)
    path = tmp_path / "engel.csv"
    lines = ["income,foodexp", *(f"{x:.4f},{y:.4f}" for x, y in zip(income, food, strict=True))]
    path.write_text("\n".join(lines) + "\n")
    return path


def _error_under(page, box, fragment: str):
    """The error shown right under `box` (an input's locator) that mentions `fragment`."""
    errors = page.locator('[data-testid="stAlertContentError"]').filter(has_text=fragment)
    wait_for(page, lambda: errors.count() > 0, f"an error with {fragment!r}")
    error, below = errors.first.bounding_box(), box.bounding_box()
    gap = error["y"] - (below["y"] + below["height"])
    assert 0 <= gap < 120, f"the error is {gap:.0f} px from its box, not right under it"
    return errors.first.inner_text()


def _pick(page, label: str, option: str) -> None:
    sidebar_widget(page, "stSelectbox", label).click()
    page.get_by_role("option", name=option, exact=True).click()


def test_picking_csv_the_first_time_stays_on_csv_and_a_good_upload_shows_no_notice(
    server: str, browser, engel_csv
) -> None:
    page = open_page(browser, server)
    try:
        _pick(page, "Dataset", "csv")
        settle(page)
        uploader = page.locator('[data-testid="stFileUploaderDropzoneInput"]')
        wait_for(page, lambda: uploader.count() == 1, "the CSV uploader")
        page.wait_for_timeout(1500)  # a bounce back to classic would come with the next run
        settle(page)
        assert uploader.count() == 1 and page.get_by_text("your CSV file (upload)").count() == 1
        assert query(page.url).get("dataset") == ["csv"]
        assert not link_notices(page), link_notices(page)
        page.screenshot(path=ARTIFACTS / "first-steps-1-csv-picked.png", full_page=True)

        uploader.set_input_files(engel_csv)
        page.get_by_text(re.compile("Loaded engel.csv")).first.wait_for()
        settle(page)
        assert not link_notices(page), link_notices(page)
        # the data have units: w starts from them, not at 1 (a staircase for incomes)
        wait_for(page, lambda: "w = 1." not in alt_text(page), "w away from 1")
        w = float(re.search(r"w = ([0-9.e+-]+?)\.?(?:\s|$)", alt_text(page)).group(1))
        assert 1e-4 < w < 0.1, alt_text(page)
        assert page.get_by_text(re.compile("w started at")).count() == 1
        page.screenshot(path=ARTIFACTS / "first-steps-2-engel-uploaded.png", full_page=True)
    finally:
        page.context.close()


@pytest.mark.parametrize("typed", ["abc", "inf", "1e400"])
def test_a_typo_in_exact_w_is_said_under_the_box_and_the_text_stays(
    server: str, browser, typed: str
) -> None:
    page = open_page(browser, server)
    try:
        box = page.get_by_role("textbox", name="exact w (optional)")
        box.fill(typed)
        box.press("Enter")
        settle(page)
        message = _error_under(page, box, "is not a finite number")
        assert typed in message and "`" not in message and "\\n" not in message
        assert box.input_value() == typed
        assert not link_notices(page), link_notices(page)
        assert "w = 1." in alt_text(page)  # the slider's w is used meanwhile
        if typed == "abc":
            page.screenshot(path=ARTIFACTS / "first-steps-3-typo-in-w.png", full_page=True)
    finally:
        page.context.close()


def test_a_typo_in_a_matrix_or_numbers_box_keeps_the_text_and_says_where(
    server: str, browser
) -> None:
    page = open_page(browser, f"{server}/scoring")
    try:
        area = page.get_by_role("textbox", name="Queries")
        area.fill("1, 0\n1, a")
        area.press("Control+Enter")
        settle(page)
        message = _error_under(page, area, "line 2")
        assert "'a' is not a number" in message
        assert "`" not in message and "\\n" not in message
        assert area.input_value() == "1, 0\n1, a"
        assert not link_notices(page), link_notices(page)
        page.screenshot(path=ARTIFACTS / "first-steps-4-typo-in-queries.png", full_page=True)
    finally:
        page.context.close()

    page = open_page(browser, f"{server}/self-attention?mha_kind=numbers")
    try:
        box = page.get_by_role("textbox", name="Numbers")
        box.fill("1, 2, x, 4")
        box.press("Enter")
        settle(page)
        message = _error_under(page, box, "is not a number")
        assert "'x'" in message and "`" not in message
        assert box.input_value() == "1, 2, x, 4"
        assert not link_notices(page), link_notices(page)
    finally:
        page.context.close()


def test_hiding_w_hides_every_way_to_change_it_and_locking_disables_them(
    server: str, browser
) -> None:
    page = open_page(browser, f"{server}/?hide=w&w=3.16")
    try:
        wait_for_alt(page, "w = 3.16.")
        sidebar = page.locator('[data-testid="stSidebar"]')
        assert sidebar_widget(page, "stSlider", "w").count() == 0
        assert page.get_by_role("textbox", name="exact w (optional)").count() == 0
        assert sidebar.get_by_role("button", name="use Silverman").count() == 0
        assert not link_notices(page)
        page.screenshot(path=ARTIFACTS / "first-steps-5-hide-w.png", full_page=True)
    finally:
        page.context.close()

    page = open_page(browser, f"{server}/?lock=w")
    try:
        assert page.get_by_role("textbox", name="exact w (optional)").is_disabled()
        thumb = sidebar_widget(page, "stSlider", "w").get_by_role("slider")
        assert thumb.is_disabled()
    finally:
        page.context.close()


@pytest.mark.parametrize("width", [400, 1400])
def test_the_sidebar_controls_fit_a_narrow_and_a_wide_screen(
    server: str, browser, width: int
) -> None:
    """For people to look at (screenshots); the page must draw without an error at both."""
    page = open_page(browser, f"{server}/?dataset=sinc", width=width)
    try:
        if width == 400:  # the sidebar starts collapsed on a phone: open it
            page.locator('[data-testid="stExpandSidebarButton"]').first.click()
            settle(page)
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_role("button", name="use Silverman").wait_for()
        page.screenshot(path=ARTIFACTS / f"first-steps-6-sidebar-{width}.png", full_page=True)
        assert page.locator('[data-testid="stException"]').count() == 0
    finally:
        page.context.close()

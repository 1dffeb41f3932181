"""Page readability in headless Chromium (issue 11): Chinese pages show no literal markdown,
the 8-head table has no inner scroll, the progress bar leaves the loss chart's title alone,
hard attention's heatmap shows the weights it used, and the share caption belongs to its page.

Screenshots land in test-artifacts/pages-*.png for people to look at.
"""

from __future__ import annotations

import re

import pytest

from dashboard import params, text
from dashboard.text_zh import TEXT_ZH
from tests.conftest import ARTIFACTS, BROWSER, no_exception, open_page, open_share, settle

pytestmark = BROWSER

ALL_SOLUTIONS = "&".join(f"ex_{ex}_solution=true" for ex in params.EXERCISE_IDS)
ZH_PAGES = {
    "pooling": "?lang=zh",
    "scoring": "scoring?lang=zh&sc_mask=per_query",
    "self-attention": "self-attention?lang=zh",
    "exercises": f"exercises?lang=zh&{ALL_SOLUTIONS}",
}


def _rendered_text(page) -> str:
    """The text a reader sees on the page and in the sidebar (expanders opened), without
    what people type (inputs) or copy (code blocks)."""
    for summary in page.locator('[data-testid="stExpander"] summary').all():
        summary.click()
    open_share(page)  # the share link's caption
    settle(page)
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stMain"], '
                + '[data-testid="stSidebar"], [data-testid="stPopoverBody"]')].map(root => {
            const copy = root.cloneNode(true);
            copy.querySelectorAll('textarea, input, [data-testid="stCode"], svg, style')
                .forEach(e => e.remove());
            return copy.textContent;
        }).join('\\n')"""
    )


@pytest.mark.parametrize("page_name", list(ZH_PAGES))
def test_chinese_pages_show_no_literal_markdown(server: str, browser, page_name) -> None:
    page = open_page(browser, f"{server}/{ZH_PAGES[page_name]}", width=800)
    try:
        page.get_by_text(TEXT_ZH["share_title"]).first.wait_for()
        if page_name == "exercises":  # every solution is open: its text is checked too
            page.get_by_text(TEXT_ZH["ex_positional_solution"].split("{")[0]).first.wait_for()
        shown = _rendered_text(page)
        page.screenshot(path=ARTIFACTS / f"pages-zh-{page_name}.png", full_page=True)
        no_exception(page)
        assert TEXT_ZH["share_title"] in shown
        leftovers = re.findall(r".{0,20}[*`].{0,20}", shown)
        assert not leftovers, leftovers  # markdown that did not render
    finally:
        page.context.close()


def test_the_8_head_bandwidth_table_shows_every_row_without_an_inner_scroll(
    server: str, browser
) -> None:
    page = open_page(browser, f"{server}/?heads=8&mode=converged&train=1", width=1400)
    try:
        page.get_by_text(re.compile(r"Trained in \d+ steps")).first.wait_for(timeout=300_000)
        settle(page)
        table = page.locator('[data-testid="stTable"]').filter(has_text="learned, head 8").first
        table.wait_for()
        table.scroll_into_view_if_needed()
        table.screenshot(path=ARTIFACTS / "pages-bandwidth-8-heads.png")
        rows, scroll = table.evaluate(
            """t => [t.querySelectorAll('tbody tr').length,
                     [...t.querySelectorAll('*')].map(e => e.scrollHeight - e.clientHeight)
                       .filter(d => d > 1).length]"""
        )
        assert rows == 12, rows  # 3 rules + optimum + 8 heads, all shown
        assert scroll == 0  # nothing inside the table scrolls
        box, viewport = table.bounding_box(), page.viewport_size
        assert box["width"] <= viewport["width"]
        no_exception(page)
    finally:
        page.context.close()


def test_the_progress_bar_leaves_the_loss_charts_title_readable(server: str, browser) -> None:
    page = open_page(browser, f"{server}/?heads=2&train=1", width=800)
    try:
        page.get_by_text(re.compile(r"Trained in \d+ steps")).first.wait_for()
        settle(page)
        box = page.evaluate(
            """(title) => {
                const bar = document.querySelector('[data-testid="stProgress"]');
                const texts = [...document.querySelectorAll(
                    '[data-testid="stVegaLiteChart"] svg.marks text')];
                const t = texts.find(e => e.textContent === title);
                const svg = t.closest('svg');
                return {bar: bar.getBoundingClientRect().bottom,
                        svg: svg.getBoundingClientRect().top,
                        title: t.getBoundingClientRect().top};
            }""",
            text.TEXT["loss_title"],
        )
        page.locator('[data-testid="stProgress"]').screenshot(path=ARTIFACTS / "pages-bar.png")
        assert box["title"] >= box["svg"] >= box["bar"], box  # inside its chart, under the bar
    finally:
        page.context.close()


@pytest.mark.parametrize("mode", ["argmax", "sample"])
def test_hard_attentions_heatmap_shows_the_weights_it_used(server: str, browser, mode) -> None:
    page = open_page(browser, f"{server}/scoring?sc_attention={mode}", width=1400)
    try:
        title = text.TEXT["weights_used_title"].format(mode=text.TEXT[f"att_{mode}"])
        page.get_by_text(title).first.wait_for()
        chart = page.locator('[data-testid="stVegaLiteChart"]').filter(has_text=title)
        chart.screenshot(path=ARTIFACTS / f"pages-hard-{mode}.png")
        cells = chart.locator("svg.marks g.mark-text.role-mark text")  # cell labels, no legend
        labels = cells.evaluate_all("els => els.map(e => e.textContent)")
        assert labels and set(labels) <= {"0", "1"}, labels
        assert labels.count("1") == 3  # one key per query, 3 queries
    finally:
        page.context.close()


@pytest.mark.parametrize("page_name", ["pooling", "scoring", "self-attention", "exercises"])
def test_the_share_caption_is_the_one_of_its_page(server: str, browser, page_name) -> None:
    path = "" if page_name == "pooling" else page_name
    page = open_page(browser, f"{server}/{path}", width=400)
    try:
        box = open_share(page)  # the share link and its caption
        mine = text.TEXT[f"share_caption_{page_name}"]
        box.get_by_text(mine[:30]).first.wait_for()
        page.screenshot(path=ARTIFACTS / f"share-{page_name}-400.png")
        for other in {"pooling", "scoring", "self-attention", "exercises"} - {page_name}:
            theirs = text.TEXT[f"share_caption_{other}"]
            assert page.get_by_text(theirs[:30]).count() == 0, other
    finally:
        page.context.close()

"""`?lang=zh` leaves no English behind: every page, rendered headless (AppTest), is searched
for every English string of dashboard/text.py (the list is built from its keys, not by hand)
in everything a person can read: text, widget labels and options, help, tables, and the
charts' titles, axes, legends and labels. Only the contract labels stay as they are."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import limits, params, text
from dashboard.text_zh import CHART_FIELDS, TEXT_ZH

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
PAGES = {
    "pooling": None,
    "scoring": "pages_/scoring.py",
    "self-attention": "pages_/self_attention.py",
    "exercises": "pages_/exercises.py",
}
# The same in both languages by contract (SPEC 4) or because they are math symbols.
CONTRACT = {"dataset", "kernel", "w", "heads", "bw_col_w", "bw_col_h", *CHART_FIELDS}
CONTRACT |= {f"series_{s}" for s in ("average", "nonparametric", "parametric")}
# Option values that are names in nwcore (dataset and kernel names), not words to translate.
NAMES = {*limits.DATASETS, *limits.KERNELS, params.CSV}


def _pattern(template: str) -> tuple[re.Pattern[str], int]:
    """A template as a regex ({placeholders} match anything) and its longest literal part."""
    parts = re.split(r"\{[^{}]*\}", template)
    body = ".+?".join(re.escape(p) for p in parts)
    return re.compile(body, re.S), max(len(p.strip()) for p in parts)


ENGLISH = {
    key: _pattern(en) for key, en in text.TEXT.items() if key not in CONTRACT and en != TEXT_ZH[key]
}


def _plain(value: object) -> str:
    """Markdown source as read: no emphasis markers or escapes."""
    return re.sub(r"\*\*|\\", "", str(value))


def _chart_strings(
    spec: object, tooltips: bool, in_tooltip: bool = False
) -> tuple[list[str], set[str]]:
    """What a chart spec shows as text: titles (of the chart, axes, legends, tooltip rows)
    and the labels of label expressions; and the data fields whose values show as text
    (ordinal axes, facet headers, text marks and, with `tooltips`, tooltip rows)."""
    strings: list[str] = []
    fields: set[str] = set()
    if isinstance(spec, list):
        for value in spec:
            more, named = _chart_strings(value, tooltips, in_tooltip)
            strings, fields = strings + more, fields | named
        return strings, fields
    if not isinstance(spec, dict):
        return strings, fields
    for key, value in spec.items():
        if key == "title" and spec.get("axis", "") is None:
            continue  # no axis drawn: its title does not show
        if key == "title" and isinstance(value, str):
            strings.append(value)
        elif key == "title" and isinstance(value, dict) and isinstance(value.get("text"), dict):
            fields.add("title")  # read from the data ("meta": the fit chart's one row)
        elif key == "title" and isinstance(value, dict) and "text" in value:
            strings.append(str(value["text"]))
        elif key == "url":  # an image's address (the heatmap panels), not text
            continue
        elif key == "labelExpr" and isinstance(value, str):  # the labels it shows
            strings += re.findall(r'\? "((?:[^"\\]|\\.)*)"', value)
        elif key == "tooltip" and not tooltips:
            continue
        else:
            more, named = _chart_strings(value, tooltips, in_tooltip or key == "tooltip")
            strings, fields = strings + more, fields | named
    legend = spec.get("legend")
    relabelled = isinstance(legend, dict) and "labelExpr" in legend
    shown_as_text = spec.get("type") in ("nominal", "ordinal") and "field" in spec
    shown_as_text = shown_as_text and not relabelled
    if shown_as_text and (tooltips or "format" not in spec):
        fields.add(spec["field"])
        if "title" not in spec and in_tooltip:
            strings.append(spec["field"])  # a tooltip row without a title shows the field
    return strings, fields


def _chart_text(chart, tooltips: bool) -> list[str]:
    """Every text a chart shows, from its spec and the string cells of its data."""
    strings, fields = _chart_strings(json.loads(chart.proto.spec), tooltips)
    for data in chart.proto.datasets:
        table = pa.ipc.open_stream(data.data.data).read_all()
        for name in set(table.column_names) & fields:
            strings += [str(v) for v in table.column(name).to_pylist() if v is not None]
    return strings


def visible_units(at: AppTest, tooltips: bool = False) -> list[str]:
    """Every piece of text the page shows, one entry per element, label, option or cell
    (with `tooltips`, also what the charts show on hover)."""
    units: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption"):
        units += [_plain(e.value) for e in getattr(at, kind)]
    for kind in ("info", "warning", "success", "error"):
        units += [_plain(e.value) for e in getattr(at, kind)]
    widgets = [*at.selectbox, *at.radio, *at.select_slider, *at.slider, *at.number_input]
    widgets += [*at.text_input, *at.text_area, *at.toggle, *at.button, *at.get("button_group")]
    for w in widgets:
        for attr in ("label", "help", "placeholder"):
            value = getattr(w.proto, attr, "")
            if value:
                units.append(_plain(value))
        for option in getattr(w.proto, "options", []):
            label = option if isinstance(option, str) else option.content
            if label not in NAMES:
                units.append(label)
    units += [e.label for e in at.expander]
    for frame in [*at.table, *at.dataframe]:
        value = frame.value
        units += [str(c) for c in value.columns] + [str(i) for i in value.index]
        units += [v for col in value.columns for v in value[col] if isinstance(v, str)]
    for chart in at.get("vega_lite_chart"):
        units += _chart_text(chart, tooltips)
    return [u.strip() for u in units if u and u.strip()]


def english_left(units: list[str]) -> dict[str, str]:
    """text.py keys whose English shows: a whole unit, or inside one when it is long."""
    found = {}
    for key, (pattern, literal) in ENGLISH.items():
        for unit in units:
            whole = pattern.fullmatch(unit)
            inside = literal >= 12 and pattern.search(unit)
            if whole or inside:
                found[key] = unit[:120]
                break
    return found


def raw_options(at: AppTest) -> list[str]:
    """Options shown as their link value (an internal name) rather than a translated label."""
    controls = {c.key: c for page in params.PAGES.values() for c in page}
    widgets = [*at.selectbox, *at.radio, *at.select_slider, *at.get("button_group")]
    raw = []
    for w in widgets:
        control = controls.get(getattr(w, "key", None) or "")
        if control is None:
            continue
        for option in w.proto.options:
            label = option if isinstance(option, str) else option.content
            if label in control.options and label not in NAMES and not label.isdigit():
                if control.labels.get(label) not in CONTRACT:
                    raw.append(f"{control.key}: {label}")
    return raw


def open_zh(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["lang"] = "zh"
    at.run()
    if PAGES[page]:
        at.switch_page(PAGES[page]).run()
    assert not at.exception, at.exception
    return at


def test_the_english_list_is_built_from_every_text_key() -> None:
    assert len(ENGLISH) >= len(text.TEXT) - len(CONTRACT)
    assert english_left(["Train", "训练"]) == {"train_button": "Train"}
    assert "w_caption" not in english_left(["w = 2，带宽 h = 1/w = 0.5"])
    assert "w_caption" in english_left(["w = 2, bandwidth h = 1/w = 0.5"])


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_in_chinese_shows_no_english_text(page) -> None:
    at = open_zh(page)
    if page == "exercises":  # open every solution: its text is on the page too
        for ex in params.EXERCISE_IDS:
            at.toggle(key=f"ex_{ex}_solution").set_value(True)
        at.run()
    if page == "scoring":  # the hard-attention title and the masking choices
        at.radio(key="sc_attention").set_value("sample")
        at.radio(key="sc_mask").set_value("per_query").run()
    assert not at.exception, at.exception
    units = visible_units(at)
    assert len(units) > 20
    assert not english_left(units), english_left(units)
    assert not raw_options(at), raw_options(at)


def test_training_in_chinese_shows_no_english_text() -> None:
    at = open_zh("pooling")
    at.slider(key="heads").set_value(2).run()
    at.button(key="train").click().run()
    assert not at.exception, at.exception
    units = visible_units(at)
    assert any("训练完成" in u or "步" in u for u in units)
    assert not english_left(units), english_left(units)


@pytest.mark.parametrize(
    "page",
    [
        "pooling",
        "scoring",
        "self-attention",
    ],
)
def test_chart_tooltips_in_chinese_show_no_english_text(page) -> None:
    at = open_zh(page)
    units = visible_units(at, tooltips=True)
    assert not english_left(units), english_left(units)


CJK = re.compile(r"[\u4e00-\u9fff]")


def english_sentences(units: list[str]) -> list[str]:
    """Text with no Chinese and three or more English words: English from outside text.py."""
    return [u for u in units if not CJK.search(u) and len(re.findall(r"[A-Za-z]{3,}", u)) >= 3]


@pytest.mark.parametrize(
    "page",
    [
        "pooling",
        "scoring",
        "self-attention",
        "exercises",
    ],
)
def test_no_english_sentences_from_outside_the_text_table_in_chinese(page) -> None:
    units = visible_units(open_zh(page))
    assert not english_sentences(units), english_sentences(units)


def _param(at: AppTest, key: str) -> list[str]:
    value = at.query_params.get(key)
    return [] if value is None else list(value) if isinstance(value, list) else [value]


def test_links_carry_option_values_not_their_labels_in_both_languages() -> None:
    link = {"mode": "converged", "heads": "2", "curves": ["truth", "average"]}
    shared = {}
    for lang in ("zh", "en"):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params.update({**link, "lang": lang})
        at.run()
        assert not at.exception and not at.warning, [w.value for w in at.warning]
        assert at.radio(key="mode").value == "converged"
        assert list(at.pills(key="curves").value) == ["truth", "average"]
        label = TEXT_ZH["mode_converged"] if lang == "zh" else text.TEXT["mode_converged"]
        assert label in at.radio(key="mode").options
        (url,) = [c.value for c in at.code if "://" in c.value]
        shared[lang] = {k: v for k, v in parse_qs(urlsplit(url).query).items() if k != "lang"}
        # a choice made on the page goes into the address as its value
        at.radio(key="mode").set_value("d2l").run()
        at.pills(key="curves").set_value(["average"]).run()
        assert "mode" not in at.query_params  # the default is left out
        assert _param(at, "curves") == ["average"]
    assert (
        shared["zh"]
        == shared["en"]
        == {
            "mode": ["converged"],
            "heads": ["2"],
            "curves": ["truth", "average"],
        }
    )


def test_a_scoring_choice_in_chinese_writes_its_value_into_the_link() -> None:
    at = open_zh("scoring")
    at.radio(key="sc_attention").set_value("argmax").run()
    at.selectbox(key="sc_scorer").set_value("dot").run()
    assert not at.exception, at.exception
    assert _param(at, "sc_attention") == ["argmax"]
    assert _param(at, "sc_scorer") == ["dot"]
    assert TEXT_ZH["att_argmax"] in at.radio(key="sc_attention").options

"""Workshop mode, headless (AppTest): links restore a view, bad links fall back with a notice,
facilitator options, English and Chinese text, and the exercises' self-checks."""

from __future__ import annotations

import re
import string
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import exercises, params, text, urlstate
from dashboard.spec import by_key
from dashboard.text_zh import CHART_FIELDS, TEXT_ZH

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
TIMEOUT = 120
PAGES = {
    "pooling": "pages_/pooling.py",
    "scoring": "pages_/scoring.py",
    "self-attention": "pages_/self_attention.py",
    "exercises": "pages_/exercises.py",
}


# what `hide` and `lock` may name
CONTROL_NAMES = set(params.ALL_KEYS) | set(urlstate.EXTRA_CONTROLS)


def open_link(page: str, query: dict | None = None) -> AppTest:
    """A fresh session opening /<page>?<query>, as a copied link would."""
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()  # AppTest always starts on the default page; a browser opens /<page> directly
    if page != "pooling":
        at.switch_page(PAGES[page]).run()
    assert not at.exception, at.exception
    return at


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements).replace("\\", "")


def popover_labels(node) -> list[str]:
    """The labels of st.popover buttons under `node` (AppTest has no accessor for them)."""
    labels = []
    proto = getattr(node, "proto", None)
    if hasattr(proto, "WhichOneof") and "type" in proto.DESCRIPTOR.oneofs_by_name:
        if proto.WhichOneof("type") == "popover":
            labels.append(proto.popover.label)
    for child in getattr(node, "children", {}).values():
        labels += popover_labels(child)
    return labels


def no_errors(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)


def link_params(at: AppTest) -> dict[str, list[str]]:
    """The query parameters of the page's 'share this view' link."""
    (url,) = [c.value for c in at.code if "://" in c.value]
    return parse_qs(urlsplit(url).query)


# --- the string tables --------------------------------------------------------------------


def test_english_and_chinese_tables_have_the_same_keys_and_placeholders() -> None:
    assert set(text.TEXT) == set(TEXT_ZH)
    fields = string.Formatter()
    for key, en in text.TEXT.items():
        zh = TEXT_ZH[key]
        assert isinstance(zh, str) and zh, key
        assert {f[1] for f in fields.parse(en) if f[1]} == {
            f[1] for f in fields.parse(zh) if f[1]
        }, key


def test_contract_labels_and_chart_fields_are_the_same_in_both_languages() -> None:
    for key in ("dataset", "kernel", "w", "heads", *(f"series_{s}" for s in params.SERIES[2:])):
        assert TEXT_ZH[key] == text.TEXT[key], key
    for key in CHART_FIELDS:  # the math symbols x and y
        assert TEXT_ZH[key] == text.TEXT[key], key


def test_chart_text_follows_the_language_on_one_server() -> None:
    """charts.py caches chart templates per language: a zh session after an en one gets zh
    titles, and an en session after that gets English ones again; field names never change."""
    import json

    specs = {}
    for lang in ("en", "zh", "en"):
        at = open_link("pooling", {"lang": lang})
        no_errors(at)
        charts = [json.loads(e.proto.spec) for e in at.get("vega_lite_chart")]
        spec = json.dumps(charts, ensure_ascii=False)
        specs.setdefault(lang, []).append(spec)
    # stable field names (dashboard.chart_data) in every language; only titles are translated
    assert '"field": "curve"' in specs["zh"][0] and '"title": "权重"' in specs["zh"][0]
    for spec in specs["en"]:
        assert '"field": "curve"' in spec and "权重" not in spec


def test_every_other_chinese_string_is_translated() -> None:
    same = {k for k in text.TEXT if text.TEXT[k] == TEXT_ZH[k]}
    allowed = {"dataset", "kernel", "w", "heads", "bw_col_w", "bw_col_h", "f_x", "f_y"}
    allowed |= {k for k in text.TEXT if k.startswith("series_")} | set(CHART_FIELDS)
    assert same <= allowed, sorted(same - allowed)
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for key in set(text.TEXT) - allowed:
        assert cjk.search(TEXT_ZH[key]), f"{key} has no Chinese: {TEXT_ZH[key]!r}"


# --- each page in Chinese -----------------------------------------------------------------


def _page_text(at: AppTest) -> str:
    parts = [texts(getattr(at, kind)) for kind in ("markdown", "caption", "title", "subheader")]
    parts += [texts(getattr(at, kind)) for kind in ("info", "warning", "success", "header")]
    for kind in ("selectbox", "slider", "select_slider", "radio", "text_input", "text_area"):
        parts += [w.label for w in getattr(at, kind)]
    parts += [b.label for b in at.button] + [e.label for e in at.expander]
    parts += popover_labels(at.sidebar) + popover_labels(at.main)
    return "\n".join(parts)


def _english_only(page_text: str) -> list[str]:
    """English strings (without placeholders, longer than a label) that show on the page."""
    leftovers = []
    for key, en in text.TEXT.items():
        if en == TEXT_ZH[key] or "{" in en or len(en) < 12:
            continue
        if en in page_text:
            leftovers.append(key)
    return leftovers


@pytest.mark.parametrize("page", list(PAGES))
def test_each_page_renders_in_chinese_without_english_leftovers(page) -> None:
    at = open_link(page, {"lang": "zh"})
    no_errors(at)
    shown = _page_text(at)
    titles = {
        "pooling": "pooling_title",
        "scoring": "scoring_title",
        "self-attention": "mha_title",
        "exercises": "ex_title",
    }
    assert TEXT_ZH[titles[page]] in texts(at.title)
    assert TEXT_ZH["share_title"] in shown
    assert not _english_only(shown), _english_only(shown)
    assert at.segmented_control(key="lang").value == "zh"


def test_pooling_page_in_chinese_keeps_the_contract_labels() -> None:
    at = open_link("pooling", {"lang": "zh"})
    labels = {w.label for w in [*at.selectbox, *at.slider, *at.select_slider]}
    assert {"Dataset", "Kernel", "w", "Heads"} <= labels
    assert "汇聚" in texts(at.title)


def test_the_language_switch_changes_the_text() -> None:
    at = open_link("scoring")
    assert texts(at.title) == "Scoring functions"
    at.segmented_control(key="lang").set_value("zh").run()
    no_errors(at)
    assert texts(at.title) == TEXT_ZH["scoring_title"]


# --- links restore the view ---------------------------------------------------------------

POOLING_LINK = {
    "dataset": "sinc",
    "n_train": "80",
    "noise": "0.25",
    "seed": "11",
    "kernel": "epanechnikov",
    "w": "3.16",
    "heads": "2",
    "mode": "converged",
    "curves": ["average", "nonparametric"],
}


def test_a_pooling_link_restores_every_control() -> None:
    at = open_link("pooling", POOLING_LINK)
    no_errors(at)
    assert not at.warning, texts(at.warning)  # every value was used
    assert at.selectbox(key="dataset").value == "sinc"
    assert at.select_slider(key="n_train").value == 80
    assert at.slider(key="noise").value == pytest.approx(0.25)
    assert at.number_input(key="seed").value == 11
    assert at.selectbox(key="kernel").value == "epanechnikov"
    assert at.select_slider(key="w").value == pytest.approx(3.16)
    assert at.slider(key="heads").value == 2
    assert at.radio(key="mode").value == "converged"
    assert list(at.pills(key="curves").value) == ["average", "nonparametric"]
    assert "w = 3.16, bandwidth" in texts(at.caption)
    shared = link_params(at)
    for key, value in POOLING_LINK.items():
        assert shared[key] == (value if isinstance(value, list) else [value]), key


def test_a_link_with_train_1_trains_on_load() -> None:
    # 2 converged heads: not trained without a click, so the link's train=1 is what trains it
    at = open_link("pooling", {"train": "1", "heads": "2", "mode": "converged"})
    no_errors(at)
    rows = [r for r in at.table if r.value.columns[0] == "rule"][0].value["rule"]
    assert list(rows)[-2:] == ["learned, head 1", "learned, head 2"]
    assert link_params(at)["train"] == ["1"]
    at.selectbox(key="kernel").set_value("boxcar").run()  # another model: not trained by itself
    assert "not trained yet for kernel boxcar" in texts(at.info)


SCORING_LINK = {
    "sc_queries": "1, 2\n3, 4",
    "sc_keys": "1, 0\n0, 1\n1, 1",
    "sc_values": "5\n6\n7",
    "sc_scorer": "bilinear",
    "sc_seed": "3",
    "sc_mask": "per_query",
    "sc_valid_lens": "2, 1",
    "sc_attention": "argmax",
}


def test_a_scoring_link_restores_text_areas_and_choices() -> None:
    at = open_link("scoring", SCORING_LINK)
    no_errors(at)
    assert not at.warning, texts(at.warning)
    assert at.text_area(key="sc_queries").value == "1, 2\n3, 4"
    assert at.text_area(key="sc_values").value == "5\n6\n7"
    assert at.selectbox(key="sc_scorer").value == "bilinear"
    assert at.number_input(key="sc_seed").value == 3
    assert at.radio(key="sc_mask").value == "per_query"
    assert at.text_input(key="sc_valid_lens").value == "2, 1"
    assert at.radio(key="sc_attention").value == "argmax"
    assert at.dataframe[0].value.shape == (2, 1)
    assert link_params(at)["sc_queries"] == ["1, 2\n3, 4"]


def test_a_self_attention_link_restores_its_controls() -> None:
    query = {
        "mha_kind": "numbers",
        "mha_numbers": "3, 1, 4, 1, 5",
        "mha_dim": "32",
        "mha_heads": "4",
        "mha_pe": "false",
        "mha_seed": "9",
    }
    at = open_link("self-attention", query)
    no_errors(at)
    assert not at.warning, texts(at.warning)
    assert at.radio(key="mha_kind").value == "numbers"
    assert at.text_input(key="mha_numbers").value == "3, 1, 4, 1, 5"
    assert at.select_slider(key="mha_dim").value == 32
    assert at.select_slider(key="mha_heads").value == 4
    assert at.toggle(key="mha_pe").value is False
    assert "Positional encoding is off" in texts(at.info)
    assert link_params(at)["mha_numbers"] == ["3, 1, 4, 1, 5"]


# --- bad links: defaults and one notice, never an error page -------------------------------


@pytest.mark.parametrize(
    ("page", "query", "key", "default", "fragment"),
    [
        ("pooling", {"kernel": "laplace"}, "kernel", "gaussian", "must be one of"),
        ("pooling", {"w": "3.3"}, "w", 1.0, "must be a value of the w slider"),
        ("pooling", {"n_train": "50000"}, "n_train", 50, "must be one of 3, 4"),
        ("pooling", {"seed": "-4"}, "seed", 7, "between 0 and"),
        ("pooling", {"seed": "abc"}, "seed", 7, "not a number"),
        ("pooling", {"heads": "2.5"}, "heads", 1, "whole number"),
        ("pooling", {"w_exact": "abc"}, "w_exact", "", "not a finite number"),
        ("pooling", {"dataset": "csv"}, "dataset", "classic", "cannot travel in a link"),
        ("pooling", {"curves": "nothing"}, "curves", list(params.SERIES), "must be one of"),
        ("scoring", {"sc_queries": "1, a"}, "sc_queries", "1, 0\n0, 1\n1, 1", "not a number"),
        ("scoring", {"sc_hidden": "99"}, "sc_hidden", 8, "between 1 and 16"),
        ("self-attention", {"mha_pe": "maybe"}, "mha_pe", True, "true or false"),
        ("self-attention", {"mha_dim": "12"}, "mha_dim", 16, "must be one of"),
        ("self-attention", {"mha_numbers": "1, x"}, "mha_numbers", "1, 2, 3, 2, 1, 0, 1, 2", "x"),
    ],
)
def test_an_invalid_link_value_falls_back_to_the_default_with_a_notice(
    page, query, key, default, fragment
) -> None:
    at = open_link(page, query)
    no_errors(at)
    notice = texts(at.warning)
    assert "were not used" in notice and key in notice and fragment in notice
    assert at.session_state[key] == default
    assert key not in link_params(at)


def test_unknown_parameters_and_control_names_are_named_in_the_notice() -> None:
    at = open_link("pooling", {"colour": "red", "hide": "kernel,nonsense", "lang": "fr"})
    no_errors(at)
    notice = texts(at.warning)
    assert "`colour` is not a setting" in notice
    assert "no control is called nonsense" in notice
    assert "lang" in notice
    assert at.segmented_control(key="lang").value == "en"


# --- facilitator options ------------------------------------------------------------------


def test_hidden_controls_keep_their_link_value_and_locked_ones_are_disabled() -> None:
    at = open_link(
        "pooling", {"w": "3.16", "heads": "2", "hide": "w,heads,train", "lock": "dataset,seed"}
    )
    no_errors(at)
    assert not at.warning, texts(at.warning)
    assert not [s for s in at.select_slider if s.key == "w"]
    assert not [s for s in at.slider if s.key == "heads"]
    assert not [b for b in at.button if b.key == "train"]
    assert "w = 3.16, bandwidth" in texts(at.caption)  # the hidden w is still 3.16
    assert at.selectbox(key="dataset").disabled and at.number_input(key="seed").disabled
    assert not at.selectbox(key="kernel").disabled
    shared = link_params(at)
    assert shared["hide"] == ["w,heads,train"] and shared["lock"] == ["dataset,seed"]
    assert shared["w"] == ["3.16"] and shared["heads"] == ["2"]


def test_the_language_can_be_fixed_by_the_facilitator() -> None:
    at = open_link("exercises", {"lang": "zh", "hide": "lang"})
    no_errors(at)
    assert not at.segmented_control
    assert texts(at.title) == TEXT_ZH["ex_title"]


# --- exercises ----------------------------------------------------------------------------


def test_every_exercise_link_is_a_valid_link_for_its_page() -> None:
    for ex in exercises.EXERCISES:
        page = by_key(params.PAGES[ex.page])
        for key, value in ex.params.items():
            if key == "hide":
                assert set(value.split(",")) <= CONTROL_NAMES, ex.id
            elif key == "train":
                assert value == "1", ex.id
            else:
                page[key].parse([value])  # raises if the link would be refused
    assert tuple(e.id for e in exercises.EXERCISES) == params.EXERCISE_IDS


def _right_answer(ex: exercises.Exercise) -> str:
    return ex.check(float("nan")).expected


def _answer(at: AppTest, ex: exercises.Exercise, value: str) -> None:
    key = f"ex_{ex.id}_answer"
    if ex.kind == "choice":
        at.radio(key=key).set_value(value).run()
    else:
        at.text_input(key=key).input(value).run()
    at.button(key=f"ex_{ex.id}_check").click().run()
    no_errors(at)


@pytest.mark.parametrize("ex", exercises.EXERCISES, ids=lambda e: e.id)
def test_an_exercise_self_check_says_yes_to_the_answer_and_not_yet_otherwise(ex) -> None:
    at = open_link("exercises")
    wrong = next(o for o in ex.options if o != _right_answer(ex)) if ex.options else "1000"
    _answer(at, ex, wrong)
    assert "Not yet" in texts(at.warning) and not at.success
    _answer(at, ex, _right_answer(ex))
    assert "Yes: that holds" in texts(at.success)


def test_a_solution_is_shown_on_request_with_its_numbers() -> None:
    at = open_link("exercises")
    before = texts(at.markdown)
    assert "a = w^2 = 4" not in before
    at.toggle(key="ex_identity_solution").set_value(True).run()
    no_errors(at)
    assert "a = w^2 = 4" in texts(at.markdown)


def test_exercise_checks_use_the_library() -> None:
    assert exercises.identity_gap(4.0) < 1e-12 < exercises.identity_gap(3.9)
    assert exercises.distinct_rows(exercises.SENTENCE, positional=False) == 5
    assert exercises.distinct_rows(exercises.SENTENCE, positional=True) == 6
    assert exercises.nonparametric_test_mse(500) < exercises.nonparametric_test_mse(50)
    assert exercises.hard_output(1) == 1.0


def test_a_facilitator_can_hold_back_a_solution() -> None:
    at = open_link("exercises", {"hide": "ex_identity_solution", "lock": "ex_positional_solution"})
    no_errors(at)
    assert not at.warning, texts(at.warning)
    assert not [w for w in at.toggle if w.key == "ex_identity_solution"]
    assert at.toggle(key="ex_positional_solution").disabled


def test_the_example_links_in_workshop_md_are_valid() -> None:
    """Every `http://IP:8501/...` link in WORKSHOP.md uses real names and allowed values."""
    doc = (Path(__file__).resolve().parents[1] / "WORKSHOP.md").read_text()
    links = re.findall(r"http://IP:8501(/[^\s`]*)", doc)
    assert len(links) >= 8
    names = CONTROL_NAMES
    for link in links:
        parts = urlsplit(link)
        page = by_key(params.PAGES[parts.path.strip("/") or "pooling"])
        for key, values in parse_qs(parts.query).items():
            if key in ("hide", "lock"):
                assert set(",".join(values).split(",")) <= names, link
            elif key == "lang":
                assert values in (["en"], ["zh"]), link
            elif key == "train":
                assert values == ["1"], link
            else:
                page[key].parse(values)  # raises for a value the page would not use


def test_with_the_train_button_hidden_train_1_keeps_the_model_trained() -> None:
    at = open_link("pooling", {"train": "1", "hide": "train"})
    at.selectbox(key="kernel").set_value("triangular").run()
    no_errors(at)
    assert "not trained yet" not in texts(at.info)
    rows = [r for r in at.table if r.value.columns[0] == "rule"][0].value["rule"]
    assert list(rows)[-1] == "learned, head 1"


def test_a_typed_non_number_is_asked_for_a_number_and_answers_stay_out_of_links() -> None:
    at = open_link("exercises")
    at.text_input(key="ex_more_data_answer").input("zero point one").run()
    at.button(key="ex_more_data_check").click().run()
    assert "type a number" in texts(at.error)
    assert not at.warning  # not "Not yet": a typo is not a wrong answer
    at.text_input(key="ex_learned_w_answer").input("0.5").run()
    assert not any(k.endswith("_answer") for k in link_params(at))
    assert "0.5" not in at.query_params.get("ex_learned_w_answer", "")


def test_the_identity_exercises_link_does_not_hold_the_answer() -> None:
    keys = exercises.BY_ID["identity"].params["sc_keys"]
    rows = [[float(v) for v in line.split(",")] for line in keys.splitlines()]
    assert [r[0] for r in rows] == exercises.IDENTITY_X  # a = 1: [x_i, -x_i^2 / 2]
    assert exercises.identity_gap(1.0) > 1e-3  # ... which is not yet Gaussian NW with w = 2

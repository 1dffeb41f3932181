"""Pages 2 (scoring functions) and 3 (multi-head self-attention) driven with AppTest."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
TIMEOUT = 60


def open_page(page: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def chart_frame(at: AppTest, title_fragment: str) -> pd.DataFrame:
    """The data of the (first) vega-lite chart whose spec mentions title_fragment."""
    for chart in at.get("vega_lite_chart"):
        if title_fragment in chart.proto.spec:
            frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]
            return pd.concat(frames, ignore_index=True)
    raise AssertionError(f"no chart mentioning {title_fragment!r}")


def texts(elements) -> str:
    return "\n".join(e.value for e in elements).replace("\\", "")


def no_errors(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)


# --- page 2: scoring functions ------------------------------------------------------------

SCORING = "pages_/scoring.py"


def weights(at: AppTest) -> pd.DataFrame:
    frame = chart_frame(at, "Attention weights")
    return frame.pivot(index="query", columns="key", values="weight")


def test_scoring_page_loads_with_weights_that_sum_to_one() -> None:
    at = open_page(SCORING)
    no_errors(at)
    assert at.selectbox(key="sc_scorer").value == "scaled_dot"
    w = weights(at)
    assert w.shape == (3, 4)
    assert (w.sum(axis=1) - 1).abs().max() < 1e-9
    assert at.dataframe[0].value.shape == (3, 1)


@pytest.mark.parametrize("scorer", ["additive", "dot", "bilinear"])
def test_each_scoring_function_gives_its_own_weights(scorer) -> None:
    at = open_page(SCORING)
    before = weights(at)
    at.selectbox(key="sc_scorer").set_value(scorer).run()
    no_errors(at)
    after = weights(at)
    assert (after.sum(axis=1) - 1).abs().max() < 1e-9
    assert not after.equals(before)


@pytest.mark.parametrize(
    ("scorer", "key", "value"),
    [("additive", "sc_hidden", 3), ("additive", "sc_seed", 5), ("bilinear", "sc_seed", 5)],
)
def test_learned_scorer_weights_follow_hidden_size_and_seed(scorer, key, value) -> None:
    at = open_page(SCORING)
    at.selectbox(key="sc_scorer").set_value(scorer).run()
    before = weights(at)
    widget = at.slider(key=key) if key == "sc_hidden" else at.number_input(key=key)
    widget.set_value(value).run()
    no_errors(at)
    assert not weights(at).equals(before)


def test_shared_valid_length_masks_later_keys() -> None:
    at = open_page(SCORING)
    at.radio(key="sc_mask").set_value("shared").run()
    at.slider(key="sc_valid_len").set_value(1).run()
    no_errors(at)
    w = weights(at)
    assert (w["key 1"] == 1.0).all()
    assert (w.drop(columns="key 1") == 0).all().all()
    assert chart_frame(at, "Attention weights")["masked"].sum() == 9


def test_per_query_valid_lengths_and_an_empty_row() -> None:
    at = open_page(SCORING)
    at.radio(key="sc_mask").set_value("per_query").run()
    at.text_input(key="sc_valid_lens").input("4, 2, 0").run()
    no_errors(at)
    w = weights(at)
    assert w.loc["query 3"].sum() == 0  # valid length 0 attends to nothing
    assert (w.loc["query 2", ["key 3", "key 4"]] == 0).all()
    assert at.dataframe[0].value.loc["query 3"].tolist() == [0.0]


def test_hard_attention_picks_a_value() -> None:
    at = open_page(SCORING)
    for mode in ("argmax", "sample"):
        at.radio(key="sc_attention").set_value(mode).run()
        no_errors(at)
        outputs = at.dataframe[0].value.iloc[:, 0].tolist()
        assert set(outputs) <= {1.0, 2.0, 3.0, 4.0}


@pytest.mark.parametrize(
    ("key", "value", "fragment"),
    [
        ("sc_queries", "1, x", "'x' is not a number"),
        ("sc_queries", "1, 0\n1", "line 2 has 1 numbers but line 1 has 2"),
        ("sc_queries", "", "Queries is empty"),
        ("sc_values", "1\n2", "Values has 2 line(s) but Keys has 4"),
        ("sc_keys", "1, 0, 0\n0, 1, 0\n0, 0, 1\n1, 1, 1", "Dq == Dk"),
    ],
)
def test_bad_scoring_input_gives_a_message(key, value, fragment) -> None:
    at = open_page(SCORING)
    at.text_area(key=key).input(value).run()
    assert not at.exception
    assert fragment in texts(at.error), texts(at.error)


def test_additive_scores_accept_different_query_and_key_sizes() -> None:
    at = open_page(SCORING)
    at.selectbox(key="sc_scorer").set_value("additive").run()
    at.text_area(key="sc_keys").input("1, 0, 0\n0, 1, 0").run()
    at.text_area(key="sc_values").input("1\n2").run()
    no_errors(at)
    assert weights(at).shape == (3, 2)


def test_bad_valid_lengths_give_a_message() -> None:
    at = open_page(SCORING)
    at.radio(key="sc_mask").set_value("per_query").run()
    at.text_input(key="sc_valid_lens").input("9, 1, 1").run()
    assert "from 0 to 4" in texts(at.error)


# --- page 3: multi-head self-attention ----------------------------------------------------

MHA = "pages_/self_attention.py"


def head_panels(at: AppTest) -> list[str]:
    return sorted(set(chart_frame(at, "Attention weights per head")["panel"]))


def test_self_attention_page_loads_with_all_views() -> None:
    at = open_page(MHA)
    no_errors(at)
    assert head_panels(at) == ["head 1", "head 2"]
    frame = chart_frame(at, "Attention weights per head")
    rows = frame.groupby(["panel", "query"])["weight"].sum()
    assert (rows - 1).abs().max() < 1e-5
    for title in ("Positional encoding", "Output projection", "Output of the layer"):
        chart_frame(at, title)
    assert "10 tokens" in texts(at.caption)


def test_heads_selector_sets_the_number_of_heatmaps() -> None:
    at = open_page(MHA)
    at.select_slider(key="mha_heads").set_value(4).run()
    no_errors(at)
    assert head_panels(at) == ["head 1", "head 2", "head 3", "head 4"]


def test_embedding_size_and_seed_change_the_layer() -> None:
    at = open_page(MHA)
    before = chart_frame(at, "Attention weights per head")["weight"]
    at.select_slider(key="mha_dim").set_value(32).run()
    no_errors(at)
    assert chart_frame(at, "Output of the layer")["feature"].nunique() == 32
    at.number_input(key="mha_seed").set_value(3).run()
    no_errors(at)
    assert not chart_frame(at, "Attention weights per head")["weight"].equals(before)


def test_positional_encoding_toggle() -> None:
    at = open_page(MHA)
    on = chart_frame(at, "Attention weights per head")
    at.toggle(key="mha_pe").set_value(False).run()
    no_errors(at)
    assert "blind to order" in texts(at.info)
    assert all("Positional encoding" not in c.proto.spec for c in at.get("vega_lite_chart"))
    off = chart_frame(at, "Attention weights per head")
    # without positions the two "the" tokens (0 and 4) attend identically
    row = off[(off["panel"] == "head 1")]
    first = row[row["query"] == "0: the"]["weight"].to_numpy()
    second = row[row["query"] == "4: the"]["weight"].to_numpy()
    assert abs(first - second).max() < 1e-6
    assert not on["weight"].equals(off["weight"])


def test_edited_sentence_and_numbers() -> None:
    at = open_page(MHA)
    at.text_input(key="mha_sentence").input("attention is all you need").run()
    no_errors(at)
    assert "5 tokens" in texts(at.caption)
    at.radio(key="mha_kind").set_value("numbers").run()
    at.text_input(key="mha_numbers").input("1, 2, 3").run()
    no_errors(at)
    assert "3 tokens: 1 | 2 | 3" in texts(at.caption)


@pytest.mark.parametrize(
    ("kind", "key", "value", "where", "fragment"),
    [
        ("numbers", "mha_numbers", "1, two, 3", "error", "'two' is not a number"),
        ("sentence", "mha_sentence", "   ", "info", "Type at least one token"),
        ("sentence", "mha_sentence", " ".join(["w"] * 20), "warning", "first 16 tokens"),
    ],
)
def test_bad_sequences_give_a_message(kind, key, value, where, fragment) -> None:
    at = open_page(MHA)
    at.radio(key="mha_kind").set_value(kind).run()
    at.text_input(key=key).input(value).run()
    assert not at.exception
    assert fragment in texts(getattr(at, where))


def test_pages_keep_their_settings_across_a_visit_elsewhere() -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.selectbox(key="kernel").set_value("triangular").run()
    at.switch_page(MHA).run()
    at.switch_page("pages_/pooling.py").run()
    assert at.selectbox(key="kernel").value == "triangular"

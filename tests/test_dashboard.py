"""Page 1 (attention pooling) driven headless with streamlit.testing.v1.AppTest."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

import nwcore

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
TIMEOUT = 120


# --- helpers ------------------------------------------------------------------------------


def run_app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    return at


def widget(at: AppTest, kind: str, key: str):
    return getattr(at, kind)(key=key)


def fit_chart(at: AppTest):
    charts = [
        c
        for c in at.get("vega_lite_chart")
        if '"query"' in c.proto.spec and '"live_cells"' not in c.proto.spec
    ]
    assert len(charts) == 1, "expected one fit chart with the linked query selection"
    return charts[0]


def chart_frames(chart) -> list[pd.DataFrame]:
    """The data sets a vega-lite element carries (Arrow IPC inside the proto)."""
    return [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]


def series_shown(at: AppTest) -> set[str]:
    out: set[str] = set()
    for frame in chart_frames(fit_chart(at)):
        if "curve" in frame and "qi" in frame:
            out |= set(frame["curve"])
    return out


def chart_dataset(chart, name: str) -> pd.DataFrame | None:
    """One named data set of a vega-lite element (None if it has no such one)."""
    for d in chart.proto.datasets:
        if d.name == name:
            return pa.ipc.open_stream(d.data.data).read_pandas()
    return None


def heat_panels(at: AppTest) -> list[str]:
    """The heatmap panels' titles, in order (the empty titles fill bands between panels)."""
    titles = chart_dataset(fit_chart(at), "titles")
    if titles is None:
        return []
    return [p for p in titles.sort_values("pi")["panel"] if p]


def table(at: AppTest, first_column: str) -> pd.DataFrame:
    for frame in [*at.table, *at.dataframe]:
        if frame.value.columns[0] == first_column:
            return frame.value
    raise AssertionError(f"no table whose first column is {first_column!r}")


def metrics(at: AppTest) -> dict[str, dict[str, str]]:
    frame = table(at, "pooling")
    return {row["pooling"]: row for row in frame.to_dict("records")}


def texts(elements) -> str:
    return "\n".join(e.value for e in elements)


def no_errors(at: AppTest) -> None:
    assert not at.exception, at.exception
    assert not at.error, texts(at.error)


# --- loading and the contracts ------------------------------------------------------------


def test_pooling_page_loads_with_labelled_controls_and_three_poolings() -> None:
    at = run_app()
    no_errors(at)
    labels = {w.label for w in [*at.selectbox, *at.slider, *at.select_slider]}
    assert {"Dataset", "Kernel", "w", "Heads"} <= labels
    assert at.selectbox(key="dataset").value == "classic"
    assert set(metrics(at)) == {"average", "nonparametric", "parametric"}
    assert metrics(at)["parametric"]["leave-one-out MSE"] != "train first"
    assert {"truth", "average", "nonparametric", "parametric"} <= series_shown(at)
    assert heat_panels(at)[0] == "nonparametric (gaussian, w = 1)"
    assert heat_panels(at)[1].startswith("parametric head 1")
    assert "h = 1/w = 1" in texts(at.caption)
    assert list(table(at, "rule")["rule"]) == [
        "your w (sidebar)",
        "Silverman's rule",
        "Scott's rule",
        "leave-one-out optimum",
        "learned, head 1",
    ]


def test_kernel_change_updates_nonparametric_not_average() -> None:
    at = run_app()
    before = metrics(at)
    at.selectbox(key="kernel").set_value("epanechnikov").run()
    no_errors(at)
    after = metrics(at)
    assert after["average"] == before["average"]
    assert (
        after["nonparametric"]["leave-one-out MSE"] != before["nonparametric"]["leave-one-out MSE"]
    )
    assert heat_panels(at)[0] == "nonparametric (epanechnikov, w = 1)"


def test_constant_kernel_matches_average_pooling() -> None:
    at = run_app()
    at.selectbox(key="kernel").set_value("constant").run()
    assert "constant kernel ignores w" in texts(at.caption)
    m = metrics(at)
    assert m["nonparametric"]["test MSE vs truth"] == m["average"]["test MSE vs truth"]
    assert m["nonparametric"]["leave-one-out MSE"] == m["average"]["leave-one-out MSE"]


def test_w_slider_is_logarithmic_and_shows_the_bandwidth() -> None:
    at = run_app()
    w = at.select_slider(key="w")
    assert (w.options[0], w.options[10], w.options[20], w.options[-1]) == (
        "0.01",
        "0.1",
        "1",
        "1000",
    )
    before = metrics(at)["nonparametric"]
    w.set_value(3.16).run()
    no_errors(at)
    assert "w = 3.16, bandwidth h = 1/w = 0.3165" in texts(at.caption)
    assert metrics(at)["nonparametric"] != before
    assert heat_panels(at)[0] == "nonparametric (gaussian, w = 3.16)"


@pytest.mark.parametrize(
    ("typed", "kind", "fragment"),
    [
        ("0", "warning", "equals average pooling"),
        ("1e-9", "warning", "is tiny"),
        ("1e9", "warning", "is huge"),
        ("-2", "info", "acts exactly like w = 2"),
        ("abc", "error", "is not a finite number"),
        ("inf", "error", "is not a finite number"),
        ("nan", "error", "is not a finite number"),
    ],
)
def test_exact_w_extremes_give_a_message_and_a_defined_fit(typed, kind, fragment) -> None:
    at = run_app()
    at.text_input(key="w_exact").input(typed).run()
    assert not at.exception
    assert fragment in texts(getattr(at, kind)).replace("\\", "")
    values = [v for row in metrics(at).values() for v in row.values()]
    assert not any(v.lower() == "nan" for v in values)


def test_w_zero_and_negative_w_match_their_counterparts() -> None:
    at = run_app()
    at.text_input(key="w_exact").input("0").run()
    m = metrics(at)
    assert m["nonparametric"]["test MSE vs truth"] == m["average"]["test MSE vs truth"]
    at.text_input(key="w_exact").input("-2").run()
    negative = metrics(at)["nonparametric"]
    at.text_input(key="w_exact").input("2").run()
    assert metrics(at)["nonparametric"] == negative


def test_compact_kernel_with_empty_windows_says_so_on_page_and_chart() -> None:
    at = run_app()
    at.selectbox(key="kernel").set_value("boxcar").run()
    at.select_slider(key="w").set_value(1000.0).run()
    no_errors(at)
    assert "have no training point inside their window" in texts(at.warning)
    spec = fit_chart(at).proto.spec
    assert '"cross"' in spec  # empty-window queries are marked on the chart


def test_gaussian_weights_that_underflow_are_reported_not_nan() -> None:
    at = run_app()
    at.text_input(key="w_exact").input("1e200").run()
    assert not at.exception
    assert "underflow to zero for 50 of 50 queries" in texts(at.warning)
    assert "nan" not in str(metrics(at)).lower()


# --- data controls ------------------------------------------------------------------------


def test_dataset_choice_switches_data_and_its_defaults() -> None:
    at = run_app()
    at.selectbox(key="dataset").set_value("d2l_new").run()
    no_errors(at)
    assert at.select_slider(key="n_train").value == 40
    assert at.slider(key="noise").value == 1.0
    assert "newer d2l" in chart_title(at)


@pytest.mark.parametrize(
    ("kind", "key", "value"), [("select_slider", "n_train", 80), ("slider", "noise", 1.5)]
)
def test_synthetic_data_controls_change_the_data(kind, key, value) -> None:
    at = run_app()
    before = metrics(at)["average"]
    getattr(at, kind)(key=key).set_value(value).run()
    no_errors(at)
    assert metrics(at)["average"] != before


def test_seed_changes_the_draw() -> None:
    at = run_app()
    before = metrics(at)["average"]
    at.number_input(key="seed").set_value(8).run()
    no_errors(at)
    assert metrics(at)["average"] != before


def test_curves_can_be_toggled() -> None:
    at = run_app()
    at.button_group(key="curves").set_value(["nonparametric"]).run()
    no_errors(at)
    assert series_shown(at) == {"nonparametric"}
    at.button_group(key="curves").set_value([]).run()
    no_errors(at)
    assert series_shown(at) == set()


# --- training and export ------------------------------------------------------------------


def test_sessions_do_not_share_trained_models() -> None:
    first, second = run_app(), run_app()
    for at in (first, second):  # 3 converged heads: too slow to train without a click
        at.slider(key="heads").set_value(3).run()
        at.radio(key="mode").set_value("converged").run()
    first.button(key="train").click().run()
    second.run()
    assert "parametric" in series_shown(first)
    assert "parametric" not in series_shown(second)
    assert "not trained yet" in texts(second.info)


def test_train_shows_parametric_curve_learned_w_and_rules() -> None:
    at = run_app()
    at.button(key="train").click().run()
    no_errors(at)
    bw = table(at, "rule")
    rules = list(bw["rule"])
    assert rules[:4] == [
        "your w (sidebar)",
        "Silverman's rule",
        "Scott's rule",
        "leave-one-out optimum",
    ]
    assert rules[4:] == ["learned, head 1"]
    assert float(bw["w"][4]) > float(bw["w"][3])  # d2l overshoots to a narrower window
    assert "parametric" in series_shown(at)
    assert metrics(at)["parametric"]["leave-one-out MSE"] != "train first"
    assert heat_panels(at)[1].startswith("parametric head 1")
    progress = at.get("progress")
    assert progress and progress[0].proto.value == 100
    assert "Trained in 5 steps" in progress[0].proto.text
    at.run()  # a later rerun shows the stored result without training again
    assert "Trained in 5 steps" in texts(at.caption)
    assert not at.get("progress")


def test_heads_and_mode_select_what_gets_trained() -> None:
    at = run_app()
    at.slider(key="heads").set_value(3).run()
    at.radio(key="mode").set_value("converged").run()
    at.button(key="train").click().run()
    no_errors(at)
    rules = list(table(at, "rule")["rule"])
    assert rules[4:] == [f"learned, head {h}" for h in (1, 2, 3)]
    assert len(heat_panels(at)) == 4  # nonparametric + one per head
    # another kernel is another model: not retrained behind the user's back
    at.selectbox(key="kernel").set_value("triangular").run()
    assert "not trained yet for kernel triangular" in texts(at.info)
    at.selectbox(key="kernel").set_value("gaussian").run()
    assert "parametric" in series_shown(at)  # the trained model is still in the session


def test_export_offers_model_and_card_downloads() -> None:
    pytest.importorskip("onnxruntime")
    at = run_app()
    at.slider(key="heads").set_value(3).run()
    at.radio(key="mode").set_value("converged").run()
    assert "export" not in [b.key for b in at.button]
    assert "Train the parametric model first" in texts(at.info)
    at.button(key="train").click().run()
    at.button(key="export").click().run()
    no_errors(at)
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download model.onnx", "Download model_card.json"]
    assert "Exported: model.onnx is" in texts(at.success)


# --- CSV upload ---------------------------------------------------------------------------


def csv_app() -> AppTest:
    at = run_app()
    at.selectbox(key="dataset").set_value("csv").run()
    assert not at.exception
    return at


def upload(at: AppTest, content: bytes, name: str = "data.csv") -> AppTest:
    at.file_uploader(key="csv_file").set_value((name, content, "text/csv")).run()
    assert not at.exception, at.exception
    return at


def chart_title(at: AppTest) -> str:
    """The fit chart's title: its "meta" data set's one row (the spec reads it from there)."""
    spec = json.loads(fit_chart(at).proto.spec)
    title = (spec["vconcat"][0] if "vconcat" in spec else spec)["title"]
    assert "data('meta')[0].title" in title["text"]["expr"]
    return chart_dataset(fit_chart(at), "meta")["title"].iloc[0]


def test_csv_mode_waits_for_a_file_and_keeps_showing_data() -> None:
    at = csv_app()
    no_errors(at)
    assert "Upload a CSV file" in texts(at.info)
    assert chart_title(at).startswith("classic d2l")


def test_good_csv_loads_with_column_pickers() -> None:
    rows = "\n".join(f"{i / 10},{(i % 7) / 3},{i % 3},label{i}" for i in range(30))
    at = upload(csv_app(), f"t,v,u,name\n{rows}\n".encode())
    no_errors(at)
    assert at.selectbox(key="csv_x").options == ["t", "v", "u"]
    assert chart_title(at) == "CSV: x = t, y = v, n = 30"
    assert metrics(at)["average"]["test MSE vs truth"] == "no truth (CSV)"
    at.selectbox(key="csv_y").set_value("u").run()
    no_errors(at)
    assert chart_title(at) == "CSV: x = t, y = u, n = 30"


BAD_CSVS = {
    "empty": (b"", "the file is empty"),
    "header only": (b"x,y\n", "needs two (x and y)"),
    "one column": (b"x\n1\n2\n3\n", "needs two (x and y)"),
    "non-numeric": (b"x,y\n1,2\n2,abc\n3,4\n4,5\n", "non-numeric entries"),
    "nan": (b"x,y\n1,2\n2,nan\n3,4\n", "NaN or infinite"),
    "inf": (b"x,y\n1,2\n2,inf\n3,4\n", "NaN or infinite"),
    "one row": (b"x,y\n1,2\n", "at least 3"),
    "not utf-8": ("x,y\n1,2\n2,3\n3,4\n\u00e9,5\n".encode("latin-1"), "not UTF-8"),
    "constant x": (b"x,y\n1,2\n1,3\n1,4\n", "is the same in every row"),
}


@pytest.mark.parametrize("case", list(BAD_CSVS))
def test_bad_csv_is_refused_with_a_message_and_previous_data_kept(case) -> None:
    good = b"a,b\n" + b"".join(f"{i},{i * i % 5}\n".encode() for i in range(12))
    at = upload(csv_app(), good, "good.csv")
    assert chart_title(at) == "CSV: x = a, y = b, n = 12"
    content, fragment = BAD_CSVS[case]
    at = upload(at, content, f"{case}.csv")
    errors = texts(at.error).replace("\\", "")
    assert "This file was not used" in errors and fragment in errors, errors
    assert "Still showing the previous data (CSV: x = a, y = b, n = 12)" in texts(at.info).replace(
        "\\", ""
    )
    assert chart_title(at) == "CSV: x = a, y = b, n = 12"


def test_huge_csv_is_refused() -> None:
    line = b"1.000000000,2.000000000\n"
    content = b"x,y\n" + line * (21 * 1024 * 1024 // len(line))
    at = upload(csv_app(), content, "huge.csv")
    assert "larger than 20 MB" in texts(at.error)
    assert chart_title(at).startswith("classic d2l")  # kept what the session had


def test_large_csv_is_sampled_for_a_live_page() -> None:
    buf = io.StringIO()
    buf.write("x,y\n")
    for i in range(8000):
        buf.write(f"{i * 0.001},{(i * 7919) % 100 / 50}\n")
    at = upload(csv_app(), buf.getvalue().encode(), "big.csv")
    no_errors(at)
    assert "fixed random sample of 5000" in texts(at.info)
    assert "100 of 200 queries and 100 of 5000 keys" in texts(at.caption)
    assert chart_title(at).endswith("(sample of 5000)")


def test_large_n_trains_converged_one_head_and_refuses_heavy_modes() -> None:
    at = run_app()
    at.select_slider(key="n_train").set_value(5000).run()
    no_errors(at)
    at.button(key="train").click().run()  # d2l: (N, N) tensors with gradients each step
    assert "too heavy for a shared server" in texts(at.warning)
    at.radio(key="mode").set_value("converged").run()
    at.button(key="train").click().run()
    no_errors(at)
    progress = at.get("progress")
    assert progress and "Trained in" in progress[0].proto.text
    rows = table(at, "rule")
    assert "learned, head 1" in set(rows["rule"])


def test_csv_column_names_with_html_render_as_plain_text() -> None:
    content = b'"<script>alert(1)</script>","![x](http://e.invalid/a.png)"\n1,2\n2,3\n3,5\n'
    at = upload(csv_app(), content, "<b>evil</b>.csv")
    no_errors(at)
    assert at.selectbox(key="csv_x").value == "<script>alert(1)</script>"
    for element in [*at.markdown, *at.caption, *at.info, *at.error]:
        assert not element.proto.allow_html if hasattr(element.proto, "allow_html") else True
    shown = texts(at.caption)
    assert "\\<script\\>" in shown and "<script>" not in shown
    assert "\\!\\[x\\]" in shown  # no markdown image (no external request)


def test_an_unexpected_failure_shows_a_friendly_message_not_a_traceback(monkeypatch) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("internal detail that must not reach the page")

    monkeypatch.setattr(nwcore, "nadaraya_watson", broken)
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert "Something went wrong on this page" in texts(at.error)
    assert "internal detail" not in texts(at.error)


# --- w follows the data -------------------------------------------------------------------


def test_new_data_start_w_at_the_loo_optimum_and_the_buttons_type_the_rules() -> None:
    at = run_app()
    assert at.select_slider(key="w").value == 1.0  # the book's experiment: the book's w
    at.selectbox(key="dataset").set_value("sinc").run()
    no_errors(at)
    d = nwcore.make_dataset("sinc", seed=nwcore.DEFAULT_SEED)
    best = nwcore.loo_bandwidth(d.x_train, d.y_train, "gaussian").w
    w = at.select_slider(key="w").value
    assert abs(w / best - 1) < 0.13  # the grid's nearest value (steps of 10^0.1)
    at.button(key="w_use_silverman").click().run()
    silverman = 1 / nwcore.silverman(d.x_train)
    assert float(at.text_input(key="w_exact").value) == pytest.approx(silverman, rel=1e-3)
    assert f"w = {float(at.text_input(key='w_exact').value):.4g}," in texts(at.caption)

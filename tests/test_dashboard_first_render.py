"""The parametric curve is on the pooling page's first render where training is cheap."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

import nwcore
from tests.test_dashboard import APP, TIMEOUT, heat_panels, metrics, series_shown, texts


def test_first_render_compares_all_three_poolings_without_a_click() -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception
    assert {"average", "nonparametric", "parametric"} <= series_shown(at)
    assert at.button(key="train")  # still there, to watch it learn
    assert "not trained yet" not in texts(at.info)
    assert at.query_params.get("train") is None  # a link reproduces it without train=1
    # the page's number is the one nwcore gives for the book's default settings, learned from
    # the same draw: test MSE of the trained model against the true curve
    spec = nwcore.DATASETS["classic"]
    data = nwcore.make_dataset(
        "classic", n_train=spec.n_train, noise=spec.noise, seed=nwcore.DEFAULT_SEED
    )
    result = nwcore.train_parametric(
        data.x_train, data.y_train, "gaussian", 1, "d2l", nwcore.DEFAULT_SEED
    )
    y_hat, _ = result.predict(data.x_test)
    expected = float(((y_hat - data.y_truth) ** 2).mean())
    assert float(metrics(at)["parametric"]["test MSE vs truth"]) == pytest.approx(
        expected, rel=1e-3
    )


@pytest.mark.parametrize(
    ("kernel", "heads", "mode"),
    [("epanechnikov", 1, "d2l"), ("gaussian", 4, "d2l"), ("triangular", 1, "converged")],
)
def test_cheap_settings_show_the_parametric_curve_at_once(kernel, heads, mode) -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.selectbox(key="kernel").set_value(kernel).run()
    at.slider(key="heads").set_value(heads).run()
    at.radio(key="mode").set_value(mode).run()
    assert not at.exception
    assert "parametric" in series_shown(at)
    assert len(heat_panels(at)) == 1 + heads


def test_expensive_settings_wait_for_the_train_button() -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.slider(key="heads").set_value(3).run()
    at.radio(key="mode").set_value("converged").run()
    assert "parametric" not in series_shown(at)
    assert "not trained yet" in texts(at.info)
    at.button(key="train").click().run()
    assert "parametric" in series_shown(at)


def test_the_train_button_still_trains_step_by_step() -> None:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    at.button(key="train").click().run()
    progress = at.get("progress")
    assert progress and progress[0].proto.value == 100
    assert "Trained in 5 steps" in progress[0].proto.text  # d2l: one step per epoch

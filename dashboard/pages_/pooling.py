"""Page 1 (default): average, nonparametric and parametric attention pooling, side by side."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import streamlit as st
import torch

import nwcore
from dashboard import (
    chart_data,
    charts,
    compute,
    controls,
    limits,
    live,
    params,
    serving,
    upload,
    urlstate,
)
from dashboard.common import fmt, recall, remember, run_page, show_chart, show_error
from dashboard.controls import draw
from dashboard.spec import by_key
from dashboard.text import t

log = logging.getLogger("dashboard")

PAGE = "pooling"
SERIES, CSV = params.SERIES, params.CSV
REFERENCE = ("synthetic", "classic", *limits.DATASETS["classic"], limits.DEFAULT_SEED)


@dataclass(frozen=True)
class Controls:
    data_key: tuple
    data: nwcore.Dataset
    dataset: str  # dataset name for the export's metadata ("csv" for uploads)
    kernel: str
    w: float
    heads: int
    mode: str
    seed: int

    @property
    def train_key(self) -> tuple:
        return (self.data_key, self.kernel, self.heads, self.mode, self.seed)


# --- sidebar ------------------------------------------------------------------------------


def _dataset_caption(name: str) -> str:
    if name == CSV:
        return t("dataset_csv")
    return f"{t(f'ds_{name}')}: {nwcore.DATASETS[name].formula}"


def _reset_synthetic_defaults() -> None:
    """A new dataset starts from its experiment's own n_train and noise (the book's values)."""
    name = st.session_state.get("dataset")
    if name in limits.DATASETS:
        st.session_state["n_train"], st.session_state["noise"] = limits.DATASETS[name]


def _start_w(data_key: tuple, data: nwcore.Dataset) -> tuple[float, str]:
    """w's start for these data: the book's w = 1 for its own experiment, else data-driven."""
    if data_key == REFERENCE:
        return limits.REFERENCE_W, "book"
    return compute.start_w(*compute.arrays(data))


def _w_changes(data_key: tuple, data: nwcore.Dataset, spread: float) -> dict[str, dict[str, Any]]:
    """The w slider for these data: its grid follows their scale (`spread`, compute.spread),
    and when the data change w starts again from their own value (a link's w holds on the
    page's first run)."""
    start, _ = _start_w(data_key, data)
    snapped = params.w_at(params.w_step(start))
    previous = st.session_state.get("_w_data")
    st.session_state["_w_data"] = data_key
    if previous is not None and previous != data_key:
        st.session_state["w"] = snapped
        st.session_state["w_exact"] = ""
    current = st.session_state.get("w")
    if current is None:  # the page's first run: the link's w, when it gives a usable one
        try:
            current = float(st.query_params.get("w", ""))
        except ValueError:
            current = None
    keep = current if current is not None and current > 0 else snapped
    grid = params.w_grid(spread, keep=keep)
    options = tuple(f"{v:g}" for v in grid)
    widget = {**by_key(params.POOLING)["w"].widget, "on_change": _slider_moved}
    return {"w": {"options": options, "default": f"{snapped:g}", "widget": widget}}


def _slider_moved() -> None:
    """Moving the slider means 'this w': an exact w typed before gives way."""
    st.session_state["w_exact"] = ""


def _use_rule(rule: str, x: np.ndarray, y: np.ndarray, kernel: str) -> None:
    """The buttons under w: type Silverman's w or the leave-one-out optimum into the box."""
    if rule == "silverman":
        w = compute.bandwidth_rules(x, y, kernel)["silverman"]["w"]
    else:
        w = compute.loo_optimum(x, y, kernel)["w"]
    st.session_state["w_exact"] = f"{w:.4g}"
    nearest = params.w_at(params.w_step(w))
    if st.session_state.get("_w_options") and nearest in st.session_state["_w_options"]:
        st.session_state["w"] = nearest


def _w_notes(w: float, unit: float) -> None:
    """What a typed w means when it is 0, tiny, huge or negative (it is still used). Tiny and
    huge are relative to `unit`, the slider's centre for these data (params.w_unit): w = 1e-7
    is a usual w for timestamps and 1e7 for lengths in micrometres."""
    near = {"lo": fmt(0.1 * unit), "hi": fmt(30 * unit)}  # the range the notes suggest
    if w == 0:
        st.warning(t("w_zero", w1=fmt(unit)))
    elif abs(w) < limits.W_TINY * unit:
        st.warning(t("w_tiny", w=fmt(w), **near))
    elif abs(w) > limits.W_HUGE * unit:
        st.warning(t("w_huge", w=fmt(w), **near))
    if w < 0:
        st.info(t("w_negative", w=fmt(w), abs_w=fmt(-w)))


def sidebar(notices: Any) -> Controls:
    with st.sidebar:
        st.header(t("sidebar_data"))
        on_change = {"widget": {"on_change": _reset_synthetic_defaults}}
        name = draw(params.POOLING, "dataset", changes={"dataset": on_change}).dataset
        st.caption(_dataset_caption(name))
        specs = params.pooling(name)
        if name == CSV:
            data_key, data = upload.csv_data(notices)
            seed = 0
        else:
            c = draw(specs, "n_train", "noise", "seed")
            seed = int(c.seed)
            data = compute.synthetic(name, int(c.n_train), float(c.noise), seed)
            data_key = ("synthetic", name, int(c.n_train), float(c.noise), seed)
        st.session_state["last_data"] = (data_key, data)

        st.header(t("sidebar_model"))
        kernel = draw(specs, "kernel").kernel
        st.caption(f"K(u) = {nwcore.KERNELS[kernel]}")
        spread = compute.spread(compute.arrays(data)[0])  # x's scale: the slider and the notes
        changes = _w_changes(data_key, data, spread)
        st.session_state["_w_options"] = [float(v) for v in changes["w"]["options"]]
        c = draw(specs, "w", "w_exact", changes=changes)
        w = float(c.w) if c.w_exact is None else c.w_exact
        _w_notes(w, params.w_unit(spread))
        st.caption(t("w_caption", w=fmt(w, 4), h=fmt(1.0 / abs(w), 4) if w else "inf"))
        w_spec = by_key(specs)["w"]
        if not (controls.hidden(w_spec) or controls.locked(w_spec) or urlstate.hidden("w_rules")):
            _w_buttons(data_key, data, kernel)
        if kernel == "constant":
            st.caption(t("w_constant"))
        c = draw(specs, "heads", "mode")
    return Controls(data_key, data, name, kernel, float(w), int(c.heads), c.mode, seed)


def _w_buttons(data_key: tuple, data: nwcore.Dataset, kernel: str) -> None:
    x, y = compute.arrays(data)
    _, rule = _start_w(data_key, data)
    st.caption(t(f"w_start_{rule}"))
    for rule in ("silverman", "loo"):
        st.button(
            t(f"w_use_{rule}"),
            key=f"w_use_{rule}",
            on_click=_use_rule,
            args=(rule, x, y, kernel),
            width="stretch",
        )


# --- the fit and its attention ------------------------------------------------------------


def _queries(data: nwcore.Dataset) -> torch.Tensor:
    return data.x_test if data.x_test is not None else data.x_train


def _describe(c: Controls) -> str:
    """The fit chart's title in the page's language: a synthetic dataset's formula, noise, n and
    seed (a sample of it when the points were thinned); a CSV's own description (its columns)."""
    data = c.data
    if c.data_key[0] != "synthetic":
        return data.description
    _, name, n, noise, seed = c.data_key
    target = nwcore.DATASETS[name]
    text = t("fit_desc", label=t(f"ds_{name}"), formula=target.formula, noise=fmt(noise), n=n,
             seed=seed)  # fmt: skip
    return text if data.n_train == n else t("fit_sample", text=text, n=data.n_train)


def fit_section(c: Controls, result: nwcore.TrainResult | None) -> dict[str, Any]:
    """Curves, heatmaps and the empty-window messages; returns the predictions for metrics."""
    data = c.data
    q = _queries(data)  # (Q,)
    x, y = data.x_train, data.y_train  # (K,), (K,)
    avg = nwcore.average_pooling(q, y)
    fit = nwcore.nadaraya_watson(q, x, y, c.kernel, c.w)  # weights (Q, K)
    preds: dict[str, torch.Tensor] = {"average": avg.y_hat, "nonparametric": fit.y_hat}
    param_weights = None
    if result is not None:
        preds["parametric"], param_weights = result.predict(q)  # (Q,), (Q, H, K)

    shown = set(draw(params.POOLING, "curves").curves or [])
    q_np = q.numpy()
    frames = []
    if data.y_truth is not None and "truth" in shown:
        frames.append(chart_data.curve_frame(q_np, data.y_truth.numpy(), "truth"))
    for name, y_hat in preds.items():
        if name in shown:
            frames.append(chart_data.curve_frame(q_np, y_hat.numpy(), name))
    curves = chart_data.concat(frames)
    points = (
        chart_data.points_frame(x.numpy(), y.numpy())
        if "training points" in shown
        else chart_data.points_frame()
    )

    empty_rows = []
    if "nonparametric" in shown and bool(fit.empty.any()):
        mask = fit.empty.numpy()
        empty_rows.append(
            chart_data.curve_frame(q_np[mask], fit.y_hat.numpy()[mask], "nonparametric")
        )
    param_empty_heads: list[int] = []
    param_empty = np.zeros(len(q_np), dtype=bool)
    if result is not None and c.kernel in nwcore.COMPACT_KERNELS:
        for h, empty in enumerate(compute.parametric_empty(result, q)):
            if bool(empty.any()):
                param_empty_heads.append(h + 1)
                param_empty |= empty.numpy()
        if "parametric" in shown and param_empty.any():
            empty_rows.append(
                chart_data.curve_frame(
                    q_np[param_empty], preds["parametric"].numpy()[param_empty], "parametric"
                )
            )
    empty = chart_data.concat(empty_rows)

    heat = _heatmaps(c, q_np, x.numpy(), fit.weights.numpy(), param_weights)
    chart = charts.fit_with_heatmaps(
        curves,
        points,
        empty,
        heat,
        title=_describe(c),
        x_label=data.x_label,
        y_label=data.y_label,
    )
    show_chart(chart, width="stretch", key="fit_chart", alt=t("fit_alt_static"))
    with st.container(key="fit_summary"):  # what this run drew, in words (the alt is fixed)
        names = ", ".join(charts.legend_name(n) for n in sorted(preds))
        st.caption(t("fit_alt", kernel=c.kernel, w=fmt(c.w), curves=names))
    fixed = {n: preds[n].numpy() for n in ("average", "parametric") if n in preds}
    live.section(q_np, x.numpy(), y.numpy(), c.kernel, c.w, fixed)  # issue 12: in-browser w

    if bool(fit.empty.any()):
        st.warning(
            t(
                "empty_np" if c.kernel in nwcore.COMPACT_KERNELS else "empty_underflow",
                kernel=c.kernel,
                w=fmt(c.w),
                h=fmt(1 / abs(c.w)) if c.w else "inf",
                count=int(fit.empty.sum()),
                total=len(q_np),
            )
        )
    if param_empty_heads:
        st.warning(
            t(
                "empty_param",
                heads=", ".join(map(str, param_empty_heads)),
                count=int(param_empty.sum()),
                total=len(q_np),
            )
        )
    if result is None:
        st.info(t("param_untrained", kernel=c.kernel, heads=c.heads, mode=t(f"mode_{c.mode}")))
    shown = heat.weights[0].shape
    if shown != heat.shape:
        st.caption(
            t(
                "heat_downsampled",
                q=shown[0],
                q_total=heat.shape[0],
                k=shown[1],
                k_total=heat.shape[1],
            )
        )
    return preds


def _heatmaps(
    c: Controls,
    q: np.ndarray,
    k: np.ndarray,
    np_weights: np.ndarray,
    param_weights: torch.Tensor | None,
) -> charts.Heatmaps:
    """The nonparametric weights (Q, K), then one panel per trained head."""
    panels = [(t("heat_title_np", kernel=c.kernel, w=fmt(c.w)), np_weights)]
    if param_weights is not None:
        w_heads = param_weights.numpy()  # (Q, H, K)
        learned = recall("trained", c.train_key).w
        for h in range(w_heads.shape[1]):
            panels.append((t("heat_title_param", head=h + 1, w=fmt(learned[h])), w_heads[:, h, :]))
    return charts.heatmaps(panels, q, k)


# --- training -----------------------------------------------------------------------------


def _expected_steps(c: Controls) -> int:
    if c.mode == "d2l":
        return nwcore.TrainConfig().epochs
    return 85 if c.heads == 1 else nwcore.TrainConfig().max_steps  # 1 head: ~85 LOO evaluations


def _loss_curve(losses: list[float], mode: str) -> tuple[list[int], list[float]]:
    """What to plot: d2l's loss per epoch; for converged, the best loss found so far."""
    values = list(np.minimum.accumulate(losses)) if mode == "converged" else list(losses)
    return list(range(1, len(values) + 1)), [float(v) for v in values]


def train(c: Controls, bar: Any, chart: Any) -> nwcore.TrainResult:
    total = _expected_steps(c)
    losses: list[float] = []

    def callback(step: int, loss: float, w: float) -> None:
        losses.append(loss)
        bar.progress(min(step / total, 0.99), text=t("train_running", step=step, loss=loss))
        if c.mode == "d2l" or step % 5 == 0:
            show_chart(charts.loss_chart(*_loss_curve(losses, c.mode)), chart, width="stretch")

    data = c.data
    with serving.slot_released():  # 0.1-8 s: the class's other clicks go on meanwhile
        result = nwcore.train_parametric(
            data.x_train, data.y_train, c.kernel, c.heads, c.mode, c.seed, callback
        )
    remember("trained", c.train_key, result, keep=3)
    bar.progress(1.0, text=t("train_done", steps=len(result.losses), loss=result.loss))
    return result


def _link_asks_for_training() -> bool:
    """True once per session: on the page's first run, when the link says `train=1`.

    Later runs never train by themselves (another kernel is another model, trained on request),
    unless the facilitator hid the Train button: then `train=1` means "always trained".
    While URL values are being put back to defaults, the decision waits for that run.
    """
    if urlstate.hidden("train") and st.query_params.get("train") == "1":
        return True
    if st.session_state.get("_link_train_seen"):
        return False
    pending = st.session_state.get("_url_resets")
    if pending and pending[0] == PAGE and pending[1]:
        return False
    st.session_state["_link_train_seen"] = True
    return st.query_params.get("train") == "1"


def _trains_by_itself(c: Controls) -> bool:
    return c.data_key[0] != CSV and compute.trains_by_itself(c.data.n_train, c.mode, c.heads)


def training_section(c: Controls) -> nwcore.TrainResult | None:
    """The Train button; `?train=1` in a link trains on load (synthetic data: deterministic)."""
    st.subheader(t("section_train"))
    clicked = False
    if not urlstate.hidden("train"):
        clicked = st.button(
            t("train_button"),
            key="train",
            type="primary",
            help=t("train_help"),
            disabled=urlstate.locked("train"),
        )
    bar = st.empty()
    chart = st.empty()
    result = recall("trained", c.train_key)
    if _link_asks_for_training() and result is None and not clicked:
        if c.data_key[0] == CSV:
            st.info(t("train_link_csv"))
        else:
            st.caption(t("train_from_link"))
            clicked = True
    if clicked and not compute.can_train(c.data.n_train, c.mode, c.heads):
        st.warning(
            t(
                "train_too_large",
                mode=t(f"mode_{c.mode}"),
                heads=c.heads,
                n=c.data.n_train,
                max=compute.MAX_FULL_TRAIN_POINTS,
            )
        )
        clicked = False
    if clicked:
        result = train(c, bar.progress(0.0), chart)
    elif result is None and _trains_by_itself(c):
        x, y = compute.arrays(c.data)
        result = compute.trained(x, y, c.kernel, c.heads, c.mode, c.seed)
        remember("trained", c.train_key, result, keep=3)
    if result is not None:
        if not clicked:
            bar.caption(t("train_done", steps=len(result.losses), loss=result.loss))
        show_chart(
            charts.loss_chart(*_loss_curve(result.losses, result.mode)), chart, width="stretch"
        )
    return result


def bandwidth_section(c: Controls, result: nwcore.TrainResult | None) -> None:
    st.markdown(f"**{t('bandwidth_title')}**")
    x, y = compute.arrays(c.data)
    rules = compute.bandwidth_rules(x, y, c.kernel)
    rows = [
        (t("bw_slider"), c.w, compute.loo_error(x, y, c.kernel, c.w), None),
        (t("bw_silverman"), rules["silverman"]["w"], rules["silverman"]["loo"], None),
        (t("bw_scott"), rules["scott"]["w"], rules["scott"]["loo"], None),
    ]
    if result is not None:  # the search costs ~60-80 LOO evaluations: only next to a result
        best = compute.loo_optimum(x, y, c.kernel)
        rows.append((t("bw_loo"), best["w"], best["loo"], None))
        for h, (w_h, pi_h) in enumerate(zip(result.w, result.mixture, strict=True)):
            rows.append(
                (t("bw_head", head=h + 1), w_h, compute.loo_error(x, y, c.kernel, w_h), pi_h)
            )
    table = pa.table(  # an Arrow table: Streamlit sends it as it is (chart_data.arrow)
        {
            t("bw_col_rule"): [r[0] for r in rows],
            t("bw_col_w"): [fmt(abs(r[1]), 4) for r in rows],
            t("bw_col_h"): [fmt(1 / abs(r[1]), 4) if r[1] else "inf" for r in rows],
            t("bw_col_loo"): [fmt(r[2], 4) for r in rows],
            t("bw_col_mix"): ["" if r[3] is None else fmt(r[3], 3) for r in rows],
        }
    )
    # a static table: every row shown (8 heads fit), and no data-grid widget to load (an
    # st.dataframe costs ~0.35 s of a new participant's first render on 2 cores)
    st.table(table, hide_index=True)
    if result is None:
        st.caption(t("bw_untrained"))
    elif result.mode == "d2l":
        st.caption(t("bw_d2l_note"))


# --- metrics and export -------------------------------------------------------------------


def metrics_section(c: Controls, preds: dict[str, torch.Tensor], result: Any) -> None:
    st.subheader(t("section_metrics"))
    x, y = compute.arrays(c.data)
    truth = c.data.y_truth
    loo = {
        "average": compute.loo_error(x, y, "constant", 1.0),  # constant kernel = average pooling
        "nonparametric": compute.loo_error(x, y, c.kernel, c.w),
        "parametric": result.loss if result is not None else None,
    }
    rows = []
    for name in ("average", "nonparametric", "parametric"):
        if name not in preds:
            test = t("metrics_untrained")
        elif truth is None:
            test = t("metrics_no_truth")
        else:
            test = fmt(compute.mse(preds[name], truth), 4)
        rows.append(
            {
                t("metrics_pooling"): name,
                t("metrics_test"): test,
                t("metrics_loo"): t("metrics_untrained")
                if loo[name] is None
                else fmt(loo[name], 4),
            }
        )
    st.table(pa.Table.from_pylist(rows), hide_index=True)
    st.caption(t("metrics_caption"))


# A fragment: pressing Export reruns only this section (the model, the charts and the
# tables above do not change), with the c and result of the page's last full run.
@st.fragment
def export_section(c: Controls, result: nwcore.TrainResult | None) -> None:
    st.subheader(t("section_export"))
    st.markdown(t("export_intro"))
    if result is None:
        st.info(t("export_untrained"))
        return
    if urlstate.hidden("export"):
        return
    if st.button(t("export_button"), key="export", disabled=urlstate.locked("export")):
        truth = None
        if c.data.y_truth is not None and c.data.x_test is not None:
            truth = (c.data.x_test, c.data.y_truth)
        with st.spinner():
            try:
                out = compute.export_files(result, c.dataset, truth)
            except compute.export_errors() as exc:
                show_error(t("export_failed", reason=exc))
                return
            except Exception as exc:  # noqa: BLE001 - an export bug must not take the page down
                log.exception("export failed")
                show_error(t("export_failed", reason=f"{type(exc).__name__}: {exc}"))
                return
        remember("exports", c.train_key, out, keep=1)
    out = recall("exports", c.train_key)
    if out is None:
        return
    files = out["files"]
    if "model.onnx" in files:
        st.success(t("export_done", size=len(files["model.onnx"]), parity=out["parity"]))
    downloads = (
        ("model.onnx", "download_onnx", "application/octet-stream"),
        ("model_card.json", "download_card", "application/json"),
    )
    for name, key, mime in downloads:
        if name in files:
            st.download_button(
                t(key), files[name], file_name=name, mime=mime, key=key, on_click="ignore"
            )


# --- page ---------------------------------------------------------------------------------


def _sync_train_param(c: Controls, result: nwcore.TrainResult | None) -> None:
    """`train=1` in the URL exactly when the view shows a trained model (a link re-trains)."""
    want = result is not None and c.data_key[0] != CSV and not _trains_by_itself(c)
    has = st.query_params.get("train") == "1"
    if want and not has:
        st.query_params["train"] = "1"
    elif has and not want and not urlstate.hidden("train"):
        del st.query_params["train"]


def _how_to_read() -> None:
    with st.expander(t("how_to_read")):
        st.markdown(t("how_to_read_body"))


def body() -> None:
    dataset = urlstate.url_value("dataset", params.POOLING[0])
    specs = params.pooling(dataset)
    with urlstate.page_frame(
        PAGE, specs, params.ALL_KEYS, t("pooling_title"), t("pooling_intro"), _how_to_read
    ):
        _pooling_page()


def _pooling_page() -> None:
    notices = st.container()
    c = sidebar(notices)
    if c.data.n_train > compute.MAX_LIVE_POINTS:  # only reachable through future inputs
        st.error(t("large_data", n=c.data.n_train, max=compute.MAX_LIVE_POINTS))
        return
    fit_box = st.container()
    result = training_section(c)
    bandwidth_section(c, result)  # cached and quick: no spinner (each one starts a thread)
    with fit_box:
        preds = fit_section(c, result)
    metrics_section(c, preds, result)
    export_section(c, result)
    _sync_train_param(c, result)


run_page(body)
urlstate.finish(PAGE)  # after the page: an invalid URL value is put back to its default

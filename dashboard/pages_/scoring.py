"""Page 2: scoring functions, masked softmax with valid lengths, soft and hard attention."""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st
import torch

import nwcore
from dashboard import charts, params, urlstate
from dashboard.common import fmt, run_page
from dashboard.parsing import parse_lengths, parse_matrix
from dashboard.text import t

KEEP = params.KEEP
PAGE = "scoring"
SCORERS, MASKS, ATTEND = params.SCORERS, params.MASKS, params.ATTEND
DEFAULTS = params.SCORING_DEFAULTS


def _control(key: str, draw: Any) -> Any:
    """A widget, or (when the facilitator hid it) the value the URL gives it."""
    if urlstate.hidden(key):
        return urlstate.url_value(key, params.scoring()[key])
    return draw(disabled=urlstate.locked(key))


def _random_params(
    scorer: str, dq: int, dk: int, hidden: int, seed: int
) -> dict[str, torch.Tensor]:
    """Fixed random W for the scorers that have one (seeded, independent of other users)."""
    gen = torch.Generator().manual_seed(seed)
    if scorer == "additive":
        return {
            "W_q": torch.randn(hidden, dq, generator=gen, dtype=torch.float64) / math.sqrt(dq),
            "W_k": torch.randn(hidden, dk, generator=gen, dtype=torch.float64) / math.sqrt(dk),
            "w_v": torch.randn(hidden, generator=gen, dtype=torch.float64) / math.sqrt(hidden),
        }
    if scorer == "bilinear":
        return {"W": torch.randn(dq, dk, generator=gen, dtype=torch.float64) / math.sqrt(dk)}
    return {}


def _scores(scorer: str, q: torch.Tensor, k: torch.Tensor, params: dict) -> torch.Tensor:
    if scorer == "additive":
        return nwcore.additive_scores(q, k, params["W_q"], params["W_k"], params["w_v"])
    if scorer == "bilinear":
        return nwcore.bilinear_scores(q, k, params["W"])
    if scorer == "dot":
        return nwcore.dot_scores(q, k)
    return nwcore.scaled_dot_scores(q, k)  # (1, Q, K)


def controls() -> dict:
    d = DEFAULTS
    left, right = st.columns(2)
    with left:
        queries = _control(
            "sc_queries",
            lambda disabled: st.text_area(
                t("queries"),
                value=d["sc_queries"],
                key="sc_queries",
                help=t("queries_help"),
                height=110,
                disabled=disabled,
                **KEEP,
            ),
        )
        keys = _control(
            "sc_keys",
            lambda disabled: st.text_area(
                t("keys"),
                value=d["sc_keys"],
                key="sc_keys",
                help=t("keys_help"),
                height=130,
                disabled=disabled,
                **KEEP,
            ),
        )
        values = _control(
            "sc_values",
            lambda disabled: st.text_area(
                t("values"),
                value=d["sc_values"],
                key="sc_values",
                help=t("values_help"),
                height=130,
                disabled=disabled,
                **KEEP,
            ),
        )
    with right:
        scorer = _control(
            "sc_scorer",
            lambda disabled: st.selectbox(
                t("scorer"),
                SCORERS,
                index=SCORERS.index(d["sc_scorer"]),
                key="sc_scorer",
                disabled=disabled,
                **KEEP,
            ),
        )
        st.caption(t(f"scorer_{scorer}"))
        hidden = _control(
            "sc_hidden",
            lambda disabled: st.slider(
                t("hidden"),
                1,
                16,
                value=d["sc_hidden"],
                key="sc_hidden",
                help=t("hidden_help"),
                disabled=disabled or scorer != "additive",
                **KEEP,
            ),
        )
        seed = int(
            _control(
                "sc_seed",
                lambda disabled: st.number_input(
                    t("param_seed"),
                    min_value=0,
                    max_value=params.SEED_MAX,
                    value=d["sc_seed"],
                    step=1,
                    key="sc_seed",
                    help=t("param_seed_help"),
                    disabled=disabled,
                    **KEEP,
                ),
            )
        )
        mask = _control(
            "sc_mask",
            lambda disabled: st.radio(
                t("mask_mode"),
                MASKS,
                index=MASKS.index(d["sc_mask"]),
                captions=[t(f"mask_{m}") for m in MASKS],
                key="sc_mask",
                disabled=disabled,
                **KEEP,
            ),
        )
        attention = _control(
            "sc_attention",
            lambda disabled: st.radio(
                t("attention_mode"),
                ATTEND,
                index=ATTEND.index(d["sc_attention"]),
                captions=[t(f"att_{a}") for a in ATTEND],
                key="sc_attention",
                horizontal=True,
                disabled=disabled,
                **KEEP,
            ),
        )
    return {
        "queries": queries,
        "keys": keys,
        "values": values,
        "scorer": scorer,
        "hidden": int(hidden),
        "seed": seed,
        "mask": mask,
        "attention": attention,
    }


def body() -> None:
    specs = params.scoring()
    with urlstate.page_frame(PAGE, specs, params.ALL_KEYS, t("scoring_title"), t("scoring_intro")):
        inputs(controls())


def inputs(c: dict) -> None:
    q_rows = parse_matrix(c["queries"], t("queries"))
    k_rows = parse_matrix(c["keys"], t("keys"))
    v_rows = parse_matrix(c["values"], t("values"))
    if len(v_rows) != len(k_rows):
        raise nwcore.NWError(t("values_count", got=len(v_rows), want=len(k_rows)))
    q = torch.tensor(q_rows, dtype=torch.float64)[None]  # (1, Q, Dq)
    k = torch.tensor(k_rows, dtype=torch.float64)[None]  # (1, K, Dk)
    v = torch.tensor(v_rows, dtype=torch.float64)[None]  # (1, K, Dv)
    n_q, n_k = q.shape[1], k.shape[1]

    valid_lens = None
    if c["mask"] == "shared":
        current = st.session_state.get("sc_valid_len")
        if current is not None and int(current) > n_k:
            st.session_state["sc_valid_len"] = n_k  # fewer keys than the length: clip it
        length = _control(
            "sc_valid_len",
            lambda disabled: st.slider(
                t("valid_len"),
                0,
                n_k,
                value=min(DEFAULTS["sc_valid_len"], n_k),
                key="sc_valid_len",
                help=t("valid_len_help"),
                disabled=disabled,
                **KEEP,
            ),
        )
        valid_lens = torch.tensor([min(int(length), n_k)])  # (B,)
    elif c["mask"] == "per_query":
        text = _control(
            "sc_valid_lens",
            lambda disabled: st.text_input(
                t("valid_lens"),
                value=DEFAULTS["sc_valid_lens"],
                key="sc_valid_lens",
                help=t("valid_lens_help"),
                disabled=disabled,
                **KEEP,
            ),
        )
        valid_lens = torch.tensor([parse_lengths(text, n_q, n_k)])  # (B, Q)

    params = _random_params(c["scorer"], q.shape[-1], k.shape[-1], c["hidden"], c["seed"])
    scores = _scores(c["scorer"], q, k, params)  # (1, Q, K)
    weights = nwcore.masked_softmax(scores, valid_lens)  # (1, Q, K)
    gen = torch.Generator().manual_seed(c["seed"])
    out = nwcore.attend(weights, v, c["attention"], generator=gen)  # (1, Q, Dv)
    allowed = (
        torch.ones(n_q, n_k, dtype=torch.bool)
        if valid_lens is None
        else nwcore.valid_lens_to_mask(valid_lens, n_k).expand(1, n_q, n_k)[0]
    )  # (Q, K)

    q_names = [t("row_query", i=i + 1) for i in range(n_q)]
    k_names = [t("row_key", i=j + 1) for j in range(n_k)]
    cells = []
    for i in range(n_q):
        for j in range(n_k):
            masked = not bool(allowed[i, j])
            cells.append(
                {
                    t("f_query"): q_names[i],
                    t("f_key"): k_names[j],
                    t("f_score"): float(scores[0, i, j]),
                    t("f_weight"): float(weights[0, i, j]),
                    "masked": masked,
                }
            )
    frame = pd.DataFrame(cells)
    score_frame = frame.assign(
        label=[
            t("masked") if m else fmt(s, 2)
            for s, m in zip(frame[t("f_score")], frame["masked"], strict=True)
        ]
    )
    weight_frame = frame.assign(
        label=[
            t("masked") if m else fmt(w, 2)
            for w, m in zip(frame[t("f_weight")], frame["masked"], strict=True)
        ]
    )
    left, right = st.columns(2)
    common = dict(x=t("f_key"), y=t("f_query"), x_order=k_names, y_order=q_names, masked="masked")
    tips = [t("f_query"), t("f_key"), alt_tip(t("f_score")), alt_tip(t("f_weight")), "masked"]
    with left:
        st.altair_chart(
            charts.matrix_heatmap(
                score_frame,
                value=t("f_score"),
                title=t("scores_title"),
                diverging=True,
                tooltip=tips,
                **common,
            ),
            key="scores_chart",
            width="content",
        )
    with right:
        st.altair_chart(
            charts.matrix_heatmap(
                weight_frame, value=t("f_weight"), title=t("weights_title"), tooltip=tips, **common
            ),
            key="weights_chart",
            width="content",
        )
    st.subheader(t("outputs_title"))
    outputs = pd.DataFrame(
        out[0].numpy(), index=q_names, columns=[t("col_out", j=j + 1) for j in range(v.shape[-1])]
    )
    st.dataframe(outputs, key="outputs_table")
    st.caption(t("outputs_caption"))


def alt_tip(field: str) -> alt.Tooltip:
    return alt.Tooltip(f"{field}:Q", format=".4f")


run_page(body)
urlstate.finish(PAGE)  # after the page: an invalid URL value is put back to its default

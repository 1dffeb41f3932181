"""Page 2: scoring functions, masked softmax with valid lengths, soft and hard attention."""

from __future__ import annotations

import math

import altair as alt
import pandas as pd
import streamlit as st
import torch

import nwcore
from dashboard import charts
from dashboard.common import fmt, init_state, run_page
from dashboard.parsing import parse_lengths, parse_matrix
from dashboard.text import t

KEEP = {"persist_state": "session"}
SCORERS = ["additive", "dot", "scaled_dot", "bilinear"]
MASKS = ["none", "shared", "per_query"]
ATTEND = ["soft", "argmax", "sample"]
DEFAULTS = {
    "sc_queries": "1, 0\n0, 1\n1, 1",
    "sc_keys": "1, 0\n0.7, 0.7\n0, 1\n-1, 0",
    "sc_values": "1\n2\n3\n4",
    "sc_scorer": "scaled_dot",
    "sc_hidden": 8,
    "sc_seed": 0,
    "sc_mask": "none",
    "sc_valid_len": 2,
    "sc_valid_lens": "4, 2, 0",
    "sc_attention": "soft",
}


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
    for key, value in DEFAULTS.items():
        init_state(key, value)
    left, right = st.columns(2)
    with left:
        queries = st.text_area(
            t("queries"), key="sc_queries", help=t("queries_help"), height=110, **KEEP
        )
        keys = st.text_area(t("keys"), key="sc_keys", help=t("keys_help"), height=130, **KEEP)
        values = st.text_area(
            t("values"), key="sc_values", help=t("values_help"), height=130, **KEEP
        )
    with right:
        scorer = st.selectbox(
            t("scorer"), SCORERS, format_func=lambda s: t(f"scorer_{s}"), key="sc_scorer", **KEEP
        )
        hidden = st.slider(
            t("hidden"),
            1,
            16,
            key="sc_hidden",
            help=t("hidden_help"),
            disabled=scorer != "additive",
            **KEEP,
        )
        seed = int(
            st.number_input(
                t("param_seed"),
                min_value=0,
                max_value=2**31 - 1,
                step=1,
                key="sc_seed",
                help=t("param_seed_help"),
                **KEEP,
            )
        )
        mask = st.radio(
            t("mask_mode"), MASKS, format_func=lambda m: t(f"mask_{m}"), key="sc_mask", **KEEP
        )
        attention = st.radio(
            t("attention_mode"),
            ATTEND,
            format_func=lambda a: t(f"att_{a}"),
            key="sc_attention",
            horizontal=True,
            **KEEP,
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
    st.title(t("scoring_title"))
    st.markdown(t("scoring_intro"))
    c = controls()
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
        init_state("sc_valid_len", DEFAULTS["sc_valid_len"])
        st.session_state["sc_valid_len"] = min(int(st.session_state["sc_valid_len"]), n_k)
        length = st.slider(
            t("valid_len"), 0, n_k, key="sc_valid_len", help=t("valid_len_help"), **KEEP
        )
        valid_lens = torch.tensor([int(length)])  # (B,)
    elif c["mask"] == "per_query":
        text = st.text_input(
            t("valid_lens"), key="sc_valid_lens", help=t("valid_lens_help"), **KEEP
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

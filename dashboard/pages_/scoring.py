"""Page 2: scoring functions, masked softmax with valid lengths, soft and hard attention."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

import nwcore
from dashboard import chart_data as cd
from dashboard import charts, params, toy_models, urlstate
from dashboard.common import fmt, run_page, show_chart
from dashboard.controls import draw
from dashboard.parsing import parse_lengths
from dashboard.text import t

PAGE = "scoring"


def body() -> None:
    with urlstate.page_frame(
        PAGE, params.SCORING, params.ALL_KEYS, t("scoring_title"), t("scoring_intro")
    ):
        left, right = st.columns(2)
        with left:
            c = draw(params.SCORING, "sc_queries", "sc_keys", "sc_values")
        with right:
            scorer = draw(params.SCORING, "sc_scorer").sc_scorer
            st.caption(t(f"scorer_{scorer}"))
            off = {"sc_hidden": {"widget": {"disabled": True}}} if scorer != "additive" else {}
            c.update(draw(params.SCORING, "sc_hidden", "sc_seed", "sc_mask", "sc_attention",
                          changes=off))  # fmt: skip
        if c["sc_queries"] is None or c["sc_keys"] is None or c["sc_values"] is None:
            st.info(t("fix_inputs"))  # each box says what to fix, right under it
            return
        c["sc_scorer"] = scorer
        show(c)


SOFTMAX = "softmax"  # hard attention: the soft weights beside the one-hot ones used


def show(c: dict[str, Any]) -> None:
    q_rows, k_rows, v_rows = c["sc_queries"], c["sc_keys"], c["sc_values"]
    if len(v_rows) != len(k_rows):
        raise nwcore.NWError(t("values_count", got=len(v_rows), want=len(k_rows)))
    n_q, n_k = len(q_rows), len(k_rows)

    valid_lens: int | list[int] | None = None
    if c["sc_mask"] == "shared":
        current = st.session_state.get("sc_valid_len")
        if current is not None and int(current) > n_k:
            st.session_state["sc_valid_len"] = n_k  # fewer keys than the length: clip it
        fit = {"sc_valid_len": {"hi": n_k, "default": min(2, n_k)}}
        valid_lens = int(draw(params.SCORING, "sc_valid_len", changes=fit).sc_valid_len)
    elif c["sc_mask"] == "per_query":
        counted = {"sc_valid_lens": {"check": lambda s: parse_lengths(s, n_q, n_k)}}
        valid_lens = draw(params.SCORING, "sc_valid_lens", changes=counted).sc_valid_lens
        if valid_lens is None:
            return  # the box says what to fix

    r = toy_models.score_and_pool(
        q_rows,
        k_rows,
        v_rows,
        c["sc_scorer"],
        hidden=int(c["sc_hidden"]),
        seed=int(c["sc_seed"]),
        valid_lens=valid_lens,
        attention=c["sc_attention"],
    )
    hard = c["sc_attention"] != "soft"
    # the heatmap shows the weights the pooling used: one-hot rows for hard attention
    scores, weights, allowed = r.scores, r.used, r.allowed  # (Q, K) each

    q_names = [t("row_query", i=i + 1) for i in range(n_q)]
    k_names = [t("row_key", i=j + 1) for j in range(n_k)]
    masked = ~np.asarray(allowed, dtype=bool)  # (Q, K)
    matrices = {cd.SCORE: np.asarray(scores), cd.WEIGHT: np.asarray(weights), cd.MASKED: masked}
    if hard:
        matrices[SOFTMAX] = np.asarray(r.weights)  # the soft weights the choice was made from
    frame = cd.cell_frame(matrices, q_names, k_names)

    def labelled(field: str) -> pd.DataFrame:
        values = zip(frame[field], masked.ravel(), strict=True)
        return frame.assign(label=[t("masked") if m else fmt(v, 2) for v, m in values])

    score_frame, weight_frame = labelled(cd.SCORE), labelled(cd.WEIGHT)
    left, right = st.columns(2)
    titles = {cd.QUERY: t("f_query"), cd.KEY: t("f_key"), cd.SCORE: t("f_score"),
              cd.WEIGHT: t("f_weight"), cd.MASKED: t("masked"),
              SOFTMAX: t("f_softmax")}  # fmt: skip
    tips = [cd.QUERY, cd.KEY, cd.SCORE, cd.WEIGHT] + ([SOFTMAX] if hard else []) + [cd.MASKED]
    common = dict(x=cd.KEY, y=cd.QUERY, x_order=k_names, y_order=q_names, masked=cd.MASKED,
                  titles=titles, tooltip=tips)  # fmt: skip
    title = t("weights_used_title", mode=t(f"att_{c['sc_attention']}")) if hard else None
    with left:
        show_chart(
            charts.matrix_heatmap(
                score_frame, value=cd.SCORE, title=t("scores_title"), diverging=True, **common
            ),
            key="scores_chart",
            width="stretch",
        )
    with right:
        show_chart(
            charts.matrix_heatmap(
                weight_frame, value=cd.WEIGHT, title=title or t("weights_title"), **common
            ),
            key="weights_chart",
            width="stretch",
        )
    st.subheader(t("outputs_title"))
    outputs = pd.DataFrame(
        r.out.numpy(),
        index=q_names,
        columns=[t("col_out", j=j + 1) for j in range(r.out.shape[-1])],
    )
    st.dataframe(outputs, key="outputs_table", height="content")  # every row, no inner scroll
    st.caption(t("outputs_caption"))


run_page(body)
urlstate.finish(PAGE)  # after the page: an invalid URL value is put back to its default

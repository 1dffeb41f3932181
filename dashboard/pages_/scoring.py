"""Page 2: scoring functions, masked softmax with valid lengths, soft and hard attention."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st
import torch

import nwcore
from dashboard import chart_data as cd
from dashboard import charts, params, urlstate
from dashboard.common import fmt, run_page
from dashboard.controls import draw
from dashboard.parsing import parse_lengths
from dashboard.text import t

PAGE = "scoring"


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


def show(c: dict[str, Any]) -> None:
    q_rows, k_rows, v_rows = c["sc_queries"], c["sc_keys"], c["sc_values"]
    if len(v_rows) != len(k_rows):
        raise nwcore.NWError(t("values_count", got=len(v_rows), want=len(k_rows)))
    q = torch.tensor(q_rows, dtype=torch.float64)[None]  # (1, Q, Dq)
    k = torch.tensor(k_rows, dtype=torch.float64)[None]  # (1, K, Dk)
    v = torch.tensor(v_rows, dtype=torch.float64)[None]  # (1, K, Dv)
    n_q, n_k = q.shape[1], k.shape[1]

    valid_lens = None
    if c["sc_mask"] == "shared":
        current = st.session_state.get("sc_valid_len")
        if current is not None and int(current) > n_k:
            st.session_state["sc_valid_len"] = n_k  # fewer keys than the length: clip it
        fit = {"sc_valid_len": {"hi": n_k, "default": min(2, n_k)}}
        length = draw(params.SCORING, "sc_valid_len", changes=fit).sc_valid_len
        valid_lens = torch.tensor([min(int(length), n_k)])  # (B,)
    elif c["sc_mask"] == "per_query":
        counted = {"sc_valid_lens": {"check": lambda s: parse_lengths(s, n_q, n_k)}}
        lengths = draw(params.SCORING, "sc_valid_lens", changes=counted).sc_valid_lens
        if lengths is None:
            return  # the box says what to fix
        valid_lens = torch.tensor([lengths])  # (B, Q)

    scorer = c["sc_scorer"]
    weights_of = _random_params(scorer, q.shape[-1], k.shape[-1], int(c["sc_hidden"]),
                                int(c["sc_seed"]))  # fmt: skip
    scores = _scores(scorer, q, k, weights_of)  # (1, Q, K)
    weights = nwcore.masked_softmax(scores, valid_lens)  # (1, Q, K)
    gen = torch.Generator().manual_seed(int(c["sc_seed"]))
    out = nwcore.attend(weights, v, c["sc_attention"], generator=gen)  # (1, Q, Dv)
    allowed = (
        torch.ones(n_q, n_k, dtype=torch.bool)
        if valid_lens is None
        else nwcore.valid_lens_to_mask(valid_lens, n_k).expand(1, n_q, n_k)[0]
    )  # (Q, K)

    q_names = [t("row_query", i=i + 1) for i in range(n_q)]
    k_names = [t("row_key", i=j + 1) for j in range(n_k)]
    masked = ~allowed.numpy()  # (Q, K)
    frame = cd.cell_frame(
        {cd.SCORE: scores[0].numpy(), cd.WEIGHT: weights[0].numpy(), cd.MASKED: masked},
        q_names,
        k_names,
    )

    def labelled(field: str) -> pd.DataFrame:
        values = zip(frame[field], masked.ravel(), strict=True)
        return frame.assign(label=[t("masked") if m else fmt(v, 2) for v, m in values])

    score_frame, weight_frame = labelled(cd.SCORE), labelled(cd.WEIGHT)
    left, right = st.columns(2)
    titles = {cd.QUERY: t("f_query"), cd.KEY: t("f_key"), cd.SCORE: t("f_score"),
              cd.WEIGHT: t("f_weight"), cd.MASKED: t("masked")}  # fmt: skip
    tips = [cd.QUERY, cd.KEY, cd.SCORE, cd.WEIGHT, cd.MASKED]
    common = dict(x=cd.KEY, y=cd.QUERY, x_order=k_names, y_order=q_names, masked=cd.MASKED,
                  titles=titles, tooltip=tips)  # fmt: skip
    with left:
        st.vega_lite_chart(
            charts.matrix_heatmap(
                score_frame, value=cd.SCORE, title=t("scores_title"), diverging=True, **common
            ),
            key="scores_chart",
            width="stretch",
        )
    with right:
        st.vega_lite_chart(
            charts.matrix_heatmap(
                weight_frame, value=cd.WEIGHT, title=t("weights_title"), **common
            ),
            key="weights_chart",
            width="stretch",
        )
    st.subheader(t("outputs_title"))
    outputs = pd.DataFrame(
        out[0].numpy(), index=q_names, columns=[t("col_out", j=j + 1) for j in range(v.shape[-1])]
    )
    st.dataframe(outputs, key="outputs_table")
    st.caption(t("outputs_caption"))


run_page(body)
urlstate.finish(PAGE)  # after the page: an invalid URL value is put back to its default

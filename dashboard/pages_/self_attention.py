"""Page 3: multi-head self-attention on a short sequence, with positional encoding."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard import chart_data as cd
from dashboard import charts, limits, params, toy_models, urlstate
from dashboard.common import fmt, run_page, show_chart
from dashboard.controls import draw
from dashboard.text import plain, t

PAGE = "self-attention"
MAX_TOKENS = limits.MAX_TOKENS


def body() -> None:
    with urlstate.page_frame(
        PAGE, params.SELF_ATTENTION, params.ALL_KEYS, t("mha_title"), t("mha_intro")
    ):
        left, right = st.columns([3, 2])
        with left:
            c = draw(params.SELF_ATTENTION, "mha_kind")
            text_key = "mha_sentence" if c.mha_kind == "sentence" else "mha_numbers"
            c.update(draw(params.SELF_ATTENTION, text_key, "mha_pe"))
        with right:
            c.update(draw(params.SELF_ATTENTION, "mha_dim", "mha_heads", "mha_seed"))
        if c.get("mha_numbers", "") is None:
            return  # the Numbers box says what to fix, right under it
        show(c)


def show(c: dict[str, Any]) -> None:
    numbers = c.get("mha_numbers") if c["mha_kind"] == "numbers" else None
    tokens = [fmt(v, 4) for v in numbers] if numbers is not None else c["mha_sentence"].split()
    if not tokens:
        st.info(t("no_tokens"))
        return
    if len(tokens) > MAX_TOKENS:
        st.warning(t("too_many_tokens", max=MAX_TOKENS, count=len(tokens)))
        tokens = tokens[:MAX_TOKENS]
        numbers = numbers[:MAX_TOKENS] if numbers is not None else None
    labels = [f"{i}: {tok}" for i, tok in enumerate(tokens)]  # unique even for repeated words
    st.caption(plain(t("tokens_caption", count=len(tokens), tokens=" | ".join(tokens))))

    dim, heads, seed, pe = int(c["mha_dim"]), int(c["mha_heads"]), int(c["mha_seed"]), c["mha_pe"]
    r = toy_models.self_attend(
        tokens, numbers, dim=dim, heads=heads, seed=seed, positional=bool(pe)
    )  # out (T, E), weights (H, T, T)

    if pe:
        show_chart(
            _matrix(r.encoding.numpy(), labels, t("f_position"), t("pe_title")),
            key="pe_chart",
            width="stretch",
        )
    else:
        st.info(t("pe_off"))

    head_names = [t("head_panel", head=h + 1) for h in range(heads)]
    cells = pd.concat(
        [
            cd.cell_frame({cd.WEIGHT: r.weights[h].numpy()}, labels, labels).assign(
                panel=head_names[h]
            )
            for h in range(heads)
        ],
        ignore_index=True,
    )
    cells[cd.LABEL] = [fmt(w, 2) for w in cells[cd.WEIGHT]]
    titles = {cd.QUERY: t("f_query"), cd.KEY: t("f_key"), cd.WEIGHT: t("f_weight"),
              cd.PANEL: t("f_panel")}  # fmt: skip
    show_chart(
        charts.matrix_heatmap(
            cells,
            x=cd.KEY,
            y=cd.QUERY,
            value=cd.WEIGHT,
            x_order=labels,
            y_order=labels,
            title=t("heads_title"),
            titles=titles,
            facet=cd.PANEL,
            facet_order=head_names,
            show_text=len(tokens) <= 8,
            cell=24 if heads > 2 else 30,
            tooltip=[cd.PANEL, cd.QUERY, cd.KEY, cd.WEIGHT],
        ),
        key="heads_chart",
        width="stretch",
    )

    left, right = st.columns(2)
    with left:
        w_o = r.w_o.numpy()  # (E, E)
        head_dim = dim // heads
        cols = [f"h{j // head_dim + 1}.{j % head_dim}" for j in range(dim)]
        show_chart(
            _matrix(
                w_o,
                [t("out_row", i=i) for i in range(dim)],
                t("f_out_feature"),
                t("out_proj_title"),
                cols,
            ),
            key="out_proj_chart",
            width="stretch",
        )
        st.caption(t("out_proj_caption"))
    with right:
        show_chart(
            _matrix(r.out.numpy(), labels, t("f_token"), t("output_title")),
            key="output_chart",
            width="stretch",
        )


def _matrix(
    values: np.ndarray, rows: list[str], row_title: str, title: str, cols: list[str] | None = None
) -> dict:
    """A (rows x features) real-valued matrix as a diverging heatmap."""
    cols = cols or [str(j) for j in range(values.shape[1])]
    frame = cd.cell_frame({cd.VALUE: values}, rows, cols, row=cd.ROW, col=cd.FEATURE)
    frame[cd.LABEL] = ""
    return charts.matrix_heatmap(
        frame,
        x=cd.FEATURE,
        y=cd.ROW,
        value=cd.VALUE,
        x_order=cols,
        y_order=rows,
        title=title,
        titles={cd.ROW: row_title, cd.FEATURE: t("f_feature"), cd.VALUE: t("f_value")},
        diverging=True,
        show_text=False,
        cell=20,
        every_x_label=False,  # feature indices: every few is enough (rows are all labelled)
    )


run_page(body)
urlstate.finish(PAGE)  # after the page: an invalid URL value is put back to its default

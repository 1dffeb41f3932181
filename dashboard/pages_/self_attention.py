"""Page 3: multi-head self-attention on a short sequence, with positional encoding."""

from __future__ import annotations

import math
import zlib
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
import torch

import nwcore
from dashboard import charts, params, urlstate
from dashboard.common import fmt, run_page
from dashboard.parsing import parse_numbers
from dashboard.text import plain, t

KEEP = params.KEEP
PAGE = "self-attention"
MAX_TOKENS = 16
DIMS, HEADS = params.DIMS, params.HEADS
DEFAULTS = params.MHA_DEFAULTS


def _control(key: str, draw: Any) -> Any:
    """A widget, or (when the facilitator hid it) the value the URL gives it."""
    if urlstate.hidden(key):
        return urlstate.url_value(key, params.self_attention()[key])
    return draw(disabled=urlstate.locked(key))


def _embed(tokens: list[str], numbers: list[float] | None, dim: int, seed: int) -> torch.Tensor:
    """Toy embeddings (T, E): a fixed random vector per distinct word, or x times one fixed
    random direction for numbers. Seeded per word, so a word always gets the same vector."""
    if numbers is not None:
        gen = torch.Generator().manual_seed(seed)
        direction = torch.randn(dim, generator=gen)  # (E,)
        return torch.tensor(numbers)[:, None] * direction  # (T, E)
    rows = []
    for token in tokens:
        gen = torch.Generator().manual_seed(zlib.crc32(token.lower().encode()) ^ seed)
        rows.append(torch.randn(dim, generator=gen))  # (E,)
    return torch.stack(rows)  # (T, E)


@st.cache_resource(max_entries=32, show_spinner=False)
def _layer(dim: int, heads: int, seed: int) -> nwcore.MultiHeadAttention:
    """A multi-head attention layer with seeded random weights (shared, read-only)."""
    mha = nwcore.MultiHeadAttention(dim, heads)
    gen = torch.Generator().manual_seed(10_000 + seed)
    with torch.no_grad():
        for param in mha.parameters():
            fan_in = param.shape[-1]
            param.copy_(torch.randn(param.shape, generator=gen) / math.sqrt(fan_in))
    return mha.eval()


def controls() -> dict:
    d = DEFAULTS
    left, right = st.columns([3, 2])
    with left:
        kind = _control(
            "mha_kind",
            lambda disabled: st.radio(
                t("seq_kind"),
                ["sentence", "numbers"],
                index=0 if d["mha_kind"] == "sentence" else 1,
                captions=[t("seq_sentence"), t("seq_numbers")],
                key="mha_kind",
                horizontal=True,
                disabled=disabled,
                **KEEP,
            ),
        )
        if kind == "sentence":
            text = _control(
                "mha_sentence",
                lambda disabled: st.text_input(
                    t("sentence"),
                    value=d["mha_sentence"],
                    key="mha_sentence",
                    help=t("sentence_help"),
                    disabled=disabled,
                    **KEEP,
                ),
            )
        else:
            text = _control(
                "mha_numbers",
                lambda disabled: st.text_input(
                    t("numbers"),
                    value=d["mha_numbers"],
                    key="mha_numbers",
                    help=t("numbers_help"),
                    disabled=disabled,
                    **KEEP,
                ),
            )
        pe = _control(
            "mha_pe",
            lambda disabled: st.toggle(
                t("pos_enc"),
                value=d["mha_pe"],
                key="mha_pe",
                help=t("pos_enc_help"),
                disabled=disabled,
                **KEEP,
            ),
        )
    with right:
        dim = _control(
            "mha_dim",
            lambda disabled: st.select_slider(
                t("embed_dim"),
                DIMS,
                value=d["mha_dim"],
                key="mha_dim",
                help=t("embed_dim_help"),
                disabled=disabled,
                **KEEP,
            ),
        )
        heads = _control(
            "mha_heads",
            lambda disabled: st.select_slider(
                t("heads"),
                HEADS,
                value=d["mha_heads"],
                key="mha_heads",
                disabled=disabled,
                **KEEP,
            ),
        )
        seed = int(
            _control(
                "mha_seed",
                lambda disabled: st.number_input(
                    t("mha_seed"),
                    min_value=0,
                    max_value=params.SEED_MAX,
                    value=d["mha_seed"],
                    step=1,
                    key="mha_seed",
                    help=t("mha_seed_help"),
                    disabled=disabled,
                    **KEEP,
                ),
            )
        )
    return {
        "kind": kind,
        "text": text,
        "pe": bool(pe),
        "dim": int(dim),
        "heads": int(heads),
        "seed": seed,
    }


def body() -> None:
    specs = params.self_attention()
    with urlstate.page_frame(PAGE, specs, params.ALL_KEYS, t("mha_title"), t("mha_intro")):
        show(controls())


def show(c: dict) -> None:
    numbers = parse_numbers(c["text"]) if c["kind"] == "numbers" else None
    tokens = [fmt(v, 4) for v in numbers] if numbers is not None else c["text"].split()
    if not tokens:
        st.info(t("no_tokens"))
        return
    if len(tokens) > MAX_TOKENS:
        st.warning(t("too_many_tokens", max=MAX_TOKENS, count=len(tokens)))
        tokens = tokens[:MAX_TOKENS]
        numbers = numbers[:MAX_TOKENS] if numbers is not None else None
    labels = [f"{i}: {tok}" for i, tok in enumerate(tokens)]  # unique even for repeated words
    st.caption(plain(t("tokens_caption", count=len(tokens), tokens=" | ".join(tokens))))

    dim, heads = c["dim"], c["heads"]
    x = _embed(tokens, numbers, dim, c["seed"])  # (T, E)
    encoding = nwcore.sinusoidal_encoding(len(tokens), dim)  # (T, E)
    if c["pe"]:
        x = x + encoding  # (T, E)
    with torch.no_grad():
        out, weights = nwcore.self_attention(_layer(dim, heads, c["seed"]), x[None])
    # out (1, T, E), weights (1, H, T, T)

    if c["pe"]:
        st.altair_chart(
            _matrix(encoding.numpy(), labels, t("f_position"), t("pe_title")),
            key="pe_chart",
            width="content",
        )
    else:
        st.info(t("pe_off"))

    cells = []
    head_names = [t("head_panel", head=h + 1) for h in range(heads)]
    for h in range(heads):
        for i in range(len(tokens)):
            for j in range(len(tokens)):
                w = float(weights[0, h, i, j])
                cells.append(
                    {
                        "panel": head_names[h],
                        t("f_query"): labels[i],
                        t("f_key"): labels[j],
                        t("f_weight"): w,
                        "label": fmt(w, 2),
                    }
                )
    st.altair_chart(
        charts.matrix_heatmap(
            pd.DataFrame(cells),
            x=t("f_key"),
            y=t("f_query"),
            value=t("f_weight"),
            x_order=labels,
            y_order=labels,
            title=t("heads_title"),
            facet="panel",
            facet_order=head_names,
            show_text=len(tokens) <= 8,
            cell=24 if heads > 2 else 30,
        ),
        key="heads_chart",
        width="content",
    )

    left, right = st.columns(2)
    with left:
        w_o = _layer(dim, heads, c["seed"]).out_proj.weight.detach().numpy()  # (E, E)
        head_dim = dim // heads
        cols = [f"h{j // head_dim + 1}.{j % head_dim}" for j in range(dim)]
        st.altair_chart(
            _matrix(
                w_o,
                [t("out_row", i=i) for i in range(dim)],
                t("f_out_feature"),
                t("out_proj_title"),
                cols,
            ),
            key="out_proj_chart",
            width="content",
        )
        st.caption(t("out_proj_caption"))
    with right:
        st.altair_chart(
            _matrix(out[0].numpy(), labels, t("f_token"), t("output_title")),
            key="output_chart",
            width="content",
        )


def _matrix(
    values: np.ndarray, rows: list[str], row_title: str, title: str, cols: list[str] | None = None
) -> alt.Chart:
    """A (rows x features) real-valued matrix as a diverging heatmap."""
    cols = cols or [str(j) for j in range(values.shape[1])]
    frame = pd.DataFrame(
        [
            {
                row_title: rows[i],
                t("f_feature"): cols[j],
                t("f_value"): float(values[i, j]),
                "label": "",
            }
            for i in range(values.shape[0])
            for j in range(values.shape[1])
        ]
    )
    return charts.matrix_heatmap(
        frame,
        x=t("f_feature"),
        y=row_title,
        value=t("f_value"),
        x_order=cols,
        y_order=rows,
        title=title,
        diverging=True,
        show_text=False,
        cell=20,
    )


run_page(body)
urlstate.finish(PAGE)  # after the page: an invalid URL value is put back to its default

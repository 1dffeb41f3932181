"""dashboard.toy_models (the scorer dispatch and toy self-attention model of pages 2 and 3)
against explicit loops and torch.nn.MultiheadAttention; the pages and the exercises that
check them read the same numbers."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
import torch
from streamlit.testing.v1 import AppTest

import nwcore
from dashboard import exercises, params, text, toy_models

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
QUERIES = [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [-0.5, 2.0]]
KEYS = [[1.0, 0.0], [0.7, 0.7], [0.0, 1.0], [-1.0, 0.0], [0.3, -2.0]]
VALUES = [[1.0, -1.0], [2.0, 0.5], [3.0, 0.0], [4.0, 2.0], [5.0, 1.0]]


def loop_scores(scorer: str, p: dict) -> list[list[float]]:
    """Every (query, key) score, one pair at a time, from the formulas (SPEC 2)."""
    out = []
    for q in QUERIES:
        row = []
        for k in KEYS:
            if scorer == "dot":
                s = sum(a * b for a, b in zip(q, k, strict=True))
            elif scorer == "scaled_dot":
                s = sum(a * b for a, b in zip(q, k, strict=True)) / math.sqrt(len(q))
            elif scorer == "bilinear":
                w = p["W"].tolist()
                s = sum(q[i] * w[i][j] * k[j] for i in range(len(q)) for j in range(len(k)))
            else:  # additive: w_v . tanh(W_q q + W_k k)
                wq, wk, wv = p["W_q"].tolist(), p["W_k"].tolist(), p["w_v"].tolist()
                s = 0.0
                for h in range(len(wv)):
                    pre = sum(wq[h][i] * q[i] for i in range(len(q)))
                    pre += sum(wk[h][j] * k[j] for j in range(len(k)))
                    s += wv[h] * math.tanh(pre)
            row.append(s)
        out.append(row)
    return out


def loop_softmax(scores: list[list[float]], lens: list[int]) -> list[list[float]]:
    """Softmax of each row over its first lens[i] keys; an empty row is all zeros."""
    out = []
    for row, n in zip(scores, lens, strict=True):
        if n == 0:
            out.append([0.0] * len(row))
            continue
        top = max(row[:n])
        e = [math.exp(s - top) if j < n else 0.0 for j, s in enumerate(row)]
        out.append([v / sum(e) for v in e])
    return out


@pytest.mark.parametrize("scorer", toy_models.SCORERS)
@pytest.mark.parametrize("valid_lens", [None, 3, [5, 2, 0, 1]])
def test_scores_and_weights_match_an_explicit_loop(scorer, valid_lens) -> None:
    r = toy_models.score_and_pool(
        QUERIES, KEYS, VALUES, scorer, hidden=6, seed=3, valid_lens=valid_lens
    )
    p = toy_models.scorer_params(scorer, 2, 2, 6, 3)
    want = loop_scores(scorer, p)
    assert torch.allclose(r.scores, torch.tensor(want, dtype=torch.float64), atol=1e-12)
    lens = valid_lens if isinstance(valid_lens, list) else [valid_lens or 5] * 4
    weights = torch.tensor(loop_softmax(want, lens), dtype=torch.float64)
    assert torch.allclose(r.weights, weights, atol=1e-12)
    assert torch.equal(r.allowed, torch.tensor([[j < n for j in range(5)] for n in lens]))
    # soft attention uses the softmax weights: the output is their weighted average
    assert torch.equal(r.used, r.weights)
    pooled = [[sum(w * v[d] for w, v in zip(row, VALUES, strict=True)) for d in range(2)]
              for row in weights.tolist()]  # fmt: skip
    assert torch.allclose(r.out, torch.tensor(pooled, dtype=torch.float64), atol=1e-12)


def test_the_scorer_weights_are_seeded_and_sized() -> None:
    a = toy_models.scorer_params("additive", 3, 2, 5, seed=1)
    assert (a["W_q"].shape, a["W_k"].shape, a["w_v"].shape) == ((5, 3), (5, 2), (5,))
    assert torch.equal(a["W_q"], toy_models.scorer_params("additive", 3, 2, 5, seed=1)["W_q"])
    assert not torch.equal(a["W_q"], toy_models.scorer_params("additive", 3, 2, 5, seed=2)["W_q"])
    assert toy_models.scorer_params("dot", 2, 2, 5, seed=1) == {}
    with pytest.raises(nwcore.NWError, match="unknown scorer 'cosine'"):
        toy_models.scores("cosine", torch.ones(1, 1, 2), torch.ones(1, 1, 2), {})


def test_argmax_uses_one_key_per_query_the_largest_weight() -> None:
    r = toy_models.score_and_pool(
        QUERIES, KEYS, VALUES, "dot", valid_lens=[5, 2, 0, 1], attention="argmax"
    )
    for i, row in enumerate(r.weights.tolist()):
        if sum(row) == 0:  # valid length 0: nothing used, the output is zeros
            assert r.used[i].tolist() == [0.0] * 5 and r.out[i].tolist() == [0.0, 0.0]
            continue
        best = max(range(5), key=lambda j: row[j])
        assert r.used[i].tolist() == [1.0 if j == best else 0.0 for j in range(5)]
        assert r.out[i].tolist() == VALUES[best]


def test_sampled_keys_follow_the_weights_and_the_output_is_the_used_keys_value() -> None:
    draws = 1500
    counts = torch.zeros(len(QUERIES), len(KEYS), dtype=torch.float64)
    for seed in range(draws):
        r = toy_models.score_and_pool(QUERIES, KEYS, VALUES, "dot", seed=seed, attention="sample")
        assert torch.equal(r.used.sum(-1), torch.ones(len(QUERIES), dtype=torch.float64))
        picked = r.used.argmax(-1).tolist()
        assert r.out.tolist() == [VALUES[j] for j in picked]
        counts += r.used
    p = r.weights  # the seed changes the draw only
    sigma = (p * (1 - p) / draws).sqrt()
    assert ((counts / draws - p).abs() <= 5 * sigma + 1e-9).all()


def test_the_toy_embedding_gives_a_word_one_vector_and_numbers_one_direction() -> None:
    x = toy_models.embed(["The", "cat", "the"], None, 8, seed=0)  # (T, E)
    assert torch.equal(x[0], x[2]) and not torch.equal(x[0], x[1])
    assert not torch.equal(x[0], toy_models.embed(["the"], None, 8, seed=1)[0])
    n = toy_models.embed(["1", "-2"], [1.0, -2.0], 8, seed=0)
    assert torch.allclose(n[1], -2 * n[0])


@pytest.mark.parametrize(("dim", "heads", "positional"), [(16, 2, True), (8, 8, False)])
def test_self_attention_equals_torch_multihead_attention(dim, heads, positional) -> None:
    tokens = "the cat sat on the mat".split()
    r = toy_models.self_attend(tokens, dim=dim, heads=heads, seed=5, positional=positional)
    ours = toy_models.layer(dim, heads, 5)
    theirs = torch.nn.MultiheadAttention(dim, heads, batch_first=True)
    with torch.no_grad():
        theirs.in_proj_weight.copy_(
            torch.cat([ours.q_proj.weight, ours.k_proj.weight, ours.v_proj.weight])
        )
        theirs.in_proj_bias.copy_(torch.cat([ours.q_proj.bias, ours.k_proj.bias, ours.v_proj.bias]))
        theirs.out_proj.weight.copy_(ours.out_proj.weight)
        theirs.out_proj.bias.copy_(ours.out_proj.bias)
    # the input built independently: word vectors plus sin/cos(pos / 10000^(2j/d))
    x = toy_models.embed(tokens, None, dim, 5)  # (T, E)
    if positional:
        pe = torch.zeros(len(tokens), dim)
        for pos in range(len(tokens)):
            for j in range(0, dim, 2):
                pe[pos, j] = math.sin(pos / 10000 ** (j / dim))
                pe[pos, j + 1] = math.cos(pos / 10000 ** (j / dim))
        assert torch.allclose(r.encoding, pe, atol=1e-6)
        x = x + pe
    with torch.no_grad():
        out, weights = theirs(x[None], x[None], x[None], average_attn_weights=False)
    assert torch.allclose(r.out, out[0], atol=1e-5)
    assert torch.allclose(r.weights, weights[0], atol=1e-6)
    assert torch.equal(r.w_o, ours.out_proj.weight)


def test_without_positional_encoding_repeated_words_get_identical_rows() -> None:
    tokens = "the cat sat on the mat".split()
    off = toy_models.self_attend(tokens, positional=False).weights  # (H, T, T)
    assert torch.equal(off[:, 0], off[:, 4])
    assert toy_models.distinct_rows(off[0]) == 5
    on = toy_models.self_attend(tokens, positional=True).weights
    assert toy_models.distinct_rows(on[0]) == 6


# --- the pages show what the exercises check ----------------------------------------------


def chart_frame(at: AppTest, title_key: str) -> pd.DataFrame:
    """The data of the chart whose title is the text `title_key` (English)."""
    title = text.TEXT[title_key].split("{")[0]
    (chart,) = [c for c in at.get("vega_lite_chart") if title in c.proto.spec]
    frames = [pa.ipc.open_stream(d.data.data).read_pandas() for d in chart.proto.datasets]
    return pd.concat(frames, ignore_index=True)


def open_page(page: str, query: dict) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def test_the_scoring_page_pools_what_the_soft_hard_exercise_checks() -> None:
    ex = exercises.BY_ID["soft_hard"]
    at = open_page("pages_/scoring.py", ex.params)
    outputs = at.dataframe[0].value  # the pooled outputs
    assert float(outputs.iloc[2, 0]) == exercises.hard_output(3)
    assert ex.check(float(outputs.iloc[2, 0])).ok
    # the heatmap shows the weights argmax used: one 1 per row
    weights = chart_frame(at, "weights_used_title").pivot(
        index="query", columns="key", values="weight"
    )
    assert sorted(weights.sum(axis=1).tolist()) == [1.0] * len(outputs)
    assert set(weights.to_numpy().ravel().tolist()) == {0.0, 1.0}


def test_the_self_attention_page_shows_the_rows_the_positional_exercise_counts() -> None:
    ex = exercises.BY_ID["positional"]
    at = open_page("pages_/self_attention.py", ex.params)
    cells = chart_frame(at, "heads_title")
    head1 = cells[cells["panel"] == cells["panel"].iloc[0]]
    matrix = head1.pivot(index="query", columns="key", values="weight")
    rows = {tuple(round(v, 6) for v in row) for row in matrix.to_numpy().tolist()}
    assert ex.check(len(rows)).ok and len(rows) == exercises.distinct_rows(
        exercises.SENTENCE, False
    )
    assert params.MHA_DEFAULTS["mha_heads"] == 2

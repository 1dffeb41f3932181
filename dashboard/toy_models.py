"""The small models behind pages 2 and 3, in one place: pure functions over nwcore.

The scoring page, the self-attention page and the exercises that check them all call these,
so a page and its exercise can never compute different things.

- `score_and_pool`: a scoring function (additive, dot, scaled dot, bilinear) with fixed random
  W, masked softmax with valid lengths, then soft or hard attention; it returns the weights
  the pooling actually used (one-hot rows for hard attention).
- `self_attend`: toy token embeddings, optional sinusoidal positional encoding and a
  multi-head attention layer with seeded random weights.

>>> r = score_and_pool([[1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], [[1.0], [2.0]], "dot")
>>> round(float(r.weights.sum()), 6), r.used.shape
(1.0, torch.Size([1, 2]))
"""

from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass

import torch

import nwcore
from dashboard.params import SCORERS

# --- page 2: scoring functions ------------------------------------------------------------


def scorer_params(scorer: str, dq: int, dk: int, hidden: int, seed: int) -> dict[str, torch.Tensor]:
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


def scores(
    scorer: str, q: torch.Tensor, k: torch.Tensor, params: dict[str, torch.Tensor]
) -> torch.Tensor:
    """Scores (B, Q, K) of queries q (B, Q, Dq) against keys k (B, K, Dk)."""
    if scorer == "additive":
        return nwcore.additive_scores(q, k, params["W_q"], params["W_k"], params["w_v"])
    if scorer == "bilinear":
        return nwcore.bilinear_scores(q, k, params["W"])
    if scorer == "dot":
        return nwcore.dot_scores(q, k)
    if scorer == "scaled_dot":
        return nwcore.scaled_dot_scores(q, k)
    raise nwcore.NWError(f"unknown scorer {scorer!r}; use one of {', '.join(SCORERS)}.")


@dataclass(frozen=True)
class Scoring:
    scores: torch.Tensor  # (Q, K)
    weights: torch.Tensor  # (Q, K) masked softmax of the scores
    used: torch.Tensor  # (Q, K) the weights the pooling used: one-hot rows when hard
    allowed: torch.Tensor  # (Q, K) bool, False where a valid length hides the key
    out: torch.Tensor  # (Q, Dv)


def score_and_pool(
    queries: list[list[float]],
    keys: list[list[float]],
    values: list[list[float]],
    scorer: str,
    *,
    hidden: int = 8,
    seed: int = 0,
    valid_lens: list[int] | int | None = None,
    attention: str = "soft",
) -> Scoring:
    """Page 2 from its inputs: rows of numbers, a scorer, valid lengths and the attention.

    `valid_lens` is one length for every query (int), one per query (list) or None. Hard
    attention draws with a generator seeded by `seed`, so a view is reproducible.
    """
    q = torch.tensor(queries, dtype=torch.float64)[None]  # (1, Q, Dq)
    k = torch.tensor(keys, dtype=torch.float64)[None]  # (1, K, Dk)
    v = torch.tensor(values, dtype=torch.float64)[None]  # (1, K, Dv)
    n_q, n_k = q.shape[1], k.shape[1]
    if isinstance(valid_lens, int):
        lens = torch.tensor([min(valid_lens, n_k)])  # (B,)
    elif valid_lens is not None:
        lens = torch.tensor([valid_lens])  # (B, Q)
    else:
        lens = None
    s = scores(scorer, q, k, scorer_params(scorer, q.shape[-1], k.shape[-1], hidden, seed))
    weights = nwcore.masked_softmax(s, lens)  # (1, Q, K)
    # Pooling one-hot "values" (the identity) gives the weights each query used: the softmax
    # row itself when soft, the picked key's indicator when hard (zeros for an empty row).
    gen = torch.Generator().manual_seed(seed)
    eye = torch.eye(n_k, dtype=torch.float64)[None]  # (1, K, K)
    used = nwcore.attend(weights, eye, attention, generator=gen)  # (1, Q, K)
    out = used @ v  # (1, Q, K) @ (1, K, Dv) -> (1, Q, Dv)
    allowed = (
        torch.ones(n_q, n_k, dtype=torch.bool)
        if lens is None
        else nwcore.valid_lens_to_mask(lens, n_k).expand(1, n_q, n_k)[0]
    )  # (Q, K)
    return Scoring(s[0], weights[0], used[0], allowed, out[0])


# --- page 3: multi-head self-attention ----------------------------------------------------


def embed(tokens: list[str], numbers: list[float] | None, dim: int, seed: int) -> torch.Tensor:
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


@functools.lru_cache(maxsize=32)
def layer(dim: int, heads: int, seed: int) -> nwcore.MultiHeadAttention:
    """A multi-head attention layer with seeded random weights (shared and read-only: every
    caller runs it under no_grad in eval mode)."""
    mha = nwcore.MultiHeadAttention(dim, heads)
    gen = torch.Generator().manual_seed(10_000 + seed)
    with torch.no_grad():
        for param in mha.parameters():
            fan_in = param.shape[-1]
            param.copy_(torch.randn(param.shape, generator=gen) / math.sqrt(fan_in))
    return mha.eval()


@dataclass(frozen=True)
class SelfAttention:
    encoding: torch.Tensor  # (T, E) the sinusoidal positional encoding
    out: torch.Tensor  # (T, E)
    weights: torch.Tensor  # (H, T, T)
    w_o: torch.Tensor  # (E, E) the output projection


def self_attend(
    tokens: list[str],
    numbers: list[float] | None = None,
    *,
    dim: int = 16,
    heads: int = 2,
    seed: int = 0,
    positional: bool = True,
) -> SelfAttention:
    """Page 3 from its inputs: tokens (or numbers), sizes, seed and positional encoding."""
    x = embed(tokens, numbers, dim, seed)  # (T, E)
    encoding = nwcore.sinusoidal_encoding(len(tokens), dim)  # (T, E)
    if positional:
        x = x + encoding  # (T, E)
    mha = layer(dim, heads, seed)
    with torch.no_grad():
        out, weights = nwcore.self_attention(mha, x[None])  # (1, T, E), (1, H, T, T)
    return SelfAttention(encoding, out[0], weights[0], mha.out_proj.weight.detach())


def distinct_rows(weights: torch.Tensor, decimals: int = 6) -> int:
    """How many different rows a (T, T) attention matrix has (rounded to `decimals`)."""
    return len({tuple(round(float(v), decimals) for v in row) for row in weights})

"""Scoring functions, (B, Q, Dq), (B, K, Dk) -> scores (B, Q, K), and the scorer modules that
pool with them: forward(queries, keys, values, valid_lens) -> (out, weights)."""

import math

import torch
from torch import Tensor, nn

from nwcore._checks import as_probability, as_whole
from nwcore._tensor_checks import (
    check_dtypes,
    check_module_dtype,
    check_q_k,
    check_qkv,
    check_rank,
    check_same,
    check_tensor,
)
from nwcore.errors import NWError
from nwcore.limits import check_dense
from nwcore.masking import masked_softmax

__all__ = [
    "AdditiveAttention",
    "BilinearAttention",
    "DotProductAttention",
    "additive_scores",
    "bilinear_scores",
    "dot_scores",
    "scaled_dot_scores",
]


def _check_dot_inputs(q: Tensor, k: Tensor) -> None:
    check_tensor("q", q)
    check_tensor("k", k)
    if q.dim() < 2 or q.dim() != k.dim():
        raise NWError(
            f"q and k must have shapes (..., Q, D) and (..., K, D) with the same "
            f"rank >= 2 (e.g. (B, Q, D) and (B, K, D)), got {tuple(q.shape)} and "
            f"{tuple(k.shape)}; add the missing axes with unsqueeze."
        )
    if q.shape[:-2] != k.shape[:-2]:
        raise NWError(
            f"q and k must share leading axes (B, ...), got {tuple(q.shape[:-2])} "
            f"and {tuple(k.shape[:-2])}; pass matching batches."
        )
    check_same(
        "feature size",
        "q.shape[-1]",
        q.shape[-1],
        "k.shape[-1]",
        k.shape[-1],
        "dot-product scores need Dq == Dk; project q or k first, or use "
        "additive_scores / bilinear_scores.",
    )
    check_dtypes(q=q, k=k)


def dot_scores(q: Tensor, k: Tensor) -> Tensor:
    """
    >>> dot_scores(torch.ones(1, 1, 2), torch.ones(1, 3, 2))
    tensor([[[2., 2., 2.]]])

    Dot-product scores ``q . k`` for q (B, Q, D), k (B, K, D) -> (B, Q, K).
    Extra leading axes are allowed, e.g. (B, H, Q, D) and (B, H, K, D) -> (B, H, Q, K).
    """
    _check_dot_inputs(q, k)
    return q @ k.transpose(-2, -1)  # (B, Q, D) @ (B, D, K) -> (B, Q, K)


def scaled_dot_scores(q: Tensor, k: Tensor) -> Tensor:
    """
    >>> scaled_dot_scores(torch.ones(1, 1, 4), torch.ones(1, 3, 4))
    tensor([[[2., 2., 2.]]])

    Dot-product scores divided by sqrt(D): q (B, Q, D), k (B, K, D) -> (B, Q, K).
    The scaling keeps the score variance near 1 for unit-variance inputs whatever D is.
    Extra leading axes are allowed, as in :func:`dot_scores`.
    """
    return dot_scores(q, k) / math.sqrt(q.shape[-1])  # (B, Q, K)


def additive_scores(q: Tensor, k: Tensor, W_q: Tensor, W_k: Tensor, w_v: Tensor) -> Tensor:
    """
    >>> additive_scores(torch.zeros(1, 1, 2), torch.zeros(1, 3, 5),
    ...                 torch.ones(4, 2), torch.ones(4, 5), torch.ones(4))
    tensor([[[0., 0., 0.]]])

    Additive (Bahdanau) scores ``w_v^T tanh(W_q q + W_k k)`` for every query/key pair.

    Shapes: q (B, Q, Dq), k (B, K, Dk), W_q (Hd, Dq), W_k (Hd, Dk), w_v (Hd,) where Hd is
    the hidden size. Returns (B, Q, K). Works for Dq != Dk.
    """
    check_q_k(q, k)
    check_rank("W_q", W_q, 2, "(hidden, Dq)")
    check_rank("W_k", W_k, 2, "(hidden, Dk)")
    check_rank("w_v", w_v, 1, "(hidden,)")
    check_same(
        "query features",
        "q.shape[-1]",
        q.shape[-1],
        "W_q.shape[1]",
        W_q.shape[1],
        "W_q must have shape (hidden, Dq).",
    )
    check_same(
        "key features",
        "k.shape[-1]",
        k.shape[-1],
        "W_k.shape[1]",
        W_k.shape[1],
        "W_k must have shape (hidden, Dk).",
    )
    check_same(
        "hidden size",
        "W_q.shape[0]",
        W_q.shape[0],
        "W_k.shape[0]",
        W_k.shape[0],
        "W_q and W_k must map into the same hidden size.",
    )
    check_same(
        "hidden size",
        "W_q.shape[0]",
        W_q.shape[0],
        "w_v.shape[0]",
        w_v.shape[0],
        "w_v must have shape (hidden,).",
    )
    check_dtypes(q=q, k=k, W_q=W_q, W_k=W_k, w_v=w_v)
    q_hidden = q @ W_q.T  # (B, Q, Dq) @ (Dq, Hd) -> (B, Q, Hd)
    k_hidden = k @ W_k.T  # (B, K, Dk) @ (Dk, Hd) -> (B, K, Hd)
    features = torch.tanh(q_hidden.unsqueeze(2) + k_hidden.unsqueeze(1))  # (B, Q, K, Hd)
    return features @ w_v  # (B, Q, K, Hd) @ (Hd,) -> (B, Q, K)


def bilinear_scores(q: Tensor, k: Tensor, W: Tensor) -> Tensor:
    """
    >>> bilinear_scores(torch.ones(1, 1, 2), torch.ones(1, 3, 2), torch.eye(2))
    tensor([[[2., 2., 2.]]])

    Bilinear (multiplicative, Luong "general") scores ``q^T W k``.
    Shapes: q (B, Q, Dq), k (B, K, Dk), W (Dq, Dk) -> (B, Q, K). With W = I this is the
    plain dot product.
    """
    check_q_k(q, k)
    check_rank("W", W, 2, "(Dq, Dk)")
    check_same(
        "query features",
        "q.shape[-1]",
        q.shape[-1],
        "W.shape[0]",
        W.shape[0],
        "W must have shape (Dq, Dk).",
    )
    check_same(
        "key features",
        "k.shape[-1]",
        k.shape[-1],
        "W.shape[1]",
        W.shape[1],
        "W must have shape (Dq, Dk).",
    )
    check_dtypes(q=q, k=k, W=W)
    return (q @ W) @ k.transpose(-2, -1)  # (B, Q, Dk) @ (B, Dk, K) -> (B, Q, K)


def _pool(
    scores: Tensor, values: Tensor, valid_lens: Tensor | None, dropout: nn.Dropout
) -> tuple[Tensor, Tensor]:
    """Masked softmax over keys, then a weighted sum of values; weights are pre-dropout."""
    weights = masked_softmax(scores, valid_lens)  # (B, Q, K)
    out = dropout(weights) @ values  # (B, Q, K) @ (B, K, Dv) -> (B, Q, Dv)
    return out, weights


class AdditiveAttention(nn.Module):
    """
    >>> out, w = AdditiveAttention(2, 3, 8)(torch.ones(1, 4, 2), torch.ones(1, 5, 3),
    ...                                        torch.ones(1, 5, 6))
    >>> out.shape, w.shape
    (torch.Size([1, 4, 6]), torch.Size([1, 4, 5]))

    Additive attention: scores ``w_v^T tanh(W_q q + W_k k)``, so queries and keys may
    have different sizes. ``forward`` returns ``(out (B, Q, Dv), weights (B, Q, K))``;
    the weights are taken before dropout, so every allowed row sums to 1.
    """

    def __init__(
        self, query_size: int, key_size: int, num_hiddens: int, dropout: float = 0.0
    ) -> None:
        super().__init__()
        query_size = as_whole(query_size, "query_size", 1)
        key_size = as_whole(key_size, "key_size", 1)
        num_hiddens = as_whole(num_hiddens, "num_hiddens", 1)
        check_dense(num_hiddens, query_size + key_size + 1, what="AdditiveAttention's weights")
        self.W_q = nn.Linear(query_size, num_hiddens, bias=False)
        self.W_k = nn.Linear(key_size, num_hiddens, bias=False)
        self.w_v = nn.Linear(num_hiddens, 1, bias=False)
        self.dropout = nn.Dropout(as_probability(dropout))

    def forward(
        self, queries: Tensor, keys: Tensor, values: Tensor, valid_lens: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        check_qkv(queries, keys, values)
        check_module_dtype(self, queries)
        scores = additive_scores(
            queries, keys, self.W_q.weight, self.W_k.weight, self.w_v.weight[0]
        )  # (B, Q, K)
        return _pool(scores, values, valid_lens, self.dropout)


class DotProductAttention(nn.Module):
    """
    >>> out, w = DotProductAttention()(torch.ones(1, 4, 2), torch.ones(1, 5, 2),
    ...                                   torch.ones(1, 5, 6))
    >>> out.shape, w.shape
    (torch.Size([1, 4, 6]), torch.Size([1, 4, 5]))

    Dot-product attention, scaled by 1/sqrt(D) when ``scaled`` (the default). Needs queries
    and keys of the same size D. ``forward`` returns ``(out (B, Q, Dv), weights (B, Q, K))``
    with pre-dropout weights.
    """

    def __init__(self, scaled: bool = True, dropout: float = 0.0) -> None:
        super().__init__()
        self.scaled = scaled
        self.dropout = nn.Dropout(as_probability(dropout))

    def forward(
        self, queries: Tensor, keys: Tensor, values: Tensor, valid_lens: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        check_qkv(queries, keys, values)
        check_same(
            "feature size",
            "queries.shape[-1] (Dq)",
            queries.shape[-1],
            "keys.shape[-1] (Dk)",
            keys.shape[-1],
            "DotProductAttention needs Dq == Dk; project queries or keys to the same "
            "size, or use AdditiveAttention / BilinearAttention.",
        )
        score_fn = scaled_dot_scores if self.scaled else dot_scores
        scores = score_fn(queries, keys)  # (B, Q, K)
        return _pool(scores, values, valid_lens, self.dropout)


class BilinearAttention(nn.Module):
    """
    >>> out, w = BilinearAttention(2, 3)(torch.ones(1, 4, 2), torch.ones(1, 5, 3),
    ...                                     torch.ones(1, 5, 6))
    >>> out.shape, w.shape
    (torch.Size([1, 4, 6]), torch.Size([1, 4, 5]))

    Bilinear attention: scores ``q^T W k`` with a learned W (query_size, key_size).
    ``forward`` returns ``(out (B, Q, Dv), weights (B, Q, K))`` with pre-dropout weights.
    """

    def __init__(self, query_size: int, key_size: int, dropout: float = 0.0) -> None:
        super().__init__()
        query_size = as_whole(query_size, "query_size", 1)
        key_size = as_whole(key_size, "key_size", 1)
        check_dense(query_size, key_size, what="BilinearAttention's weights")
        self.W = nn.Parameter(torch.empty(query_size, key_size))
        nn.init.xavier_uniform_(self.W)
        self.dropout = nn.Dropout(as_probability(dropout))

    def forward(
        self, queries: Tensor, keys: Tensor, values: Tensor, valid_lens: Tensor | None = None
    ) -> tuple[Tensor, Tensor]:
        check_qkv(queries, keys, values)
        check_module_dtype(self, queries)
        scores = bilinear_scores(queries, keys, self.W)  # (B, Q, K)
        return _pool(scores, values, valid_lens, self.dropout)

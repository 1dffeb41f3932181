"""Attention pooling: scores, masked softmax, scorer modules and multi-head attention.

Shape vocabulary: B batch, Q queries, K keys, D features, H heads.

Policy for a query that may attend to no key at all (``valid_len == 0``, or every key
masked): its attention weights are all zeros, so its pooled vector is the zero vector.
Nothing in this module returns NaN for such a row, in the forward or the backward pass.
"""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nwcore._checks import as_probability, as_whole
from nwcore.errors import NWError
from nwcore.limits import check_dense

__all__ = [
    "AdditiveAttention",
    "BilinearAttention",
    "DotProductAttention",
    "MultiHeadAttention",
    "additive_scores",
    "attend",
    "bilinear_scores",
    "dot_scores",
    "masked_softmax",
    "scaled_dot_scores",
    "self_attention",
    "valid_lens_to_mask",
]

ATTEND_MODES = ("soft", "argmax", "sample")


# ---------------------------------------------------------------------------
# Input checks (private)
# ---------------------------------------------------------------------------


def _data_checks_enabled() -> bool:
    """Value checks (finite, ranges) read tensor data; skip them while tracing/exporting."""
    return not (
        torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.compiler.is_exporting()
    )


def _check_tensor(name: str, x: object) -> Tensor:
    if not isinstance(x, Tensor):
        raise NWError(
            f"{name} must be a torch.Tensor, got {type(x).__name__}; wrap it with "
            f"torch.as_tensor(...)."
        )
    return x


def _check_rank(name: str, x: Tensor, rank: int, layout: str) -> None:
    _check_tensor(name, x)
    if x.dim() != rank:
        raise NWError(
            f"{name} must have shape {layout} (rank {rank}), got shape "
            f"{tuple(x.shape)}; add or remove axes (e.g. unsqueeze(0) for a "
            f"missing batch axis)."
        )


def _check_finite(name: str, x: Tensor) -> None:
    if _data_checks_enabled() and x.is_floating_point() and not torch.isfinite(x).all():
        raise NWError(
            f"{name} contains NaN or inf; clean the input (e.g. torch.nan_to_num) "
            f"and, to hide keys, use valid_lens or a mask instead of inf scores."
        )


def _check_dtypes(**named: Tensor) -> None:
    """Floating tensors of one dtype: matmuls refuse float32 @ float64 (and integers)."""
    for name, x in named.items():
        if not x.is_floating_point():
            raise NWError(
                f"{name} must be a floating tensor, got dtype {x.dtype}; use {name}.float()."
            )
    dtypes = {name: x.dtype for name, x in named.items()}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name} {dtype}" for name, dtype in dtypes.items())
        raise NWError(
            f"inputs must share one dtype, got {listed}; convert them all, e.g. with .double() "
            "or .float()."
        )


def _check_module_dtype(module: nn.Module, x: Tensor) -> None:
    """Inputs in the dtype of the module's parameters (nn.Linear refuses a mix)."""
    param = next(module.parameters(), None)
    if param is not None and param.dtype != x.dtype:
        raise NWError(
            f"the inputs are {x.dtype} but {type(module).__name__}'s parameters are "
            f"{param.dtype}; convert the module (module.to({x.dtype})) or the inputs "
            f"(.to({param.dtype}))."
        )


def _check_same(what: str, a_name: str, a: int, b_name: str, b: int, fix: str) -> None:
    if a != b:
        raise NWError(f"{what} mismatch: {a_name}={a} but {b_name}={b}; {fix}")


def _check_q_k(q: Tensor, k: Tensor) -> None:
    """Ranks (B, Q, Dq) and (B, K, Dk) with one batch size B."""
    _check_rank("q", q, 3, "(B, Q, Dq)")
    _check_rank("k", k, 3, "(B, K, Dk)")
    _check_same(
        "batch size",
        "q.shape[0]",
        q.shape[0],
        "k.shape[0]",
        k.shape[0],
        "pass q and k with the same batch size B.",
    )
    _check_dtypes(q=q, k=k)


def _check_qkv(queries: Tensor, keys: Tensor, values: Tensor) -> None:
    """Ranks and shared sizes of (B, Q, Dq), (B, K, Dk), (B, K, Dv)."""
    _check_rank("queries", queries, 3, "(B, Q, Dq)")
    _check_rank("keys", keys, 3, "(B, K, Dk)")
    _check_rank("values", values, 3, "(B, K, Dv)")
    _check_same(
        "batch size",
        "queries.shape[0]",
        queries.shape[0],
        "keys.shape[0]",
        keys.shape[0],
        "pass queries and keys with the same batch size B.",
    )
    _check_same(
        "batch size",
        "keys.shape[0]",
        keys.shape[0],
        "values.shape[0]",
        values.shape[0],
        "pass keys and values with the same batch size B.",
    )
    _check_same(
        "number of keys",
        "keys.shape[1]",
        keys.shape[1],
        "values.shape[1]",
        values.shape[1],
        "every key needs exactly one value (same K).",
    )
    _check_dtypes(queries=queries, keys=keys, values=values)
    for name, x in (("queries", queries), ("keys", keys), ("values", values)):
        _check_finite(name, x)


# ---------------------------------------------------------------------------
# Masks and masked softmax
# ---------------------------------------------------------------------------


def _check_valid_lens_rank(valid_lens: Tensor) -> None:
    _check_tensor("valid_lens", valid_lens)
    if valid_lens.dim() not in (1, 2):
        raise NWError(
            f"valid_lens must have shape (B,) or (B, Q), got shape "
            f"{tuple(valid_lens.shape)}; pass one length per batch row or per query."
        )


def valid_lens_to_mask(valid_lens: Tensor, num_keys: int) -> Tensor:
    """
    >>> valid_lens_to_mask(torch.tensor([1, 3]), 3)
    tensor([[ True, False, False],
            [ True,  True,  True]])

    Turn lengths into a bool mask that is True where a key may be attended.

    ``valid_lens`` of shape (B,) gives a (B, K) mask (same for every query); shape (B, Q)
    gives a (B, Q, K) mask (one length per query). Key ``k`` is allowed iff
    ``k < valid_len``. Lengths must be integers in ``[0, num_keys]``.
    """
    _check_valid_lens_rank(valid_lens)
    if valid_lens.is_floating_point() or valid_lens.is_complex() or valid_lens.dtype == torch.bool:
        raise NWError(
            f"valid_lens must hold integers, got dtype {valid_lens.dtype}; "
            f"convert with valid_lens.long()."
        )
    if _data_checks_enabled() and valid_lens.numel() > 0:
        low, high = int(valid_lens.min()), int(valid_lens.max())
        if low < 0 or high > num_keys:
            raise NWError(
                f"valid_lens must lie in [0, {num_keys}] (the number of keys), got "
                f"values from {low} to {high}; clamp them with "
                f"valid_lens.clamp(0, {num_keys}) or fix the lengths."
            )
    positions = torch.arange(num_keys, device=valid_lens.device)  # (K,)
    return positions < valid_lens.unsqueeze(-1)  # (B, K) or (B, Q, K)


def _softmax_allowed(scores: Tensor, allowed: Tensor | None) -> Tensor:
    """Softmax over the last axis using only keys where ``allowed`` is True.

    ``allowed`` broadcasts to ``scores`` (..., Q, K). Rows with no allowed key get zero
    weights. Their scores are replaced by 0 before the softmax so that neither the forward
    nor the backward pass sees an all ``-inf`` row (which would give NaN).
    """
    if allowed is None:
        return torch.softmax(scores, dim=-1)  # (..., Q, K)
    any_allowed = allowed.any(dim=-1, keepdim=True)  # (..., Q, 1)
    masked = scores.masked_fill(~allowed, float("-inf"))  # (..., Q, K)
    masked = torch.where(any_allowed, masked, 0.0)  # fully masked rows -> all-zero scores
    weights = torch.softmax(masked, dim=-1)  # (..., Q, K)
    return torch.where(any_allowed, weights, 0.0)  # (..., Q, K)


def _mask_for_scores(valid_lens: Tensor, scores: Tensor) -> Tensor:
    """Bool mask from ``valid_lens`` shaped to broadcast against scores (B, ..., Q, K)."""
    _check_valid_lens_rank(valid_lens)
    need_rank = valid_lens.dim() + 1  # (B,) needs (B, K); (B, Q) needs (B, Q, K)
    if scores.dim() < need_rank:
        raise NWError(
            f"valid_lens of shape {tuple(valid_lens.shape)} needs scores of rank >= "
            f"{need_rank}, got scores of shape {tuple(scores.shape)}; use per-row "
            f"valid_lens (B,) or give scores a query axis."
        )
    _check_same(
        "batch size",
        "valid_lens.shape[0]",
        valid_lens.shape[0],
        "scores.shape[0]",
        scores.shape[0],
        "pass one valid length per batch row.",
    )
    if valid_lens.dim() == 2:
        _check_same(
            "number of queries",
            "valid_lens.shape[1]",
            valid_lens.shape[1],
            "scores.shape[-2]",
            scores.shape[-2],
            "per-query valid_lens must have shape (B, Q).",
        )
    mask = valid_lens_to_mask(valid_lens, scores.shape[-1])  # (B, K) or (B, Q, K)
    middle = (1,) * (scores.dim() - mask.dim())  # axes between B and (Q,) K, e.g. H
    return mask.reshape(mask.shape[0], *middle, *mask.shape[1:])  # (B, 1.., [Q,] K)


def masked_softmax(scores: Tensor, valid_lens: Tensor | None = None) -> Tensor:
    """
    >>> masked_softmax(torch.zeros(1, 2, 3), torch.tensor([[2, 0]]))
    tensor([[[0.5000, 0.5000, 0.0000],
             [0.0000, 0.0000, 0.0000]]])

    Softmax of ``scores`` (..., Q, K) over keys, where keys at index >= valid_len get
    weight 0. ``scores`` is typically (B, Q, K) or (B, H, Q, K); its first axis is B.

    ``valid_lens``: None (all keys), shape (B,) (same length for every query of a batch row)
    or shape (B, Q) (one length per query). A row with valid_len 0 may attend to nothing:
    its weights are all zeros (never NaN), and so are its gradients.
    """
    _check_tensor("scores", scores)
    if scores.dim() < 1:
        raise NWError("scores must have a key axis, shape (..., Q, K); got a scalar.")
    _check_dtypes(scores=scores)
    _check_finite("scores", scores)
    allowed = None if valid_lens is None else _mask_for_scores(valid_lens, scores)
    return _softmax_allowed(scores, allowed)  # (..., Q, K)


# ---------------------------------------------------------------------------
# Scoring functions: (B, Q, Dq), (B, K, Dk) -> scores (B, Q, K)
# ---------------------------------------------------------------------------


def _check_dot_inputs(q: Tensor, k: Tensor) -> None:
    _check_tensor("q", q)
    _check_tensor("k", k)
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
    _check_same(
        "feature size",
        "q.shape[-1]",
        q.shape[-1],
        "k.shape[-1]",
        k.shape[-1],
        "dot-product scores need Dq == Dk; project q or k first, or use "
        "additive_scores / bilinear_scores.",
    )
    _check_dtypes(q=q, k=k)


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
    _check_q_k(q, k)
    _check_rank("W_q", W_q, 2, "(hidden, Dq)")
    _check_rank("W_k", W_k, 2, "(hidden, Dk)")
    _check_rank("w_v", w_v, 1, "(hidden,)")
    _check_same(
        "query features",
        "q.shape[-1]",
        q.shape[-1],
        "W_q.shape[1]",
        W_q.shape[1],
        "W_q must have shape (hidden, Dq).",
    )
    _check_same(
        "key features",
        "k.shape[-1]",
        k.shape[-1],
        "W_k.shape[1]",
        W_k.shape[1],
        "W_k must have shape (hidden, Dk).",
    )
    _check_same(
        "hidden size",
        "W_q.shape[0]",
        W_q.shape[0],
        "W_k.shape[0]",
        W_k.shape[0],
        "W_q and W_k must map into the same hidden size.",
    )
    _check_same(
        "hidden size",
        "W_q.shape[0]",
        W_q.shape[0],
        "w_v.shape[0]",
        w_v.shape[0],
        "w_v must have shape (hidden,).",
    )
    _check_dtypes(q=q, k=k, W_q=W_q, W_k=W_k, w_v=w_v)
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
    _check_q_k(q, k)
    _check_rank("W", W, 2, "(Dq, Dk)")
    _check_same(
        "query features",
        "q.shape[-1]",
        q.shape[-1],
        "W.shape[0]",
        W.shape[0],
        "W must have shape (Dq, Dk).",
    )
    _check_same(
        "key features",
        "k.shape[-1]",
        k.shape[-1],
        "W.shape[1]",
        W.shape[1],
        "W must have shape (Dq, Dk).",
    )
    _check_dtypes(q=q, k=k, W=W)
    return (q @ W) @ k.transpose(-2, -1)  # (B, Q, Dk) @ (B, Dk, K) -> (B, Q, K)


# ---------------------------------------------------------------------------
# Scorer modules: forward(queries, keys, values, valid_lens) -> (out, weights)
# ---------------------------------------------------------------------------


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
        _check_qkv(queries, keys, values)
        _check_module_dtype(self, queries)
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
        _check_qkv(queries, keys, values)
        _check_same(
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
        _check_qkv(queries, keys, values)
        _check_module_dtype(self, queries)
        scores = bilinear_scores(queries, keys, self.W)  # (B, Q, K)
        return _pool(scores, values, valid_lens, self.dropout)


# ---------------------------------------------------------------------------
# Soft vs hard attention
# ---------------------------------------------------------------------------


def attend(
    weights: Tensor, values: Tensor, mode: str = "soft", generator: torch.Generator | None = None
) -> Tensor:
    """
    >>> attend(torch.tensor([[[0.2, 0.8]]]), torch.tensor([[[1.0], [3.0]]]), "argmax")
    tensor([[[3.]]])

    Pool ``values`` (B, K, Dv) with ``weights`` (B, Q, K) into (B, Q, Dv).

    - ``"soft"``: the weighted average ``weights @ values`` (differentiable).
    - ``"argmax"``: the value of the key with the largest weight.
    - ``"sample"``: the value of one key drawn with probability ``weights``
      (``torch.multinomial``; pass a seeded ``generator`` for reproducible draws).

    Hard modes pick a single key, so no gradient flows to ``weights``. A row whose
    weights are all zero (a fully masked query) pools to zeros in every mode.
    """
    if not isinstance(mode, str) or mode not in ATTEND_MODES:
        raise NWError(f"unknown attend mode {mode!r}; use one of {', '.join(ATTEND_MODES)}.")
    _check_rank("weights", weights, 3, "(B, Q, K)")
    _check_rank("values", values, 3, "(B, K, Dv)")
    _check_same(
        "batch size",
        "weights.shape[0]",
        weights.shape[0],
        "values.shape[0]",
        values.shape[0],
        "pass weights and values with the same batch size B.",
    )
    _check_same(
        "number of keys",
        "weights.shape[-1]",
        weights.shape[-1],
        "values.shape[1]",
        values.shape[1],
        "weights must have one column per key (B, Q, K).",
    )
    _check_finite("weights", weights)
    if mode == "soft":
        _check_dtypes(weights=weights, values=values)  # hard modes gather, any dtypes do
        return weights @ values  # (B, Q, K) @ (B, K, Dv) -> (B, Q, Dv)
    if _data_checks_enabled() and (weights < 0).any():
        raise NWError(
            "weights must be non-negative for hard attention; pass softmax "
            "outputs such as those of masked_softmax."
        )
    B, Q, K = weights.shape
    has_weight = (weights > 0).any(dim=-1, keepdim=True)  # (B, Q, 1)
    if mode == "argmax":
        index = weights.argmax(dim=-1)  # (B, Q)
    else:
        probs = torch.where(has_weight, weights, 1.0)  # empty rows -> uniform (ignored later)
        drawn = torch.multinomial(probs.reshape(B * Q, K), 1, generator=generator)  # (B*Q, 1)
        index = drawn.reshape(B, Q)  # (B, Q)
    gather_index = index.unsqueeze(-1).expand(B, Q, values.shape[-1])  # (B, Q, Dv)
    picked = torch.gather(values, 1, gather_index)  # (B, Q, Dv)
    return torch.where(has_weight, picked, 0.0)  # (B, Q, Dv)


# ---------------------------------------------------------------------------
# Multi-head attention
# ---------------------------------------------------------------------------


class MultiHeadAttention(nn.Module):
    """
    >>> mha = MultiHeadAttention(embed_dim=8, num_heads=2)
    >>> out, w = mha(torch.ones(3, 4, 8), torch.ones(3, 5, 8), torch.ones(3, 5, 8))
    >>> out.shape, w.shape
    (torch.Size([3, 4, 8]), torch.Size([3, 2, 4, 5]))

    Batch-first multi-head scaled dot-product attention, laid out like
    ``torch.nn.MultiheadAttention(batch_first=True)``: separate ``q_proj``, ``k_proj``,
    ``v_proj`` and ``out_proj`` linear layers; each of the H heads attends with D = E / H
    features.

    ``forward(query (B, Q, E), key (B, K, kdim), value (B, K, vdim))`` returns
    ``(out (B, Q, E), weights (B, H, Q, K))``. Masks (all optional, combined):

    - ``valid_lens`` (B,) or (B, Q): keys at index >= valid_len are hidden.
    - ``key_padding_mask`` bool (B, K): True = ignore this key (torch convention).
    - ``attn_mask`` bool (Q, K) or (B, Q, K): True = NOT allowed (torch convention).

    ``need_weights=True`` runs the readable path (explicit softmax, weights returned
    before dropout); ``need_weights=False`` calls
    ``torch.nn.functional.scaled_dot_product_attention`` and returns ``(out, None)``.
    A query with no allowed key gets zero weights, so its output is ``out_proj.bias``.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        bias: bool = True,
        kdim: int | None = None,
        vdim: int | None = None,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        embed_dim = as_whole(embed_dim, "embed_dim", 1)
        num_heads = as_whole(num_heads, "num_heads", 1)
        if embed_dim % num_heads != 0:
            raise NWError(
                f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}; "
                f"choose num_heads that divides embed_dim (e.g. "
                f"{_divisors(embed_dim)}) or change embed_dim."
            )
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
        self.kdim = embed_dim if kdim is None else as_whole(kdim, "kdim", 1)
        self.vdim = embed_dim if vdim is None else as_whole(vdim, "vdim", 1)
        check_dense(
            embed_dim,
            3 * embed_dim + self.kdim + self.vdim,
            what="MultiHeadAttention's weights",
            way_out="use a smaller embed_dim, kdim or vdim",
        )
        self.dropout = as_probability(dropout)
        self.q_proj = nn.Linear(embed_dim, embed_dim, bias=bias)
        self.k_proj = nn.Linear(self.kdim, embed_dim, bias=bias)
        self.v_proj = nn.Linear(self.vdim, embed_dim, bias=bias)
        self.out_proj = nn.Linear(embed_dim, embed_dim, bias=bias)

    def _split_heads(self, x: Tensor) -> Tensor:
        B, T, _ = x.shape
        x = x.reshape(B, T, self.num_heads, self.head_dim)  # (B, T, H, D)
        return x.transpose(1, 2)  # (B, H, T, D)

    def _check_inputs(self, query: Tensor, key: Tensor, value: Tensor) -> None:
        _check_qkv(query, key, value)
        _check_module_dtype(self, query)
        _check_same(
            "query features",
            "query.shape[-1]",
            query.shape[-1],
            "embed_dim",
            self.embed_dim,
            "query must have shape (B, Q, embed_dim).",
        )
        _check_same(
            "key features",
            "key.shape[-1]",
            key.shape[-1],
            "kdim",
            self.kdim,
            "pass kdim=key.shape[-1] when building MultiHeadAttention.",
        )
        _check_same(
            "value features",
            "value.shape[-1]",
            value.shape[-1],
            "vdim",
            self.vdim,
            "pass vdim=value.shape[-1] when building MultiHeadAttention.",
        )

    def _allowed(
        self,
        B: int,
        Q: int,
        K: int,
        valid_lens: Tensor | None,
        key_padding_mask: Tensor | None,
        attn_mask: Tensor | None,
    ) -> Tensor | None:
        """Combine all masks into one bool mask, True = may attend, broadcastable to
        (B, H, Q, K); None when nothing is masked."""
        allowed = None
        if valid_lens is not None:
            _check_valid_lens_rank(valid_lens)
            _check_same(
                "batch size",
                "valid_lens.shape[0]",
                valid_lens.shape[0],
                "B",
                B,
                "pass one valid length per batch row.",
            )
            if valid_lens.dim() == 2:
                _check_same(
                    "number of queries",
                    "valid_lens.shape[1]",
                    valid_lens.shape[1],
                    "Q",
                    Q,
                    "per-query valid_lens must have shape (B, Q).",
                )
            mask = valid_lens_to_mask(valid_lens, K)  # (B, K) or (B, Q, K)
            allowed = mask.reshape(B, 1, -1, K)  # (B, 1, 1 or Q, K)
        if key_padding_mask is not None:
            _check_bool_mask("key_padding_mask", key_padding_mask, [(B, K)], "(B, K)")
            keep = ~key_padding_mask.reshape(B, 1, 1, K)  # (B, 1, 1, K)
            allowed = keep if allowed is None else allowed & keep
        if attn_mask is not None:
            _check_bool_mask("attn_mask", attn_mask, [(Q, K), (B, Q, K)], "(Q, K) or (B, Q, K)")
            keep = ~attn_mask.reshape(-1, 1, Q, K)  # (1 or B, 1, Q, K)
            allowed = keep if allowed is None else allowed & keep
        return allowed

    def forward(
        self,
        query: Tensor,
        key: Tensor,
        value: Tensor,
        valid_lens: Tensor | None = None,
        key_padding_mask: Tensor | None = None,
        attn_mask: Tensor | None = None,
        need_weights: bool = True,
    ) -> tuple[Tensor, Tensor | None]:
        self._check_inputs(query, key, value)
        B, Q, _ = query.shape
        K = key.shape[1]
        allowed = self._allowed(B, Q, K, valid_lens, key_padding_mask, attn_mask)
        q = self._split_heads(self.q_proj(query))  # (B, H, Q, D)
        k = self._split_heads(self.k_proj(key))  # (B, H, K, D)
        v = self._split_heads(self.v_proj(value))  # (B, H, K, D)
        p = self.dropout if self.training else 0.0
        if need_weights:
            scores = scaled_dot_scores(q, k)  # (B, H, Q, K)
            weights = _softmax_allowed(scores, allowed)  # (B, H, Q, K)
            heads = F.dropout(weights, p) @ v  # (B, H, Q, K) @ (B, H, K, D) -> (B, H, Q, D)
        else:
            weights = None
            heads = _fast_attention(q, k, v, allowed, p)  # (B, H, Q, D)
        merged = heads.transpose(1, 2).reshape(B, Q, self.embed_dim)  # (B, Q, E)
        return self.out_proj(merged), weights

    @torch.no_grad()
    def load_torch_weights(self, torch_mha: nn.MultiheadAttention) -> "MultiHeadAttention":
        """
        >>> mha = MultiHeadAttention(8, 2).load_torch_weights(nn.MultiheadAttention(8, 2))

        Copy the projections of a ``torch.nn.MultiheadAttention`` into this module, so both
        compute the same function (use ``batch_first=True`` on the torch side to feed them
        the same tensors). Handles the packed ``in_proj_weight`` and the separate
        ``q/k/v_proj_weight`` that torch uses when kdim/vdim differ from embed_dim.
        Returns ``self``.
        """
        if not isinstance(torch_mha, nn.MultiheadAttention):
            raise NWError(
                f"load_torch_weights expects a torch.nn.MultiheadAttention, got "
                f"{type(torch_mha).__name__}."
            )
        theirs = (torch_mha.embed_dim, torch_mha.num_heads, torch_mha.kdim, torch_mha.vdim)
        ours = (self.embed_dim, self.num_heads, self.kdim, self.vdim)
        if theirs != ours:
            raise NWError(
                f"(embed_dim, num_heads, kdim, vdim) differ: torch has {theirs}, "
                f"this module has {ours}; build MultiHeadAttention with the same "
                f"sizes."
            )
        if torch_mha.bias_k is not None or torch_mha.add_zero_attn:
            raise NWError(
                "add_bias_kv and add_zero_attn are not supported; build the torch "
                "module without them."
            )
        if (torch_mha.in_proj_bias is None) != (self.q_proj.bias is None):
            raise NWError(
                "one module has biases and the other not; pass the same bias=... to both."
            )
        if torch_mha.in_proj_weight is not None:  # packed: rows [q; k; v], each (E, E)
            w_q, w_k, w_v = torch_mha.in_proj_weight.chunk(3, dim=0)
        else:  # kdim/vdim differ: separate (E, E), (E, kdim), (E, vdim)
            w_q, w_k, w_v = (
                torch_mha.q_proj_weight,
                torch_mha.k_proj_weight,
                torch_mha.v_proj_weight,
            )
        for proj, w in ((self.q_proj, w_q), (self.k_proj, w_k), (self.v_proj, w_v)):
            proj.weight.copy_(w)
        self.out_proj.weight.copy_(torch_mha.out_proj.weight)
        if torch_mha.in_proj_bias is not None:
            b_q, b_k, b_v = torch_mha.in_proj_bias.chunk(3, dim=0)  # 3 x (E,)
            for proj, b in ((self.q_proj, b_q), (self.k_proj, b_k), (self.v_proj, b_v)):
                proj.bias.copy_(b)
            self.out_proj.bias.copy_(torch_mha.out_proj.bias)
        return self


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _check_bool_mask(name: str, mask: Tensor, shapes: list[tuple[int, ...]], layout: str) -> None:
    _check_tensor(name, mask)
    if mask.dtype != torch.bool:
        raise NWError(
            f"{name} must be a bool tensor (True = not allowed), got dtype "
            f"{mask.dtype}; for a float mask of 0/-inf use ({name} == float('-inf'))."
        )
    if tuple(mask.shape) not in shapes:
        raise NWError(
            f"{name} must have shape {layout} = {' or '.join(map(str, shapes))}, "
            f"got {tuple(mask.shape)}; build it for these query/key counts."
        )


def _fast_attention(
    q: Tensor, k: Tensor, v: Tensor, allowed: Tensor | None, dropout_p: float
) -> Tensor:
    """Fused attention via ``scaled_dot_product_attention``, same zero-row policy as the
    readable path: rows with no allowed key see every key (so no NaN), then are zeroed."""
    if allowed is None:
        return F.scaled_dot_product_attention(q, k, v, dropout_p=dropout_p)  # (B, H, Q, D)
    any_allowed = allowed.any(dim=-1, keepdim=True)  # (B|1, 1, Q|1, 1)
    heads = F.scaled_dot_product_attention(
        q, k, v, attn_mask=allowed | ~any_allowed, dropout_p=dropout_p
    )  # (B, H, Q, D)
    return torch.where(any_allowed, heads, 0.0)  # (B, H, Q, D)


def self_attention(
    mha: MultiHeadAttention,
    x: Tensor,
    valid_lens: Tensor | None = None,
    *,
    key_padding_mask: Tensor | None = None,
    attn_mask: Tensor | None = None,
    need_weights: bool = True,
) -> tuple[Tensor, Tensor | None]:
    """
    >>> out, w = self_attention(MultiHeadAttention(8, 2), torch.ones(3, 4, 8))
    >>> out.shape, w.shape
    (torch.Size([3, 4, 8]), torch.Size([3, 2, 4, 4]))

    Self-attention: every position of x (B, T, E) attends to every position of x,
    i.e. ``mha(x, x, x, ...)``. Returns ``(out (B, T, E), weights (B, H, T, T))``.
    """
    return mha(
        x,
        x,
        x,
        valid_lens=valid_lens,
        key_padding_mask=key_padding_mask,
        attn_mask=attn_mask,
        need_weights=need_weights,
    )

"""Multi-head scaled dot-product attention, laid out like torch.nn.MultiheadAttention, and
self-attention. Same empty-row policy as `nwcore.masking`."""

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nwcore._checks import as_probability, as_whole
from nwcore._tensor_checks import check_module_dtype, check_qkv, check_same
from nwcore.errors import NWError
from nwcore.limits import check_dense
from nwcore.masking import check_bool_mask, lens_mask, softmax_allowed
from nwcore.scoring import scaled_dot_scores

__all__ = ["MultiHeadAttention", "self_attention"]


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
        self.kdim = embed_dim if kdim is None else as_whole(kdim, "kdim", 1)
        self.vdim = embed_dim if vdim is None else as_whole(vdim, "vdim", 1)
        # the size first: it bounds embed_dim (to ~5,000) before its divisors are listed
        check_dense(
            embed_dim,
            3 * embed_dim + self.kdim + self.vdim,
            what="MultiHeadAttention's weights",
            way_out="use a smaller embed_dim, kdim or vdim",
        )
        if embed_dim % num_heads != 0:
            raise NWError(
                f"embed_dim={embed_dim} is not divisible by num_heads={num_heads}; "
                f"choose num_heads that divides embed_dim (e.g. "
                f"{_divisors(embed_dim)}) or change embed_dim."
            )
        self.embed_dim = embed_dim
        self.num_heads = num_heads
        self.head_dim = embed_dim // num_heads
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
        check_qkv(query, key, value)
        check_module_dtype(self, query)
        check_same(
            "query features",
            "query.shape[-1]",
            query.shape[-1],
            "embed_dim",
            self.embed_dim,
            "query must have shape (B, Q, embed_dim).",
        )
        check_same(
            "key features",
            "key.shape[-1]",
            key.shape[-1],
            "kdim",
            self.kdim,
            "pass kdim=key.shape[-1] when building MultiHeadAttention.",
        )
        check_same(
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
            shape = (B, self.num_heads, Q, K)
            allowed = lens_mask(valid_lens, shape, ("B", "Q"))  # (B, 1, 1 or Q, K)
        if key_padding_mask is not None:
            check_bool_mask("key_padding_mask", key_padding_mask, [(B, K)], "(B, K)")
            keep = ~key_padding_mask.reshape(B, 1, 1, K)  # (B, 1, 1, K)
            allowed = keep if allowed is None else allowed & keep
        if attn_mask is not None:
            check_bool_mask("attn_mask", attn_mask, [(Q, K), (B, Q, K)], "(Q, K) or (B, Q, K)")
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
            weights = softmax_allowed(scores, allowed)  # (B, H, Q, K)
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
    """n's divisors in order, from the pairs (d, n // d) with d <= sqrt(n).

    >>> _divisors(12), _divisors(7), _divisors(1)
    ([1, 2, 3, 4, 6, 12], [1, 7], [1])
    """
    small = [d for d in range(1, math.isqrt(n) + 1) if n % d == 0]
    return small + [n // d for d in reversed(small) if d * d != n]


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

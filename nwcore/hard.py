"""Soft vs hard attention: pooling values with weights, or picking one key per query."""

import torch
from torch import Tensor

from nwcore._tensor_checks import (
    check_dtypes,
    check_finite_input,
    check_rank,
    check_same,
    data_checks_enabled,
)
from nwcore.errors import NWError

__all__ = ["ATTEND_MODES", "attend"]

ATTEND_MODES = ("soft", "argmax", "sample")


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
    check_rank("weights", weights, 3, "(B, Q, K)")
    check_rank("values", values, 3, "(B, K, Dv)")
    check_same(
        "batch size",
        "weights.shape[0]",
        weights.shape[0],
        "values.shape[0]",
        values.shape[0],
        "pass weights and values with the same batch size B.",
    )
    check_same(
        "number of keys",
        "weights.shape[-1]",
        weights.shape[-1],
        "values.shape[1]",
        values.shape[1],
        "weights must have one column per key (B, Q, K).",
    )
    check_finite_input("weights", weights)
    if mode == "soft":
        check_dtypes(weights=weights, values=values)  # hard modes gather, any dtypes do
        return weights @ values  # (B, Q, K) @ (B, K, Dv) -> (B, Q, Dv)
    if data_checks_enabled() and (weights < 0).any():
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

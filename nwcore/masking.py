"""Masks and the masked softmax: which keys a query may attend to.

Policy for a query that may attend to no key at all (``valid_len == 0``, or every key
masked): its attention weights are all zeros, so its pooled vector is the zero vector.
Nothing here returns NaN for such a row, in the forward or the backward pass.
"""

import torch
from torch import Tensor

from nwcore._tensor_checks import (
    check_dtypes,
    check_finite_input,
    check_same,
    check_tensor,
    data_checks_enabled,
)
from nwcore.errors import NWError

__all__ = ["masked_softmax", "valid_lens_to_mask"]


def check_valid_lens_rank(valid_lens: Tensor) -> None:
    check_tensor("valid_lens", valid_lens)
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
    check_valid_lens_rank(valid_lens)
    if valid_lens.is_floating_point() or valid_lens.is_complex() or valid_lens.dtype == torch.bool:
        raise NWError(
            f"valid_lens must hold integers, got dtype {valid_lens.dtype}; "
            f"convert with valid_lens.long()."
        )
    if data_checks_enabled() and valid_lens.numel() > 0:
        low, high = int(valid_lens.min()), int(valid_lens.max())
        if low < 0 or high > num_keys:
            raise NWError(
                f"valid_lens must lie in [0, {num_keys}] (the number of keys), got "
                f"values from {low} to {high}; clamp them with "
                f"valid_lens.clamp(0, {num_keys}) or fix the lengths."
            )
    positions = torch.arange(num_keys, device=valid_lens.device)  # (K,)
    return positions < valid_lens.unsqueeze(-1)  # (B, K) or (B, Q, K)


def softmax_allowed(scores: Tensor, allowed: Tensor | None) -> Tensor:
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


def lens_mask(
    valid_lens: Tensor,
    shape: tuple[int, ...],
    names: tuple[str, str] = ("scores.shape[0]", "scores.shape[-2]"),
) -> Tensor:
    """Bool mask from ``valid_lens``, checked against scores of `shape` (B, ..., Q, K) and
    shaped to broadcast against them: (B, 1.., [Q,] K). `names` say where B and Q come from."""
    check_valid_lens_rank(valid_lens)
    need_rank = valid_lens.dim() + 1  # (B,) needs (B, K); (B, Q) needs (B, Q, K)
    if len(shape) < need_rank:
        raise NWError(
            f"valid_lens of shape {tuple(valid_lens.shape)} needs scores of rank >= "
            f"{need_rank}, got scores of shape {tuple(shape)}; use per-row "
            f"valid_lens (B,) or give scores a query axis."
        )
    check_same(
        "batch size",
        "valid_lens.shape[0]",
        valid_lens.shape[0],
        names[0],
        shape[0],
        "pass one valid length per batch row.",
    )
    if valid_lens.dim() == 2:
        check_same(
            "number of queries",
            "valid_lens.shape[1]",
            valid_lens.shape[1],
            names[1],
            shape[-2],
            "per-query valid_lens must have shape (B, Q).",
        )
    mask = valid_lens_to_mask(valid_lens, shape[-1])  # (B, K) or (B, Q, K)
    middle = (1,) * (len(shape) - mask.dim())  # axes between B and (Q,) K, e.g. H
    return mask.reshape(mask.shape[0], *middle, *mask.shape[1:])  # (B, 1.., [Q,] K)


def check_bool_mask(name: str, mask: Tensor, shapes: list[tuple[int, ...]], layout: str) -> None:
    """A torch-convention bool mask (True = not allowed) of one of `shapes`."""
    check_tensor(name, mask)
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
    check_tensor("scores", scores)
    if scores.dim() < 1:
        raise NWError("scores must have a key axis, shape (..., Q, K); got a scalar.")
    check_dtypes(scores=scores)
    check_finite_input("scores", scores)
    allowed = None if valid_lens is None else lens_mask(valid_lens, tuple(scores.shape))
    return softmax_allowed(scores, allowed)  # (..., Q, K)

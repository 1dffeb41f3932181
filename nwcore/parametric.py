"""Parametric attention pooling: NW with a learnable width w, and its multi-head form.

One head: alpha = softmax_i(log K(|x - x_i| w)) with learnable w (the d2l model for the
Gaussian kernel). H heads: each head h has its own w_h and its own attention (Q, K); head
outputs are mixed by softmax(mix_logits), which is learned too. H = 1 is the single-head model.
Because the mixture is a convex combination, sum_h pi_h alpha_h is itself a valid attention.
"""

from __future__ import annotations

import torch
from torch import nn

from nwcore._checks import as_kernel, as_whole
from nwcore.errors import NWError
from nwcore.kernels import Kernel
from nwcore.pooling import kernel_attention, pairwise_distance

__all__ = ["ParametricNW", "MAX_HEADS"]

MAX_HEADS = 8  # the dashboard offers 1..8; more heads than that only slow a lesson down


class ParametricNW(nn.Module):
    """H-head parametric Nadaraya-Watson pooling.

    >>> model = ParametricNW(heads=2, w_init=torch.tensor([1.0, 4.0]))
    >>> x = torch.linspace(0, 5, 10); y = x.sin()
    >>> y_hat, weights = model(torch.tensor([1.0, 2.0]), x, y)
    >>> y_hat.shape, weights.shape
    (torch.Size([2]), torch.Size([2, 2, 10]))

    forward(queries (Q,) or (Q, D), keys (K,) or (K, D), values (K,), mask (Q, K) bool True
    where a key may be used) -> y_hat (Q,), weights (Q, H, K). The forward does no input
    checks so that it traces cleanly to ONNX; check inputs before calling it.
    """

    def __init__(
        self, heads: int = 1, kernel: str | Kernel = "gaussian", w_init: torch.Tensor | None = None
    ):
        super().__init__()
        heads = as_whole(heads, "heads", 1, MAX_HEADS)
        self.kernel_entry = as_kernel(kernel)  # the table entry the forward reads
        self.kernel = self.kernel_entry.name
        self.heads = heads
        if w_init is None:
            w_init = torch.rand(heads)
        w_init = torch.as_tensor(w_init).reshape(-1)
        if not w_init.is_floating_point():
            w_init = w_init.to(torch.get_default_dtype())
        if w_init.shape[0] != heads:
            raise NWError(f"w_init needs one value per head ({heads}), got {w_init.shape[0]}")
        self.w = nn.Parameter(w_init.clone())  # (H,)
        self.mix_logits = nn.Parameter(torch.zeros(heads, dtype=w_init.dtype))  # (H,)

    def mixture(self) -> torch.Tensor:
        """The head weights pi (H,): non-negative, summing to 1."""
        return torch.softmax(self.mix_logits, dim=0)  # (H,)

    def forward(
        self,
        queries: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        mask: torch.Tensor | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        dist = pairwise_distance(queries, keys)  # (Q, K)
        weights, _ = kernel_attention(dist, self.w, self.kernel_entry, mask)  # (Q, H, K)
        head_out = weights @ values  # (Q, H)
        y_hat = head_out @ self.mixture()  # (Q,)
        return y_hat, weights

    def extra_repr(self) -> str:
        return f"heads={self.heads}, kernel={self.kernel!r}"

"""Sinusoidal positional encoding: tell order-blind attention where each token sits.

Shape vocabulary: B batch, T positions (sequence length), D features.
"""

import torch
from torch import Tensor, nn

from nwcore._checks import as_probability, as_real, as_whole
from nwcore.errors import NWError
from nwcore.limits import check_dense

__all__ = ["PositionalEncoding", "sinusoidal_encoding"]


def sinusoidal_encoding(
    num_positions: int, dim: int, base: float = 10000.0, dtype: torch.dtype | None = None
) -> Tensor:
    """
    >>> sinusoidal_encoding(2, 3)
    tensor([[0.0000, 1.0000, 0.0000],
            [0.8415, 0.5403, 0.0022]])

    The (P, D) table with ``P[pos, 2j] = sin(pos / base^(2j/D))`` and
    ``P[pos, 2j+1] = cos(pos / base^(2j/D))``. Column pairs share one frequency, which
    falls geometrically from 1 to about 1/base. For odd D the last column is a sin.
    Computed in float64, returned in ``dtype`` (default: torch's default dtype).
    """
    as_whole(num_positions, "num_positions", 0)  # 0 positions: an empty (0, D) table
    as_whole(dim, "dim", 1)
    check_dense(num_positions, dim, what="the positional table", way_out="use fewer positions")
    if as_real(base, "base", hint="the usual value is 10000.0") <= 0:
        raise NWError(f"base must be > 0, got {base!r}; the usual value is 10000.0.")
    pos = torch.arange(num_positions, dtype=torch.float64).unsqueeze(1)  # (P, 1)
    even = torch.arange(0, dim, 2, dtype=torch.float64)  # (ceil(D/2),) values 2j
    angles = pos / base ** (even / dim)  # (P, 1) / (ceil(D/2),) -> (P, ceil(D/2))
    pairs = torch.stack([torch.sin(angles), torch.cos(angles)], dim=-1)  # (P, ceil(D/2), 2)
    table = pairs.reshape(num_positions, 2 * even.shape[0])[:, :dim]  # sin, cos interleaved (P, D)
    return table.to(dtype or torch.get_default_dtype())


class PositionalEncoding(nn.Module):
    """
    >>> PositionalEncoding(dim=4)(torch.zeros(2, 3, 4)).shape
    torch.Size([2, 3, 4])

    Add the sinusoidal table to an input x (B, T, D), then apply dropout.
    The table is precomputed for ``max_len`` positions (a non-persistent buffer, so it
    follows ``.to(device)`` but stays out of the state dict); T may not exceed max_len.
    """

    def __init__(
        self, dim: int, max_len: int = 1000, dropout: float = 0.0, base: float = 10000.0
    ) -> None:
        super().__init__()
        self.dim = as_whole(dim, "dim", 1)
        self.max_len = as_whole(max_len, "max_len", 1)  # a table for no position encodes nothing
        self.dropout = nn.Dropout(as_probability(dropout))
        self.register_buffer(
            "encoding", sinusoidal_encoding(self.max_len, self.dim, base), persistent=False
        )  # (max_len, D)

    def forward(self, x: Tensor) -> Tensor:
        if not isinstance(x, Tensor) or x.dim() != 3:
            shape = tuple(x.shape) if isinstance(x, Tensor) else type(x).__name__
            raise NWError(
                f"x must have shape (B, T, D), got {shape}; add a batch axis with "
                f"x.unsqueeze(0) if needed."
            )
        B, T, D = x.shape
        if D != self.dim:
            raise NWError(
                f"x has D={D} features but PositionalEncoding was built with "
                f"dim={self.dim}; build it with dim={D}."
            )
        if T > self.max_len:
            raise NWError(
                f"sequence length T={T} exceeds max_len={self.max_len}; raise "
                f"max_len (e.g. PositionalEncoding(dim={D}, max_len={T}))."
            )
        table = self.encoding[:T].to(x.dtype)  # (T, D)
        return self.dropout(x + table)  # (B, T, D) + (T, D) -> (B, T, D)

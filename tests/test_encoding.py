"""Tests for nwcore.encoding against an explicit loop over the sin/cos formula."""

import math

import pytest
import torch
from torch.testing import assert_close

from nwcore.encoding import PositionalEncoding, sinusoidal_encoding
from nwcore.errors import NWError


def loop_encoding(num_positions: int, dim: int, base: float = 10000.0) -> torch.Tensor:
    """P[pos, 2j] = sin(pos / base^(2j/D)), P[pos, 2j+1] = cos(pos / base^(2j/D))."""
    table = torch.zeros(num_positions, dim, dtype=torch.float64)
    for pos in range(num_positions):
        for col in range(dim):
            two_j = col - col % 2
            angle = pos / base ** (two_j / dim)
            table[pos, col] = math.sin(angle) if col % 2 == 0 else math.cos(angle)
    return table


@pytest.mark.parametrize("dim", [6, 7, 1, 2])
def test_sinusoidal_encoding_matches_python_loop_for_even_and_odd_dim(dim):
    got = sinusoidal_encoding(50, dim, dtype=torch.float64)
    assert_close(got, loop_encoding(50, dim))


def test_sinusoidal_encoding_honours_base_and_default_dtype():
    got = sinusoidal_encoding(20, 5, base=100.0)
    assert got.dtype == torch.get_default_dtype()
    assert_close(got, loop_encoding(20, 5, base=100.0).to(got.dtype))


def test_sinusoidal_encoding_odd_dim_last_column_is_a_sine():
    table = sinusoidal_encoding(10, 5, dtype=torch.float64)
    expected = [math.sin(pos / 10000.0 ** (4 / 5)) for pos in range(10)]
    assert_close(table[:, -1], torch.tensor(expected, dtype=torch.float64))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_positional_encoding_adds_the_loop_table_to_the_input(dtype):
    x = torch.randn(3, 12, 7, generator=torch.Generator().manual_seed(0), dtype=dtype)
    layer = PositionalEncoding(dim=7, max_len=30)
    out = layer(x)
    assert out.dtype == dtype
    assert_close(out, x + loop_encoding(12, 7).to(dtype))


def test_positional_encoding_dropout_is_identity_in_eval_mode():
    x = torch.randn(2, 4, 6)
    layer = PositionalEncoding(dim=6, dropout=0.5).eval()
    assert_close(layer(x), x + loop_encoding(4, 6).float())


def test_positional_encoding_table_stays_out_of_state_dict():
    assert "encoding" not in PositionalEncoding(dim=4).state_dict()


def test_positional_encoding_too_long_sequence_raises_saying_raise_max_len():
    layer = PositionalEncoding(dim=4, max_len=8)
    with pytest.raises(NWError, match=r"T=9 exceeds max_len=8.*raise max_len.*max_len=9"):
        layer(torch.zeros(1, 9, 4))


@pytest.mark.parametrize(
    ("x", "pattern"),
    [
        (torch.zeros(9, 4), r"\(B, T, D\).*unsqueeze\(0\)"),
        (torch.zeros(1, 3, 5), r"D=5.*dim=4.*build it with dim=5"),
    ],
)
def test_positional_encoding_bad_input_shapes_raise_with_fix(x, pattern):
    with pytest.raises(NWError, match=pattern):
        PositionalEncoding(dim=4)(x)


@pytest.mark.parametrize(
    ("args", "pattern"),
    [
        ((10, 0), r"dim must be a whole number >= 1"),
        ((-1, 4), r"num_positions must be a whole number >= 0"),
        ((10, 4, -2.0), r"base must be > 0.*10000"),
        ((10, 4, "e"), r"base must be a finite number.*10000"),
        ((2.0, 4), r"num_positions must be a whole number >= 0, got 2.0"),
        ((10, True), r"dim must be a whole number >= 1, got True"),
    ],
)
def test_sinusoidal_encoding_bad_arguments_raise_with_fix(args, pattern):
    with pytest.raises(NWError, match=pattern):
        sinusoidal_encoding(*args)


def test_sinusoidal_encoding_of_no_positions_is_an_empty_table():
    table = sinusoidal_encoding(0, 4)
    assert table.shape == (0, 4)


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"dim": 4, "max_len": 0}, r"max_len must be a whole number >= 1, got 0"),
        ({"dim": "4"}, r"dim must be a whole number >= 1, got '4'"),
        ({"dim": 4, "dropout": "0.1"}, r"dropout must be a finite number >= 0.*e.g. 0.1"),
        ({"dim": 4, "dropout": 1.0}, r"dropout must be a probability in \[0, 1\)"),
    ],
)
def test_positional_encoding_bad_arguments_raise_with_fix(kwargs, pattern):
    with pytest.raises(NWError, match=pattern):
        PositionalEncoding(**kwargs)

"""The public API fed wrong types and shapes: only NWError, or a documented result, comes back.

Each test swaps one argument of a valid call for a value drawn from `junk` (wrong types, wrong
shapes, empty, NaN, bools, strings, nested lists, integer/complex/half tensors) and accepts
either an NWError with a message or a result of the documented shape without NaN.
"""

import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nwcore
from nwcore import NWError

_SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=4),
    st.complex_numbers(max_magnitude=10),
)
tensors = st.builds(
    lambda shape, dtype, fill: torch.full(shape, fill).to(dtype),
    st.lists(st.integers(0, 3), max_size=4).map(tuple),
    st.sampled_from(
        [torch.float64, torch.float32, torch.float16, torch.int64, torch.bool, torch.complex64]
    ),
    st.sampled_from([0.0, 1.0, -2.5, math.nan, math.inf]),
)
junk = st.one_of(
    scalars,
    tensors,
    tensors.map(lambda t: t.numpy() if t.dtype != torch.float16 else t),
    st.lists(scalars, max_size=4),
    st.lists(st.lists(st.floats(-3, 3), max_size=3), max_size=3),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)

X = torch.linspace(0.0, 5.0, 12, dtype=torch.float64)
Y = X.sin()


def _no_nan(*outs) -> None:
    for out in outs:
        if isinstance(out, torch.Tensor) and out.is_floating_point():
            assert not torch.isnan(out).any(), "a silent NaN"


def _accepts(call):
    """Run call: NWError with a message, or its result."""
    try:
        return call()
    except NWError as exc:
        assert str(exc).strip()
        return None


POOLING = {
    "queries": lambda v: nwcore.nadaraya_watson(v, X, Y),
    "keys": lambda v: nwcore.nadaraya_watson(X[:3], v, Y),
    "values": lambda v: nwcore.nadaraya_watson(X[:3], X, v),
    "kernel": lambda v: nwcore.nadaraya_watson(X[:3], X, Y, v),
    "w": lambda v: nwcore.nadaraya_watson(X[:3], X, Y, "gaussian", v),
    "loo x": lambda v: nwcore.leave_one_out(v, Y),
    "loo kernel": lambda v: nwcore.leave_one_out(X, Y, v),
    "loo w": lambda v: nwcore.leave_one_out(X, Y, "boxcar", v),
    "average": lambda v: nwcore.average_pooling(X[:3], v),
    "dot w": lambda v: nwcore.gaussian_nw_dot_product(X[:3], X, Y, v),
}


@pytest.mark.parametrize("arg", list(POOLING))
@_SETTINGS
@given(value=junk)
def test_pooling_with_any_argument_gives_nwerror_or_predictions(arg, value):
    out = _accepts(lambda: POOLING[arg](value))
    if out is not None:
        assert out.y_hat.ndim == 1 and out.empty.shape == out.y_hat.shape
        _no_nan(out.y_hat, out.weights)


TRAINING = {
    "x": lambda v: nwcore.train_parametric(v, Y),
    "y": lambda v: nwcore.train_parametric(X, v),
    "kernel": lambda v: nwcore.train_parametric(X, Y, kernel=v),
    "heads": lambda v: nwcore.train_parametric(X, Y, heads=v),
    "mode": lambda v: nwcore.train_parametric(X, Y, mode=v),
    "seed": lambda v: nwcore.train_parametric(X, Y, seed=v),
}


@pytest.mark.parametrize("arg", list(TRAINING))
@_SETTINGS
@given(value=junk)
def test_training_with_any_argument_gives_nwerror_or_a_finite_loss(arg, value):
    res = _accepts(lambda: TRAINING[arg](value))
    if res is not None:
        assert math.isfinite(res.loss)


MAKERS = {
    "name": lambda v: nwcore.make_dataset(v),
    "n_train": lambda v: nwcore.make_dataset("classic", n_train=v),
    "noise": lambda v: nwcore.make_dataset("classic", noise=v),
    "seed": lambda v: nwcore.make_dataset("classic", seed=v),
    "sinusoidal positions": lambda v: nwcore.sinusoidal_encoding(v, 4),
    "sinusoidal dim": lambda v: nwcore.sinusoidal_encoding(3, v),
    "sinusoidal base": lambda v: nwcore.sinusoidal_encoding(3, 4, v),
    "encoding dim": lambda v: nwcore.PositionalEncoding(v),
    "encoding max_len": lambda v: nwcore.PositionalEncoding(4, max_len=v),
    "encoding dropout": lambda v: nwcore.PositionalEncoding(4, dropout=v),
    "encoding input": lambda v: nwcore.PositionalEncoding(4)(v),
    "mha embed_dim": lambda v: nwcore.MultiHeadAttention(v, 2),
    "mha num_heads": lambda v: nwcore.MultiHeadAttention(8, v),
    "mha dropout": lambda v: nwcore.MultiHeadAttention(8, 2, dropout=v),
    "parametric heads": lambda v: nwcore.ParametricNW(heads=v),
    "parametric kernel": lambda v: nwcore.ParametricNW(kernel=v),
}


@pytest.mark.parametrize("arg", list(MAKERS))
@_SETTINGS
@given(value=junk)
def test_constructors_with_any_argument_give_nwerror_or_their_object(arg, value):
    out = _accepts(lambda: MAKERS[arg](value))
    if isinstance(out, torch.Tensor):
        _no_nan(out)


_Q = torch.randn(2, 3, 8, generator=torch.Generator().manual_seed(0))
_MHA = nwcore.MultiHeadAttention(8, 2)
ATTENTION = {
    "mha query": lambda v: _MHA(v, _Q, _Q),
    "mha key": lambda v: _MHA(_Q, v, _Q),
    "mha value": lambda v: _MHA(_Q, _Q, v),
    "mha valid_lens": lambda v: _MHA(_Q, _Q, _Q, valid_lens=v),
    "mha key_padding_mask": lambda v: _MHA(_Q, _Q, _Q, key_padding_mask=v),
    "mha attn_mask": lambda v: _MHA(_Q, _Q, _Q, attn_mask=v),
    "masked_softmax scores": lambda v: nwcore.masked_softmax(v),
    "masked_softmax valid_lens": lambda v: nwcore.masked_softmax(_Q, v),
    "dot_scores q": lambda v: nwcore.dot_scores(v, _Q),
    "scaled_dot_scores k": lambda v: nwcore.scaled_dot_scores(_Q, v),
    "attend weights": lambda v: nwcore.attend(v, _Q),
    "attend values": lambda v: nwcore.attend(torch.full((2, 3, 3), 1 / 3), v),
    "attend mode": lambda v: nwcore.attend(torch.full((2, 3, 3), 1 / 3), _Q, v),
    "valid_lens_to_mask": lambda v: nwcore.valid_lens_to_mask(v, 3),
}


@pytest.mark.parametrize("arg", list(ATTENTION))
@_SETTINGS
@given(value=junk)
def test_attention_with_any_argument_gives_nwerror_or_its_result(arg, value):
    out = _accepts(lambda: ATTENTION[arg](value))
    if isinstance(out, tuple):
        _no_nan(*out)
    elif out is not None:
        _no_nan(out)


@pytest.mark.parametrize(
    "call",
    [
        lambda: nwcore.loo_mse(X, Y, w="a"),
        lambda: nwcore.loo_mse(X, Y, kernel=["gaussian"]),
        lambda: nwcore.loo_bandwidth(X, Y, kernel=["gaussian"]),
    ],
)
def test_bandwidth_functions_with_wrong_types_give_nwerror(call):
    with pytest.raises(NWError):
        call()


def test_numpy_float_arguments_are_accepted_like_python_floats():
    a = nwcore.nadaraya_watson(X[:3], X, Y, "gaussian", np.float32(2.0)).y_hat
    b = nwcore.nadaraya_watson(X[:3], X, Y, "gaussian", 2.0).y_hat
    torch.testing.assert_close(a, b)

"""Tests for nwcore.attention, each against an independent reference.

References: explicit Python loops over the formulas (math.exp / math.tanh), torch's own
nn.MultiheadAttention and F.scaled_dot_product_attention, and sampling frequencies.
"""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.testing import assert_close

from nwcore.attention import (
    AdditiveAttention,
    BilinearAttention,
    DotProductAttention,
    MultiHeadAttention,
    additive_scores,
    attend,
    bilinear_scores,
    dot_scores,
    masked_softmax,
    scaled_dot_scores,
    self_attention,
    valid_lens_to_mask,
)
from nwcore.errors import NWError

# ---------------------------------------------------------------------------
# Loop references
# ---------------------------------------------------------------------------


def loop_masked_softmax(scores: torch.Tensor, valid_lens: torch.Tensor) -> torch.Tensor:
    """Softmax over the first valid_len keys of each (b, q) row, in plain Python floats."""
    B, Q, K = scores.shape
    out = torch.zeros(B, Q, K, dtype=torch.float64)
    for b in range(B):
        for i in range(Q):
            n = int(valid_lens[b] if valid_lens.dim() == 1 else valid_lens[b, i])
            row = [float(scores[b, i, j]) for j in range(n)]
            if not row:
                continue  # documented policy: no allowed key -> all-zero weights
            top = max(row)
            exps = [math.exp(s - top) for s in row]
            total = sum(exps)
            for j in range(n):
                out[b, i, j] = exps[j] / total
    return out


def loop_pool(weights: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """out[b, i, d] = sum_j weights[b, i, j] * values[b, j, d], in plain Python floats."""
    B, Q, K = weights.shape
    Dv = values.shape[-1]
    out = torch.zeros(B, Q, Dv, dtype=torch.float64)
    for b in range(B):
        for i in range(Q):
            for d in range(Dv):
                out[b, i, d] = sum(
                    float(weights[b, i, j]) * float(values[b, j, d]) for j in range(K)
                )
    return out


def loop_additive(q, k, W_q, W_k, w_v) -> torch.Tensor:
    """s[b, i, j] = sum_h w_v[h] * tanh(sum_d W_q[h, d] q[b, i, d] + sum_d W_k[h, d] k[b, j, d])."""
    B, Q, Dq = q.shape
    K, Dk = k.shape[1], k.shape[2]
    hidden = w_v.shape[0]
    out = torch.zeros(B, Q, K, dtype=torch.float64)
    for b in range(B):
        for i in range(Q):
            for j in range(K):
                total = 0.0
                for h in range(hidden):
                    pre = sum(float(W_q[h, d]) * float(q[b, i, d]) for d in range(Dq))
                    pre += sum(float(W_k[h, d]) * float(k[b, j, d]) for d in range(Dk))
                    total += float(w_v[h]) * math.tanh(pre)
                out[b, i, j] = total
    return out


def loop_bilinear(q, k, W) -> torch.Tensor:
    """s[b, i, j] = sum_{d, e} q[b, i, d] W[d, e] k[b, j, e]."""
    B, Q, Dq = q.shape
    K, Dk = k.shape[1], k.shape[2]
    out = torch.zeros(B, Q, K, dtype=torch.float64)
    for b in range(B):
        for i in range(Q):
            for j in range(K):
                out[b, i, j] = sum(
                    float(q[b, i, d]) * float(W[d, e]) * float(k[b, j, e])
                    for d in range(Dq)
                    for e in range(Dk)
                )
    return out


def padding_mask_from_lens(valid_lens: torch.Tensor, num_keys: int) -> torch.Tensor:
    """torch convention (True = ignore key), built by hand, shape (B, K)."""
    mask = torch.zeros(len(valid_lens), num_keys, dtype=torch.bool)
    for b, n in enumerate(valid_lens.tolist()):
        mask[b, n:] = True
    return mask


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape, dtype=torch.float64, seed=0):
    return torch.randn(*shape, generator=gen(seed), dtype=dtype)


# ---------------------------------------------------------------------------
# masked_softmax
# ---------------------------------------------------------------------------


def test_masked_softmax_matches_python_loop_for_per_row_valid_lens():
    scores = randn(3, 4, 5)
    valid_lens = torch.tensor([2, 5, 1])
    assert_close(masked_softmax(scores, valid_lens), loop_masked_softmax(scores, valid_lens))


def test_masked_softmax_matches_python_loop_for_per_query_valid_lens():
    scores = randn(2, 3, 4)
    valid_lens = torch.tensor([[1, 2, 4], [3, 0, 2]])
    assert_close(masked_softmax(scores, valid_lens), loop_masked_softmax(scores, valid_lens))


def test_masked_softmax_without_valid_lens_is_plain_softmax_loop():
    scores = randn(2, 3, 4)
    full = torch.full((2,), 4)
    assert_close(masked_softmax(scores), loop_masked_softmax(scores, full))


def test_masked_softmax_rows_are_nonnegative_and_sum_to_one_where_valid():
    scores = randn(4, 3, 6) * 10
    valid_lens = torch.tensor([[1, 6, 3], [0, 2, 5], [6, 6, 6], [4, 0, 1]])
    weights = masked_softmax(scores, valid_lens)
    assert (weights >= 0).all()
    sums = weights.sum(-1)
    assert_close(sums[valid_lens > 0], torch.ones_like(sums[valid_lens > 0]))
    assert_close(sums[valid_lens == 0], torch.zeros_like(sums[valid_lens == 0]))


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_masked_softmax_valid_len_zero_gives_zero_weights_and_finite_gradients():
    scores = randn(2, 3, 4).requires_grad_()
    valid_lens = torch.tensor([0, 2])
    # detect_anomaly fails on a NaN inside any backward step, even one masked out later.
    with torch.autograd.detect_anomaly():
        weights = masked_softmax(scores, valid_lens)
        (weights * randn(2, 3, 4, seed=1)).sum().backward()
    assert torch.equal(weights[0], torch.zeros(3, 4, dtype=torch.float64))
    assert torch.isfinite(scores.grad).all()
    assert torch.equal(scores.grad[0], torch.zeros(3, 4, dtype=torch.float64))
    assert torch.equal(scores.grad[1, :, 2:], torch.zeros(3, 2, dtype=torch.float64))


def test_masked_softmax_broadcasts_valid_lens_over_heads():
    scores = randn(2, 3, 4, 5)  # (B, H, Q, K)
    valid_lens = torch.tensor([[1, 5, 0, 3], [2, 2, 4, 5]])  # (B, Q)
    weights = masked_softmax(scores, valid_lens)
    for h in range(3):
        assert_close(weights[:, h], loop_masked_softmax(scores[:, h], valid_lens))


def test_masked_softmax_does_not_modify_its_input():
    scores = randn(2, 3, 4)
    before = scores.clone()
    masked_softmax(scores, torch.tensor([1, 0]))
    assert torch.equal(scores, before)


def test_valid_lens_to_mask_marks_keys_below_the_length():
    expected = torch.tensor([[True, True, False], [False, False, False]])
    assert torch.equal(valid_lens_to_mask(torch.tensor([2, 0]), 3), expected)
    per_query = valid_lens_to_mask(torch.tensor([[1, 3]]), 3)
    assert torch.equal(per_query, torch.tensor([[[True, False, False], [True, True, True]]]))


# ---------------------------------------------------------------------------
# Scoring functions
# ---------------------------------------------------------------------------


def test_additive_scores_match_python_loop_over_formula():
    q, k = randn(2, 3, 4, seed=1), randn(2, 5, 6, seed=2)
    W_q, W_k, w_v = randn(7, 4, seed=3), randn(7, 6, seed=4), randn(7, seed=5)
    assert_close(additive_scores(q, k, W_q, W_k, w_v), loop_additive(q, k, W_q, W_k, w_v))


def test_bilinear_scores_match_python_loop_over_formula():
    q, k, W = randn(2, 3, 4, seed=1), randn(2, 5, 6, seed=2), randn(4, 6, seed=3)
    assert_close(bilinear_scores(q, k, W), loop_bilinear(q, k, W))


def test_dot_scores_equal_bilinear_scores_with_identity():
    q, k = randn(2, 3, 4, seed=1), randn(2, 5, 4, seed=2)
    assert_close(dot_scores(q, k), loop_bilinear(q, k, torch.eye(4, dtype=torch.float64)))


def test_scaled_dot_scores_divide_by_sqrt_of_feature_size():
    q, k = randn(2, 3, 9, seed=1), randn(2, 5, 9, seed=2)
    expected = loop_bilinear(q, k, torch.eye(9, dtype=torch.float64)) / 3.0
    assert_close(scaled_dot_scores(q, k), expected)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_scaled_dot_masked_softmax_pooling_equals_torch_sdpa(dtype):
    q, k, v = (
        randn(2, 3, 8, dtype=dtype),
        randn(2, 5, 8, dtype=dtype, seed=1),
        randn(2, 5, 6, dtype=dtype, seed=2),
    )
    out = masked_softmax(scaled_dot_scores(q, k)) @ v
    assert_close(out, F.scaled_dot_product_attention(q, k, v))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_scaled_dot_masked_softmax_pooling_equals_torch_sdpa_with_bool_attn_mask(dtype):
    q, k, v = (
        randn(2, 3, 8, dtype=dtype),
        randn(2, 5, 8, dtype=dtype, seed=1),
        randn(2, 5, 6, dtype=dtype, seed=2),
    )
    valid_lens = torch.tensor([[1, 4, 5], [2, 3, 3]])  # (B, Q)
    # SDPA's bool convention is the opposite of nn.MultiheadAttention: True = may attend.
    sdpa_mask = torch.zeros(2, 3, 5, dtype=torch.bool)
    for b in range(2):
        for i in range(3):
            sdpa_mask[b, i, : valid_lens[b, i]] = True
    out = masked_softmax(scaled_dot_scores(q, k), valid_lens) @ v
    assert_close(out, F.scaled_dot_product_attention(q, k, v, attn_mask=sdpa_mask))


# ---------------------------------------------------------------------------
# Scorer modules
# ---------------------------------------------------------------------------


def test_additive_attention_module_matches_loop_scores_softmax_and_pooling():
    torch.manual_seed(0)
    layer = AdditiveAttention(query_size=3, key_size=4, num_hiddens=5).double()
    q, k, v = randn(2, 2, 3), randn(2, 4, 4, seed=1), randn(2, 4, 3, seed=2)
    valid_lens = torch.tensor([3, 1])
    out, weights = layer(q, k, v, valid_lens)
    params = [p.detach() for p in (layer.W_q.weight, layer.W_k.weight, layer.w_v.weight[0])]
    scores = loop_additive(q, k, *params)
    expected_w = loop_masked_softmax(scores, valid_lens)
    assert_close(weights, expected_w)
    assert_close(out, loop_pool(expected_w, v))


def test_bilinear_attention_module_matches_loop_scores_softmax_and_pooling():
    torch.manual_seed(0)
    layer = BilinearAttention(query_size=3, key_size=4).double()
    q, k, v = randn(2, 2, 3), randn(2, 4, 4, seed=1), randn(2, 4, 3, seed=2)
    valid_lens = torch.tensor([[4, 2], [1, 0]])
    out, weights = layer(q, k, v, valid_lens)
    expected_w = loop_masked_softmax(loop_bilinear(q, k, layer.W.detach()), valid_lens)
    assert_close(weights, expected_w)
    assert_close(out, loop_pool(expected_w, v))
    assert torch.equal(out[1, 1], torch.zeros(3, dtype=torch.float64))  # valid_len 0


@pytest.mark.parametrize("scaled", [True, False])
def test_dot_product_attention_module_equals_torch_sdpa(scaled):
    q, k, v = randn(2, 3, 4), randn(2, 5, 4, seed=1), randn(2, 5, 6, seed=2)
    out, weights = DotProductAttention(scaled=scaled)(q, k, v)
    scale = None if scaled else 1.0
    assert_close(out, F.scaled_dot_product_attention(q, k, v, scale=scale))
    assert weights.shape == (2, 3, 5)


# ---------------------------------------------------------------------------
# Soft vs hard attention
# ---------------------------------------------------------------------------


def test_attend_argmax_picks_the_value_of_the_heaviest_key():
    weights = torch.tensor(
        [[[0.1, 0.7, 0.2], [0.5, 0.2, 0.3]], [[0.0, 0.0, 1.0], [0.0, 0.0, 0.0]]]
    )  # last row fully masked
    values = torch.tensor(
        [[[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]], [[4.0, 40.0], [5.0, 50.0], [6.0, 60.0]]]
    )
    expected = torch.tensor([[[2.0, 20.0], [1.0, 10.0]], [[6.0, 60.0], [0.0, 0.0]]])
    assert torch.equal(attend(weights, values, "argmax"), expected)


def test_attend_soft_is_weighted_average_loop():
    weights = masked_softmax(randn(2, 3, 4), torch.tensor([4, 2]))
    values = randn(2, 4, 5, seed=1)
    assert_close(attend(weights, values, "soft"), loop_pool(weights, values))


def test_attend_sample_frequencies_match_weights():
    probs = torch.tensor([0.1, 0.2, 0.3, 0.4, 0.0])
    draws = 20_000
    weights = probs.expand(1, draws, 5)  # (B=1, Q=draws, K=5)
    values = torch.eye(5).unsqueeze(0)  # value of key j is the one-hot e_j
    picked = attend(weights, values, "sample", generator=gen(1234))  # (1, draws, 5)
    freqs = picked.sum(dim=(0, 1)) / draws
    assert_close(freqs, probs, atol=0.02, rtol=0.0)
    assert freqs[-1] == 0.0  # a zero-weight key is never drawn


def test_attend_sample_is_reproducible_with_a_seeded_generator():
    weights = masked_softmax(randn(2, 50, 6))
    values = randn(2, 6, 3, seed=1)
    a = attend(weights, values, "sample", generator=gen(7))
    b = attend(weights, values, "sample", generator=gen(7))
    assert torch.equal(a, b)


@pytest.mark.parametrize("mode", ["soft", "argmax", "sample"])
def test_attend_fully_masked_row_gives_zeros_in_every_mode(mode):
    weights = masked_softmax(randn(2, 2, 3), torch.tensor([[0, 3], [0, 0]]))
    values = randn(2, 3, 4, seed=1) + 5.0
    out = attend(weights, values, mode, generator=gen(0))
    zeros = torch.zeros(4, dtype=torch.float64)
    for b, i in [(0, 0), (1, 0), (1, 1)]:
        assert torch.equal(out[b, i], zeros)
    assert not torch.equal(out[0, 1], zeros)


# ---------------------------------------------------------------------------
# MultiHeadAttention against torch.nn.MultiheadAttention
# ---------------------------------------------------------------------------

DTYPES = [torch.float64, torch.float32]


def make_pair(embed_dim=8, num_heads=2, kdim=None, vdim=None, bias=True, dtype=torch.float64):
    """A torch MHA with random weights and our MHA loaded from it."""
    torch.manual_seed(0)
    theirs = nn.MultiheadAttention(
        embed_dim, num_heads, bias=bias, kdim=kdim, vdim=vdim, batch_first=True
    ).to(dtype)
    with torch.no_grad():
        for p in theirs.parameters():  # torch zero-inits the biases; make them matter
            p.copy_(torch.randn_like(p) * 0.5)
    ours = (
        MultiHeadAttention(embed_dim, num_heads, bias=bias, kdim=kdim, vdim=vdim)
        .to(dtype)
        .load_torch_weights(theirs)
    )
    return ours, theirs


def qkv(B=3, Q=4, K=5, E=8, Ek=8, Ev=8, dtype=torch.float64):
    return (
        randn(B, Q, E, dtype=dtype, seed=10),
        randn(B, K, Ek, dtype=dtype, seed=11),
        randn(B, K, Ev, dtype=dtype, seed=12),
    )


def torch_mha(theirs, q, k, v, **masks):
    return theirs(q, k, v, need_weights=True, average_attn_weights=False, **masks)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mha_equals_torch_multihead_attention_without_masks(dtype):
    ours, theirs = make_pair(dtype=dtype)
    q, k, v = qkv(dtype=dtype)
    out, weights = ours(q, k, v)
    ref_out, ref_weights = torch_mha(theirs, q, k, v)
    assert_close(out, ref_out)
    assert_close(weights, ref_weights)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mha_equals_torch_multihead_attention_with_key_padding_mask(dtype):
    ours, theirs = make_pair(dtype=dtype)
    q, k, v = qkv(dtype=dtype)
    kpm = padding_mask_from_lens(torch.tensor([5, 2, 3]), 5)
    out, weights = ours(q, k, v, key_padding_mask=kpm)
    ref_out, ref_weights = torch_mha(theirs, q, k, v, key_padding_mask=kpm)
    assert_close(out, ref_out)
    assert_close(weights, ref_weights)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mha_equals_torch_multihead_attention_with_causal_bool_attn_mask(dtype):
    ours, theirs = make_pair(dtype=dtype)
    x = randn(3, 5, 8, dtype=dtype)
    causal = torch.ones(5, 5, dtype=torch.bool).triu(diagonal=1)  # True = future, blocked
    out, weights = self_attention(ours, x, attn_mask=causal)
    ref_out, ref_weights = torch_mha(theirs, x, x, x, attn_mask=causal)
    assert_close(out, ref_out)
    assert_close(weights, ref_weights)
    assert (weights.masked_select(causal) == 0).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_mha_equals_torch_multihead_attention_with_per_batch_attn_mask(dtype):
    ours, theirs = make_pair(dtype=dtype)
    q, k, v = qkv(dtype=dtype)
    blocked = torch.rand(3, 4, 5, generator=gen(3)) < 0.4
    blocked[..., 0] = False  # keep one key per query so torch gives no NaN
    out, weights = ours(q, k, v, attn_mask=blocked)
    # torch wants a 3-D mask as (B * H, Q, K), batch-major.
    ref_out, ref_weights = torch_mha(theirs, q, k, v, attn_mask=blocked.repeat_interleave(2, dim=0))
    assert_close(out, ref_out)
    assert_close(weights, ref_weights)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mha_valid_lens_equal_torch_multihead_attention_with_key_padding_mask(dtype):
    ours, theirs = make_pair(dtype=dtype)
    q, k, v = qkv(dtype=dtype)
    valid_lens = torch.tensor([1, 5, 3])
    out, weights = ours(q, k, v, valid_lens=valid_lens)
    kpm = padding_mask_from_lens(valid_lens, 5)
    ref_out, ref_weights = torch_mha(theirs, q, k, v, key_padding_mask=kpm)
    assert_close(out, ref_out)
    assert_close(weights, ref_weights)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
def test_mha_equals_torch_multihead_attention_with_different_kdim_vdim(dtype, bias):
    ours, theirs = make_pair(embed_dim=12, num_heads=3, kdim=5, vdim=7, bias=bias, dtype=dtype)
    assert theirs.in_proj_weight is None  # torch stores separate q/k/v_proj_weight here
    q, k, v = qkv(E=12, Ek=5, Ev=7, dtype=dtype)
    kpm = padding_mask_from_lens(torch.tensor([4, 5, 2]), 5)
    out, weights = ours(q, k, v, key_padding_mask=kpm)
    ref_out, ref_weights = torch_mha(theirs, q, k, v, key_padding_mask=kpm)
    assert_close(out, ref_out)
    assert_close(weights, ref_weights)


@pytest.mark.parametrize("dtype", DTYPES)
def test_mha_sdpa_fast_path_equals_readable_path_with_all_masks(dtype):
    ours, _ = make_pair(dtype=dtype)
    q, k, v = qkv(dtype=dtype)
    masks = dict(
        valid_lens=torch.tensor([[5, 4, 1, 0], [2, 2, 5, 3], [1, 1, 1, 1]]),
        key_padding_mask=padding_mask_from_lens(torch.tensor([5, 4, 3]), 5),
        attn_mask=torch.ones(4, 5, dtype=torch.bool).triu(diagonal=2),
    )
    for chosen in [{}, *({name: m} for name, m in masks.items()), masks]:
        slow, weights = ours(q, k, v, need_weights=True, **chosen)
        fast, none = ours(q, k, v, need_weights=False, **chosen)
        assert none is None and weights is not None
        assert_close(fast, slow)


@pytest.mark.filterwarnings("ignore:Anomaly Detection has been enabled")
def test_mha_fully_masked_query_outputs_out_proj_bias_with_finite_gradients():
    ours, _ = make_pair()
    q, k, v = (t.requires_grad_() for t in qkv())
    valid_lens = torch.tensor([[0, 5, 2, 1], [3, 3, 3, 3], [0, 0, 0, 0]])
    for need_weights in (True, False):
        with torch.autograd.detect_anomaly():  # fails on NaN in any backward step
            out, _ = ours(q, k, v, valid_lens=valid_lens, need_weights=need_weights)
            grads = torch.autograd.grad(out.sum(), (q, k, v))
        assert_close(out[0, 0], ours.out_proj.bias)
        assert_close(out[2], ours.out_proj.bias.expand(4, 8))
        assert all(torch.isfinite(g).all() for g in grads)


def test_load_torch_weights_copies_packed_in_projection_rows():
    ours, theirs = make_pair(embed_dim=6, num_heads=3)
    w_q, w_k, w_v = theirs.in_proj_weight.detach().split(6)
    assert torch.equal(ours.q_proj.weight, w_q)
    assert torch.equal(ours.k_proj.weight, w_k)
    assert torch.equal(ours.v_proj.weight, w_v)
    assert torch.equal(ours.out_proj.bias, theirs.out_proj.bias)


# ---------------------------------------------------------------------------
# Bad inputs: NWError with a message that says how to fix it
# ---------------------------------------------------------------------------


def test_mha_embed_dim_not_divisible_by_heads_raises_with_fix():
    with pytest.raises(NWError, match=r"not divisible by num_heads=3.*choose num_heads"):
        MultiHeadAttention(8, 3)


def test_dot_product_attention_with_unequal_query_key_sizes_raises_with_fix():
    with pytest.raises(NWError, match=r"Dq == Dk.*AdditiveAttention"):
        DotProductAttention()(randn(1, 2, 3), randn(1, 4, 5), randn(1, 4, 6))


@pytest.mark.parametrize(
    ("valid_lens", "pattern"),
    [
        (torch.tensor([1, 6]), r"\[0, 5\].*clamp"),
        (torch.tensor([-1, 2]), r"\[0, 5\].*clamp"),
        (torch.tensor([1.0, 2.0]), r"integers.*valid_lens\.long\(\)"),
        (torch.tensor([1, 2, 3]), r"batch size.*one valid length per batch row"),
        (torch.tensor([[1, 2]]), r"batch size"),
        (torch.tensor([[1], [2]]), r"number of queries.*\(B, Q\)"),
        (torch.ones(2, 3, 1, dtype=torch.long), r"\(B,\) or \(B, Q\)"),
    ],
)
def test_masked_softmax_bad_valid_lens_raise_with_fix(valid_lens, pattern):
    with pytest.raises(NWError, match=pattern):
        masked_softmax(randn(2, 3, 5), valid_lens)


def test_masked_softmax_non_finite_scores_raise_with_fix():
    scores = randn(2, 3, 4)
    scores[0, 0, 0] = float("nan")
    with pytest.raises(NWError, match=r"NaN or inf.*valid_lens"):
        masked_softmax(scores)


def test_attend_unknown_mode_raises_listing_modes():
    with pytest.raises(NWError, match=r"unknown attend mode 'hard'.*soft, argmax, sample"):
        attend(torch.ones(1, 1, 2) / 2, randn(1, 2, 3), "hard")


def test_attend_negative_weights_raise_for_hard_modes():
    with pytest.raises(NWError, match="non-negative"):
        attend(torch.tensor([[[-0.5, 1.5]]]), randn(1, 2, 3), "sample")


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: dot_scores(randn(2, 3), randn(1, 2, 3)), r"same rank.*unsqueeze"),
        (lambda: dot_scores(randn(2, 3, 4), randn(2, 5, 6)), r"Dq == Dk"),
        (
            lambda: bilinear_scores(randn(1, 2, 3), randn(1, 4, 5), randn(5, 3)),
            r"W must have shape \(Dq, Dk\)",
        ),
        (
            lambda: additive_scores(
                randn(1, 2, 3), randn(1, 4, 5), randn(6, 3), randn(7, 5), randn(6)
            ),
            r"same hidden size",
        ),
        (
            lambda: AdditiveAttention(3, 5, 4)(randn(2, 3), randn(1, 4, 5), randn(1, 4, 2)),
            r"\(B, Q, Dq\).*unsqueeze\(0\)",
        ),
        (
            lambda: AdditiveAttention(3, 5, 4)(randn(1, 2, 3), randn(1, 4, 5), randn(1, 3, 2)),
            r"same K",
        ),
    ],
)
def test_scoring_bad_shapes_raise_with_fix(call, pattern):
    with pytest.raises(NWError, match=pattern):
        call()


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        (dict(key_padding_mask=torch.zeros(3, 5)), r"bool.*== float\('-inf'\)"),
        (dict(key_padding_mask=torch.zeros(3, 4, dtype=torch.bool)), r"shape \(B, K\)"),
        (dict(attn_mask=torch.zeros(5, 4, dtype=torch.bool)), r"\(Q, K\) or \(B, Q, K\)"),
        (dict(valid_lens=torch.tensor([1, 2])), r"one valid length per batch row"),
    ],
)
def test_mha_bad_masks_raise_with_fix(kwargs, pattern):
    ours, _ = make_pair()
    with pytest.raises(NWError, match=pattern):
        ours(*qkv(), **kwargs)


def test_mha_wrong_key_size_raises_suggesting_kdim():
    ours, _ = make_pair()
    q, _, v = qkv()
    with pytest.raises(NWError, match=r"kdim=key\.shape\[-1\]"):
        ours(q, randn(3, 5, 6), v)


def test_load_torch_weights_with_other_sizes_raises_with_fix():
    with pytest.raises(NWError, match="same sizes"):
        MultiHeadAttention(8, 2).load_torch_weights(nn.MultiheadAttention(8, 4))


def test_nwerror_is_a_value_error():
    with pytest.raises(ValueError):
        MultiHeadAttention(8, 3)


@pytest.mark.parametrize(
    ("dtypes", "pattern"),
    [
        ((torch.float32, torch.float64, torch.float32), r"share one dtype.*keys torch.float64"),
        ((torch.float32, torch.float32, torch.float16), r"share one dtype.*values torch.float16"),
        ((torch.float64,) * 3, r"parameters are torch.float32.*module.to\(torch.float64\)"),
        ((torch.int64,) * 3, r"floating tensor.*\.float\(\)"),
    ],
)
def test_mha_inputs_of_other_dtypes_raise_with_fix(dtypes, pattern):
    ours, _ = make_pair(dtype=torch.float32)
    q, k, v = (t.to(d) for t, d in zip(qkv(), dtypes, strict=True))
    with pytest.raises(NWError, match=pattern):
        ours(q, k, v)


@pytest.mark.parametrize(
    ("call", "pattern"),
    [
        (lambda: MultiHeadAttention("8", 2), r"embed_dim must be a whole number >= 1, got '8'"),
        (lambda: MultiHeadAttention(8, 2.0), r"num_heads must be a whole number >= 1, got 2.0"),
        (lambda: MultiHeadAttention(8, 2, dropout="0.1"), r"dropout must be a finite number"),
        (lambda: AdditiveAttention(3, 5, None), r"num_hiddens must be a whole number"),
        (lambda: BilinearAttention(3, 0), r"key_size must be a whole number >= 1"),
        (
            lambda: dot_scores(randn(1, 2, 3), randn(1, 2, 3).float()),
            r"share one dtype.*\.double\(\)",
        ),
        (
            lambda: attend(torch.ones(1, 1, 2) / 2, randn(1, 2, 3)),
            r"share one dtype",
        ),
        (lambda: masked_softmax(torch.ones(1, 2, 3, dtype=torch.long)), r"floating tensor"),
    ],
)
def test_attention_bad_arguments_raise_with_fix(call, pattern):
    with pytest.raises(NWError, match=pattern):
        call()

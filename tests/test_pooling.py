"""Pooling against explicit loops over the formulas, and the edge cases of the kernels."""

import math

import pytest
import torch

import nwcore
from nwcore import NWError

KERNEL_FORMULAS = {
    "gaussian": lambda u: math.exp(-u * u / 2),
    "boxcar": lambda u: 1.0 if abs(u) <= 1 else 0.0,
    "constant": lambda u: 1.0,
    "epanechnikov": lambda u: 0.75 * (1 - u * u) if abs(u) < 1 else 0.0,
    "triangular": lambda u: 1 - abs(u) if abs(u) < 1 else 0.0,
}


def loop_nw(queries, keys, values, kernel, w):
    """f(x) = sum_i K(u_i) y_i / sum_j K(u_j), u = |x - x_i| w, as a plain double loop."""
    k_fn = KERNEL_FORMULAS[kernel]
    out = []
    for q in queries:
        ks = []
        for k in keys:
            if isinstance(q, list):
                dist = math.sqrt(sum((a - b) ** 2 for a, b in zip(q, k, strict=True)))
            else:
                dist = abs(q - k)
            ks.append(k_fn(dist * w))
        total = sum(ks)
        out.append(sum(kv * v for kv, v in zip(ks, values, strict=True)) / total)
    return out


@pytest.fixture
def data():
    d = nwcore.make_dataset("classic", seed=3)
    return d.x_train, d.y_train, torch.linspace(0.2, 4.8, 17, dtype=torch.float64)


def test_kernel_names_are_the_spec_five():
    assert list(nwcore.KERNELS) == list(KERNEL_FORMULAS)


@pytest.mark.parametrize("kernel", list(KERNEL_FORMULAS))
@pytest.mark.parametrize("w", [0.7, 2.0])
def test_nw_equals_explicit_double_loop_1d(data, kernel, w):
    x, y, q = data
    got = nwcore.nadaraya_watson(q, x, y, kernel, w)
    want = loop_nw(q.tolist(), x.tolist(), y.tolist(), kernel, w)
    assert not got.empty.any(), "these widths leave no window empty on this data"
    torch.testing.assert_close(got.y_hat, torch.tensor(want, dtype=torch.float64))


@pytest.mark.parametrize("fn", ["nadaraya_watson", "nadaraya_watson_fast"])
@pytest.mark.parametrize("shapes", [("column", "flat"), ("flat", "column")])
def test_one_feature_as_a_column_and_as_a_flat_list_is_the_same_data(fn, shapes):
    """(Q, 1) queries against (K,) keys (a column from a DataFrame, a list of lists) pool as
    1-D data; plain Python lists give float64 and mix with float32 values."""
    keys, values = [0.0, 1.0, 2.5, 4.0], torch.tensor([1.0, -2.0, 0.5, 3.0])  # float32 values
    queries = [0.3, 1.7, 3.9]
    shaped = {"column": lambda xs: [[v] for v in xs], "flat": lambda xs: xs}
    q, k = shaped[shapes[0]](queries), shaped[shapes[1]](keys)
    got = getattr(nwcore, fn)(q, k, values, "epanechnikov", 0.6).y_hat
    want = loop_nw(queries, keys, values.tolist(), "epanechnikov", 0.6)
    assert got.shape == (3,)
    torch.testing.assert_close(got, torch.tensor(want, dtype=got.dtype))


@pytest.mark.parametrize("kernel", list(KERNEL_FORMULAS))
def test_nw_equals_explicit_double_loop_in_r3(kernel):
    g = torch.Generator().manual_seed(1)
    x = torch.rand(40, 3, generator=g, dtype=torch.float64)
    y = torch.randn(40, generator=g, dtype=torch.float64)
    q = torch.rand(9, 3, generator=g, dtype=torch.float64) * 0.6 + 0.2
    got = nwcore.nadaraya_watson(q, x, y, kernel, w=1.5)
    want = loop_nw(q.tolist(), x.tolist(), y.tolist(), kernel, 1.5)
    torch.testing.assert_close(got.y_hat, torch.tensor(want, dtype=torch.float64))


@pytest.mark.parametrize("w", [1e-6, 0.3, 1.0, 50.0, -2.0, 1e6])
def test_constant_kernel_equals_average_pooling(data, w):
    x, y, q = data
    got = nwcore.nadaraya_watson(q, x, y, "constant", w).y_hat
    mean = sum(y.tolist()) / len(y)
    torch.testing.assert_close(got, torch.full_like(got, mean))
    torch.testing.assert_close(nwcore.average_pooling(q, y).y_hat, torch.full_like(got, mean))


def test_gaussian_with_huge_w_picks_the_nearest_key(data):
    x, y, q = data
    got = nwcore.nadaraya_watson(q, x, y, "gaussian", 1e6)
    for i, qi in enumerate(q.tolist()):
        nearest = min(range(len(x)), key=lambda j: abs(qi - float(x[j])))
        assert float(got.y_hat[i]) == pytest.approx(float(y[nearest]), abs=1e-12)
        assert float(got.weights[i, nearest]) == pytest.approx(1.0)


@pytest.mark.parametrize("kernel", list(KERNEL_FORMULAS))
@pytest.mark.parametrize("w", [0.0, 1e-6, 1e-9, 0.5, -3.0, 1e6, 1e9, 1e30])
def test_attention_rows_are_distributions_and_output_finite(data, kernel, w):
    x, y, q = data
    res = nwcore.nadaraya_watson(q, x, y, kernel, w)
    assert torch.isfinite(res.y_hat).all()
    assert (res.weights >= 0).all()
    torch.testing.assert_close(res.weights.sum(-1), torch.ones(len(q), dtype=torch.float64))
    # a convex combination of the values never leaves their range
    assert (res.y_hat >= y.min() - 1e-12).all() and (res.y_hat <= y.max() + 1e-12).all()


def test_negative_w_is_the_same_as_positive(data):
    x, y, q = data
    for kernel in KERNEL_FORMULAS:
        a = nwcore.nadaraya_watson(q, x, y, kernel, -1.3).y_hat
        b = nwcore.nadaraya_watson(q, x, y, kernel, 1.3).y_hat
        torch.testing.assert_close(a, b)


def test_w_zero_is_average_pooling_for_every_kernel(data):
    x, y, q = data
    for kernel in KERNEL_FORMULAS:
        got = nwcore.nadaraya_watson(q, x, y, kernel, 0.0).y_hat
        torch.testing.assert_close(got, torch.full_like(got, float(y.mean())))


@pytest.mark.parametrize("kernel", sorted(nwcore.COMPACT_KERNELS))
def test_compact_empty_window_is_defined_and_flagged(kernel):
    x = torch.tensor([0.0, 1.0, 2.0, 10.0], dtype=torch.float64)
    y = torch.tensor([1.0, 2.0, 3.0, 7.0], dtype=torch.float64)
    q = torch.tensor([0.5, 6.2, 30.0], dtype=torch.float64)
    res = nwcore.nadaraya_watson(q, x, y, kernel, w=1.0)  # window half-width 1
    assert res.empty.tolist() == [False, True, True]
    # empty windows take the nearest key: 6.2 is nearest to 10 (y=7), 30 to 10 as well
    assert res.y_hat[1:].tolist() == [7.0, 7.0]
    assert torch.isfinite(res.y_hat).all()


def test_empty_window_tie_shares_between_nearest_keys():
    x = torch.tensor([0.0, 4.0], dtype=torch.float64)
    y = torch.tensor([1.0, 3.0], dtype=torch.float64)
    res = nwcore.nadaraya_watson(torch.tensor([2.0]), x, y, "boxcar", 1.0)
    assert res.empty.item() and res.y_hat.item() == 2.0
    assert res.weights[0].tolist() == [0.5, 0.5]


@pytest.mark.parametrize("kernel", list(KERNEL_FORMULAS))
def test_gradient_wrt_w_is_finite_also_at_window_edges(kernel):
    x = torch.tensor([0.0, 1.0, 2.0, 3.0], dtype=torch.float64)
    y = torch.tensor([0.0, 1.0, 0.0, 1.0], dtype=torch.float64)
    model = nwcore.ParametricNW(1, kernel, w_init=torch.tensor([0.8], dtype=torch.float64))
    # 1.25 sits exactly on the window edge of key 0 (|u| = 1); 9.0 has an empty window
    q = torch.tensor([0.0, 0.3, 1.25, 9.0], dtype=torch.float64)
    y_hat, _ = model(q, x, y)
    y_hat.sum().backward()
    if kernel in ("boxcar", "constant"):  # flat in w: no gradient path at all
        assert model.w.grad is None
    else:
        assert torch.isfinite(model.w.grad).all() and model.w.grad.abs().sum() > 0


def test_chunked_path_equals_full_path(data, monkeypatch):
    x, y, q = data
    import nwcore.pooling as pooling

    monkeypatch.setattr(pooling, "_CHUNK_ENTRIES", 120)  # force several chunks
    for kernel in KERNEL_FORMULAS:
        full = nwcore.nadaraya_watson(q, x, y, kernel, 3.0)
        chunked = nwcore.nadaraya_watson(q, x, y, kernel, 3.0, need_weights=False)
        assert chunked.weights is None
        torch.testing.assert_close(chunked.y_hat, full.y_hat)
        assert torch.equal(chunked.empty, full.empty)


@pytest.mark.parametrize("w", [0.5, 1.0, 4.0])
def test_gaussian_nw_equals_dot_product_attention(data, w):
    x, y, q = data
    plain = nwcore.nadaraya_watson(q, x, y, "gaussian", w)
    dot = nwcore.gaussian_nw_dot_product(q, x, y, w)
    fused = nwcore.gaussian_nw_dot_product(q, x, y, w, need_weights=False)
    want = torch.tensor(loop_nw(q.tolist(), x.tolist(), y.tolist(), "gaussian", w))
    torch.testing.assert_close(dot.weights, plain.weights)
    torch.testing.assert_close(dot.y_hat, want.to(torch.float64))
    torch.testing.assert_close(fused.y_hat, want.to(torch.float64))


def test_dot_product_identity_in_r2_with_sdpa():
    g = torch.Generator().manual_seed(5)
    x = torch.rand(30, 2, generator=g, dtype=torch.float64)
    y = torch.randn(30, generator=g, dtype=torch.float64)
    q = torch.rand(6, 2, generator=g, dtype=torch.float64)
    qf, kf = nwcore.gaussian_dot_product_features(q, x, 2.0)
    assert qf.shape == (6, 3) and kf.shape == (30, 3)
    sdpa = torch.nn.functional.scaled_dot_product_attention(
        qf[None], kf[None], y[None, :, None], scale=1.0
    )[0, :, 0]
    want = torch.tensor(loop_nw(q.tolist(), x.tolist(), y.tolist(), "gaussian", 2.0))
    torch.testing.assert_close(sdpa, want.to(torch.float64))


def test_leave_one_out_equals_loop_without_self(data):
    x, y, _ = data
    got = nwcore.leave_one_out(x, y, "gaussian", 2.0).y_hat
    xs, ys = x.tolist(), y.tolist()
    for i in range(len(xs)):
        keys = xs[:i] + xs[i + 1 :]
        vals = ys[:i] + ys[i + 1 :]
        assert float(got[i]) == pytest.approx(loop_nw([xs[i]], keys, vals, "gaussian", 2.0)[0])


def test_kernel_values_match_the_formulas():
    u = torch.linspace(-1.5, 1.5, 31, dtype=torch.float64)
    for kernel, fn in KERNEL_FORMULAS.items():
        got = nwcore.kernel_value(u, kernel)
        want = torch.tensor([fn(v) for v in u.tolist()], dtype=torch.float64)
        torch.testing.assert_close(got, want)


# --- bad input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: nwcore.nadaraya_watson([1.0], [1.0, 2.0], [1.0]), "one value per key"),
        (lambda: nwcore.nadaraya_watson([], [1.0], [1.0]), "empty"),
        (lambda: nwcore.nadaraya_watson([1.0], [], []), "empty"),
        (lambda: nwcore.nadaraya_watson([1.0], [1.0, float("nan")], [1, 2]), "NaN"),
        (lambda: nwcore.nadaraya_watson([1.0], [1.0, 2.0], [1, float("inf")]), "NaN/inf"),
        (lambda: nwcore.nadaraya_watson([1.0], [1.0], [1.0], w=float("nan")), "w holds"),
        (lambda: nwcore.nadaraya_watson([1.0], [1.0], [1.0], kernel="cosine"), "choose one of"),
        (lambda: nwcore.nadaraya_watson([[1.0, 2.0]], [1.0], [1.0]), "same number of columns"),
        (lambda: nwcore.nadaraya_watson(["a"], [1.0], [1.0]), "must be"),
        (lambda: nwcore.nadaraya_watson([1.0], [1.0, 2.0], [1.0, 2.0], w=[1.0, 2.0]), "one w"),
        (lambda: nwcore.leave_one_out([1.0], [1.0]), "at least 2"),
        (lambda: nwcore.nadaraya_watson([1.0], [1.0], [1.0], ["gaussian"]), "a name .a str."),
        (lambda: nwcore.leave_one_out([1.0, 2.0], [1.0, 2.0], w="a"), "w must be numbers"),
    ],
)
def test_bad_inputs_raise_nwerror_saying_how_to_fix(call, message):
    with pytest.raises(NWError, match=message):
        call()


def test_nwerror_is_a_value_error():
    assert issubclass(NWError, ValueError)


@pytest.mark.parametrize("call", ["nadaraya_watson", "leave_one_out"])
def test_dense_weights_too_big_for_memory_are_refused_before_allocating(call):
    x = torch.linspace(0, 1, 100_000, dtype=torch.float64)  # (N, N) weights: 80 GB each
    args = (x, x, x.sin()) if call == "nadaraya_watson" else (x, x.sin())
    with pytest.raises(NWError, match=r"GB of memory.*need_weights=False.*nadaraya_watson_fast"):
        getattr(nwcore, call)(*args)


def test_leave_one_out_without_weights_matches_an_explicit_loop(monkeypatch):
    import nwcore.pooling as pooling

    monkeypatch.setattr(pooling, "_CHUNK_ENTRIES", 7 * 300)  # chunks of 7 rows, the last short
    g = torch.Generator().manual_seed(3)
    x = torch.rand(300, generator=g, dtype=torch.float64) * 4
    y = x.cos() + 0.2 * torch.randn(300, generator=g, dtype=torch.float64)
    got = nwcore.leave_one_out(x, y, "gaussian", 3.0, need_weights=False)
    want = []
    for i in range(300):
        others = torch.cat([torch.arange(i), torch.arange(i + 1, 300)])
        k = torch.exp(-0.5 * ((x[i] - x[others]) * 3.0) ** 2)
        want.append(float((k * y[others]).sum() / k.sum()))
    assert got.weights is None
    torch.testing.assert_close(got.y_hat, torch.tensor(want, dtype=torch.float64))


@pytest.mark.parametrize("scale", [1e300, 1e155, 1e-40, 1e-300])
@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("kernel", list(nwcore.KERNELS))
def test_pooling_at_extreme_scales_equals_pooling_at_unit_scale(scale, dim, kernel):
    # u = |x - x_i| w is the same for (x, w) and (x * s, w / s): so must the predictions be
    g = torch.Generator().manual_seed(5)
    x = torch.rand(40, dim, generator=g, dtype=torch.float64) * 5
    x = x[:, 0] if dim == 1 else x
    y = x.reshape(40, -1).sum(1).sin()
    want = nwcore.nadaraya_watson(x[:9], x, y, kernel, 1.7).y_hat
    got = nwcore.nadaraya_watson(x[:9] * scale, x * scale, y, kernel, 1.7 / scale).y_hat
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)
    want = nwcore.leave_one_out(x, y, kernel, 1.7).y_hat
    got = nwcore.leave_one_out(x * scale, y, kernel, 1.7 / scale).y_hat
    torch.testing.assert_close(got, want, rtol=1e-12, atol=1e-12)


def test_pooling_near_1e8_in_float32_matches_a_float64_loop_in_centred_coordinates():
    x = 1e8 + torch.arange(0.0, 64.0, 2.0)  # float32 holds these exactly; x^2 does not
    y = (x - 1e8).cos()
    q = x[3:6] + 1.0
    got = nwcore.nadaraya_watson(q, x, y, "gaussian", 0.5).y_hat
    d = (q.double()[:, None] - x.double()[None, :]) * 0.5  # exact differences
    k = torch.exp(-0.5 * d**2)
    want = (k @ y.double()) / k.sum(1)
    torch.testing.assert_close(got.double(), want, rtol=1e-6, atol=1e-6)

"""The exact fast path (`nadaraya_watson_fast`) against the plain path and explicit loops."""

import math

import pytest
import torch

import nwcore
from nwcore import NWError

KERNELS = ["gaussian", "boxcar", "epanechnikov", "triangular", "constant"]


def _data(n_keys=400, n_queries=300, seed=0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    k = torch.rand(n_keys, generator=g, dtype=torch.float64) * 5
    k[50:60] = k[7]  # runs of equal keys: ties in the nearest-key rule
    v = k.sin() + 0.3 * torch.randn(n_keys, generator=g, dtype=torch.float64)
    q = torch.rand(n_queries, generator=g, dtype=torch.float64) * 7 - 1  # some outside
    q[:5] = k[:5]  # queries exactly on keys
    return q.to(dtype), k.to(dtype), v.to(dtype)


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("w", [0.0, 0.4, 3.0, 40.0, 2000.0])
def test_fast_equals_plain_path_every_kernel_and_width(kernel, w):
    q, k, v = _data()
    ref = nwcore.nadaraya_watson(q, k, v, kernel, w, need_weights=False)
    out = nwcore.nadaraya_watson_fast(q, k, v, kernel, w)
    torch.testing.assert_close(out.y_hat, ref.y_hat, rtol=1e-9, atol=1e-9)
    assert torch.equal(out.empty, ref.empty)
    assert out.weights is None


@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "boxcar"])
def test_fast_float32_stays_within_float32_rounding(kernel):
    q, k, v = _data(dtype=torch.float32)
    for w in [1.0, 25.0, 500.0]:
        ref = nwcore.nadaraya_watson(q.double(), k.double(), v.double(), kernel, w)
        out = nwcore.nadaraya_watson_fast(q, k, v, kernel, w)
        assert out.y_hat.dtype == torch.float32
        torch.testing.assert_close(out.y_hat.double(), ref.y_hat, rtol=0, atol=2e-4)


def test_boxcar_empty_window_takes_the_nearest_keys_value():
    k = torch.tensor([0.0, 1.0, 1.0, 3.0], dtype=torch.float64)
    v = torch.tensor([10.0, 2.0, 4.0, 7.0], dtype=torch.float64)
    q = torch.tensor([1.2, 2.0, 2.6, 9.0], dtype=torch.float64)
    out = nwcore.nadaraya_watson_fast(q, k, v, "boxcar", w=10.0)  # window half-width 0.1
    # 1.2 -> the two keys at 1.0 (mean 3); 2.0 -> tie between 1.0, 1.0 and 3.0 (mean 13/3);
    # 2.6 -> 3.0; 9.0 -> 3.0. Every query is empty.
    expected = torch.tensor([3.0, 13.0 / 3.0, 7.0, 7.0], dtype=torch.float64)
    torch.testing.assert_close(out.y_hat, expected)
    assert out.empty.all()


def test_fast_matches_an_explicit_loop():
    q, k, v = _data(n_keys=60, n_queries=20, seed=3)
    for kernel, w in [("gaussian", 2.0), ("epanechnikov", 3.0), ("triangular", 1.5)]:
        out = nwcore.nadaraya_watson_fast(q, k, v, kernel, w).y_hat
        for i, qi in enumerate(q.tolist()):
            ws = []
            for kj in k.tolist():
                u = abs(qi - kj) * w
                ws.append(
                    {
                        "gaussian": math.exp(-u * u / 2),
                        "epanechnikov": max(0.0, 0.75 * (1 - u * u)),
                        "triangular": max(0.0, 1 - u),
                    }[kernel]
                )
            if sum(ws) == 0:
                continue  # the empty rule is tested above
            want = sum(a * b for a, b in zip(ws, v.tolist(), strict=True)) / sum(ws)
            assert float(out[i]) == pytest.approx(want, rel=1e-10, abs=1e-12)


@pytest.mark.parametrize("method", ["auto", "sdpa", "chunked"])
def test_gaussian_in_r2_equals_plain_path(method):
    g = torch.Generator().manual_seed(1)
    k = torch.rand(300, 2, generator=g, dtype=torch.float64) * 3
    v = k[:, 0].sin() + k[:, 1]
    q = torch.rand(100, 2, generator=g, dtype=torch.float64) * 3
    ref = nwcore.nadaraya_watson(q, k, v, "gaussian", 2.0)
    out = nwcore.nadaraya_watson_fast(q, k, v, "gaussian", 2.0, method=method)
    torch.testing.assert_close(out.y_hat, ref.y_hat, rtol=1e-9, atol=1e-9)


def test_compact_kernel_in_r2_uses_the_plain_rule():
    g = torch.Generator().manual_seed(2)
    k = torch.rand(100, 2, generator=g, dtype=torch.float64)
    v = k.sum(1)
    q = torch.rand(30, 2, generator=g, dtype=torch.float64) * 2
    ref = nwcore.nadaraya_watson(q, k, v, "boxcar", 8.0)
    out = nwcore.nadaraya_watson_fast(q, k, v, "boxcar", 8.0)
    torch.testing.assert_close(out.y_hat, ref.y_hat)
    assert torch.equal(out.empty, ref.empty)


def test_window_method_with_large_blocks_equals_plain():
    # enough queries for several blocks and the fused attention path
    q, k, v = _data(n_keys=5000, n_queries=9000, seed=4)
    for kernel, w in [("gaussian", 1.0), ("gaussian", 60.0), ("epanechnikov", 30.0)]:
        ref = nwcore.nadaraya_watson(q, k, v, kernel, w, need_weights=False)
        out = nwcore.nadaraya_watson_fast(q, k, v, kernel, w, method="window")
        torch.testing.assert_close(out.y_hat, ref.y_hat, rtol=1e-9, atol=1e-9)


def test_fast_refuses_bad_input():
    with pytest.raises(NWError, match="method"):
        nwcore.nadaraya_watson_fast([0.0], [0.0, 1.0], [1.0, 2.0], method="magic")
    with pytest.raises(NWError, match="Gaussian kernel only"):
        nwcore.nadaraya_watson_fast([0.0], [0.0, 1.0], [1.0, 2.0], "boxcar", method="sdpa")
    with pytest.raises(NWError, match="1-D"):
        nwcore.nadaraya_watson_fast([[0.0, 1.0]], [[0.0, 1.0]], [1.0], method="window")
    with pytest.raises(NWError, match="NaN"):
        nwcore.nadaraya_watson_fast([float("nan")], [0.0, 1.0], [1.0, 2.0])
    with pytest.raises(NWError, match="one w"):
        nwcore.nadaraya_watson_fast([0.0], [0.0, 1.0], [1.0, 2.0], w=[1.0, 2.0])


def test_huge_w_falls_back_to_the_plain_rules():
    q, k, v = _data(n_keys=50, n_queries=20)
    ref = nwcore.nadaraya_watson(q, k, v, "gaussian", 1e200, need_weights=False)
    out = nwcore.nadaraya_watson_fast(q, k, v, "gaussian", 1e200)
    torch.testing.assert_close(out.y_hat, ref.y_hat)
    assert torch.isfinite(out.y_hat).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov"])
def test_fast_on_cuda_equals_cpu(kernel):
    q, k, v = _data(n_keys=3000, n_queries=2000, dtype=torch.float32)
    cpu = nwcore.nadaraya_watson_fast(q, k, v, kernel, 5.0)
    gpu = nwcore.nadaraya_watson_fast(q.cuda(), k.cuda(), v.cuda(), kernel, 5.0)
    assert gpu.y_hat.is_cuda
    torch.testing.assert_close(gpu.y_hat.cpu(), cpu.y_hat, rtol=0, atol=1e-4)
    assert torch.equal(gpu.empty.cpu(), cpu.empty)

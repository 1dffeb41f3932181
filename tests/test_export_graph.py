"""The graph each kernel gets (issue 10 item 3) against an explicit float64 loop.

The reference is written here from the kernels' formulas, one query, head and key at a time:
K(u) with u = |x - x_i| w, weights K / sum, and where a compact kernel's window holds no key,
the nearest key(s) sharing equally. Not export's own module, not nwcore's pooling.
"""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

import numpy as np
import onnxruntime as ort
import pytest
import torch

import export
import nwcore
from export.onnx_model import to_onnx

KERNEL_FN = {
    "gaussian": lambda u: math.exp(-0.5 * u * u),
    "boxcar": lambda u: 1.0 if u <= 1.0 else 0.0,
    "constant": lambda u: 1.0,
    "epanechnikov": lambda u: 0.75 * (1.0 - u * u) if u < 1.0 else 0.0,
    "triangular": lambda u: 1.0 - u if u < 1.0 else 0.0,
}


def _loop(x, y, kernel, w, mix, q):
    """y_hat (Q,), weights (Q, H, K) and empty (Q, H), float64, by explicit loops."""
    n_q, n_k, heads = len(q), len(x), len(w)
    weights = np.zeros((n_q, heads, n_k))
    y_hat = np.zeros(n_q)
    empty = np.zeros((n_q, heads), dtype=bool)
    for j in range(n_q):
        dist = [float(np.linalg.norm(np.atleast_1d(q[j] - x[i]))) for i in range(n_k)]
        for h in range(heads):
            if kernel == "gaussian":  # log-sum-exp: scores relative to the largest
                scores = [-0.5 * (d * w[h]) ** 2 for d in dist]
                k_vals = [math.exp(s - max(scores)) for s in scores]
            else:
                k_vals = [KERNEL_FN[kernel](d * abs(w[h])) for d in dist]
            if sum(k_vals) == 0.0:  # empty window: the nearest key(s)
                empty[j, h] = True
                k_vals = [1.0 if d == min(dist) else 0.0 for d in dist]
            total = sum(k_vals)
            for i in range(n_k):
                weights[j, h, i] = k_vals[i] / total
            y_hat[j] += mix[h] * sum(weights[j, h, i] * y[i] for i in range(n_k))
    return y_hat, weights, empty


def _model(kernel, w, mix_logits, x, y):
    model = nwcore.ParametricNW(len(w), kernel, torch.tensor(w, dtype=torch.float64))
    with torch.no_grad():
        model.mix_logits.copy_(torch.tensor(mix_logits, dtype=torch.float64))
    return SimpleNamespace(model=model, x=torch.from_numpy(x), y=torch.from_numpy(y))


def _queries(x, rng):
    lo, hi = x.min(axis=0), x.max(axis=0)
    span = hi - lo
    near = rng.uniform(lo - span, hi + span, (300,) + x.shape[1:])
    far = np.stack([lo - 50 * span, hi + 80 * span, lo - 1e4 * span])  # empty windows
    return np.concatenate([x, near, far])  # the training points (and their ties) first


def _off_edge(x, w, q, kernel):
    """Queries with no key within float32 rounding of a boxcar's window edge."""
    if kernel != "boxcar":
        return np.ones(len(q), dtype=bool)
    d = np.linalg.norm((q[:, None] - x[None, :]).reshape(len(q), len(x), -1), axis=-1)
    u = d[:, None, :] * np.abs(np.asarray(w))[None, :, None]  # (Q, H, K)
    return ~(np.abs(u - 1.0) <= 1e-4).reshape(len(q), -1).any(axis=1)


CASES = [(k, h, 1) for k in nwcore.KERNELS for h in (1, 3)] + [
    ("gaussian", 3, 2),
    ("boxcar", 1, 2),
    ("triangular", 3, 2),
]


@pytest.mark.parametrize(("kernel", "heads", "dim"), CASES, ids=lambda c: str(c))
def test_exported_graph_matches_an_explicit_loop(kernel, heads, dim):
    rng = np.random.default_rng(7)
    t = np.sort(rng.uniform(0.0, 5.0, 24))
    t[5] = t[6]  # tied keys: a query at or beyond them splits its weight between them
    x = 1e3 + 100.0 * (t if dim == 1 else np.stack([t, rng.permutation(t)], axis=1))
    x[6] = x[5]  # in R^2 too
    y = np.sin(t) + 0.1 * rng.standard_normal(24)
    w = [0.3, 0.004, 0.05][:heads] if heads > 1 else [0.03]  # per unit of x (span 500)
    mix = [0.2, -0.5, 0.3][:heads]
    q = _queries(x, rng).astype(np.float32)  # the loop gets the same rounded queries
    session = ort.InferenceSession(
        to_onnx(_model(kernel, w, mix, x, y)).SerializeToString(),
        providers=["CPUExecutionProvider"],
    )
    y_hat, weights = session.run(None, {"x": q})
    pi = np.exp(mix) / np.exp(mix).sum()
    q = q.astype(np.float64)
    y_ref, w_ref, empty = _loop(x, y, kernel, w, pi, q)
    assert empty.any() == (kernel in nwcore.COMPACT_KERNELS)  # the fallback is exercised
    keep = _off_edge(x, w, q, kernel)
    w_ref = w_ref[:, 0, :] if heads == 1 else w_ref
    assert weights.shape == w_ref.shape and np.isfinite(weights).all()
    np.testing.assert_allclose(weights[keep], w_ref[keep], rtol=0, atol=1e-4)
    np.testing.assert_allclose(y_hat[keep], y_ref[keep], rtol=0, atol=1e-4 * np.abs(y).max())
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, atol=1e-5)


def test_each_kernel_gets_its_own_graph_without_a_full_size_fallback_chain():
    x = np.linspace(0.0, 5.0, 20)
    ops = {}
    for kernel in nwcore.KERNELS:
        proto = to_onnx(_model(kernel, [2.0, 5.0], [0.0, 0.0], x, np.sin(x)))
        ops[kernel] = {node.op_type for node in proto.graph.node}
    # the Gaussian never has an empty window: softmax of shifted scores, no fallback at all
    assert "Softmax" in ops["gaussian"]
    assert not ops["gaussian"] & {"IsInf", "Where", "Equal", "Log"}
    assert ops["constant"] <= {"Shape", "Concat", "Expand", "Gather", "Slice", "Unsqueeze"}
    for kernel in nwcore.COMPACT_KERNELS:  # the fallback is read off the nearest distance
        assert not ops[kernel] & {"IsInf", "Where", "Log", "Softmax"}, kernel
    # the head mixture and the values are one Einsum: MatMul of [B, n] by [n] is slow
    assert all("Einsum" in ops[k] and "MatMul" not in ops[k] for k in ops if k != "constant")


def test_the_card_says_which_graph_was_built(tmp_path):
    d = nwcore.make_dataset("classic", n_train=20)
    result = nwcore.train_parametric(d.x_train, d.y_train, "triangular", 2)
    summary = export.export_trained(result, tmp_path / "pkg")
    card = json.loads(summary.files["card"].read_text())
    assert "(r - |d_i|)_+" in card["metadata"]["graph"]
    assert "nearest key" in card["metadata"]["graph"]

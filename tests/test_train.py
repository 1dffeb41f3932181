"""Parametric NW and its training, against the book's procedure and statsmodels."""

import math

import numpy as np
import pytest
import torch
from statsmodels.nonparametric.kernel_regression import KernelReg

import nwcore
from nwcore import NWError


def book_d2l_training(x, y, w0, lr=0.5, epochs=5):
    """The book's recipe, written out: (n, n-1) leave-one-out keys, summed squared loss, SGD."""
    n = len(x)
    keep = ~torch.eye(n, dtype=torch.bool)
    keys = x.repeat((n, 1))[keep].reshape(n, n - 1)  # (n, n-1)
    values = y.repeat((n, 1))[keep].reshape(n, n - 1)  # (n, n-1)
    w = w0.clone().requires_grad_()
    sums = []
    for _ in range(epochs):
        queries = x.repeat_interleave(n - 1).reshape(n, n - 1)
        attn = torch.softmax(-(((queries - keys) * w) ** 2) / 2, dim=1)
        y_hat = torch.bmm(attn.unsqueeze(1), values.unsqueeze(-1)).reshape(-1)
        loss = ((y_hat - y) ** 2).sum()
        loss.backward()
        with torch.no_grad():
            w -= lr * w.grad
            w.grad.zero_()
        sums.append(float(loss))
    return float(w), sums


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_d2l_mode_reproduces_the_book_procedure(seed):
    d = nwcore.make_dataset("classic")
    steps = []
    result = nwcore.train_parametric(
        d.x_train, d.y_train, mode="d2l", seed=seed, callback=lambda *a: steps.append(a)
    )
    w0 = torch.rand(1, generator=torch.Generator().manual_seed(seed)).to(torch.float64)
    assert 0.0 <= float(w0) < 1.0
    w_book, sums = book_d2l_training(d.x_train, d.y_train, w0)
    assert result.w[0] == pytest.approx(w_book, rel=1e-10)
    # our losses are means; the book prints sums
    assert [loss * d.n_train for loss in result.losses] == pytest.approx(sums, rel=1e-10)
    assert [s[0] for s in steps] == [1, 2, 3, 4, 5]
    assert result.mode == "d2l"


def test_d2l_mode_overshoots_to_a_narrow_kernel_on_the_default_data():
    d = nwcore.make_dataset("classic")
    d2l = nwcore.train_parametric(d.x_train, d.y_train, mode="d2l", seed=nwcore.DEFAULT_SEED)
    best = nwcore.train_parametric(d.x_train, d.y_train, mode="converged")
    assert d2l.bandwidth[0] < best.bandwidth[0] / 2
    assert best.loss < d2l.loss


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_converged_bandwidth_matches_statsmodels_cv_ls(seed):
    d = nwcore.make_dataset("classic", seed=seed)
    ours = nwcore.train_parametric(d.x_train, d.y_train, mode="converged").bandwidth[0]
    ref = KernelReg(
        d.y_train.numpy(), d.x_train.numpy(), var_type="c", reg_type="lc", bw="cv_ls"
    ).bw[0]
    assert ours == pytest.approx(ref, rel=0.01)


def test_converged_bandwidth_matches_statsmodels_on_newer_d2l_data():
    d = nwcore.make_dataset("d2l_new", seed=11)
    ours = nwcore.loo_bandwidth(d.x_train, d.y_train).h
    ref = KernelReg(
        d.y_train.numpy(), d.x_train.numpy(), var_type="c", reg_type="lc", bw="cv_ls"
    ).bw[0]
    assert ours == pytest.approx(ref, rel=0.01)


def loop_loo_mse(x, y, kernel, w):
    k_fn = {
        "epanechnikov": lambda u: 0.75 * (1 - u * u) if abs(u) < 1 else 0.0,
        "triangular": lambda u: 1 - abs(u) if abs(u) < 1 else 0.0,
    }[kernel]
    total = 0.0
    for i in range(len(x)):
        ks = [k_fn(abs(x[i] - x[j]) * w) if j != i else 0.0 for j in range(len(x))]
        if sum(ks) == 0:  # empty window: nearest other key
            j = min((j for j in range(len(x)) if j != i), key=lambda j: abs(x[i] - x[j]))
            pred = y[j]
        else:
            pred = sum(k * v for k, v in zip(ks, y, strict=True)) / sum(ks)
        total += (pred - y[i]) ** 2
    return total / len(x)


@pytest.mark.parametrize("kernel", ["epanechnikov", "triangular"])
def test_converged_compact_kernel_beats_a_brute_force_grid(kernel):
    d = nwcore.make_dataset("classic", n_train=30, seed=4)
    x, y = d.x_train.tolist(), d.y_train.tolist()
    res = nwcore.train_parametric(d.x_train, d.y_train, kernel=kernel, mode="converged")
    grid_best = min(loop_loo_mse(x, y, kernel, w) for w in np.geomspace(0.05, 20, 300))
    assert res.loss == pytest.approx(loop_loo_mse(x, y, kernel, res.w[0]), rel=1e-9)
    assert res.loss <= grid_best + 1e-12


def test_multi_head_output_is_the_mixture_of_head_outputs():
    d = nwcore.make_dataset("classic", n_train=20, seed=2)
    model = nwcore.ParametricNW(3, "gaussian", w_init=torch.tensor([0.5, 2.0, 8.0]).double())
    with torch.no_grad():
        model.mix_logits.copy_(torch.tensor([0.3, -1.0, 0.7], dtype=torch.float64))
    q = torch.tensor([0.4, 2.2, 4.1], dtype=torch.float64)
    y_hat, weights = model(q, d.x_train, d.y_train)
    assert weights.shape == (3, 3, 20)
    logits = [0.3, -1.0, 0.7]
    z = sum(math.exp(u) for u in logits)
    pis = [math.exp(u) / z for u in logits]
    xs, ys = d.x_train.tolist(), d.y_train.tolist()
    for i, qi in enumerate(q.tolist()):
        want = 0.0
        for pi, w in zip(pis, [0.5, 2.0, 8.0], strict=True):
            ks = [math.exp(-(((qi - xj) * w) ** 2) / 2) for xj in xs]
            want += pi * sum(k * v for k, v in zip(ks, ys, strict=True)) / sum(ks)
        assert float(y_hat[i]) == pytest.approx(want, rel=1e-10)


def test_heads_with_equal_w_equal_one_head():
    d = nwcore.make_dataset("classic", n_train=25)
    one = nwcore.ParametricNW(1, w_init=torch.tensor([2.5]).double())
    four = nwcore.ParametricNW(4, w_init=torch.full((4,), 2.5).double())
    a, _ = one(d.x_test, d.x_train, d.y_train)
    b, _ = four(d.x_test, d.x_train, d.y_train)
    torch.testing.assert_close(a, b)


def test_converged_multi_head_is_no_worse_than_one_head():
    d = nwcore.make_dataset("step", seed=3)
    one = nwcore.train_parametric(d.x_train, d.y_train, heads=1, mode="converged")
    three = nwcore.train_parametric(d.x_train, d.y_train, heads=3, mode="converged")
    assert three.loss <= one.loss * (1 + 1e-6)
    assert len(three.w) == 3 and sum(three.mixture) == pytest.approx(1.0)


def test_training_reports_every_step_through_the_callback():
    d = nwcore.make_dataset("classic", n_train=30)
    for heads, mode in [(1, "d2l"), (1, "converged"), (2, "d2l"), (2, "converged")]:
        seen: list[tuple] = []

        def record(*step, seen=seen):
            seen.append(step)

        res = nwcore.train_parametric(d.x_train, d.y_train, heads=heads, mode=mode, callback=record)
        assert len(seen) == len(res.losses) > 0
        assert [s[0] for s in seen] == list(range(1, len(seen) + 1))
        assert all(math.isfinite(s[1]) and math.isfinite(s[2]) for s in seen)


def test_predict_checks_its_queries():
    d = nwcore.make_dataset("classic", n_train=20)
    res = nwcore.train_parametric(d.x_train, d.y_train)
    y_hat, weights = res.predict([1.0, 2.0])
    assert y_hat.shape == (2,) and weights.shape == (2, 1, 20)
    with pytest.raises(NWError, match="feature"):
        res.predict([[1.0, 2.0]])
    with pytest.raises(NWError, match="NaN"):
        res.predict([float("nan")])


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"heads": 0}, "from 1 to 8"),
        ({"heads": 9}, "from 1 to 8"),
        ({"mode": "adam"}, "d2l' or 'converged"),
        ({"kernel": "cosine"}, "choose one of"),
        ({"kernel": ["gaussian"]}, "a name .a str.*choose one of"),
        ({"heads": "2"}, "whole number from 1 to 8, got '2'"),
        ({"heads": 2.0}, "whole number from 1 to 8, got 2.0"),
        ({"heads": True}, "whole number from 1 to 8, got True"),
        ({"seed": "x"}, "seed must be a whole number"),
    ],
)
def test_bad_training_options_raise_nwerror(kwargs, message):
    d = nwcore.make_dataset("classic", n_train=10)
    with pytest.raises(NWError, match=message):
        nwcore.train_parametric(d.x_train, d.y_train, **kwargs)


def test_training_refuses_too_few_points():
    with pytest.raises(NWError, match="at least 3"):
        nwcore.train_parametric([0.0, 1.0], [1.0, 2.0])


@pytest.mark.parametrize(
    ("n", "mode", "heads"), [(100_000, "d2l", 1), (20_000, "converged", 3), (5_000, "d2l", 8)]
)
def test_training_too_big_for_memory_is_refused_before_allocating(n, mode, heads):
    x = torch.linspace(0, 1, n, dtype=torch.float64)  # 800 kB; the dense path would need GBs
    with pytest.raises(NWError, match=r"GB of memory.*mode='converged' with heads=1"):
        nwcore.train_parametric(x, x.sin(), mode=mode, heads=heads)


def test_one_head_converged_training_has_no_dense_limit():
    # 6,000 points: more than dense training may take, fine for the windowed search
    n = 6_000
    assert n > nwcore.max_train_points("d2l", heads=1)
    x = torch.linspace(0, 5, n, dtype=torch.float64)
    y = x.sin() + 0.1 * torch.randn(n, generator=torch.Generator().manual_seed(0), dtype=x.dtype)
    res = nwcore.train_parametric(x, y, mode="converged")
    # the noise variance is the floor of any leave-one-out error
    assert 0.009 < res.loss < 0.0105


@pytest.mark.parametrize("scale", [1e300, 1e155, 1e-40])
@pytest.mark.parametrize("heads", [1, 2])
def test_converged_training_at_extreme_scales_equals_training_at_unit_scale(scale, heads):
    # the optimum is scale-equivariant: x * s gives the bandwidths * s and the same loss
    # (d2l is not: its w0 ~ U[0, 1) and lr are per unit of x, as in the book)
    d = nwcore.make_dataset("classic", n_train=30)
    x = d.x_train
    ref = nwcore.train_parametric(x, d.y_train, mode="converged", heads=heads)
    res = nwcore.train_parametric(x * scale, d.y_train, mode="converged", heads=heads)
    assert math.isfinite(res.loss)
    assert res.loss == pytest.approx(ref.loss, rel=1e-9)
    for got, want in zip(res.bandwidth, ref.bandwidth, strict=True):
        assert got == pytest.approx(want * scale, rel=1e-6)
    q = x[:4] * scale
    torch.testing.assert_close(res.predict(q)[0], ref.predict(x[:4])[0], rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("scale", [1e300, 1e155, 1e-40])
def test_d2l_training_at_extreme_scales_gives_a_finite_loss_and_predictions(scale):
    d = nwcore.make_dataset("classic", n_train=30)
    x2 = torch.stack([d.x_train, d.x_train.flip(0)], 1) * scale  # (N, 2): |x|^2 would overflow
    res = nwcore.train_parametric(x2, d.y_train, mode="d2l", heads=2)
    assert math.isfinite(res.loss) and all(math.isfinite(w) for w in res.w)
    assert torch.isfinite(res.predict(x2[:5])[0]).all()


def test_d2l_training_does_not_import_torch_dynamo():
    """The dashboard trains d2l on its first render: torch.optim's first optimizer in a
    process imports torch._dynamo (about 1.3 s), so the SGD step is written out instead."""
    import subprocess
    import sys

    code = (
        "import sys, nwcore\n"
        "d = nwcore.make_dataset('classic')\n"
        "r = nwcore.train_parametric(d.x_train, d.y_train, heads=2, mode='d2l')\n"
        "assert len(r.losses) == 5\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd="."
    )
    assert out.stdout.strip() == "False"

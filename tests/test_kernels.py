"""The kernel table against formulas written out here in numpy, its derivatives against finite
differences, and every path against the table (a throwaway kernel added to it reaches them all).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import nwcore
from nwcore import kernels
from nwcore.bandwidth import _LooObjective
from nwcore.kernels import TABLE, Kernel

# K(u), dK/du, d2K/du2 for u >= 0, written out independently of nwcore (K(0) = 1 scaling is
# applied below for weight and its derivatives).
FORMULAS = {
    "gaussian": (
        lambda u: np.exp(-(u**2) / 2),
        lambda u: -u * np.exp(-(u**2) / 2),
        lambda u: (u**2 - 1) * np.exp(-(u**2) / 2),
    ),
    "boxcar": (
        lambda u: (u <= 1).astype(float),
        lambda u: 0 * u,
        lambda u: 0 * u,
    ),
    "constant": (lambda u: 1 + 0 * u, lambda u: 0 * u, lambda u: 0 * u),
    "epanechnikov": (
        lambda u: np.where(u < 1, 0.75 * (1 - u**2), 0.0),
        lambda u: np.where(u < 1, -1.5 * u, 0.0),
        lambda u: np.where(u < 1, -1.5, 0.0),
    ),
    "triangular": (
        lambda u: np.where(u < 1, 1 - u, 0.0),
        lambda u: np.where(u < 1, -1.0, 0.0),
        lambda u: 0 * u,
    ),
}
U = np.array([0.0, 0.1, 0.5, 0.9, 0.999, 1.0, 1.001, 1.5, 3.0, 10.0])
SMOOTH_U = np.array([0.05, 0.3, 0.5, 0.8, 0.95, 1.05, 1.7, 2.5, 4.0])  # away from kinks


def _t(u: np.ndarray) -> torch.Tensor:
    return torch.tensor(u, dtype=torch.float64)


def test_the_table_holds_the_five_kernels_and_the_views_follow_it():
    assert list(TABLE) == list(FORMULAS)
    assert all(name == k.name for name, k in TABLE.items())
    assert nwcore.KERNELS == {name: k.formula for name, k in TABLE.items()}
    assert nwcore.COMPACT_KERNELS == {"boxcar", "epanechnikov", "triangular"}
    assert nwcore.COMPACT_KERNELS == {name for name, k in TABLE.items() if k.compact}


def test_every_kernel_list_outside_nwcore_matches_the_table():
    from dashboard import limits, live

    assert list(live.KERNEL_EXPR) == list(TABLE)  # the live view's Vega mirror
    assert list(limits.KERNELS) == sorted(TABLE, key=list(limits.KERNELS).index)
    assert set(limits.KERNELS) == set(TABLE)


@pytest.mark.parametrize("name", list(FORMULAS))
def test_score_is_the_log_of_the_written_out_kernel(name):
    k, _, _ = FORMULAS[name]
    with np.errstate(divide="ignore"):
        want = np.log(k(U))
    for sign in (1.0, -1.0):  # symmetric: score takes signed u
        got = TABLE[name].score(_t(sign * U)).numpy()
        # log of the reference's rounded K(u): off by about eps absolute, nothing more
        np.testing.assert_allclose(got, want, rtol=1e-15, atol=4e-16)
    np.testing.assert_allclose(nwcore.kernel_value(_t(U), name).numpy(), k(U), rtol=1e-15)


@pytest.mark.parametrize("name", list(FORMULAS))
def test_weight_slope_and_curvature_are_the_written_out_kernel_over_k0(name):
    k, dk, d2k = FORMULAS[name]
    entry = TABLE[name]
    k0 = float(k(np.array([0.0]))[0])
    u = _t(U)
    got = entry.weight(u.clone())
    np.testing.assert_allclose(got.numpy(), k(U) / k0, rtol=1e-15, atol=0)
    assert got.dtype == torch.float64
    np.testing.assert_allclose(entry.slope(u).numpy(), dk(U) / k0, rtol=1e-15, atol=0)
    np.testing.assert_allclose(entry.curvature(u).numpy(), d2k(U) / k0, rtol=1e-15, atol=0)


@pytest.mark.parametrize("name", list(FORMULAS))
def test_slope_and_curvature_match_finite_differences_of_weight(name):
    entry = TABLE[name]
    u = _t(SMOOTH_U)

    def weight(v):
        return entry.weight(v.clone())

    h = 1e-6
    fd_slope = (weight(u + h) - weight(u - h)) / (2 * h)
    torch.testing.assert_close(entry.slope(u), fd_slope, rtol=1e-7, atol=1e-9)
    h2 = 1e-4
    fd_curv = (weight(u + h2) - 2 * weight(u) + weight(u - h2)) / (h2 * h2)
    torch.testing.assert_close(entry.curvature(u), fd_curv, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(FORMULAS))
def test_radius_closed_and_flags_describe_the_formula(name):
    k, _, _ = FORMULAS[name]
    entry = TABLE[name]
    beyond = np.array([1.0 + 1e-9, 2.0, 50.0]) * (entry.radius if entry.compact else 1.0)
    if entry.compact:
        assert np.all(k(beyond) == 0)
        assert entry.closed == bool(k(np.array([entry.radius]))[0] > 0)
    else:
        assert np.all(k(np.array([5.0, 30.0])) > 0)
        assert not entry.closed
    assert entry.flat == bool(np.all(k(U) == k(U)[0]))
    sq = np.array([0.3, 2.0, 7.0])
    with np.errstate(divide="ignore"):
        log_k = np.log(k(sq) / k(np.array([0.0])))
    assert entry.quadratic == bool(np.allclose(log_k, -(sq**2) / 2))
    inside = np.linspace(0, 1, 11) * (entry.radius if entry.compact else 1.0)
    assert entry.steps == (entry.compact and len(set(k(inside).tolist())) == 1)


def test_as_kernel_refuses_bad_names_listing_the_table():
    with pytest.raises(nwcore.NWError, match="choose one of gaussian, boxcar, constant"):
        kernels.as_kernel("cosine")
    with pytest.raises(nwcore.NWError, match="must be a name"):
        kernels.as_kernel(["gaussian"])
    entry = TABLE["triangular"]
    assert kernels.as_kernel(entry) is entry and kernels.as_kernel("triangular") is entry


# --- a throwaway kernel, one entry: every path must pick it up -----------------------------


def _biweight_score(u):
    a = u.abs()
    inside = a < 1
    safe = torch.where(inside, a, torch.zeros_like(a))
    return torch.where(inside, 2 * torch.log1p(-safe.square()), torch.full_like(u, -math.inf))


def _cauchy_score(u):
    return -torch.log1p(u.square())


THROWAWAY = {
    # (15/16)(1 - u^2)^2: compact, smooth at the edge; entry drops the 15/16 in the score
    "biweight": (
        Kernel(
            "biweight",
            "(1 - u^2)^2_+",
            _biweight_score,
            lambda u: u.square_().neg_().add_(1.0).clamp_(min=0.0).square_(),
            lambda u: torch.where(u < 1, -4 * u * (1 - u.square()), torch.zeros_like(u)),
            lambda u: torch.where(u < 1, 12 * u.square() - 4, torch.zeros_like(u)),
            radius=1.0,
        ),
        lambda u: np.where(u < 1, (1 - u**2) ** 2, 0.0),
    ),
    # 1 / (1 + u^2): never zero, heavy-tailed, not quadratic
    "cauchy": (
        Kernel(
            "cauchy",
            "1 / (1 + u^2)",
            _cauchy_score,
            lambda u: u.square_().add_(1.0).reciprocal_(),
            lambda u: -2 * u / (1 + u.square()) ** 2,
            lambda u: (6 * u.square() - 2) / (1 + u.square()) ** 3,
            radius=math.inf,
        ),
        lambda u: 1 / (1 + u**2),
    ),
}


def _np_nw(q, x, y, k, w, loo=False):
    """NW as an explicit loop over queries in numpy; an empty window takes the nearest key's
    value (ties share), and leave-one-out hides query i's own key."""
    q, x, y = np.asarray(q), np.asarray(x), np.asarray(y)
    out = []
    for i, qi in enumerate(q):
        d = np.abs(qi - x) if x.ndim == 1 else np.sqrt(((qi - x) ** 2).sum(-1))
        keep = np.ones(len(x), bool)
        if loo:
            keep[i] = False
        kw = np.where(keep, k(d * w), 0.0)
        if kw.sum() > 0:
            out.append((kw * y).sum() / kw.sum())
        else:
            dd = np.where(keep, d, np.inf)
            near = dd == dd.min()
            out.append(y[near].mean())
    return np.array(out)


@pytest.fixture(params=list(THROWAWAY))
def throwaway(request, monkeypatch):
    entry, formula = THROWAWAY[request.param]
    monkeypatch.setitem(TABLE, entry.name, entry)
    return entry.name, formula


@pytest.fixture
def data():
    g = np.random.default_rng(7)
    x = np.sort(g.uniform(0, 5, 300))
    x[40:60] = 1e-3 * g.standard_normal(20) + 2.0  # a tight cluster
    y = np.sin(x) + 0.2 * g.standard_t(3, 300)  # heavy-tailed noise
    q = np.linspace(-0.5, 5.5, 41)
    return q, x, y


def test_throwaway_kernel_reaches_the_dense_and_the_fast_paths(throwaway, data):
    name, k = throwaway
    q, x, y = data
    for w in (0.8, 6.0, 40.0):  # wide windows, narrow ones, some empty (compact)
        want = _np_nw(q, x, y, k, w)
        qt, xt, yt = _t(q), _t(x), _t(y)
        dense = nwcore.nadaraya_watson(qt, xt, yt, name, w)
        np.testing.assert_allclose(dense.y_hat.numpy(), want, rtol=1e-10, atol=1e-12)
        chunked = nwcore.nadaraya_watson(qt, xt, yt, name, w, need_weights=False).y_hat
        np.testing.assert_allclose(chunked.numpy(), want, rtol=1e-10, atol=1e-12)
        for method in ("window", "chunked"):
            fast = nwcore.nadaraya_watson_fast(qt, xt, yt, name, w, method=method).y_hat
            np.testing.assert_allclose(fast.numpy(), want, rtol=1e-10, atol=1e-12)
        loo = nwcore.leave_one_out(xt, yt, name, w).y_hat
        np.testing.assert_allclose(loo.numpy(), _np_nw(x, x, y, k, w, loo=True), rtol=1e-10)


def test_throwaway_kernel_reaches_the_wide_block_path(throwaway):
    name, k = throwaway
    g = np.random.default_rng(3)
    x = np.sort(g.uniform(0, 1, 3000))
    y = np.cos(6 * x) + g.standard_normal(3000)
    q = np.sort(g.uniform(0, 1, 200))
    # windows of ~1,000 keys: past the banded path, into the blocked sums
    got = nwcore.nadaraya_watson_fast(_t(q), _t(x), _t(y), name, 3.0).y_hat
    np.testing.assert_allclose(got.numpy(), _np_nw(q, x, y, k, 3.0), rtol=1e-10, atol=1e-12)


def test_throwaway_kernel_reaches_the_leave_one_out_objective(throwaway, data):
    name, k = throwaway
    _, x, y = data
    for w in (0.8, 6.0, 300.0):
        want = float(np.mean((_np_nw(x, x, y, k, w, loo=True) - y) ** 2))
        assert nwcore.loo_mse(x, y, name, w) == pytest.approx(want, rel=1e-10)
    # the grid's narrow widths, evaluated together; a kernel that never vanishes has no
    # narrow window, so it is left to the exact evaluation above
    obj = _LooObjective(_t(x), _t(y), name)
    ws = [200.0, 800.0]
    got = obj.narrow(ws)
    if TABLE[name].compact:
        want = [float(np.mean((_np_nw(x, x, y, k, w, loo=True) - y) ** 2)) for w in ws]
        assert got == pytest.approx(want, rel=1e-10)
    else:
        assert got == [None, None]
    # points in R^2: the dense objective
    g = np.random.default_rng(1)
    p = g.normal(size=(80, 2)) * [1.0, 1e-3] + [1e8, 0.0]  # offset and anisotropic
    v = p[:, 1] * 1e3 + g.normal(size=80)
    want = float(np.mean((_np_nw(p, p, v, k, 2.0, loo=True) - v) ** 2))
    assert nwcore.loo_mse(p, v, name, 2.0) == pytest.approx(want, rel=1e-9)


def test_throwaway_kernel_reaches_the_bandwidth_search_and_training(throwaway, data):
    name, k = throwaway
    q, x, y = data
    x, y = x[::3], y[::3]  # 100 points: the numpy reference loops stay quick
    search = nwcore.loo_bandwidth(x, y, name)
    want = float(np.mean((_np_nw(x, x, y, k, search.w, loo=True) - y) ** 2))
    assert search.loss == pytest.approx(want, rel=1e-10)
    # no width on a log grid around it does better than the search beyond its tolerance
    for h in search.h * np.exp(np.linspace(-0.5, 0.5, 21)):
        other = float(np.mean((_np_nw(x, x, y, k, 1 / h, loo=True) - y) ** 2))
        assert other >= search.loss * (1 - 1e-3)
    trained = nwcore.train_parametric(x, y, name, mode="converged")
    assert trained.model.kernel == name
    # trained in the data's frame, so the search ran in other units: equal to its rtol (1e-7
    # in log h, a few times that at the end of the bracket)
    assert abs(math.log(float(trained.model.w[0].detach()) / search.w)) < 1e-6
    model = nwcore.ParametricNW(1, name, w_init=torch.tensor([2.5], dtype=torch.float64))
    y_hat, _ = model(_t(q), _t(x), _t(y))
    np.testing.assert_allclose(y_hat.detach().numpy(), _np_nw(q, x, y, k, 2.5), rtol=1e-10)


def test_throwaway_kernel_reaches_binned_pooling(throwaway):
    name, k = throwaway
    # keys on the grid points themselves: linear binning is exact, so is the convolution
    x = np.repeat(np.arange(41.0), 3)
    y = np.sin(x / 5) + np.tile([0.0, 0.3, -0.2], 41)
    for w in (0.05, 0.3):
        fit = nwcore.nw_binned(_t(x), _t(y), None, name, w, grid_size=41, convolution="direct")
        want = _np_nw(np.arange(41.0), x, y, k, w)
        np.testing.assert_allclose(fit.grid_y.numpy(), want, rtol=1e-10, atol=1e-12)


def test_throwaway_kernel_is_listed_in_the_refusal(throwaway):
    name, _ = throwaway
    with pytest.raises(nwcore.NWError, match=f"triangular, {name}"):
        nwcore.nadaraya_watson([0.0], [0.0, 1.0], [0.0, 1.0], "nope")


# --- names are checked once per public call ------------------------------------------------


def _calls(monkeypatch) -> list[object]:
    seen: list[object] = []
    check = kernels.check_kernel

    def counting(kernel):
        seen.append(kernel)
        return check(kernel)

    monkeypatch.setattr(kernels, "check_kernel", counting)
    return seen


x1 = torch.linspace(0, 5, 40, dtype=torch.float64)
y1 = x1.sin()
x2 = torch.stack([x1, x1.cos()], 1)
PUBLIC_CALLS = {
    "kernel_score": lambda k: nwcore.kernel_score(x1, k),
    "kernel_value": lambda k: nwcore.kernel_value(x1, k),
    "kernel_attention": lambda k: nwcore.kernel_attention(x1[:, None], torch.tensor(2.0), k),
    "nadaraya_watson": lambda k: nwcore.nadaraya_watson(x1, x1, y1, k, 2.0),
    "nadaraya_watson chunked": lambda k: nwcore.nadaraya_watson(
        x1, x1, y1, k, 2.0, need_weights=False
    ),
    "leave_one_out": lambda k: nwcore.leave_one_out(x1, y1, k, 2.0),
    "nadaraya_watson_fast": lambda k: nwcore.nadaraya_watson_fast(x1, x1, y1, k, 2.0),
    "nadaraya_watson_fast R^2": lambda k: nwcore.nadaraya_watson_fast(x2, x2, y1, k, 2.0),
    "nadaraya_watson_fast chunked": lambda k: nwcore.nadaraya_watson_fast(
        x1, x1, y1, k, 2.0, method="chunked"
    ),
    "nw_binned": lambda k: nwcore.nw_binned(x1, y1, x1, k, 2.0),
    "loo_mse": lambda k: nwcore.loo_mse(x1, y1, k, 2.0),
    "loo_mse R^2": lambda k: nwcore.loo_mse(x2, y1, k, 2.0),
    "loo_bandwidth": lambda k: nwcore.loo_bandwidth(x1, y1, k),
    "train d2l": lambda k: nwcore.train_parametric(
        x1, y1, k, config=nwcore.TrainConfig(mode="d2l", epochs=2)
    ),
    "train converged": lambda k: nwcore.train_parametric(
        x1, y1, k, heads=2, config=nwcore.TrainConfig(mode="converged", max_steps=2)
    ),
}


@pytest.mark.parametrize("call", list(PUBLIC_CALLS))
@pytest.mark.parametrize("kernel", ["gaussian", "epanechnikov", "boxcar"])
def test_each_public_call_checks_its_kernel_once(monkeypatch, call, kernel):
    seen = _calls(monkeypatch)
    PUBLIC_CALLS[call](kernel)
    assert seen == [kernel]


def test_parametric_model_checks_at_build_not_per_forward(monkeypatch):
    seen = _calls(monkeypatch)
    model = nwcore.ParametricNW(2, "triangular").double()
    for _ in range(3):
        model(x1, x1, y1)
    assert seen == ["triangular"]
    assert model.kernel == "triangular"

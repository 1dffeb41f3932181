"""The workshop's exercises and their self-checks: pure functions, the math comes from nwcore.

Each exercise names the page to work on (with the link's parameters), the kind of answer
(a number or a choice) and a check that says whether an answer holds. The words (task,
question, hint, solution) live in dashboard/text.py under `ex_<id>_*`.

>>> EXERCISES[0].check(0.0).ok
False
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

import nwcore
from dashboard import params, toy_models
from dashboard.parsing import parse_matrix

SEED = nwcore.DEFAULT_SEED
SENTENCE = "the cat sat on the mat"
IDENTITY_W = 2.0
IDENTITY_X = [0.0, 1.0, 2.0, 3.0]  # keys x_i of the identity exercise
IDENTITY_Q = [0.5, 2.0]  # queries x


@dataclass(frozen=True)
class Verdict:
    ok: bool
    expected: str  # the reference answer, shown with the solution


@dataclass(frozen=True)
class Exercise:
    id: str
    page: str  # url path of the page where the task is done
    params: dict[str, str] = field(default_factory=dict)  # the link's query parameters
    check: Callable[[object], Verdict] = lambda answer: Verdict(False, "")

    @property
    def options(self) -> tuple[str, ...]:
        """The choices of a choice answer (params.CHOICE_ANSWERS); () for a number."""
        return params.CHOICE_ANSWERS.get(self.id, ())

    @property
    def kind(self) -> str:
        return "choice" if self.options else "number"


def _close(answer: object, expected: float, rtol: float, atol: float = 0.0) -> bool:
    try:
        value = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return math.isfinite(value) and abs(value - expected) <= max(atol, rtol * abs(expected))


def _g(value: float) -> str:
    return f"{value:.4g}"


@functools.lru_cache(maxsize=8)
def _data(n_train: int | None = None) -> nwcore.Dataset:
    """The page's default data (classic d2l, default seed), optionally with more points."""
    return nwcore.make_dataset("classic", n_train=n_train, seed=SEED)


def nonparametric_test_mse(n_train: int, kernel: str = "gaussian", w: float = 1.0) -> float:
    """Nonparametric pooling's test MSE against the truth on the query grid (as the page)."""
    d = _data(n_train)
    fit = nwcore.nadaraya_watson(d.x_test, d.x_train, d.y_train, kernel, w, need_weights=False)
    return float(((fit.y_hat - d.y_truth) ** 2).mean())


@functools.lru_cache(maxsize=8)
def trained(heads: int, mode: str) -> nwcore.TrainResult:
    """What the page's Train button gives on the default data (gaussian kernel)."""
    d = _data()
    return nwcore.train_parametric(d.x_train, d.y_train, "gaussian", heads, mode, SEED)


def loo(kernel: str, w: float) -> float:
    d = _data()
    return nwcore.loo_mse(d.x_train, d.y_train, kernel, w)


@functools.lru_cache(maxsize=4)
def loo_best(kernel: str = "gaussian") -> nwcore.BandwidthSearch:
    d = _data()
    return nwcore.loo_bandwidth(d.x_train, d.y_train, kernel)


# --- the checks ---------------------------------------------------------------------------


def check_more_data(answer: object) -> Verdict:
    """Test MSE of nonparametric pooling (gaussian, w = 1) with 500 training points."""
    expected = nonparametric_test_mse(500)
    return Verdict(_close(answer, expected, 0.01, 5e-4), _g(expected))


def check_learned_w(answer: object) -> Verdict:
    """The w the book's recipe (d2l mode, 1 head) learns on the default data."""
    expected = abs(trained(1, "d2l").w[0])
    return Verdict(_close(answer, expected, 0.01), _g(expected))


def check_hyperparameter(answer: object) -> Verdict:
    """Any w whose leave-one-out MSE is within 2 % of the leave-one-out optimum's."""
    best = loo_best("gaussian")
    try:
        w = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return Verdict(False, _g(best.w))
    ok = math.isfinite(w) and w != 0 and loo("gaussian", abs(w)) <= 1.02 * best.loss
    return Verdict(ok, _g(best.w))


def check_multi_head(answer: object) -> Verdict:
    """Leave-one-out MSE of the 2-head model trained to convergence."""
    expected = trained(2, "converged").loss
    return Verdict(_close(answer, expected, 0.01), _g(expected))


def best_kernel(w: float = 1.0) -> str:
    """The kernel with the lowest leave-one-out MSE at width w on the default data."""
    return min(nwcore.KERNELS, key=lambda k: loo(k, w))


def check_kernel_choice(answer: object) -> Verdict:
    expected = best_kernel(1.0)
    return Verdict(answer == expected, expected)


def identity_gap(a: float, w: float = IDENTITY_W) -> float:
    """Largest difference between Gaussian NW weights (width w) and the scoring page's
    dot-product weights with query [x, 1] and key [a x_i, -a x_i^2 / 2]."""
    x = torch.tensor(IDENTITY_X, dtype=torch.float64)  # (K,)
    q = torch.tensor(IDENTITY_Q, dtype=torch.float64)  # (Q,)
    nw = nwcore.nadaraya_watson(q, x, torch.zeros_like(x), "gaussian", w).weights  # (Q, K)
    queries = [[v, 1.0] for v in IDENTITY_Q]
    keys = [[a * v, -a * v * v / 2] for v in IDENTITY_X]
    dot = toy_models.score_and_pool(queries, keys, [[v] for v in IDENTITY_X], "dot").weights
    return float((nw - dot).abs().max())  # (Q, K)


def identity_keys(a: float = 1.0) -> str:
    """The keys [a x_i, -a x_i^2 / 2] of the identity exercise, one per line.

    The link starts from a = 1, not from the answer (a = w^2 = 4).

    >>> identity_keys(1.0).splitlines()[2]
    '2, -2'
    """
    return "\n".join(f"{a * x:g}, {-a * x * x / 2:g}" for x in IDENTITY_X)


def check_identity(answer: object) -> Verdict:
    try:
        a = float(answer)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return Verdict(False, _g(IDENTITY_W**2))
    ok = math.isfinite(a) and identity_gap(a) < 1e-9
    return Verdict(ok, _g(IDENTITY_W**2))


def hard_output(query: int) -> float:
    """What hard (argmax) attention pools for query `query` (1-based) on page 2's defaults,
    computed as the page computes it."""
    d = params.SCORING_DEFAULTS
    rows = {k: parse_matrix(d[k], k) for k in ("sc_queries", "sc_keys", "sc_values")}
    r = toy_models.score_and_pool(
        rows["sc_queries"],
        rows["sc_keys"],
        rows["sc_values"],
        d["sc_scorer"],
        hidden=d["sc_hidden"],
        seed=d["sc_seed"],
        attention="argmax",
    )
    return float(r.out[query - 1, 0])


def check_soft_hard(answer: object) -> Verdict:
    expected = hard_output(3)
    return Verdict(_close(answer, expected, 0.0, 1e-6), _g(expected))


def distinct_rows(sentence: str, positional: bool) -> int:
    """Distinct rows of head 1's self-attention weights for a sentence, as page 3 shows them
    with its default sizes and seed (random weights).

    Each distinct word gets its own random vector; with positional encoding every position
    also gets its own sinusoid.
    """
    d = params.MHA_DEFAULTS
    r = toy_models.self_attend(
        sentence.split(),
        dim=d["mha_dim"],
        heads=d["mha_heads"],
        seed=d["mha_seed"],
        positional=positional,
    )
    return toy_models.distinct_rows(r.weights[0])  # head 1: (T, T)


def check_positional(answer: object) -> Verdict:
    expected = distinct_rows(SENTENCE, positional=False)
    return Verdict(_close(answer, expected, 0.0, 1e-9), str(expected))


EXERCISES = [
    Exercise("more_data", "pooling", {"n_train": "500", "w": "1"}, check=check_more_data),
    Exercise("learned_w", "pooling", {"train": "1"}, check=check_learned_w),
    # the task is to find w: the one-click rules under the slider stay out of the way
    Exercise("hyperparameter", "pooling", {"hide": "w_rules"}, check=check_hyperparameter),
    Exercise(
        "multi_head",
        "pooling",
        {"heads": "2", "mode": "converged", "train": "1"},
        check=check_multi_head,
    ),
    Exercise("kernel_choice", "pooling", {}, check=check_kernel_choice),
    Exercise(
        "identity",
        "scoring",
        {
            "sc_queries": "\n".join(f"{q:g}, 1" for q in IDENTITY_Q),
            "sc_keys": identity_keys(),
            "sc_values": "\n".join(f"{x:g}" for x in IDENTITY_X),
            "sc_scorer": "dot",
        },
        check=check_identity,
    ),
    Exercise("soft_hard", "scoring", {"sc_attention": "argmax"}, check=check_soft_hard),
    Exercise(
        "positional",
        "self-attention",
        {"mha_sentence": SENTENCE, "mha_pe": "false"},
        check=check_positional,
    ),
]
BY_ID = {e.id: e for e in EXERCISES}


def solution_values(exercise_id: str) -> dict[str, str]:
    """The numbers a solution quotes (computed here, so the text never goes stale)."""
    if exercise_id == "more_data":
        return {"n50": _g(nonparametric_test_mse(50)), "n500": _g(nonparametric_test_mse(500))}
    if exercise_id == "learned_w":
        w = abs(trained(1, "d2l").w[0])
        return {"expected": _g(w), "h": _g(1 / w)}
    if exercise_id == "hyperparameter":
        best = loo_best("gaussian")
        return {"expected": _g(best.w), "h": _g(1 / best.w)}
    if exercise_id == "multi_head":
        return {
            "expected": _g(trained(2, "converged").loss),
            "one": _g(trained(1, "converged").loss),
        }
    if exercise_id == "kernel_choice":
        table = ", ".join(f"{k} {_g(loo(k, 1.0))}" for k in nwcore.KERNELS)
        return {"expected": best_kernel(1.0), "table": table}
    return {"expected": BY_ID[exercise_id].check(math.nan).expected}

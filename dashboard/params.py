"""Every control of every page, declared once (see dashboard.spec.Control).

`dashboard.controls.draw` draws them, `dashboard.urlstate.check` checks a link against them,
and their keys are the URL parameters that WORKSHOP.md lists. A leaf module: the numbers come
from dashboard.limits, the words from dashboard.text; nothing here loads torch or onnxruntime.

>>> [c.key for c in POOLING][:3]
['dataset', 'n_train', 'noise']
"""

from __future__ import annotations

import dataclasses
import math

from dashboard import limits as L  # noqa: N812 - the limits, read as L.MAX_HEADS
from dashboard.spec import Control
from dashboard.text import t

CSV = "csv"
SERIES = ("truth", "training points", "average", "nonparametric", "parametric")
SERIES_LABELS = {s: f"series_{s.split()[-1]}" for s in SERIES}  # "training points": points


def _choice(key: str, label: str, options: tuple[str, ...], prefix: str, **more) -> Control:
    """One of `options` on a radio (unless `kind` says otherwise), the first by default; each
    option shows as the text `prefix + option`, its value stays the option.

    >>> _choice("sc_attention", "attention_mode", ("soft", "argmax"), "att_").labels
    {'soft': 'att_soft', 'argmax': 'att_argmax'}
    """
    kind, default = more.pop("kind", "radio"), more.pop("default", options[0])
    labels = {o: prefix + o for o in options}
    return Control(key, kind, label, default, options=options, labels=labels, **more)


# --- w: a log grid whose window follows the data's scale ----------------------------------


def w_at(step: int) -> float:
    """The w of a grid step: 10 steps per decade, 3 significant digits.

    >>> w_at(0), w_at(5), w_at(-23)
    (1.0, 3.16, 0.00501)
    """
    return float(f"{10 ** (step / L.W_STEPS_PER_DECADE):.3g}")


def w_step(value: float) -> int:
    """The grid step nearest to w > 0 (in log w).

    >>> w_step(3.2), w_step(0.0085)
    (5, -21)
    """
    return round(L.W_STEPS_PER_DECADE * math.log10(value))


def _centre(spread: float) -> int:
    """The decade of w at the slider's centre: the power of ten nearest 1/spread."""
    return -round(math.log10(spread)) if spread > 0 and math.isfinite(spread) else 0


def w_unit(spread: float) -> float:
    """The w at the slider's centre for data of this spread: what "w = 1" is for x in units
    (the scale the w notes and their suggested ranges are given in).

    >>> w_unit(1.44), w_unit(1320.0), w_unit(1.5e-6)
    (1.0, 0.001, 1000000.0)
    """
    return 10.0 ** _centre(spread)


def w_grid(spread: float, keep: float | None = None) -> list[float]:
    """The slider's w values for data of this spread: 5 decades around 1/spread, whose
    centre is a power of ten (w = 1 for x in units), widened to hold `keep`.

    >>> g = w_grid(1.44); g[0], g[-1], len(g)
    (0.01, 1000.0, 51)
    >>> g = w_grid(276.0); g[0], g[-1]
    (0.0001, 10.0)
    """
    centre = _centre(spread)
    lo = (centre - L.W_DECADES_BELOW) * L.W_STEPS_PER_DECADE
    hi = (centre + L.W_DECADES_ABOVE) * L.W_STEPS_PER_DECADE
    if keep is not None and keep > 0:
        lo, hi = min(lo, w_step(keep)), max(hi, w_step(keep))
    return [w_at(k) for k in range(lo, hi + 1)]


def _check_w_link(value: str) -> float:
    """A link's w: a value of the slider's grid (as the address bar writes it)."""
    try:
        w = float(value)
    except ValueError:
        raise ValueError(t("url_reason_number")) from None
    lo, hi = L.W_STEP_RANGE
    if not (math.isfinite(w) and w > 0 and lo <= w_step(w) <= hi and w_at(w_step(w)) == w):
        raise ValueError(t("url_reason_w_grid"))
    return w


def check_w_exact(typed: str) -> float | None:
    """The typed exact w, or None when the box is empty (the slider's w is used)."""
    typed = typed.strip()
    if not typed:
        return None
    try:
        w = float(typed)
    except ValueError:
        raise ValueError(t("w_exact_bad", value=typed)) from None
    if not math.isfinite(w):
        raise ValueError(t("w_exact_bad", value=typed))
    return w


# --- page 1: attention pooling ------------------------------------------------------------
def _seed(key: str, label: str, default: int) -> Control:
    return Control(
        key, "number", label, default, lo=0, hi=L.SEED_MAX, whole=True, help=f"{label}_help"
    )


def _count(key: str, label: str, default: int, lo: int, hi: int) -> Control:
    """A whole number on a slider (heads, a hidden size, a valid length)."""
    return Control(
        key, "slider", label, default, lo=lo, hi=hi, step=1, whole=True, help=f"{label}_help"
    )


POOLING = (
    Control(
        "dataset",
        "select",
        "dataset",
        "classic",
        options=(*L.DATASETS, CSV),
        help="dataset_help",
        refused={CSV: "url_reason_csv"},
    ),
    Control(
        "n_train",
        "select_slider",
        "n_train",
        L.DATASETS["classic"][0],
        options=tuple(str(n) for n in L.N_TRAIN_STEPS),
        native=int,
        help="n_train_help",
    ),
    Control(
        "noise",
        "slider",
        "noise",
        L.DATASETS["classic"][1],
        lo=0.0,
        hi=3.0,
        step=0.05,
        help="noise_help",
    ),
    _seed("seed", "seed", L.DEFAULT_SEED),
    Control("kernel", "select", "kernel", "gaussian", options=L.KERNELS, help="kernel_help"),
    Control(
        "w",
        "select_slider",
        "w",
        None,  # the data's starting w (see compute.start_w): the page fills it in
        native=float,
        help="w_help",
        url_check=_check_w_link,
        default_text="url_default_w",
        widget={"format_func": lambda v: f"{v:g}"},
    ),
    Control(
        "w_exact",
        "text",
        "w_exact",
        "",
        help="w_exact_help",
        placeholder="w_exact_placeholder",
        check=check_w_exact,
        part_of="w",
    ),
    _count("heads", "heads", 1, 1, L.MAX_HEADS),
    _choice("mode", "mode", L.MODES, "mode_", help="mode_help"),
    Control(
        "curves",
        "pills",
        "curves",
        list(SERIES),
        options=SERIES,
        help="curves_help",
        labels=SERIES_LABELS,
    ),
)


def pooling(dataset: str = "classic") -> tuple[Control, ...]:
    """Page 1's controls; n_train and noise default to the dataset's own (the book's)."""
    if dataset not in L.DATASETS:
        return POOLING
    n_train, noise = L.DATASETS[dataset]
    own = {"n_train": n_train, "noise": noise}
    return tuple(dataclasses.replace(c, default=own[c.key]) if c.key in own else c for c in POOLING)


# --- page 2: scoring functions ------------------------------------------------------------
def _matrix(what: str):
    def check(typed: str) -> list[list[float]]:
        from dashboard.parsing import parse_matrix  # noqa: PLC0415 - it raises nwcore's error

        return parse_matrix(typed, t(what))

    return check


def _matrix_box(key: str, label: str, default: str, height: int) -> Control:
    """A box for a small matrix: rows of comma-separated numbers."""
    return Control(
        key,
        "text_area",
        label,
        default,
        help=f"{label}_help",
        check=_matrix(label),
        widget={"height": height},
    )


def _lengths(typed: str) -> list[int]:
    """Whole numbers from 0 to the most keys (the page checks them against its keys)."""
    from dashboard.parsing import parse_lengths  # noqa: PLC0415 - it raises nwcore's error

    return parse_lengths(typed, len(typed.replace(",", " ").split()), L.MAX_ROWS)


SCORERS = ("additive", "dot", "scaled_dot", "bilinear")
SCORING = (
    _matrix_box("sc_queries", "queries", "1, 0\n0, 1\n1, 1", 110),
    _matrix_box("sc_keys", "keys", "1, 0\n0.7, 0.7\n0, 1\n-1, 0", 130),
    _matrix_box("sc_values", "values", "1\n2\n3\n4", 130),
    _choice("sc_scorer", "scorer", SCORERS, "scorer_opt_", kind="select", default="scaled_dot"),
    _count("sc_hidden", "hidden", 8, 1, L.SCORER_HIDDEN_MAX),
    _seed("sc_seed", "param_seed", 0),
    _choice("sc_mask", "mask_mode", ("none", "shared", "per_query"), "mask_"),
    _count("sc_valid_len", "valid_len", 2, 0, L.MAX_ROWS),
    Control(
        "sc_valid_lens", "text", "valid_lens", "4, 2, 0", help="valid_lens_help", check=_lengths
    ),
    _choice(
        "sc_attention",
        "attention_mode",
        ("soft", "argmax", "sample"),
        "att_",
        widget={"horizontal": True},
    ),
)


# --- page 3: multi-head self-attention ----------------------------------------------------
def _numbers(typed: str) -> list[float]:
    from dashboard.parsing import parse_numbers  # noqa: PLC0415 - it raises nwcore's error

    return parse_numbers(typed)


DIMS = (8, 16, 32)
HEADS = (1, 2, 4, 8)  # divide every size in DIMS
SELF_ATTENTION = (
    _choice("mha_kind", "seq_kind", ("sentence", "numbers"), "seq_", widget={"horizontal": True}),
    Control(
        "mha_sentence",
        "text",
        "sentence",
        "the cat sat on the mat because it was tired",
        help="sentence_help",
    ),
    Control(
        "mha_numbers",
        "text",
        "numbers",
        "1, 2, 3, 2, 1, 0, 1, 2",
        help="numbers_help",
        check=_numbers,
    ),
    Control("mha_pe", "toggle", "pos_enc", True, help="pos_enc_help"),
    Control(
        "mha_dim",
        "select_slider",
        "embed_dim",
        "16",
        options=tuple(map(str, DIMS)),
        native=int,
        help="embed_dim_help",
    ),
    Control("mha_heads", "select_slider", "heads", "2", options=tuple(map(str, HEADS)), native=int),
    _seed("mha_seed", "mha_seed", 0),
)


# --- page 4: exercises --------------------------------------------------------------------
# Each exercise's answer (a number, or one kernel) stays in the session: a share link never
# carries it. Whether its solution is shown may travel (a facilitator's debrief link).
EXERCISE_IDS = (
    "more_data",
    "learned_w",
    "hyperparameter",
    "multi_head",
    "kernel_choice",
    "identity",
    "soft_hard",
    "positional",
)
CHOICE_ANSWERS = {"kernel_choice": L.KERNELS}


def _answer(ex: str) -> Control:
    key, label = f"ex_{ex}_answer", f"ex_{ex}_question"
    if ex in CHOICE_ANSWERS:
        return Control(
            key,
            "radio",
            label,
            None,
            options=CHOICE_ANSWERS[ex],
            in_url=False,
            widget={"horizontal": True},
        )
    return Control(key, "text", label, "", placeholder="ex_answer", in_url=False)


EXERCISES = tuple(
    c
    for ex in EXERCISE_IDS
    for c in (_answer(ex), Control(f"ex_{ex}_solution", "toggle", "ex_solution", False))
)

PAGES = {
    "pooling": POOLING,
    "scoring": SCORING,
    "self-attention": SELF_ATTENTION,
    "exercises": EXERCISES,
}
ALL_KEYS = frozenset(c.key for controls in PAGES.values() for c in controls)
SCORING_DEFAULTS = {c.key: c.default for c in SCORING}
MHA_DEFAULTS = {c.key: c.native(c.default) for c in SELF_ATTENTION}

"""Each page's controls as URL parameters: name (= widget key), allowed values and default.

The pages draw their widgets with these defaults and `bind="query-params"`; `urlstate.check`
uses the same table to say which values of a link were not used. WORKSHOP.md lists them.
"""

from __future__ import annotations

import math

import nwcore
from dashboard import compute
from dashboard.parsing import parse_lengths, parse_matrix, parse_numbers
from dashboard.text import t
from dashboard.urlstate import Param, choice, flag, number, several, text

# Values survive a visit to another page and live in the URL (the widget key is the name).
KEEP = {"persist_state": "session", "bind": "query-params"}
SEED_MAX = 2**31 - 1

# --- page 1: attention pooling ------------------------------------------------------------
W_GRID = [float(f"{10 ** (k / 10):.3g}") for k in range(-20, 31)]  # 0.01 .. 1000, log-spaced
CSV = "csv"
SERIES = ["truth", "training points", "average", "nonparametric", "parametric"]


def pooling(dataset: str | None = None) -> dict[str, Param]:
    """Page 1's parameters; n_train and noise default to the dataset's own (the book's)."""
    target = nwcore.DATASETS.get(dataset or "classic", nwcore.DATASETS["classic"])
    return {
        "dataset": choice(list(nwcore.DATASETS), "classic", refused={CSV: t("url_reason_csv")}),
        "n_train": number(nwcore.MIN_POINTS, compute.MAX_LIVE_POINTS, target.n_train, whole=True),
        "noise": number(0.0, 3.0, float(target.noise)),
        "seed": number(0, SEED_MAX, nwcore.DEFAULT_SEED, whole=True),
        "kernel": choice(list(nwcore.KERNELS), "gaussian"),
        "w": choice([f"{v:g}" for v in W_GRID], "1", native=float),
        "w_exact": text("", _check_w_exact),
        "heads": number(1, nwcore.MAX_HEADS, 1, whole=True),
        "mode": choice(list(nwcore.MODES), "d2l"),
        "curves": several(SERIES, SERIES),
        "train": choice(["1"], "0"),
    }


def _check_w_exact(typed: str) -> None:
    if typed.strip():
        try:
            value = float(typed)
        except ValueError:
            raise ValueError(t("url_reason_number")) from None
        if not math.isfinite(value):
            raise ValueError(t("url_reason_number"))


# --- page 2: scoring functions ------------------------------------------------------------
SCORERS = ["additive", "dot", "scaled_dot", "bilinear"]
MASKS = ["none", "shared", "per_query"]
ATTEND = ["soft", "argmax", "sample"]
SCORING_DEFAULTS = {
    "sc_queries": "1, 0\n0, 1\n1, 1",
    "sc_keys": "1, 0\n0.7, 0.7\n0, 1\n-1, 0",
    "sc_values": "1\n2\n3\n4",
    "sc_scorer": "scaled_dot",
    "sc_hidden": 8,
    "sc_seed": 0,
    "sc_mask": "none",
    "sc_valid_len": 2,
    "sc_valid_lens": "4, 2, 0",
    "sc_attention": "soft",
}


def scoring() -> dict[str, Param]:
    d = SCORING_DEFAULTS
    return {
        "sc_queries": text(d["sc_queries"], lambda s: parse_matrix(s, t("queries"))),
        "sc_keys": text(d["sc_keys"], lambda s: parse_matrix(s, t("keys"))),
        "sc_values": text(d["sc_values"], lambda s: parse_matrix(s, t("values"))),
        "sc_scorer": choice(SCORERS, d["sc_scorer"]),
        "sc_hidden": number(1, 16, d["sc_hidden"], whole=True),
        "sc_seed": number(0, SEED_MAX, d["sc_seed"], whole=True),
        "sc_mask": choice(MASKS, d["sc_mask"]),
        "sc_valid_len": number(0, 12, d["sc_valid_len"], whole=True),
        "sc_valid_lens": text(d["sc_valid_lens"], _check_lengths),
        "sc_attention": choice(ATTEND, d["sc_attention"]),
    }


def _check_lengths(typed: str) -> None:
    cells = typed.replace(",", " ").split()
    parse_lengths(typed, len(cells), 12)  # whole numbers 0..12; the page checks the counts


# --- page 3: multi-head self-attention ----------------------------------------------------
DIMS = [8, 16, 32]
HEADS = [1, 2, 4, 8]  # divide every size in DIMS
MHA_DEFAULTS = {
    "mha_kind": "sentence",
    "mha_sentence": "the cat sat on the mat because it was tired",
    "mha_numbers": "1, 2, 3, 2, 1, 0, 1, 2",
    "mha_dim": 16,
    "mha_pe": True,
    "mha_heads": 2,
    "mha_seed": 0,
}


def self_attention() -> dict[str, Param]:
    d = MHA_DEFAULTS
    return {
        "mha_kind": choice(["sentence", "numbers"], d["mha_kind"]),
        "mha_sentence": text(d["mha_sentence"]),
        "mha_numbers": text(d["mha_numbers"], parse_numbers),
        "mha_dim": choice([str(v) for v in DIMS], str(d["mha_dim"]), native=int),
        "mha_pe": flag(d["mha_pe"]),
        "mha_heads": choice([str(v) for v in HEADS], str(d["mha_heads"]), native=int),
        "mha_seed": number(0, SEED_MAX, d["mha_seed"], whole=True),
    }


ALL_KEYS = frozenset(pooling()) | frozenset(scoring()) | frozenset(self_attention())


# --- page 4: exercises --------------------------------------------------------------------
def exercises() -> dict[str, Param]:
    """Each exercise's answer and whether its solution is shown (a link may carry both)."""
    from dashboard.exercises import EXERCISES  # noqa: PLC0415 - it imports this module

    out: dict[str, Param] = {}
    for ex in EXERCISES:
        out[f"ex_{ex.id}_answer"] = (
            choice(list(ex.options), "") if ex.kind == "choice" else text("")
        )
        out[f"ex_{ex.id}_solution"] = flag(False)
    return out


ALL_KEYS = ALL_KEYS | frozenset(exercises())

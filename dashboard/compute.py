"""Cached calls into nwcore and export for the pages. No math of its own: it picks what to
cache where (shared read-only results in st.cache_data, per-user data in session_state)."""

from __future__ import annotations

import dataclasses
import math
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import streamlit as st
import torch

import nwcore
from dashboard import limits

MAX_LIVE_POINTS = limits.MAX_LIVE_POINTS
# x in R^D: the exact paths look at all N x N pairs; an uploaded file is sampled down to this.
MAX_LIVE_POINTS_RD = 1000
# d2l mode and several heads: every step builds (N, N, H) tensors with gradients, ~1.6 GB at
# N = 5,000; too heavy for a shared server. One head, converged, is fast at any N.
MAX_FULL_TRAIN_POINTS = 1000


# Training this small is cheap (d2l's 5 epochs or one head's LOO search: ~0.01-0.3 s at the
# book's 40-60 points), so the page trains it on the first render and shows all three poolings.
# Several converged heads run an Adam loop (0.1-8 s measured): those wait for the Train button.
AUTO_TRAIN_POINTS = 100


def can_train(n_train: int, mode: str, heads: int) -> bool:
    """Whether this training fits a shared server (see MAX_FULL_TRAIN_POINTS)."""
    return n_train <= MAX_FULL_TRAIN_POINTS or (mode == "converged" and heads == 1)


def trains_by_itself(n_train: int, mode: str, heads: int) -> bool:
    """Whether the page shows the parametric curve without a click (see AUTO_TRAIN_POINTS)."""
    return n_train <= AUTO_TRAIN_POINTS and (mode == "d2l" or heads == 1)


@st.cache_resource(max_entries=64, show_spinner=False)
def trained(
    x: np.ndarray, y: np.ndarray, kernel: str, heads: int, mode: str, seed: int
) -> nwcore.TrainResult:
    """The parametric model for these data and settings, shared between users (training is
    deterministic given the seed; the result is only read). x, y: (K,)."""
    return nwcore.train_parametric(
        torch.from_numpy(x), torch.from_numpy(y), kernel, heads, mode, seed
    )


@st.cache_data(max_entries=64, show_spinner=False)
def synthetic(name: str, n_train: int, noise: float, seed: int) -> nwcore.Dataset:
    """A synthetic dataset, shared between users (same parameters, same data)."""
    return nwcore.make_dataset(name, n_train=n_train, noise=noise, seed=seed)


def sample_rows(data: nwcore.Dataset) -> nwcore.Dataset:
    """A fixed random subset of at most the live limit of training points, still sorted by x."""
    limit = MAX_LIVE_POINTS if data.dim == 1 else MAX_LIVE_POINTS_RD
    if data.n_train <= limit:
        return data
    gen = torch.Generator().manual_seed(0)
    keep = torch.sort(torch.randperm(data.n_train, generator=gen)[:limit]).values
    return dataclasses.replace(
        data,
        x_train=data.x_train[keep],
        y_train=data.y_train[keep],
        description=f"{data.description} (sample of {limit})",
    )


def arrays(data: nwcore.Dataset) -> tuple[np.ndarray, np.ndarray]:
    """Training x and y as numpy arrays (cheap to hash for st.cache_data)."""
    return data.x_train.numpy(), data.y_train.numpy()


@st.cache_data(max_entries=256, show_spinner=False)
def bandwidth_rules(x: np.ndarray, y: np.ndarray, kernel: str) -> dict[str, dict[str, float]]:
    """Silverman's and Scott's rules, each with its w, h and leave-one-out MSE (cheap)."""
    rows: dict[str, dict[str, float]] = {}
    for name, h in (("silverman", nwcore.silverman(x)), ("scott", nwcore.scott(x))):
        w = 1.0 / h
        rows[name] = {"w": w, "h": h, "loo": nwcore.loo_mse(x, y, kernel, w)}
    return rows


@st.cache_data(max_entries=256, show_spinner=False)
def loo_optimum(x: np.ndarray, y: np.ndarray, kernel: str) -> dict[str, float]:
    """The leave-one-out optimum (a search of ~60-80 evaluations: computed on demand)."""
    search = nwcore.loo_bandwidth(x, y, kernel)
    return {"w": search.w, "h": search.h, "loo": search.loss}


@st.cache_data(max_entries=512, show_spinner=False)
def loo_error(x: np.ndarray, y: np.ndarray, kernel: str, w: float) -> float:
    """Leave-one-out MSE of nonparametric pooling at width w."""
    return nwcore.loo_mse(x, y, kernel, w)


def spread(x: np.ndarray) -> float:
    """The data's scale: min(std, IQR / 1.349) (Silverman's A), averaged over features; 1
    when the points do not spread at all. In units of 2^k >= max |x| (dividing by a power of two
    changes no digit), so the squares in the std of x near 1e-200 or 1e200 stay in range."""
    x = x.reshape(len(x), -1)  # (N, D)
    top = float(np.abs(x).max()) if x.size else 0.0
    unit = math.ldexp(1.0, math.frexp(top)[1]) if 0 < top < math.inf else 1.0
    x = x / unit  # (N, D), |x| <= 1
    iqr = np.subtract(*np.percentile(x, [75, 25], axis=0)) / 1.349  # (D,)
    std = x.std(axis=0)  # (D,)
    a = np.where(iqr > 0, np.minimum(std, iqr), std)  # (D,)
    value = float(a.mean()) * unit
    return value if value > 0 and np.isfinite(value) else 1.0


@st.cache_data(max_entries=256, show_spinner=False)
def start_w(x: np.ndarray, y: np.ndarray) -> tuple[float, str]:
    """Where w starts for these data, and which rule gave it ("loo" or "silverman").

    Up to limits.LOO_START_MAX points: the Gaussian leave-one-out optimum (a fraction of a
    second); above that Silverman's rule (instant), one click away from the optimum. Constant
    y: Silverman's too (every w fits it exactly, so the search's "optimum" is arbitrary: it
    stopped at its narrowest window, an eighth of the closest spacing).
    """
    # the Gaussian row of the bandwidth table: one search
    if len(x) <= limits.LOO_START_MAX and np.ptp(y) > 0:
        return float(loo_optimum(x, y, "gaussian")["w"]), "loo"
    return 1.0 / nwcore.silverman(x), "silverman"


def mse(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean squared difference of two curves (nwcore has no public helper for it)."""
    return float(((a - b) ** 2).mean())


def parametric_empty(result: nwcore.TrainResult, queries: torch.Tensor) -> list[torch.Tensor]:
    """Per head: which queries have an empty window (TrainResult.predict does not say)."""
    return [
        nwcore.nadaraya_watson(
            queries, result.x, result.y, result.model.kernel, w, need_weights=False
        ).empty
        for w in result.w
    ]


def export_files(
    result: nwcore.TrainResult, dataset: str, truth: tuple[torch.Tensor, torch.Tensor] | None
) -> dict[str, Any]:
    """Run the project's ONNX export into a temporary folder and return the files' bytes.

    Raises export.ExportError (or NWError) when the export refuses, with the reason.
    """
    import export  # here, not at the top: onnx and onnxruntime load on the first export only

    with tempfile.TemporaryDirectory() as tmp:
        summary = export.export_trained(result, Path(tmp) / "model", dataset=dataset, truth=truth)
        files = {
            "model.onnx": summary.files["model"].read_bytes(),
            "model_card.json": summary.files["card"].read_bytes(),
        }
    return {"files": files, "parity": summary.parity_error}


def export_errors() -> tuple[type[Exception], ...]:
    """The refusals with a message for the user (read in an `except`, so only on an error:
    importing export loads onnx and onnxruntime, ~0.2 s of every cold start otherwise)."""
    import export

    return (nwcore.NWError, export.ExportError)

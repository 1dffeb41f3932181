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

# 1-D data: pooling and leave-one-out use nwcore's windowed paths (O(N x window)) and the
# heatmaps are shown downsampled, so the page stays live up to this many points.
MAX_LIVE_POINTS = 5000
# x in R^D: the exact paths look at all N x N pairs; an uploaded file is sampled down to this.
MAX_LIVE_POINTS_RD = 1000
# d2l mode and several heads: every step builds (N, N, H) tensors with gradients, ~1.6 GB at
# N = 5,000; too heavy for a shared server. One head, converged, is fast at any N.
MAX_FULL_TRAIN_POINTS = 1000


def can_train(n_train: int, mode: str, heads: int) -> bool:
    """Whether this training fits a shared server (see MAX_FULL_TRAIN_POINTS)."""
    return n_train <= MAX_FULL_TRAIN_POINTS or (mode == "converged" and heads == 1)


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
    """Run the project's ONNX export into a temporary folder and return the bytes.

    Raises ImportError when the export package is not installed/complete and
    export.ExportError (or NWError) when the export itself refuses.
    """
    import export  # noqa: PLC0415 - optional at import time: the page works without it

    export_trained = getattr(export, "export_trained", None)
    if export_trained is None:
        raise ImportError("the export package has no export_trained() yet")
    names = {"model.onnx": ("model.onnx", "model"), "model_card.json": ("model_card.json", "card")}
    with tempfile.TemporaryDirectory() as tmp:
        summary = export_trained(result, Path(tmp) / "model", dataset=dataset, truth=truth)
        files = {}
        for name, keys in names.items():
            path = next((summary.files[k] for k in keys if k in summary.files), None)
            if path is not None:
                files[name] = Path(path).read_bytes()
    parity = getattr(summary, "parity_error", math.nan)
    return {"files": files, "parity": float(parity) if parity is not None else math.nan}


def export_error_types() -> tuple[type[BaseException], ...]:
    """The errors an export may raise with a user-facing message."""
    try:
        import export  # noqa: PLC0415
    except ImportError:
        return (nwcore.NWError,)
    error = getattr(export, "ExportError", None)
    return (nwcore.NWError, error) if isinstance(error, type) else (nwcore.NWError,)

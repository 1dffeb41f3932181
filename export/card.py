"""What the package says about the model: ONNX metadata, model_card.json and train.csv.

Metadata values are strings (ONNX metadata_props are string pairs); lists are JSON. The same
metadata is repeated in model_card.json, with the metrics and file checksums added.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import platform
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace  # noqa: F401 (doctest)
from typing import Any

import numpy as np
import onnxruntime as ort
import torch

import nwcore
from export.onnx_model import GRAPHS, INPUT_NAME, IR_VERSION, OPSET, OUTPUT_NAMES
from export.outdir import sha256
from nwcore import COMPACT_KERNELS, TrainResult

__all__ = [
    "EMPTY_WINDOW_RULE",
    "finite_or_none",
    "metadata",
    "model_card",
    "write_train_csv",
    "sha256",
    "io_spec",
]

EMPTY_WINDOW_RULE = (
    "a query with no training point inside a compact kernel's window takes the value of its "
    "nearest training point (ties share equally)"
)


def finite_or_none(v: float) -> float | None:
    """v, or None for NaN/inf (JSON has no such numbers)."""
    return float(v) if math.isfinite(v) else None


def io_spec(input_dim: int, heads: int, n_keys: int) -> dict[str, list]:
    """Name -> shape of the model's input and outputs, "batch" marking the dynamic axis.

    >>> io_spec(1, 1, 50)
    {'x': ['batch'], 'y_hat': ['batch'], 'attention_weights': ['batch', 50]}
    """
    x = ["batch"] if input_dim == 1 else ["batch", input_dim]
    weights = ["batch", n_keys] if heads == 1 else ["batch", heads, n_keys]
    return {INPUT_NAME: x, OUTPUT_NAMES[0]: ["batch"], OUTPUT_NAMES[1]: weights}


DEFAULT_AUTHOR = "attention-pooling-lab"
DEFAULT_LICENSE = "MIT"


def training_data_sha256(result: TrainResult) -> str:
    """sha256 of train.csv's data rows (x and y at float64, as written; header excluded).

    >>> x = torch.tensor([0.0, 1.0], dtype=torch.float64)
    >>> len(training_data_sha256(SimpleNamespace(x=x, y=x)))
    64
    """
    digest = hashlib.sha256()
    for row in _train_rows(result)[1]:
        digest.update((",".join(row) + "\r\n").encode())
    return digest.hexdigest()


def metadata(
    result: TrainResult,
    dataset: str,
    name: str,
    created: str | None = None,
    *,
    dtype: str = "float32",
    author: str = DEFAULT_AUTHOR,
    license: str = DEFAULT_LICENSE,
) -> dict:
    """The metadata_props written into model.onnx: all strings.

    >>> x = torch.linspace(0, 5, 10, dtype=torch.float64)
    >>> meta = metadata(nwcore.train_parametric(x, x.sin()), "demo", "nw")
    >>> meta["kernel"], meta["heads"], meta["n_train"], len(json.loads(meta["w"]))
    ('gaussian', '1', '10', 1)
    """
    x = result.x
    input_dim = 1 if x.ndim == 1 else int(x.shape[1])
    heads, n_keys = int(result.model.heads), int(x.shape[0])
    spec = io_spec(input_dim, heads, n_keys)
    kernel = result.model.kernel
    meta = {
        "name": name,
        "kernel": kernel,
        "heads": str(heads),
        "w": json.dumps(result.w),
        "bandwidth": json.dumps([finite_or_none(b) for b in result.bandwidth]),
        "mixture": json.dumps(result.mixture),
        "n_train": str(n_keys),
        "input_dim": str(input_dim),
        "dataset": dataset,
        "training_mode": result.mode,
        "loss": repr(float(result.loss)),
        "loss_kind": "leave-one-out mean squared error of the final model",
        "version": nwcore.__version__,
        "dtype": dtype,
        "inputs": json.dumps({INPUT_NAME: [dtype, spec[INPUT_NAME]]}),
        "outputs": json.dumps({n: [dtype, spec[n]] for n in OUTPUT_NAMES}),
        "model_author": author.strip(),
        "model_license": license.strip(),
        "training_data_sha256": training_data_sha256(result),
        "frame": "the graph computes in x' = (x - centre) / scale, scale a power of two "
        "(nwcore.frame), with w' = w * scale",
        "graph": f"weights = {GRAPHS[kernel]}, all heads at once; y_hat = weights . (pi_h y_i)",
        "empty_window": (
            EMPTY_WINDOW_RULE
            if kernel in COMPACT_KERNELS
            else "never: this kernel is positive everywhere"
        ),
        "created": created or datetime.now(UTC).isoformat(timespec="seconds"),
        "onnx_opset": str(OPSET),
        "torch_version": torch.__version__,
    }
    return meta


def model_card(
    meta: Mapping[str, str],
    result: TrainResult,
    metrics: Mapping[str, Any],
    files: Mapping[str, Path],
    root: Path,
) -> dict:
    """model_card.json: the metadata (typed where it helps), metrics and file checksums."""
    return {
        "name": meta["name"],
        "description": (
            "Parametric Nadaraya-Watson attention pooling (attention-pooling-lab). "
            "y_hat(x) = sum_i alpha(x, x_i) y_i over the training points in train.csv."
        ),
        "metadata": dict(meta),
        "model": {
            "kernel": result.model.kernel,
            "heads": int(result.model.heads),
            "w": result.w,
            "bandwidth": [finite_or_none(b) for b in result.bandwidth],
            "mixture": result.mixture,
            "n_train": int(result.x.shape[0]),
            "input_dim": int(meta["input_dim"]),
            "training_mode": result.mode,
            "final_loss": finite_or_none(float(result.loss)),
            "training_steps": len(result.losses),
            "dtype": meta["dtype"],
        },
        "provenance": {
            "model_author": meta["model_author"],
            "model_license": meta["model_license"],
            "training_data_sha256": meta["training_data_sha256"],
            "training_data_sha256_of": "train.csv without its header line",
        },
        "interface": {
            "inputs": json.loads(meta["inputs"]),
            "outputs": json.loads(meta["outputs"]),
            "empty_window": meta["empty_window"],
        },
        "metrics": dict(metrics),
        "onnx": {"opset": OPSET, "ir_version": IR_VERSION, "domains": ["ai.onnx"]},
        "environment": {
            "package_version": nwcore.__version__,
            "torch": torch.__version__,
            "onnxruntime": ort.__version__,
            "python": platform.python_version(),
        },
        "files": {
            key: {
                "path": str(path.relative_to(root)),
                "bytes": path.stat().st_size,
                "sha256": sha256(path),
            }
            for key, path in files.items()
        },
        "created": meta["created"],
    }


def write_train_csv(result: TrainResult, path: Path) -> None:
    """The keys and values inside the model, at full float64 precision: columns x, y
    (x_0 .. x_{d-1}, y for data in R^d)."""
    header, rows = _train_rows(result)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)


def _train_rows(result: TrainResult) -> tuple[list[str], list[list[str]]]:
    x = result.x.detach().double().numpy()
    y = result.y.detach().double().numpy()
    header = ["x", "y"] if x.ndim == 1 else [f"x_{j}" for j in range(x.shape[1])] + ["y"]
    rows = np.column_stack([x.reshape(len(y), -1), y])
    return header, [[repr(float(v)) for v in row] for row in rows]

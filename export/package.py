"""Write the whole package for a trained model, verified, or nothing at all.

    DIR/model.onnx                                  the model (keys and values inside)
    DIR/model_card.json                             metadata, metrics, checksums
    DIR/train.csv                                   the training points (x, y)
    DIR/model_repository/<name>/config.pbtxt        Triton configuration
    DIR/model_repository/<name>/1/model.onnx        the same model, Triton layout

Everything is traced and checked in memory, written to a temporary directory next to DIR, read
back and checked again, and only then moved into place; on any failure DIR is left as it was.
Which directories may be written and which files replaced: export.outdir.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch

from export import card
from export.errors import ExportError
from export.onnx_model import DTYPES, to_onnx
from export.outdir import CARD, prepare_out_dir, staged
from export.triton import check_model_name, config_pbtxt
from export.verify import check_graph, check_parity
from nwcore import ParametricNW, TrainResult
from nwcore.frame import frame_of

__all__ = ["ExportSummary", "export_trained"]

_FLOAT32_LIMIT = 1e37  # float32 ends at 3.4e38; a margin for the frame's centre and span
_FLOAT32_TINY = float(np.finfo(np.float32).tiny)  # the smallest normal float32, 1.2e-38
_FLOAT32_RESOLUTION = 2.0**-24  # x must resolve this fraction of its span in float32


@dataclass(frozen=True)
class ExportSummary:
    """What `export_trained` wrote and how well the ONNX model matched torch."""

    out_dir: Path
    files: dict[str, Path]  # "model", "card", "train_csv", "triton_config", "triton_model"
    sizes: dict[str, int]  # same keys, bytes
    parity_error: float  # max abs error, onnxruntime vs torch float32, over all checks
    metadata: dict[str, str]  # the metadata_props inside model.onnx
    metrics: dict[str, Any]  # loo_mse, test_mse (None without a truth), parity details
    seconds: float = math.nan  # wall time of the export, tracing to rename
    stale_note: str | None = None  # one line when leftovers of a killed export were removed

    def text(self) -> str:
        """A few lines for people: files, learned w per head, parity."""
        w = json.loads(self.metadata["w"])
        lines = [f"exported to {self.out_dir} in {self.seconds:.1f} s"]
        for key, path in self.files.items():
            lines.append(f"  {path.relative_to(self.out_dir)!s:<44} {self.sizes[key]:>9,} bytes")
        lines.append(
            f"  kernel {self.metadata['kernel']}, {self.metadata['heads']} head(s), "
            f"w per head: {', '.join(f'{v:.4g}' for v in w)}"
        )
        if self.metrics.get("loo_mse") is not None:
            lines.append(f"  leave-one-out MSE {self.metrics['loo_mse']:.4g}")
        if self.metrics.get("test_mse") is not None:
            lines.append(f"  test MSE against the true f {self.metrics['test_mse']:.4g}")
        parity = self.metrics["parity"]
        lines.append(
            f"  parity onnxruntime vs torch ({self.metadata.get('dtype', 'float32')}): max abs "
            f"error {self.parity_error:.2g} (tolerance {parity['tolerance_y_hat']:.2g} on y_hat, "
            f"{parity['tolerance_attention_weights']:.0e} on the weights) at batch sizes "
            f"{', '.join(map(str, parity['batch_sizes']))}"
        )
        lines.append(
            f"  vs the float64 model: max error {parity['max_error_vs_float64_model']:.2g} "
            f"(|y_hat error| / max|y| and |weight error|; tolerance "
            f"{parity['accuracy_tolerance']:.0e})"
        )
        return "\n".join(lines)


def export_trained(
    result: TrainResult,
    out_dir: str | os.PathLike,
    *,
    dataset: str = "classic",
    name: str = "nw_attention",
    truth: tuple[Any, Any] | None = None,
    force: bool = False,
    dtype: str = "float32",
    author: str = card.DEFAULT_AUTHOR,
    license: str = card.DEFAULT_LICENSE,
) -> ExportSummary:
    """Export a trained parametric NW model as a verified, self-contained package.

    >>> import nwcore, tempfile
    >>> d = nwcore.make_dataset("classic", n_train=20)
    >>> r = nwcore.train_parametric(d.x_train, d.y_train)
    >>> s = export_trained(r, tempfile.mkdtemp() + "/m", truth=(d.x_test, d.y_truth))
    >>> sorted(s.files), s.parity_error < 1e-5
    (['card', 'model', 'train_csv', 'triton_config', 'triton_model'], True)

    truth: (x_test, y_truth) when the true function is known, to report the test MSE.
    out_dir may be missing, empty or hold an unchanged earlier export (its files are replaced,
    nothing else); force also allows any other directory and then replaces only the files
    this package writes (see export.outdir). dtype "float64" makes a float64 model (input x
    and outputs float64, same names and metadata) for data float32 cannot resolve.
    author and license become the ONNX-standard metadata keys model_author, model_license.
    Raises ExportError for bad arguments or an unusable out_dir, ParityError (an ExportError)
    when onnxruntime does not reproduce torch; in both cases nothing is written.
    """
    start = time.perf_counter()
    _check_result(result)
    name = check_model_name(name)
    if not isinstance(dataset, str) or not dataset.strip():
        raise ExportError(f"dataset must be a non-empty name, got {dataset!r}")
    if dtype not in DTYPES:
        raise ExportError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")
    for label, text in (("author", author), ("license", license)):
        if not isinstance(text, str) or not text.strip() or "\n" in text:
            raise ExportError(f"{label} must be a non-empty line of text, got {text!r}")
    _check_range(result, dtype)
    truth_q = _check_truth(truth, result)
    out = prepare_out_dir(out_dir, name, force)
    target = out.target

    meta = card.metadata(result, dataset.strip(), name, dtype=dtype, author=author, license=license)
    proto = to_onnx(result, meta, DTYPES[dtype])
    check_graph(proto)
    model_bytes = proto.SerializeToString()
    extra = {"truth": truth_q[0]} if truth_q is not None else None
    report, outputs = check_parity(result, model_bytes, extra, DTYPES[dtype])
    metrics = _metrics(result, report, outputs, truth_q)

    with staged(out) as tmp:
        files = {
            "model": tmp / "model.onnx",
            "train_csv": tmp / "train.csv",
            "triton_config": tmp / "model_repository" / name / "config.pbtxt",
            "triton_model": tmp / "model_repository" / name / "1" / "model.onnx",
        }
        files["triton_model"].parent.mkdir(parents=True)
        files["model"].write_bytes(model_bytes)
        files["triton_model"].write_bytes(model_bytes)
        card.write_train_csv(result, files["train_csv"])
        input_dim = int(meta["input_dim"])
        files["triton_config"].write_text(
            config_pbtxt(name, input_dim, int(meta["heads"]), int(meta["n_train"]), dtype),
            encoding="utf-8",
        )
        _check_written(files["model"], model_bytes)
        _check_written(files["triton_model"], model_bytes)
        content = card.model_card(meta, result, metrics, files, tmp)
        files["card"] = tmp / CARD
        files["card"].write_text(json.dumps(content, indent=2) + "\n", encoding="utf-8")

    final = {key: target / path.relative_to(tmp) for key, path in files.items()}
    return ExportSummary(
        out_dir=target,
        files=final,
        sizes={key: path.stat().st_size for key, path in final.items()},
        parity_error=report.max_abs_error,
        metadata=meta,
        metrics=metrics,
        seconds=time.perf_counter() - start,
        stale_note=out.stale_note(),
    )


def _check_written(path: Path, model_bytes: bytes) -> None:
    """Read the file back: same bytes, and onnx.checker passes on the file itself."""
    if path.read_bytes() != model_bytes:
        raise ExportError(f"{path} did not read back as written: check the disk and export again")
    try:
        onnx.checker.check_model(str(path), full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ExportError(
            f"{path} fails onnx.checker after writing ({exc}): export again"
        ) from None


def _check_result(result: Any) -> None:
    model = getattr(result, "model", None)
    x, y = getattr(result, "x", None), getattr(result, "y", None)
    if not isinstance(model, ParametricNW) or not isinstance(x, torch.Tensor):
        raise ExportError(
            f"export_trained needs the nwcore.TrainResult of train_parametric, got "
            f"{type(result).__name__}: train the model first"
        )
    if not isinstance(y, torch.Tensor) or y.ndim != 1 or x.ndim not in (1, 2):
        raise ExportError("the trained model's data must be x (N,) or (N, D) and y (N,)")
    if x.shape[0] != y.shape[0] or x.shape[0] < 1 or (x.ndim == 2 and x.shape[1] < 1):
        raise ExportError(f"x has {x.shape[0]} rows and y {y.shape[0]}: they must match")
    params = torch.cat([model.w.detach().reshape(-1), model.mix_logits.detach().reshape(-1)])
    for label, t in (("x", x), ("y", y), ("model parameters", params)):
        if not torch.isfinite(t.detach()).all():
            raise ExportError(f"the trained model's {label} hold NaN/inf: train it again")


def _check_range(result: TrainResult, dtype: str) -> None:
    if dtype != "float32":
        return
    scale = frame_of(result.x.detach().double()).scale
    if scale * _FLOAT32_RESOLUTION < _FLOAT32_TINY:
        raise ExportError(
            f"x spans only about {scale:.3g}: at that scale float32 numbers are denormal and "
            "lose their digits; export with --dtype float64, or rescale the data"
        )
    biggest = max(float(result.x.detach().abs().max()), float(result.y.detach().abs().max()))
    if biggest > _FLOAT32_LIMIT:
        raise ExportError(
            f"x or y reach {biggest:.3g}, beyond what a float32 model can hold (about "
            f"{_FLOAT32_LIMIT:.0e}): export with --dtype float64, or rescale the data"
        )


def _check_truth(truth: Any, result: TrainResult) -> tuple[np.ndarray, np.ndarray] | None:
    if truth is None:
        return None
    try:
        x_test, y_truth = truth
        xq = np.asarray(x_test.detach() if isinstance(x_test, torch.Tensor) else x_test)
        yq = np.asarray(y_truth.detach() if isinstance(y_truth, torch.Tensor) else y_truth)
        xq, yq = xq.astype(np.float64), yq.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise ExportError(f"truth must be (x_test, y_truth) arrays of numbers: {exc}") from None
    if xq.shape[1:] != tuple(result.x.shape[1:]) or yq.shape != xq.shape[:1] or not len(yq):
        raise ExportError(
            f"truth must be x_test shaped like the training x and y_truth (Q,), got "
            f"{xq.shape} and {yq.shape}"
        )
    if not (np.isfinite(xq).all() and np.isfinite(yq).all()):
        raise ExportError("truth holds NaN/inf: pass finite x_test and y_truth")
    return xq, yq


def _metrics(result, report, outputs, truth_q) -> dict[str, Any]:
    test_mse = None
    if truth_q is not None:
        y_onnx = outputs["truth"][0].astype(np.float64)
        test_mse = float(np.mean((y_onnx - truth_q[1]) ** 2))
    return {
        "loo_mse": card.finite_or_none(float(result.loss)),
        "test_mse": test_mse,
        "test_mse_note": (
            "mean squared error of the exported model against the noiseless f on the test grid"
            if truth_q is not None
            else "no ground truth for this dataset"
        ),
        "n_test": None if truth_q is None else int(truth_q[1].shape[0]),
        "parity": report.as_dict(),
    }

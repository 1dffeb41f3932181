"""python -m export --out DIR: train a parametric NW model, export it to ONNX, verify, summarise.

Bad input (flags, CSV, output directory) ends with a one-line message on stderr and exit
status 2; a model that fails its parity check ends with status 1. Nothing is half-written.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

from export import card
from export.errors import ExportError, ParityError
from export.outdir import prepare_out_dir
from export.package import export_trained
from export.runtime import load_session
from export.triton import check_model_name
from nwcore import (
    DATASETS,
    DEFAULT_SEED,
    KERNELS,
    MAX_HEADS,
    MIN_POINTS,
    MODES,
    NWError,
    load_csv,
    make_dataset,
    train_parametric,
)

# Leave-one-out training builds N x N x heads matrices with gradients: at 2000 points and 8
# heads that peaks near 3 GB, about what a workshop laptop can spare.
MAX_TRAIN_POINTS = 2000

_DESCRIPTION = """\
Train the parametric Nadaraya-Watson attention model (nwcore) and export it as a
self-contained ONNX package that any program can load with onnxruntime:

  OUT/model.onnx              input x float32 [batch] (or [batch, d]); outputs y_hat [batch]
                              and attention_weights [batch, n_train] ([batch, heads, n_train])
  OUT/model_card.json         metadata, metrics and checksums
  OUT/train.csv               the training points stored inside the model (x, y)
  OUT/model_repository/NAME/  the same model laid out for NVIDIA Triton Inference Server

The export is checked before anything is written: onnx.checker, then onnxruntime against
torch at batch sizes 1, 7 and 10,000 (within 1e-5; for y_hat 1e-5 x max|y| when |y| > 1),
then against nwcore's float64 model (within 1e-4; for y_hat 1e-4 x max|y|)."""

_EPILOG = """\
examples:
  python -m export --out build/model
  python -m export --out build/step3 --dataset step --kernel epanechnikov --heads 3
  python -m export --out build/mine --dataset data.csv --x-col time --y-col signal"""


def _heads(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not 1 <= value <= MAX_HEADS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from 1 to {MAX_HEADS}, got {text!r}"
        )
    return value


def _n_train(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not MIN_POINTS <= value <= MAX_TRAIN_POINTS:
        raise argparse.ArgumentTypeError(
            f"must be a whole number from {MIN_POINTS} to {MAX_TRAIN_POINTS}, got {text!r} "
            "(leave-one-out training needs memory for N x N pairs)"
        )
    return value


def _noise(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value >= 0 and value < float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if not 0 <= value < 2**63:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The CLI's argument parser (its --help is the user documentation)."""
    p = argparse.ArgumentParser(
        prog="python -m export",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument(
        "--out",
        required=True,
        metavar="DIR",
        help="directory to write the package to: created if missing; if it holds an earlier, "
        "unchanged export, that export's files are replaced (other files stay); any other "
        "non-empty directory is refused",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="write into a non-empty --out that is not an earlier export: replaces only the "
        "package's own files (model.onnx, model_card.json, train.csv, "
        "model_repository/NAME/...), never removes anything else",
    )
    p.add_argument(
        "--dataset",
        default="classic",
        metavar="NAME|FILE.csv",
        help=f"training data: one of {', '.join(DATASETS)} (synthetic, with a known true "
        "function, so the test error is reported) or the path of a CSV file with a header "
        "row (default: classic, the d2l book's experiment)",
    )
    p.add_argument(
        "--x-col",
        action="append",
        metavar="NAME",
        help="CSV only: the column holding x; repeat it for several x columns (x in R^d). "
        "Default: the first numeric column",
    )
    p.add_argument(
        "--y-col",
        metavar="NAME",
        help="CSV only: the column holding y. Default: the next numeric column",
    )
    p.add_argument(
        "--kernel",
        default="gaussian",
        choices=list(KERNELS),
        help="how attention falls off with distance |x - x_i| * w: "
        + "; ".join(f"{k} K(u) = {f}" for k, f in KERNELS.items())
        + " (default: gaussian)",
    )
    p.add_argument(
        "--heads",
        type=_heads,
        default=1,
        metavar=f"1..{MAX_HEADS}",
        help="number of attention heads, each with its own learned width w, mixed by learned "
        "weights (default: 1, the d2l model)",
    )
    p.add_argument(
        "--seed",
        type=_seed,
        default=DEFAULT_SEED,
        metavar="N",
        help=f"random seed for the synthetic data and the initial w (default: {DEFAULT_SEED}, "
        "the picture every workshop participant sees)",
    )
    p.add_argument(
        "--mode",
        default="converged",
        choices=list(MODES),
        help="training: 'converged' goes to the leave-one-out optimum (the model you would "
        "ship; default), 'd2l' repeats the book's 5 SGD steps with lr 0.5, which overshoot "
        "to a too-narrow kernel",
    )
    p.add_argument(
        "--n-train",
        type=_n_train,
        metavar="N",
        help=f"synthetic data only: number of training points, {MIN_POINTS}..{MAX_TRAIN_POINTS} "
        "(default: the dataset's own, e.g. 50 for classic)",
    )
    p.add_argument(
        "--noise",
        type=_noise,
        metavar="S",
        help="synthetic data only: standard deviation of the noise added to y "
        "(default: the dataset's own, e.g. 0.5 for classic)",
    )
    p.add_argument(
        "--dtype",
        default="float32",
        choices=["float32", "float64"],
        help="number type of the model's input and outputs (default: float32). The float32 "
        "model is checked against a float64 reference and refused when it cannot resolve the "
        "data (e.g. x = 1e8 + [0, 5]); float64 then exports such data correctly",
    )
    p.add_argument(
        "--author",
        default=card.DEFAULT_AUTHOR,
        metavar="TEXT",
        help=f"the ONNX metadata key model_author (default: {card.DEFAULT_AUTHOR})",
    )
    p.add_argument(
        "--license",
        default=card.DEFAULT_LICENSE,
        metavar="TEXT",
        help=f"the ONNX metadata key model_license (default: {card.DEFAULT_LICENSE})",
    )
    p.add_argument(
        "--name",
        default="nw_attention",
        metavar="NAME",
        help="model name, used as the Triton model directory (letters, digits, _ . -; "
        "default: nw_attention)",
    )
    return p


def _load_data(args: argparse.Namespace):
    """(x, y, dataset label, truth or None) from the flags, or ExportError."""
    if args.dataset in DATASETS:
        if args.x_col or args.y_col:
            raise ExportError("--x-col and --y-col apply to a CSV --dataset only: drop them")
        d = make_dataset(args.dataset, n_train=args.n_train, noise=args.noise, seed=args.seed)
        return d.x_train, d.y_train, d.name, (d.x_test, d.y_truth)
    path = Path(args.dataset)
    if path.suffix.lower() != ".csv" and not path.exists():
        raise ExportError(
            f"unknown dataset {args.dataset!r}: choose one of {', '.join(DATASETS)}, "
            "or give the path of a .csv file"
        )
    if args.n_train is not None or args.noise is not None:
        raise ExportError(
            "--n-train and --noise apply to synthetic datasets only; for a CSV, "
            "sample the rows you want in the file"
        )
    if not path.is_file():
        raise ExportError(f"no CSV file at {path}: check the path")
    x_col = None if not args.x_col else (args.x_col[0] if len(args.x_col) == 1 else args.x_col)
    d = load_csv(path, x_col, args.y_col)
    if d.n_train > MAX_TRAIN_POINTS:
        raise ExportError(
            f"{path} has {d.n_train} rows; the export trains on at most {MAX_TRAIN_POINTS} "
            "(leave-one-out training needs memory for N x N pairs): sample the rows"
        )
    return d.x_train, d.y_train, f"csv:{path.name}", None


def run(args: argparse.Namespace) -> str:
    """Train, export, verify and reload; returns the summary text."""
    check_model_name(args.name)
    note = prepare_out_dir(args.out, args.name, args.force).stale_note()  # fail before training
    if note:
        print(f"note: {note}", file=sys.stderr, flush=True)
    x, y, label, truth = _load_data(args)
    start = time.perf_counter()
    with warnings.catch_warnings():  # nwcore's L-BFGS loop warns about float(loss); harmless
        warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
        result = train_parametric(x, y, args.kernel, args.heads, args.mode, seed=args.seed)
    trained = time.perf_counter() - start
    summary = export_trained(
        result,
        args.out,
        dataset=label,
        name=args.name,
        truth=truth,
        force=args.force,
        dtype=args.dtype,
        author=args.author,
        license=args.license,
    )
    session = load_session(summary.files["model"])
    session.run(x[:1].double().numpy())  # the file as written, through the runtime helper
    return "\n".join(
        [
            f"trained {args.mode} on {label} (n = {x.shape[0]}) in {trained:.2f} s",
            summary.text(),
            f"  runtime check: {session.provider_note}",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 1 parity failure, 2 bad input, 130 Ctrl-C)."""
    args = build_parser().parse_args(argv)
    try:
        print(run(args))
    except KeyboardInterrupt:
        print(f"interrupted (Ctrl-C): no half-written package left in {args.out}", file=sys.stderr)
        return 130
    except ParityError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (ExportError, NWError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

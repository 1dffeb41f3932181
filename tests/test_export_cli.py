"""`python -m export`: a real run in a subprocess, its --help, and every kind of bad input.

Bad input must end with exit status 2, a message on stderr saying what to fix, no traceback,
and no output directory.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import nwcore
from export.__main__ import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def _cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "export", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def cli_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "pkg"
    proc = _cli("--out", str(out), "--kernel", "epanechnikov", "--heads", "2", "--n-train", "30")
    return proc, out


def test_cli_exports_a_verified_package(cli_run):
    proc, out = cli_run
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for rel in [
        "model.onnx",
        "model_card.json",
        "train.csv",
        "model_repository/nw_attention/config.pbtxt",
        "model_repository/nw_attention/1/model.onnx",
    ]:
        assert (out / rel).is_file(), rel
        assert f"{rel} " in proc.stdout  # the summary lists each file with its size
    assert "w per head" in proc.stdout and "parity" in proc.stdout
    assert "runtime check: CPUExecutionProvider" in proc.stdout or "CUDA" in proc.stdout
    card = json.loads((out / "model_card.json").read_text())
    assert card["metadata"]["kernel"] == "epanechnikov"
    assert card["metadata"]["heads"] == "2" and card["metadata"]["n_train"] == "30"
    assert card["metadata"]["training_mode"] == "converged"  # the CLI's default
    assert card["metrics"]["parity"]["max_abs_error"] <= 1e-5


def test_model_written_by_an_earlier_process_matches_a_fresh_torch_model(cli_run):
    """Retrain from the CLI's own defaults in this process and compare with the file."""
    _, out = cli_run
    d = nwcore.make_dataset("classic", n_train=30, seed=nwcore.DEFAULT_SEED)
    result = nwcore.train_parametric(
        d.x_train, d.y_train, "epanechnikov", 2, "converged", seed=nwcore.DEFAULT_SEED
    )
    q = np.linspace(-3.0, 8.0, 301, dtype=np.float32)
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    y_hat, weights = session.run(None, {"x": q})
    model = copy.deepcopy(result.model).float()
    with torch.no_grad():
        y_ref, w_ref = model(torch.from_numpy(q), result.x.float(), result.y.float())
    np.testing.assert_allclose(y_hat, y_ref.numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(weights, w_ref.numpy(), rtol=0, atol=1e-5)


def test_help_explains_every_option(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    text = capsys.readouterr().out
    for option in build_parser()._option_string_actions:
        assert option in text
    for word in ["model.onnx", "model_card.json", "train.csv", "Triton", "1e-5", *nwcore.KERNELS]:
        assert word in text


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "data.csv"
    path.write_text(text)
    return path


BAD = [
    (["--kernel", "cosine"], "invalid choice: 'cosine'"),
    (["--heads", "0"], "whole number from 1 to 8"),
    (["--heads", "two"], "whole number from 1 to 8"),
    (["--mode", "fast"], "invalid choice: 'fast'"),
    (["--n-train", "1"], "whole number from 3 to"),
    (["--noise", "-1"], "finite number >= 0"),
    (["--noise", "nan"], "finite number >= 0"),
    (["--seed", "-4"], "whole number >= 0"),
    (["--dataset", "moons"], "unknown dataset 'moons'"),
    (["--dataset", "missing.csv"], "no CSV file at missing.csv"),
    (["--name", "../up"], "cannot be a Triton model directory"),
    (["--x-col", "a"], "--x-col and --y-col apply to a CSV"),
    (["--dataset", "{csv}", "--n-train", "10"], "apply to synthetic datasets only"),
    (["--dataset", "{csv}", "--x-col", "nope"], "no column named 'nope'"),
    (["--dataset", "{csv}", "--x-col", "label", "--y-col", "y"], "non-numeric entries"),
    (["--out", "{file}/pkg"], "is a file, not a directory"),
    (["--out", "{full}"], "not an earlier export"),
]


@pytest.mark.parametrize(("flags", "message"), BAD, ids=[" ".join(f) for f, _ in BAD])
def test_bad_input_exits_2_with_a_clear_message(tmp_path, capsys, flags, message):
    csv_path = _csv(tmp_path, "a,label,y\n0,p,1\n1,q,2\n2,r,0\n3,s,1\n")
    (tmp_path / "file").write_text("a file where a directory should be")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "thesis.tex").write_text("not an export")
    places = {"{csv}": csv_path, "{file}": tmp_path / "file", "{full}": tmp_path / "full"}
    args = list(flags)
    for key, path in places.items():
        args = [a.replace(key, str(path)) for a in args]
    if "--out" not in args:
        args = ["--out", str(tmp_path / "pkg"), *args]
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err
    assert not (tmp_path / "pkg").exists()
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["thesis.tex"]


def test_unwritable_out_dir_fails_fast_in_a_real_process(tmp_path):
    (tmp_path / "file").write_text("x")
    proc = _cli("--out", str(tmp_path / "file" / "pkg"))
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: cannot create the output directory's parent")
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""


def test_csv_with_two_x_columns_exports_a_batch_by_2_model(tmp_path, capsys):
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 3, (25, 2))
    rows = "\n".join(f"{a:.6f},{b:.6f},{np.sin(a + b):.6f},note" for a, b in xy)
    path = _csv(tmp_path, "a,b,target,comment\n" + rows + "\n")
    out = tmp_path / "pkg"
    code = main(
        ["--out", str(out), "--dataset", str(path), "--x-col", "a", "--x-col", "b"]
        + ["--y-col", "target", "--mode", "d2l"]
    )
    assert code == 0, capsys.readouterr().err
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == ["batch", 2]
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["dataset"] == "csv:data.csv" and meta["input_dim"] == "2"
    card = json.loads((out / "model_card.json").read_text())
    assert card["metrics"]["test_mse"] is None  # a CSV has no known truth
    header = (out / "train.csv").read_text().splitlines()[0]
    assert header == "x_0,x_1,y"


def test_author_license_and_training_data_hash_are_in_the_model_and_card(tmp_path, capsys):
    out = tmp_path / "pkg"
    code = main(
        ["--out", str(out), "--n-train", "12", "--author", "Ada L.", "--license", "CC-BY-4.0"]
    )
    assert code == 0, capsys.readouterr().err
    props = {p.key: p.value for p in onnx.load(out / "model.onnx").metadata_props}
    assert props["model_author"] == "Ada L." and props["model_license"] == "CC-BY-4.0"
    rows = (out / "train.csv").read_bytes().split(b"\n", 1)[1]  # the data, header dropped
    assert props["training_data_sha256"] == hashlib.sha256(rows).hexdigest()
    card = json.loads((out / "model_card.json").read_text())
    assert card["provenance"]["model_author"] == "Ada L."
    assert card["provenance"]["training_data_sha256"] == props["training_data_sha256"]
    assert main(["--out", str(tmp_path / "d"), "--n-train", "12"]) == 0
    props = {p.key: p.value for p in onnx.load(tmp_path / "d" / "model.onnx").metadata_props}
    assert props["model_author"] == "attention-pooling-lab" and props["model_license"] == "MIT"


def test_blank_author_is_refused_with_exit_2(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "pkg"), "--n-train", "12", "--author", " "]) == 2
    assert "author must be a non-empty line" in capsys.readouterr().err
    assert not (tmp_path / "pkg").exists()

"""`--out` safety: export never removes a file it did not write (the export contract).

Every test puts a real file of the user's in the way and checks it byte for byte afterwards.
The references are the file system itself (pathlib, hashlib), not export's own bookkeeping.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import onnxruntime as ort
import pytest

from export.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--n-train", "12", "--mode", "d2l"]  # training in a fraction of a second
THESIS = "chapter 1: why my results matter\n"


def _refusal(out: Path) -> str:
    return (
        f"error: {out} is not empty and is not an earlier export: choose another --out, or "
        "add --force to replace only the package's files\n"
    )


def _snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _hidden(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


def _cli_script(tmp_path: Path, body: str, *args: str) -> subprocess.CompletedProcess:
    """Run `python -m export` in a fresh process after `body` (which may patch export)."""
    script = tmp_path / "run_export.py"
    script.write_text(f"import sys\n{body}\nfrom export.__main__ import main\nsys.exit(main())\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, str(script), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="module")
def earlier(tmp_path_factory) -> Path:
    """An export written earlier, to copy wherever a test needs one."""
    out = tmp_path_factory.mktemp("earlier") / "pkg"
    assert main(["--out", str(out), *FAST]) == 0
    return out


def test_a_file_named_model_onnx_does_not_make_a_directory_an_export(tmp_path, capsys):
    """The issue's repro: today `thesis.txt` is deleted."""
    out = tmp_path / "u"
    out.mkdir()
    (out / "model.onnx").write_text("x\n")
    (out / "thesis.txt").write_text(THESIS)
    before = _snapshot(out)
    assert main(["--out", str(out), *FAST]) == 2
    assert capsys.readouterr().err == _refusal(out)
    assert _snapshot(out) == before and _hidden(tmp_path) == []


def test_a_card_of_someone_else_does_not_make_a_directory_an_export(tmp_path, capsys):
    out = tmp_path / "u"
    out.mkdir()
    (out / "model_card.json").write_text('{"files": {"notes": {"path": "thesis.txt"}}}')
    (out / "thesis.txt").write_text(THESIS)
    before = _snapshot(out)
    assert main(["--out", str(out), *FAST]) == 2
    assert capsys.readouterr().err == _refusal(out)
    assert _snapshot(out) == before


def test_a_changed_earlier_export_is_refused_untouched(earlier, tmp_path, capsys):
    out = tmp_path / "pkg"
    shutil.copytree(earlier, out)
    with open(out / "train.csv", "a") as fh:
        fh.write("9.0,9.0\n")  # the user edited the data: the card's sha256 no longer matches
    before = _snapshot(out)
    assert main(["--out", str(out), *FAST]) == 2
    assert capsys.readouterr().err == _refusal(out)
    assert _snapshot(out) == before


def test_reexport_replaces_only_the_earlier_exports_files(earlier, tmp_path, capsys):
    out = tmp_path / "pkg"
    shutil.copytree(earlier, out)
    (out / "thesis.txt").write_text(THESIS)
    (out / "model_repository" / "their_model" / "1").mkdir(parents=True)
    (out / "model_repository" / "their_model" / "config.pbtxt").write_text('name: "theirs"\n')
    assert main(["--out", str(out), "--name", "second", *FAST]) == 0, capsys.readouterr().err
    assert (out / "thesis.txt").read_text() == THESIS
    assert (out / "model_repository" / "their_model" / "config.pbtxt").is_file()
    assert (out / "model_repository" / "their_model" / "1").is_dir()  # even an empty folder
    assert sorted(p.name for p in (out / "model_repository").iterdir()) == [
        "second",
        "their_model",
    ]  # the earlier export's nw_attention/ is gone with its files
    session = ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert session.get_modelmeta().custom_metadata_map["name"] == "second"
    assert _hidden(tmp_path) == []


def test_force_replaces_only_the_files_the_package_writes(tmp_path, capsys):
    out = tmp_path / "u"
    (out / "model_repository" / "their_model").mkdir(parents=True)
    (out / "model_repository" / "their_model" / "config.pbtxt").write_text('name: "theirs"\n')
    (out / "model.onnx").write_text("x\n")
    (out / "thesis.txt").write_text(THESIS)
    (out / "results.csv").write_text("a,b\n1,2\n")
    assert main(["--out", str(out), "--force", *FAST]) == 0, capsys.readouterr().err
    files = _snapshot(out)
    assert files["thesis.txt"] == THESIS.encode() and files["results.csv"] == b"a,b\n1,2\n"
    assert files["model_repository/their_model/config.pbtxt"] == b'name: "theirs"\n'
    assert files["model.onnx"] != b"x\n"  # ours now: a real model
    ort.InferenceSession(str(out / "model.onnx"), providers=["CPUExecutionProvider"])
    assert sorted(files) == [
        "model.onnx",
        "model_card.json",
        "model_repository/nw_attention/1/model.onnx",
        "model_repository/nw_attention/config.pbtxt",
        "model_repository/their_model/config.pbtxt",
        "results.csv",
        "thesis.txt",
        "train.csv",
    ]
    # and the forced export is an earlier export from now on: no --force needed to redo it
    assert main(["--out", str(out), *FAST]) == 0
    assert _snapshot(out)["thesis.txt"] == THESIS.encode()


def test_force_refuses_a_folder_where_the_package_writes_a_file(tmp_path, capsys):
    out = tmp_path / "u"
    (out / "train.csv").mkdir(parents=True)
    (out / "train.csv" / "part1.csv").write_text("x,y\n")
    assert main(["--out", str(out), "--force", *FAST]) == 2
    err = capsys.readouterr().err
    assert "train.csv is a folder where the package writes a file" in err
    assert len(err.splitlines()) == 1 and (out / "train.csv" / "part1.csv").is_file()


def test_a_killed_export_leaves_only_hidden_siblings_that_the_next_run_removes(tmp_path):
    out = tmp_path / "pkg"
    (tmp_path / "thesis.txt").write_text(THESIS)
    kill = (
        "import os, signal\nimport export.card\n"
        "def killed(*args, **kwargs):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        "export.card.model_card = killed\n"
    )
    proc = _cli_script(tmp_path, kill, "--out", str(out), *FAST)
    assert proc.returncode == -9
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".pkg.tmp-")]
    assert len(leftovers) == 1 and not out.exists()
    # things that look alike but are not ours, or not stale, must all survive
    keep = [
        tmp_path / ".pkg.tmp-notes",  # not our hex suffix
        tmp_path / ".other.tmp-0123456789ab",  # another --out's
        tmp_path / ".pkg.old-0123456789ab",  # ours by name, but fresh: maybe a live export
    ]
    for path in keep:
        path.mkdir()
        (path / "data.txt").write_text("keep")
    (tmp_path / ".pkg.old-aaaaaaaaaaaa").write_text("a file, not a folder of ours")
    hour_ago = time.time() - 3600
    for path in [leftovers[0], *leftovers[0].rglob("*")]:
        os.utime(path, (hour_ago, hour_ago), follow_symlinks=False)
    proc = _cli_script(tmp_path, "", "--out", str(out), *FAST)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note:")]
    assert notes == [
        f"note: removed 1 stale folder(s) left beside {out} by an interrupted export: "
        f"{leftovers[0].name}"
    ]
    assert not leftovers[0].exists()
    assert all((p / "data.txt").read_text() == "keep" for p in keep)
    assert (tmp_path / ".pkg.old-aaaaaaaaaaaa").is_file()
    assert (tmp_path / "thesis.txt").read_text() == THESIS and (out / "model.onnx").is_file()


def test_ctrl_c_while_writing_prints_one_line_and_keeps_the_earlier_export(earlier, tmp_path):
    out = tmp_path / "pkg"
    shutil.copytree(earlier, out)
    (out / "thesis.txt").write_text(THESIS)
    before = _snapshot(out)
    # the real signal, at the worst moment: new files half moved into place
    interrupt = (
        "import os, signal\n_rename = os.rename\ninto_out = []\n"
        "def rename(src, dst):\n"
        f"    if str(dst).startswith({str(out) + os.sep!r}):\n"
        "        into_out.append(dst)\n"
        "        if len(into_out) == 3:\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "    return _rename(src, dst)\n"
        "os.rename = rename\n"
    )
    proc = _cli_script(tmp_path, interrupt, "--out", str(out), *FAST)
    assert proc.returncode == 130
    assert proc.stderr == f"interrupted (Ctrl-C): no half-written package left in {out}\n"
    assert _snapshot(out) == before
    assert _hidden(tmp_path) == []

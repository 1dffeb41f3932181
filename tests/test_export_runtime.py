"""The runtime helper (export.load_session): provider choice, metadata, input checks, bad files.

References: plain onnxruntime.InferenceSession and onnx.load. The app-developer snippet from
the README is run in a separate, isolated Python process that cannot import this project.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import export
import nwcore
from export import runtime

ROOT = Path(__file__).resolve().parents[1]
CUDA = "CUDAExecutionProvider"
NO_CUDA = runtime.cuda_unavailable_reason()

# What the README's "Use the model in your app" section shows: numpy + onnxruntime only.
SNIPPET = """
import json
import sys

import numpy as np
import onnxruntime as ort

path = sys.argv[1] if len(sys.argv) > 1 else "build/model/model.onnx"

# GPU when onnxruntime-gpu finds a working CUDA, else the CPU.
wanted = ["CUDAExecutionProvider", "CPUExecutionProvider"]
providers = [p for p in wanted if p in ort.get_available_providers()]
session = ort.InferenceSession(path, providers=providers)
print("running on", session.get_providers()[0])

meta = session.get_modelmeta().custom_metadata_map  # all strings; lists are JSON
print("kernel", meta["kernel"], "heads", meta["heads"], "w", json.loads(meta["w"]))

x = np.array([0.5, 1.0, 2.5, 4.0], dtype=np.float32)  # shape [batch]; [batch, d] for d columns
y_hat, weights = session.run(["y_hat", "attention_weights"], {"x": x})
print("y_hat", y_hat)  # shape [batch]
print("attention_weights", weights.shape)  # [batch, n_train], or [batch, heads, n_train]
"""


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> Path:
    d = nwcore.make_dataset("classic", n_train=20)
    result = nwcore.train_parametric(d.x_train, d.y_train, "triangular", 1, "d2l")
    out = tmp_path_factory.mktemp("runtime") / "pkg"
    return export.export_trained(result, out, dataset="classic").files["model"]


def _plain(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_helper_matches_plain_onnxruntime_and_reads_metadata_back(model):
    s = export.load_session(model, prefer_gpu=False)
    q = np.linspace(-2.0, 7.0, 101, dtype=np.float32)
    y_hat, weights = s.run(q)
    y_ref, w_ref = _plain(model).run(None, {"x": q})
    np.testing.assert_array_equal(y_hat, y_ref)
    np.testing.assert_array_equal(weights, w_ref)
    props = {p.key: p.value for p in onnx.load(model).metadata_props}
    assert s.metadata == props
    assert (s.heads, s.input_dim, s.n_keys, s.kernel) == (1, 1, 20, "triangular")
    assert s.provider == "CPUExecutionProvider" and "prefer_gpu=False" in s.provider_note


def test_helper_opens_the_directory_of_an_export_too(model):
    assert export.load_session(model.parent, prefer_gpu=False).path == model


def test_float64_lists_and_integers_are_converted_to_float32(model):
    s = export.load_session(model, prefer_gpu=False)
    want = s.run(np.array([1.0, 2.0, 3.0], dtype=np.float32))
    for x in ([1.0, 2.0, 3.0], (1, 2, 3), np.array([1.0, 2.0, 3.0]), np.arange(1, 4)):
        got = s.run(x)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize(
    ("x", "message"),
    [
        (np.array(["1.0", "2.0"]), "must hold numbers, got dtype <U3"),
        ([1.0, "a"], "must hold numbers"),
        ([{"x": 1}], "must hold numbers, got dtype object"),
        (np.array([True, False]), "real numbers, got dtype bool"),
        (np.array([1 + 2j]), "real numbers, got dtype complex"),
        ([[1.0, 2.0], [3.0]], "numpy could not read it"),
        (1.5, r"shape \[batch\], got \(\) \(wrap one value"),
        (np.zeros((3, 1), np.float32), r"shape \[batch\], got \(3, 1\)"),
        (np.zeros((2, 2, 2), np.float32), r"shape \[batch\], got \(2, 2, 2\)"),
        (np.zeros(0, np.float32), "empty batch"),
        ([], "empty batch"),
        ([0.0, np.nan, 1.0], "1 NaN/inf value.*index 1"),
        ([np.inf, -np.inf], "2 NaN/inf value.*index 0"),
        (np.array([1e39]), "beyond float32's range"),
    ],
)
def test_helper_refuses_bad_input_with_a_clear_message(model, x, message):
    s = export.load_session(model, prefer_gpu=False)
    with pytest.raises(export.ExportError, match=message):
        s.run(x)


def test_multivariate_input_must_have_d_columns():
    with pytest.raises(export.ExportError, match=r"\[batch, 3\].*got \(3,\).*reshape\(1, -1\)"):
        export.validate_input([1.0, 2.0, 3.0], input_dim=3)
    with pytest.raises(export.ExportError, match=r"\[batch, 3\].*got \(4, 2\)"):
        export.validate_input(np.zeros((4, 2)), input_dim=3)
    assert export.validate_input(np.zeros((4, 3)), input_dim=3).dtype == np.float32


def test_missing_empty_truncated_and_foreign_files_give_clear_errors(model, tmp_path):
    with pytest.raises(export.ExportError, match="no model file at .*python -m export"):
        export.load_session(tmp_path / "nowhere.onnx")
    with pytest.raises(export.ExportError, match="no model file at .*model.onnx"):
        export.load_session(tmp_path)  # a directory without a model
    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(export.ExportError, match="is empty"):
        export.load_session(tmp_path / "empty.onnx")
    data = model.read_bytes()
    (tmp_path / "half.onnx").write_bytes(data[: len(data) // 2])
    with pytest.raises(export.ExportError, match="damaged or truncated: export it again"):
        export.load_session(tmp_path / "half.onnx")
    (tmp_path / "text.onnx").write_text("this is not a model")
    with pytest.raises(export.ExportError, match="not a readable ONNX model"):
        export.load_session(tmp_path / "text.onnx")
    node = onnx.helper.make_node("Relu", ["input"], ["output"])
    graph = onnx.helper.make_graph(
        [node],
        "other",
        [onnx.helper.make_tensor_value_info("input", onnx.TensorProto.FLOAT, ["n"])],
        [onnx.helper.make_tensor_value_info("output", onnx.TensorProto.FLOAT, ["n"])],
    )
    other = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 18)])
    other.ir_version = 8
    onnx.save(other, tmp_path / "relu.onnx")
    with pytest.raises(export.ExportError, match="not an NW attention export"):
        export.load_session(tmp_path / "relu.onnx")


@pytest.mark.skipif(NO_CUDA is None, reason="this machine has a GPU driver")
def test_cpu_fallback_on_a_machine_without_gpu(model):
    s = export.load_session(model, prefer_gpu=True)
    assert s.provider == "CPUExecutionProvider"
    assert s.provider_note == f"CPUExecutionProvider ({NO_CUDA})"
    assert s.run([1.0])[0].shape == (1,)


def test_a_cuda_provider_that_fails_to_start_falls_back_to_cpu(model, monkeypatch):
    """onnxruntime lists CUDA and a driver seems present, but no session starts on it."""
    if NO_CUDA is None:
        pytest.skip("CUDA may really work here")
    available = ort.get_available_providers()
    monkeypatch.setattr(runtime, "_nvidia_driver_present", lambda: True)
    monkeypatch.setattr(ort, "get_available_providers", lambda: [CUDA, *available])
    s = export.load_session(model, prefer_gpu=True)
    assert s.provider == "CPUExecutionProvider"
    assert "CUDA" in s.provider_note and s.session.get_providers() == ["CPUExecutionProvider"]
    np.testing.assert_array_equal(s.run([2.0])[0], _plain(model).run(None, {"x": [2.0]})[0])


@pytest.mark.gpu
@pytest.mark.skipif(NO_CUDA is not None, reason=f"no CUDA: {NO_CUDA}")
def test_gpu_session_matches_cpu(model):
    s = export.load_session(model, prefer_gpu=True)
    if s.provider != CUDA:
        pytest.skip(f"CUDA did not start: {s.provider_note}")
    q = np.linspace(-2.0, 7.0, 10_000, dtype=np.float32)
    y_gpu, w_gpu = s.run(q)
    y_cpu, w_cpu = _plain(model).run(None, {"x": q})
    np.testing.assert_allclose(y_gpu, y_cpu, rtol=0, atol=1e-5)
    np.testing.assert_allclose(w_gpu, w_cpu, rtol=0, atol=1e-5)


def _run_isolated(code: str, model: Path, cwd: Path) -> subprocess.CompletedProcess:
    """python -I: no PYTHONPATH, no current directory on sys.path; this project is invisible."""
    guard = "\nimport sys\nassert not {'torch', 'nwcore', 'export'} & set(sys.modules)\n"
    return subprocess.run(
        [sys.executable, "-I", "-c", code + guard, str(model)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_app_snippet_runs_with_only_numpy_and_onnxruntime(model, tmp_path):
    proc = _run_isolated(SNIPPET, model, tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "kernel triangular heads 1" in proc.stdout
    assert "attention_weights (4, 20)" in proc.stdout


def test_readme_snippet_runs_with_only_numpy_and_onnxruntime(model, tmp_path):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("### Use the model in your app")
    block = re.search(r"```python\n(.*?)```", readme[start:], re.S)  # the section's first block
    assert block, "README's 'Use the model in your app' section has no python block"
    proc = _run_isolated(block.group(1), model, tmp_path)
    assert proc.returncode == 0, proc.stderr

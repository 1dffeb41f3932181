"""The exported package: ONNX round trip, metadata, dynamic batch, Triton layout, card, safety.

References are independent of export's own checks: plain onnxruntime.InferenceSession (not the
helper), nwcore's ParametricNW run eagerly by torch, onnx.load, Triton's ModelConfig protobuf,
json/csv/hashlib from the standard library.
"""

from __future__ import annotations

import copy
import csv
import hashlib
import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

import export
import nwcore

ATOL = 1e-5
KEYS = ("kernel", "w", "heads", "n_train", "dataset", "training_mode", "loss", "version")


def _plain_session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def _torch_reference(result, q: np.ndarray):
    """nwcore's own forward, float32, on the same float32 keys and values."""
    model = copy.deepcopy(result.model).float().eval()
    with torch.no_grad():
        y_hat, weights = model(torch.from_numpy(q), result.x.float(), result.y.float())
    weights = weights[:, 0, :] if result.model.heads == 1 else weights  # (Q, K) for one head
    return y_hat.numpy(), weights.numpy()


def _train(kernel: str, heads: int, n: int = 20, seed: int = 3):
    d = nwcore.make_dataset("classic", n_train=n, seed=seed)
    mode = "d2l" if heads == 1 else "converged"  # both training modes get exported
    return d, nwcore.train_parametric(d.x_train, d.y_train, kernel, heads, mode, seed=seed)


@pytest.fixture(
    scope="module",
    params=[(k, h) for k in nwcore.KERNELS for h in (1, 3)],
    ids=lambda p: f"{p[0]}-h{p[1]}",
)
def exported(request, tmp_path_factory):
    kernel, heads = request.param
    d, result = _train(kernel, heads)
    out = tmp_path_factory.mktemp(f"{kernel}{heads}") / "pkg"
    summary = export.export_trained(result, out, truth=(d.x_test, d.y_truth))
    return SimpleNamespace(result=result, summary=summary, data=d, out=out, heads=heads)


def test_onnxruntime_matches_torch_for_every_kernel_and_head_count(exported):
    rng = np.random.default_rng(1)
    q = np.concatenate(
        [
            exported.result.x.float().numpy(),  # the training points themselves
            rng.uniform(-2.0, 7.0, 500),  # in and around the data (x in [0, 5))
            [-500.0, -40.0, 60.0, 500.0],  # far away: compact kernels have empty windows
        ]
    ).astype(np.float32)
    y_hat, weights = _plain_session(exported.out / "model.onnx").run(None, {"x": q})
    y_ref, w_ref = _torch_reference(exported.result, q)
    assert weights.shape == w_ref.shape
    np.testing.assert_allclose(y_hat, y_ref, rtol=0, atol=ATOL)
    np.testing.assert_allclose(weights, w_ref, rtol=0, atol=ATOL)
    assert np.isfinite(y_hat).all()
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=ATOL)
    assert exported.summary.parity_error <= ATOL


def test_metadata_round_trips_through_plain_onnx_load(exported):
    props = {p.key: p.value for p in onnx.load(exported.out / "model.onnx").metadata_props}
    r = exported.result
    assert set(KEYS) <= set(props)
    assert props["kernel"] == r.model.kernel
    assert int(props["heads"]) == exported.heads
    assert json.loads(props["w"]) == pytest.approx(r.w, rel=1e-15)
    assert len(json.loads(props["w"])) == exported.heads
    assert int(props["n_train"]) == 20
    assert props["dataset"] == "classic"
    assert props["training_mode"] == r.mode
    assert float(props["loss"]) == pytest.approx(r.loss, rel=1e-15)
    assert props["version"] == nwcore.__version__
    assert props == exported.summary.metadata


def test_graph_is_standard_self_contained_onnx(exported, tmp_path):
    model = onnx.load(exported.out / "model.onnx")
    onnx.checker.check_model(model, full_check=True)
    domains = {o.domain for o in model.opset_import} | {n.domain for n in model.graph.node}
    assert domains <= {"", "ai.onnx"}
    assert len(model.functions) == 0
    assert all(t.data_location != onnx.TensorProto.EXTERNAL for t in model.graph.initializer)
    stored = [onnx.numpy_helper.to_array(t).ravel() for t in model.graph.initializer]
    y = exported.result.y.double().numpy()
    if exported.result.model.kernel == "constant":  # the prediction is the mean of y
        values = np.array([y.mean()], dtype=np.float32)
    else:  # the values y_i inside, times each head's mixture weight pi_h
        mixture = np.array(exported.result.mixture)
        values = (mixture[:, None] * y[None, :]).ravel().astype(np.float32)
    assert any(a.shape == values.shape and np.array_equal(a, values) for a in stored)
    root = str(Path(export.__file__).resolve().parents[1]).encode()
    assert root not in (exported.out / "model.onnx").read_bytes()  # no local paths inside
    # the file alone, copied elsewhere, is the whole model
    alone = tmp_path / "copy.onnx"
    shutil.copy(exported.out / "model.onnx", alone)
    assert [p.name for p in tmp_path.iterdir()] == ["copy.onnx"]
    assert _plain_session(alone).run(None, {"x": np.array([1.0], np.float32)})[0].shape == (1,)


def test_batch_axis_is_dynamic_for_1_7_and_10000_queries(exported):
    session = _plain_session(exported.out / "model.onnx")
    assert [i.name for i in session.get_inputs()] == ["x"]
    assert [o.name for o in session.get_outputs()] == ["y_hat", "attention_weights"]
    assert session.get_inputs()[0].shape == ["batch"]
    assert session.get_inputs()[0].type == "tensor(float)"
    per_query = (20,) if exported.heads == 1 else (exported.heads, 20)
    for batch in (1, 7, 10_000):
        q = np.linspace(-1.0, 6.0, batch, dtype=np.float32)
        y_hat, weights = session.run(None, {"x": q})
        assert y_hat.shape == (batch,) and y_hat.dtype == np.float32
        assert weights.shape == (batch, *per_query)
    assert {1, 7, 10_000} <= set(exported.summary.metrics["parity"]["batch_sizes"])


def test_triton_config_parses_as_modelconfig_and_matches_the_graph(exported):
    from google.protobuf import text_format
    from tritonclient.grpc import model_config_pb2

    repo = exported.out / "model_repository" / "nw_attention"
    config = text_format.Parse((repo / "config.pbtxt").read_text(), model_config_pb2.ModelConfig())
    assert config.name == "nw_attention"
    assert config.platform == "onnxruntime_onnx"
    assert config.max_batch_size > 0 and config.HasField("dynamic_batching")
    assert [g.kind for g in config.instance_group] == [model_config_pb2.ModelInstanceGroup.KIND_GPU]
    assert "KIND_CPU" in (repo / "config.pbtxt").read_text()  # the documented CPU fallback
    assert (repo / "1" / "model.onnx").read_bytes() == (exported.out / "model.onnx").read_bytes()
    graph = onnx.load(repo / "1" / "model.onnx").graph
    onnx_shapes = {
        v.name: [
            d.dim_value if d.HasField("dim_value") else -1 for d in v.type.tensor_type.shape.dim
        ]
        for v in [*graph.input, *graph.output]
    }
    triton = list(config.input) + list(config.output)
    assert [t.name for t in triton] == ["x", "y_hat", "attention_weights"]
    for t in triton:
        assert t.data_type == model_config_pb2.TYPE_FP32
        per_request = list(t.reshape.shape) if t.HasField("reshape") else list(t.dims)
        assert [-1, *per_request] == onnx_shapes[t.name], t.name  # Triton adds the batch axis


def test_model_card_and_train_csv_describe_the_model(exported):
    out, d, r = exported.out, exported.data, exported.result

    def no_nan(token):
        raise ValueError(f"model_card.json holds {token}, which is not JSON")

    card = json.loads((out / "model_card.json").read_text(), parse_constant=no_nan)
    assert card["metadata"] == exported.summary.metadata
    assert card["model"]["w"] == pytest.approx(r.w)
    assert card["model"]["mixture"] == pytest.approx(r.mixture)
    for entry in card["files"].values():
        assert hashlib.sha256((out / entry["path"]).read_bytes()).hexdigest() == entry["sha256"]
        assert (out / entry["path"]).stat().st_size == entry["bytes"]
    assert card["metrics"]["loo_mse"] == pytest.approx(r.loss)
    # test MSE recomputed here from plain onnxruntime against the known f
    q = d.x_test.float().numpy()
    y_hat = _plain_session(out / "model.onnx").run(None, {"x": q})[0].astype(np.float64)
    want = float(np.mean((y_hat - d.y_truth.numpy()) ** 2))
    assert card["metrics"]["test_mse"] == pytest.approx(want, rel=1e-6)
    with open(out / "train.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["x", "y"]
    got = np.array(rows[1:], dtype=np.float64)
    np.testing.assert_array_equal(got[:, 0], d.x_train.numpy())  # exact: full precision
    np.testing.assert_array_equal(got[:, 1], d.y_train.numpy())


def test_multivariate_model_takes_batch_by_d_and_matches_nwcore(tmp_path):
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, 3, generator=g, dtype=torch.float64) * 4
    result = nwcore.train_parametric(x, (x.sum(1)).sin(), "gaussian", 2, "converged")
    summary = export.export_trained(result, tmp_path / "pkg", dataset="xyz")
    session = _plain_session(summary.files["model"])
    assert session.get_inputs()[0].shape == ["batch", 3]
    q = np.random.default_rng(2).uniform(0.0, 4.0, (500, 3)).astype(np.float32)
    y_hat, weights = session.run(None, {"x": q})
    y_ref, w_ref = _torch_reference(result, q)  # nwcore uses torch.cdist here
    assert weights.shape == (500, 2, 40)
    np.testing.assert_allclose(y_hat, y_ref, rtol=0, atol=ATOL)
    np.testing.assert_allclose(weights, w_ref, rtol=0, atol=ATOL)
    rows = list(csv.reader(open(summary.files["train_csv"], newline="")))
    assert rows[0] == ["x_0", "x_1", "x_2", "y"] and len(rows) == 41


def _leftovers(parent: Path) -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """One export to stand for 'an export written earlier', and to lend its traced graph."""
    d, result = _train("gaussian", 1)
    out = tmp_path_factory.mktemp("earlier") / "pkg"
    export.export_trained(result, out)
    return SimpleNamespace(result=result, data=d, out=out)


def _reuse_trace(monkeypatch, earlier) -> None:
    """Skip re-tracing (tests of the file handling need a graph, not a fresh trace)."""

    def traced(result, metadata=None, dtype=None):
        proto = onnx.load(earlier.out / "model.onnx")
        del proto.metadata_props[:]
        onnx.helper.set_model_props(proto, dict(metadata or {}))
        return proto

    monkeypatch.setattr(export.package, "to_onnx", traced)


def _snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_failed_parity_check_writes_nothing_and_keeps_an_earlier_export(
    earlier, tmp_path, monkeypatch
):
    out = tmp_path / "pkg"
    shutil.copytree(earlier.out, out)
    before = _snapshot(out)
    _reuse_trace(monkeypatch, earlier)
    monkeypatch.setattr(export.verify, "ATOL", -1.0)  # no model can pass a negative tolerance
    with pytest.raises(export.ParityError, match="nothing was written"):
        export.export_trained(earlier.result, out, name="other")
    with pytest.raises(export.ParityError):
        export.export_trained(earlier.result, tmp_path / "new")
    assert _snapshot(out) == before
    assert not (tmp_path / "new").exists() and _leftovers(tmp_path) == []


def test_failed_write_leaves_no_half_written_package(earlier, tmp_path, monkeypatch):
    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    _reuse_trace(monkeypatch, earlier)
    monkeypatch.setattr(export.card, "write_train_csv", disk_full)
    with pytest.raises(export.ExportError, match="No space left on device"):
        export.export_trained(earlier.result, tmp_path / "pkg")
    assert list(tmp_path.iterdir()) == []


def test_reexport_replaces_an_earlier_export_but_not_other_files(earlier, tmp_path, monkeypatch):
    out = tmp_path / "pkg"
    shutil.copytree(earlier.out, out)
    _reuse_trace(monkeypatch, earlier)
    export.export_trained(earlier.result, out, name="second")
    assert sorted(p.name for p in (out / "model_repository").iterdir()) == ["second"]
    assert _leftovers(tmp_path) == []
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    with pytest.raises(export.ExportError, match="not an earlier export"):
        export.export_trained(earlier.result, mine)
    assert (mine / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"result": "not a model"}, "TrainResult"),
        ({"name": "../escape"}, "Triton model directory"),
        ({"name": ""}, "Triton model directory"),
        ({"dataset": " "}, "dataset"),
        ({"truth": ([0.0, 1.0], [1.0])}, "truth"),
        ({"truth": ([0.0, float("nan")], [1.0, 2.0])}, "NaN"),
        ({"out_dir": "/dev/null/pkg"}, "is a file"),
    ],
)
def test_export_trained_refuses_bad_arguments(earlier, tmp_path, kwargs, message):
    args = {"result": earlier.result, "out_dir": tmp_path / "pkg", **kwargs}
    with pytest.raises(export.ExportError, match=message):
        export.export_trained(args.pop("result"), args.pop("out_dir"), **args)
    assert not (tmp_path / "pkg").exists()

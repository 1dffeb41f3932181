"""Real data has units: offsets (x ~ 1e8), tiny and huge scales, float32 vs float64 models.

The reference is an explicit float64 loop over keys and heads written here (log-sum-exp
softmax of -(|x - x_i| w)^2 / 2), not export's own check.
"""

from __future__ import annotations

import json
import math

import numpy as np
import onnxruntime as ort
import pytest
import torch

import export
import nwcore
from export.__main__ import main


def _loop_reference(x: np.ndarray, y: np.ndarray, w: list, mix: list, q: np.ndarray) -> np.ndarray:
    """Gaussian NW, one query and one head at a time, float64."""
    out = np.zeros(len(q))
    for j, xq in enumerate(q):
        total = 0.0
        for w_h, pi_h in zip(w, mix, strict=True):
            scores = [-0.5 * ((xq - xi) * w_h) ** 2 for xi in x]
            top = max(scores)
            ex = [math.exp(s - top) for s in scores]
            total += pi_h * sum(e * yi for e, yi in zip(ex, y, strict=True)) / sum(ex)
        out[j] = total
    return out


def _data(offset: float, scale: float, n: int = 30, seed: int = 0):
    rng = np.random.default_rng(seed)
    t = np.sort(rng.uniform(0, 5, n))
    y = np.sin(t) + 0.1 * rng.standard_normal(n)
    return offset + scale * t, y, t


def _train(x: np.ndarray, y: np.ndarray, heads: int = 1):
    return nwcore.train_parametric(torch.from_numpy(x), torch.from_numpy(y), "gaussian", heads)


def _session(path):
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


def test_a_float32_model_of_timestamps_near_1e8_is_refused_with_advice(tmp_path):
    x, y, _ = _data(1e8, 1.0)
    with pytest.raises(export.ExportError, match=r"--dtype float64") as info:
        export.export_trained(_train(x, y), tmp_path / "pkg")
    assert "x max|y|" in str(info.value)  # the tolerance in the units of the error
    assert not (tmp_path / "pkg").exists()


def test_the_cli_refuses_it_with_exit_2_and_one_line(tmp_path, capsys):
    x, y, _ = _data(1e8, 1.0)
    csv = tmp_path / "t.csv"
    csv.write_text(
        "x,y\n" + "".join(f"{a!r},{b!r}\n" for a, b in zip(x.tolist(), y.tolist(), strict=True))
    )
    assert main(["--out", str(tmp_path / "pkg"), "--dataset", str(csv)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "export with --dtype float64" in err
    assert not (tmp_path / "pkg").exists()


@pytest.mark.parametrize(
    ("offset", "scale", "dtype"),
    [
        (1e8, 1.0, "float64"),  # timestamps: float32 cannot tell 1e8 from 1e8 + 5
        (0.0, 1e-40, "float64"),  # denormal in float32
        (0.0, 1e30, "float32"),  # x^2 would overflow float32; the frame keeps it near 1
        (-3e5, 1e5, "float32"),  # incomes: a large offset with a large span
    ],
)
def test_offsets_and_scales_export_correctly(tmp_path, offset, scale, dtype):
    x, y, t = _data(offset, scale)
    result = _train(x, y, heads=2)
    summary = export.export_trained(result, tmp_path / "pkg", dtype=dtype)
    session = _session(summary.files["model"])
    np_dtype = np.float32 if dtype == "float32" else np.float64
    assert session.get_inputs()[0].type == (
        "tensor(float)" if dtype == "float32" else "tensor(double)"
    )
    q = offset + scale * np.linspace(-1.0, 6.0, 57)  # inside and around the data
    y_hat, weights = session.run(None, {"x": q.astype(np_dtype)})
    assert y_hat.dtype == np_dtype and weights.shape == (57, 2, 30)
    helper = export.load_session(summary.files["model"], prefer_gpu=False)
    np.testing.assert_array_equal(helper.run(q.tolist())[0], y_hat)  # lists keep every digit
    meta = session.get_modelmeta().custom_metadata_map
    assert meta["dtype"] == dtype
    ref = _loop_reference(x, y, json.loads(meta["w"]), json.loads(meta["mixture"]), q)
    tol = 1e-4 if dtype == "float32" else 1e-9  # of max|y|, as export promises
    np.testing.assert_allclose(y_hat, ref, rtol=0, atol=tol * np.abs(y).max())
    # and the same curve as the data at the origin in natural units: the units do not matter
    unit = _loop_reference(
        t,
        y,
        [w * scale for w in json.loads(meta["w"])],
        json.loads(meta["mixture"]),
        np.linspace(-1.0, 6.0, 57),
    )
    np.testing.assert_allclose(ref, unit, rtol=0, atol=1e-6)


def test_float32_tolerances_are_printed_in_the_units_of_the_error(tmp_path):
    d = nwcore.make_dataset("classic", n_train=20)
    summary = export.export_trained(nwcore.train_parametric(d.x_train, d.y_train), tmp_path / "p")
    text = summary.text()
    parity = summary.metrics["parity"]
    assert f"tolerance {parity['tolerance_y_hat']:.2g} on y_hat" in text
    assert "vs the float64 model" in text and "/ max|y|" in text
    assert parity["max_error_vs_float64_model"] <= parity["accuracy_tolerance"]

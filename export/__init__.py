"""export: the trained parametric NW model as a self-contained, verified ONNX package.

>>> import export, nwcore, tempfile
>>> d = nwcore.make_dataset("classic", n_train=20)
>>> result = nwcore.train_parametric(d.x_train, d.y_train)
>>> summary = export.export_trained(result, tempfile.mkdtemp())
>>> session = export.load_session(summary.files["model"], prefer_gpu=False)
>>> y_hat, weights = session.run([1.0, 2.5])
>>> y_hat.shape, weights.shape
((2,), (2, 20))

`export_trained` writes model.onnx, model_card.json, train.csv and a Triton model repository,
after checking onnxruntime against torch. `load_session` opens a model for inference (CUDA
when it works, else CPU) and checks every input. The CLI is `python -m export --out DIR`.
"""

from export.errors import ExportError, ParityError
from export.outdir import OutDir, prepare_out_dir
from export.package import ExportSummary, export_trained
from export.runtime import NWSession, load_session, validate_input
from export.verify import ATOL, BATCH_SIZES

__all__ = [
    "ExportError",
    "ParityError",
    "ExportSummary",
    "export_trained",
    "prepare_out_dir",
    "OutDir",
    "NWSession",
    "load_session",
    "validate_input",
    "ATOL",
    "BATCH_SIZES",
]

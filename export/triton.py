"""A Triton Inference Server model repository for the exported model.

Layout: `model_repository/<name>/config.pbtxt` and `model_repository/<name>/1/model.onnx`
(version 1), served by Triton's onnxruntime backend with dynamic batching.

Batching convention. With max_batch_size > 0 Triton owns the first axis and `dims` list the
per-request shape without it. The model's x is [batch] for 1-D data, which would leave x with
empty dims, and Triton needs non-empty dims. So x is declared as dims [1] with
`reshape: { shape: [ ] }`: a client sends [n, 1], Triton feeds the model [n]. y_hat gets the
same treatment. For data in R^d, x is simply dims [d].
"""

from __future__ import annotations

import re

from export.errors import ExportError

__all__ = ["MAX_BATCH_SIZE", "config_pbtxt", "check_model_name", "triton_io"]

# Largest batch Triton assembles from queued requests; each query costs about 4 * H * K bytes
# of attention weights, so 1024 queries stay within tens of MB for any model the CLI trains.
MAX_BATCH_SIZE = 1024
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")


def check_model_name(name: str) -> str:
    """A Triton model name is also a directory name: letters, digits, `_ . -`, 1-64 chars.

    >>> check_model_name("nw_attention")
    'nw_attention'
    """
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name in {".", ".."}:
        raise ExportError(
            f"model name {name!r} cannot be a Triton model directory: use 1 to 64 letters, "
            "digits, '_', '.' or '-', starting with a letter, digit or '_' (e.g. nw_attention)"
        )
    return name


def triton_io(input_dim: int, heads: int, n_keys: int) -> list[dict]:
    """Per tensor: name, role, Triton dims (batch axis excluded) and reshape (None = none).

    >>> [(t["name"], t["dims"], t["reshape"]) for t in triton_io(1, 3, 50)]
    [('x', [1], []), ('y_hat', [1], []), ('attention_weights', [3, 50], None)]
    """
    weights = [n_keys] if heads == 1 else [heads, n_keys]
    x_dims, x_reshape = ([1], []) if input_dim == 1 else ([input_dim], None)
    return [
        {"name": "x", "role": "input", "dims": x_dims, "reshape": x_reshape},
        {"name": "y_hat", "role": "output", "dims": [1], "reshape": []},
        {"name": "attention_weights", "role": "output", "dims": weights, "reshape": None},
    ]


_TRITON_TYPES = {"float32": "TYPE_FP32", "float64": "TYPE_FP64"}


def config_pbtxt(name: str, input_dim: int, heads: int, n_keys: int, dtype: str = "float32") -> str:
    """The text of config.pbtxt (protobuf text format of Triton's ModelConfig).

    >>> text = config_pbtxt("nw_attention", 1, 1, 50)
    >>> 'platform: "onnxruntime_onnx"' in text and "reshape: { shape: [ ] }" in text
    True
    """
    check_model_name(name)
    tensors = triton_io(input_dim, heads, n_keys)
    x_shape = "[n, 1]" if input_dim == 1 else f"[n, {input_dim}]"
    weights_shape = f"[n, {n_keys}]" if heads == 1 else f"[n, {heads}, {n_keys}]"
    lines = [
        f"# Triton Inference Server configuration for the NW attention model {name!r},",
        "# written by `python -m export`. Start the server with:",
        "#   tritonserver --model-repository=/path/to/model_repository",
        "#",
        "# Batching: Triton's batch axis is not listed in dims. A model tensor of shape [batch]",
        f"# ({'x and ' if input_dim == 1 else ''}y_hat here) would be left with no dims, "
        "and Triton needs some,",
        "# so it is declared dims [1] with reshape { shape: [ ] }, which Triton strips before",
        f"# calling the model. Send x as {dtype} {x_shape}; get y_hat [n, 1] and",
        f"# attention_weights {weights_shape}. Dynamic batching merges concurrent requests",
        "# into one run of at most max_batch_size queries.",
        f'name: "{name}"',
        'platform: "onnxruntime_onnx"',
        f"max_batch_size: {MAX_BATCH_SIZE}",
        _block("input", [t for t in tensors if t["role"] == "input"], dtype),
        _block("output", [t for t in tensors if t["role"] == "output"], dtype),
        "dynamic_batching {",
        "  max_queue_delay_microseconds: 100",
        "}",
        "# One instance on the GPU. CPU fallback: on a machine without a GPU Triton refuses",
        "# KIND_GPU, so change it to KIND_CPU (or delete this block: Triton then puts one",
        "# instance on each GPU it finds, or on the CPU when there is none).",
        "instance_group [",
        "  {",
        "    count: 1",
        "    kind: KIND_GPU",
        "  }",
        "]",
    ]
    return "\n".join(lines) + "\n"


def _block(kind: str, tensors: list[dict], dtype: str) -> str:
    entries = []
    for t in tensors:
        body = [
            f'    name: "{t["name"]}"',
            f"    data_type: {_TRITON_TYPES[dtype]}",
            f"    dims: {_list(t['dims'])}",
        ]
        if t["reshape"] is not None:
            body.append(f"    reshape: {{ shape: {_list(t['reshape'])} }}")
        entries.append("  {\n" + "\n".join(body) + "\n  }")
    return f"{kind} [\n" + ",\n".join(entries) + "\n]"


def _list(values: list[int]) -> str:
    return "[ " + ", ".join(str(v) for v in values) + " ]" if values else "[ ]"

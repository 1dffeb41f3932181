"""Checks of the attention modules' tensor inputs: taken as given (never converted), refused
with an NWError that says what was wrong and how to fix it. Value checks (finite, ranges) read
tensor data, so they are skipped while tracing or exporting."""

import torch
from torch import Tensor, nn

from nwcore.errors import NWError


def data_checks_enabled() -> bool:
    """Value checks (finite, ranges) read tensor data; skip them while tracing/exporting."""
    return not (
        torch.jit.is_tracing() or torch.compiler.is_compiling() or torch.compiler.is_exporting()
    )


def check_tensor(name: str, x: object) -> Tensor:
    if not isinstance(x, Tensor):
        raise NWError(
            f"{name} must be a torch.Tensor, got {type(x).__name__}; wrap it with "
            f"torch.as_tensor(...)."
        )
    return x


def check_rank(name: str, x: Tensor, rank: int, layout: str) -> None:
    check_tensor(name, x)
    if x.dim() != rank:
        raise NWError(
            f"{name} must have shape {layout} (rank {rank}), got shape "
            f"{tuple(x.shape)}; add or remove axes (e.g. unsqueeze(0) for a "
            f"missing batch axis)."
        )


def check_finite_input(name: str, x: Tensor) -> None:
    if data_checks_enabled() and x.is_floating_point() and not torch.isfinite(x).all():
        raise NWError(
            f"{name} contains NaN or inf; clean the input (e.g. torch.nan_to_num) "
            f"and, to hide keys, use valid_lens or a mask instead of inf scores."
        )


def check_dtypes(**named: Tensor) -> None:
    """Floating tensors of one dtype: matmuls refuse float32 @ float64 (and integers)."""
    for name, x in named.items():
        if not x.is_floating_point():
            raise NWError(
                f"{name} must be a floating tensor, got dtype {x.dtype}; use {name}.float()."
            )
    dtypes = {name: x.dtype for name, x in named.items()}
    if len(set(dtypes.values())) > 1:
        listed = ", ".join(f"{name} {dtype}" for name, dtype in dtypes.items())
        raise NWError(
            f"inputs must share one dtype, got {listed}; convert them all, e.g. with .double() "
            "or .float()."
        )


def check_module_dtype(module: nn.Module, x: Tensor) -> None:
    """Inputs in the dtype of the module's parameters (nn.Linear refuses a mix)."""
    param = next(module.parameters(), None)
    if param is not None and param.dtype != x.dtype:
        raise NWError(
            f"the inputs are {x.dtype} but {type(module).__name__}'s parameters are "
            f"{param.dtype}; convert the module (module.to({x.dtype})) or the inputs "
            f"(.to({param.dtype}))."
        )


def check_same(what: str, a_name: str, a: int, b_name: str, b: int, fix: str) -> None:
    if a != b:
        raise NWError(f"{what} mismatch: {a_name}={a} but {b_name}={b}; {fix}")


def check_q_k(q: Tensor, k: Tensor) -> None:
    """Ranks (B, Q, Dq) and (B, K, Dk) with one batch size B."""
    check_rank("q", q, 3, "(B, Q, Dq)")
    check_rank("k", k, 3, "(B, K, Dk)")
    check_same(
        "batch size",
        "q.shape[0]",
        q.shape[0],
        "k.shape[0]",
        k.shape[0],
        "pass q and k with the same batch size B.",
    )
    check_dtypes(q=q, k=k)


def check_qkv(queries: Tensor, keys: Tensor, values: Tensor) -> None:
    """Ranks and shared sizes of (B, Q, Dq), (B, K, Dk), (B, K, Dv)."""
    check_rank("queries", queries, 3, "(B, Q, Dq)")
    check_rank("keys", keys, 3, "(B, K, Dk)")
    check_rank("values", values, 3, "(B, K, Dv)")
    check_same(
        "batch size",
        "queries.shape[0]",
        queries.shape[0],
        "keys.shape[0]",
        keys.shape[0],
        "pass queries and keys with the same batch size B.",
    )
    check_same(
        "batch size",
        "keys.shape[0]",
        keys.shape[0],
        "values.shape[0]",
        values.shape[0],
        "pass keys and values with the same batch size B.",
    )
    check_same(
        "number of keys",
        "keys.shape[1]",
        keys.shape[1],
        "values.shape[1]",
        values.shape[1],
        "every key needs exactly one value (same K).",
    )
    check_dtypes(queries=queries, keys=keys, values=values)
    for name, x in (("queries", queries), ("keys", keys), ("values", values)):
        check_finite_input(name, x)

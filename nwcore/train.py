"""Leave-one-out training of the parametric NW model, in two modes.

`d2l` reproduces the book: w ~ U[0, 1), SGD with lr 0.5 on the summed squared loss,
5 full-batch epochs. It overshoots to a too-narrow kernel on the classic data, which is worth
seeing. `converged` goes to the leave-one-out optimum: that objective is least-squares
cross-validation, so the learned bandwidth 1/|w| matches statsmodels'
`KernelReg(reg_type='lc', bw='cv_ls')` on the same data.

Every step reports (step, loss, w) through an optional callback; `loss` is always the
leave-one-out mean squared error (the book prints the sum, which is n times it).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import torch

from nwcore._checks import as_kernel, as_points, as_values, as_whole
from nwcore.bandwidth import StepCallback, loo_bandwidth, silverman
from nwcore.errors import NWError
from nwcore.frame import Frame, frame_of
from nwcore.limits import check_training
from nwcore.parametric import MAX_HEADS, ParametricNW

__all__ = ["TrainConfig", "TrainResult", "train_parametric", "MODES"]

MODES = ("d2l", "converged")


@dataclass(frozen=True)
class TrainConfig:
    """How to train. The d2l values are the book's; the converged ones stop at the optimum."""

    mode: str = "d2l"
    lr: float = 0.5  # the book's SGD step
    epochs: int = 5  # the book's epoch count: few enough to show the overshoot
    max_steps: int = 60  # converged, several heads: L-BFGS outer steps at most
    tol: float = 1e-10  # converged: stop when the loss moves less than this, relatively


@dataclass
class TrainResult:
    """A trained model with its training data, so it can predict and be exported."""

    model: ParametricNW
    x: torch.Tensor  # (N,) or (N, D) keys
    y: torch.Tensor  # (N,) values
    mode: str
    losses: list[float] = field(default_factory=list)  # LOO MSE before each step
    loss: float = math.nan  # LOO MSE of the final model
    frame: Frame | None = None  # the training x's frame, where predictions are computed

    @property
    def w(self) -> list[float]:
        """Learned width per head."""
        return [float(v) for v in self.model.w.detach()]

    @property
    def bandwidth(self) -> list[float]:
        """Learned bandwidth 1/|w| per head (inf for w = 0)."""
        return [1.0 / abs(v) if v != 0 else math.inf for v in self.w]

    @property
    def mixture(self) -> list[float]:
        return [float(v) for v in self.model.mixture().detach()]

    def predict(self, queries: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """y_hat (Q,) and attention weights (Q, H, K) for new queries.

        >>> r = train_parametric(torch.linspace(0, 5, 20), torch.linspace(0, 5, 20).sin())
        >>> r.predict([1.0, 2.0])[1].shape
        torch.Size([2, 1, 20])
        """
        q = as_points(queries, "queries").to(self.x.dtype)
        if (q.ndim == 1) != (self.x.ndim == 1) or (q.ndim == 2 and q.shape[1] != self.x.shape[1]):
            dim = 1 if self.x.ndim == 1 else self.x.shape[1]
            raise NWError(f"queries must have {dim} feature(s) like the training x")
        frame = self.frame or frame_of(self.x)
        with torch.no_grad():
            return _in_frame(self.model, frame, frame.to_unit(q), frame.to_unit(self.x), self.y)


def train_parametric(
    x: Any,
    y: Any,
    kernel: str = "gaussian",
    heads: int = 1,
    mode: str = "d2l",
    seed: int = 0,
    callback: StepCallback | None = None,
    config: TrainConfig | None = None,
) -> TrainResult:
    """Train ParametricNW on (x, y) with leave-one-out keys (point i never sees itself).

    >>> x = torch.linspace(0, 5, 30, dtype=torch.float64); y = 2 * x.sin()
    >>> r = train_parametric(x, y, mode="converged")
    >>> r.loss < train_parametric(x, y, mode="d2l").loss
    True
    """
    config = config or TrainConfig(mode=mode)
    if not isinstance(config.mode, str) or config.mode not in MODES:
        raise NWError(f"unknown training mode {config.mode!r}: choose 'd2l' or 'converged'")
    kernel = as_kernel(kernel)  # the table entry, passed down: checked once
    heads = as_whole(heads, "heads", 1, MAX_HEADS)
    seed = as_whole(seed, "seed", 0)
    xs = as_points(x, "x")
    ys = as_values(y, xs.shape[0], "y")
    n = xs.shape[0]
    if n < 3:
        raise NWError(f"training needs at least 3 points, got {n}: add data")
    check_training(n, config.mode, heads)
    dtype = torch.promote_types(xs.dtype, ys.dtype)
    xs, ys = xs.to(dtype), ys.to(dtype)
    # Train in the data's frame (points in [-1, 1], w' = w * scale: the same weights), so x at
    # 1e-40 or 1e300 neither underflows nor overflows; the model keeps w per unit of x.
    frame = frame_of(xs)
    xu = frame.to_unit(xs)  # (N,) or (N, D)
    gen = torch.Generator().manual_seed(seed)
    if config.mode == "d2l":
        w0 = torch.rand(heads, generator=gen, dtype=torch.float32).to(dtype)  # the book's init
        model = ParametricNW(heads, kernel, w_init=w0).to(dtype)
        result = _train_d2l(model, frame, xu, ys, config, callback)
    else:
        result = _train_converged(frame, xu, ys, kernel, heads, config, callback)
    result.x = xs
    return result


def _loo_mask(n: int) -> torch.Tensor:
    return ~torch.eye(n, dtype=torch.bool)  # (N, N): key i hidden from query i


def _in_frame(model: ParametricNW, frame: Frame, q, x, y, mask=None):
    """The model's forward on points in the frame: w per unit of x becomes w * scale there."""
    params = {"w": frame.w_to_unit(model.w), "mix_logits": model.mix_logits}
    return torch.func.functional_call(model, params, (q, x, y, mask))


def _train_d2l(model, frame, x, y, config, callback) -> TrainResult:
    """The book's SGD on w per unit of x (x here in the frame; w' = w * scale inside)."""
    mask = _loo_mask(x.shape[0])
    params = list(model.parameters())
    losses = []
    for epoch in range(config.epochs):
        for p in params:
            p.grad = None
        y_hat, _ = _in_frame(model, frame, x, x, y, mask)  # (N,)
        sq = (y_hat - y) ** 2  # (N,)
        sq.sum().backward()  # the book's summed loss
        # plain SGD, p <- p - lr * grad, written out: torch.optim's first optimizer in a
        # process imports torch._dynamo (1.3 s of the dashboard's cold start)
        with torch.no_grad():
            for p in params:
                if p.grad is not None:
                    p.add_(p.grad, alpha=-config.lr)
        losses.append(float(sq.detach().mean()))
        _report(callback, epoch + 1, losses[-1], model)
    loss = _final_loss(model, frame, x, y, mask)
    return TrainResult(model, x, y, "d2l", losses, loss, frame)


def _train_converged(frame, x, y, kernel, heads, config, callback) -> TrainResult:
    """x in the frame; widths found there come back per unit of x (w = w' / scale)."""

    def report(step: int, loss: float, w_unit: float) -> None:
        callback(step, loss, frame.w_from_unit(w_unit))

    # One head: the exact 1-D search over the bandwidth, for every kernel.
    one = callback is not None and heads == 1
    search = loo_bandwidth(x, y, kernel, callback=report if one else None)
    if heads == 1:
        w = torch.tensor([frame.w_from_unit(search.w)], dtype=x.dtype)
        model = ParametricNW(1, kernel, w_init=w)
        return TrainResult(model, x, y, "converged", list(search.losses), search.loss, frame)
    # Several heads: L-BFGS on log w and the mixture, heads spread around the 1-head optimum
    # (from 4x narrower to 4x wider), so each can specialise.
    h0 = search.h if math.isfinite(search.h) else silverman(x)
    spread = torch.linspace(-2.0, 2.0, heads, dtype=x.dtype)
    log_w = (-math.log(h0) - spread * math.log(2.0)).requires_grad_()  # (H,)
    mix = torch.zeros(heads, dtype=x.dtype, requires_grad=True)  # (H,)
    model = ParametricNW(heads, kernel, w_init=frame.w_from_unit(log_w.detach().exp()))
    model = model.to(x.dtype)
    mask = _loo_mask(x.shape[0])
    opt = torch.optim.LBFGS([log_w, mix], lr=1.0, max_iter=20, line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = _loo_loss_fn(model, log_w, mix, x, y, mask)
        loss.backward()
        return loss

    losses: list[float] = []
    for step in range(config.max_steps):
        loss = float(opt.step(closure).detach())
        losses.append(loss)
        with torch.no_grad():
            model.w.copy_(frame.w_from_unit(log_w.exp()))
            model.mix_logits.copy_(mix)
        _report(callback, step + 1, loss, model)
        if step and abs(losses[-2] - loss) <= config.tol * max(abs(loss), 1e-300):
            break
    loss = _final_loss(model, frame, x, y, mask)
    return TrainResult(model, x, y, "converged", losses, loss, frame)


def _loo_loss_fn(model, log_w, mix, x, y, mask) -> torch.Tensor:
    """LOO MSE as a function of (log w, mixture logits), for L-BFGS."""
    params = {"w": log_w.exp(), "mix_logits": mix}
    y_hat, _ = torch.func.functional_call(model, params, (x, x, y, mask))  # (N,)
    return ((y_hat - y) ** 2).mean()


def _final_loss(model, frame, x, y, mask) -> float:
    with torch.no_grad():
        y_hat, _ = _in_frame(model, frame, x, x, y, mask)
        return float(((y_hat - y) ** 2).mean())


def _report(callback: StepCallback | None, step: int, loss: float, model: ParametricNW) -> None:
    if callback is not None:
        callback(step, loss, float(model.w.detach()[0]))

"""The Gaussian leave-one-out error and its first two derivatives in log h, in one pass.

With u_ij = (x_i - x_j)^2 / h^2, weights K_ij = exp(-u_ij / 2) and E_i the mean under
p_ij = K_ij / sum_{j != i} K_ij (the point itself left out), the leave-one-out prediction is
yhat_i = E_i[y]. In s = log h: d log K_ij / ds = u_ij and d u_ij / ds = -2 u_ij, so for any
g_ij, d E_i[g] / ds = E_i[dg/ds] + Cov_i(g, u). That gives, per point,

    yhat'  = Cov(u, y) = E[vy] - yhat E[v]
    yhat'' = -2 yhat' + E[(u - E u)^2 (y - yhat)] = -2 yhat' + E[v^2 y] - yhat E[v^2] - 2 E[v] yhat'

for v = u - c with any per-point shift c (both are central moments), and for
f = mean (yhat - y)^2: f' = mean 2 r yhat', f'' = mean 2 (yhat'^2 + r yhat''), r = yhat - y.
Five weighted means per point: E[y], E[v], E[v^2], E[vy], E[v^2 y].

Two ways to get them, both over each point's window of sorted keys (`nwcore.fast`):
- fused attention (wide windows, float64 on CPU), c = 0: the means of z^k and y z^k
  (k <= 4, z = (x_j - c_b) / h in a block centred at c_b) as value columns, with fused_loo's
  dummy key that scores like the point's own key, so the own key can be taken out exactly
  afterwards; then E[u^m g] = E[(z_i - z)^{2m} g] by the binomial expansion. Rows where the
  others weigh little next to the own key (an isolated point, u large) are redone directly.
- direct, c = u of the nearest other key: blocks of (rows, keys) weights, v and v^2 times
  [1, y], summed. The shift keeps v small where a point's weight sits on its nearest keys,
  so the central moments do not cancel away.
y is centred on its mean first (yhat - y and all derivatives do not change), so that
E[vy] - yhat E[v] does not cancel an offset away.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from nwcore.fast import _BLOCK_ENTRIES, SortedKeys, _blocks, negligible_score

__all__ = ["gaussian_loo_derivatives"]

_WIDTH = 12  # feature columns of the fused call: q/k/v share it (CPU flash attention)
_SPREAD = 4.0  # bandwidths per fused block: z stays within 4 + window, the expansion exact
_BINOM = ((1.0,), (1.0, -2.0, 1.0), (1.0, -4.0, 6.0, -4.0, 1.0))  # (z_i - z)^{0, 2, 4}


def gaussian_loo_derivatives(
    keys: SortedKeys,
    a: float,
    lo: torch.Tensor,
    hi: torch.Tensor,
    dmin: torch.Tensor,
    self_index: torch.Tensor,
) -> tuple[float, float, float]:
    """(f, df / d log h, d^2 f / d (log h)^2) of the Gaussian leave-one-out MSE at w = a.

    keys: sorted keys (the points themselves); lo, hi (N,): each point's window of keys
    (`window_bounds`), dmin (N,): its nearest other key's distance; self_index (N,): its own
    sorted index. f equals `loo_mse` up to rounding.
    """
    y = keys.y - keys.y.mean()  # (N,) centred: nothing below depends on y's offset
    moments = _fused_moments(keys, y, a, lo, hi)
    if moments is None:
        moments = _direct_moments(keys, y, a, lo, hi, dmin, self_index, None)
    else:
        ey, eu, eu2, euy, eu2y, redo = moments
        if bool(redo.any()):
            idx = redo.nonzero()[:, 0]
            fix = _direct_moments(keys, y, a, lo, hi, dmin, self_index, idx)
            for full, part in zip((ey, eu, eu2, euy, eu2y), fix, strict=True):
                full[idx] = part
        moments = (ey, eu, eu2, euy, eu2y)
    ey, ev, ev2, evy, ev2y = moments
    r = ey - y  # (N,)
    d1 = evy - ey * ev  # yhat'
    d2 = -2.0 * d1 + ev2y - ey * ev2 - 2.0 * ev * d1  # yhat''
    f = float(r.square().mean())
    df = float((2.0 * r * d1).mean())
    d2f = float((2.0 * (d1.square() + r * d2)).mean())
    return f, df, d2f


def _fused_moments(keys: SortedKeys, y: torch.Tensor, a: float, lo, hi):
    """E[y], E[u], E[u^2], E[uy], E[u^2 y] (N,) each (v = u), and the rows to redo, through fused
    attention; None where that does not pay or is not float64 on CPU (see fused_loo)."""
    xs = keys.x
    if not (xs.device.type == "cpu" and xs.dtype == torch.float64):
        return None
    blocks = _blocks(lo, hi, 1 << 62, 8192, xs, a, spread=_SPREAD)
    if len(blocks) * 64 > xs.shape[0]:
        return None
    out = torch.empty(5, xs.shape[0], dtype=xs.dtype)  # (5, N)
    redo = torch.empty_like(xs, dtype=torch.bool)
    for s, e, k_lo, k_hi in blocks:
        c = 0.5 * (xs[s] + xs[e - 1])
        zq, zk = (xs[s:e] - c) * a, (xs[k_lo:k_hi] - c) * a  # (rows,), (keys,) in bandwidths
        qf = zq.new_zeros(e - s, _WIDTH)
        qf[:, 0], qf[:, 1], qf[:, 2] = zq, 1.0, 0.5 * zq.square()
        kf = zk.new_zeros(k_hi - k_lo + 1, _WIDTH)  # scores z_i z - z^2 / 2; dummy z_i^2 / 2
        kf[:-1, 0], kf[:-1, 1], kf[-1, 2] = zk, -0.5 * zk.square(), 1.0
        vf = zk.new_zeros(k_hi - k_lo + 1, _WIDTH)  # [marker, z^0..4, y z^0..4]
        yk = y[k_lo:k_hi]
        vf[-1, 0] = 1.0
        power = torch.ones_like(zk)
        for k in range(5):
            vf[:-1, 1 + k], vf[:-1, 6 + k] = power, yk * power
            power = power * zk
        o = F.scaled_dot_product_attention(
            qf[None, None], kf[None, None], vf[None, None], scale=1.0
        )[0, 0]  # (rows, W)
        o1 = o[:, 0]  # 1 / (D + 2)
        rest = 1.0 - 2.0 * o1  # D / (D + 2)
        own = torch.ones_like(zq)
        mean = []  # E[z^k], E[y z^k] over the others: take the own key and the dummy out
        yi = y[s:e]
        for k in range(5):
            mean.append((o[:, 1 + k] - own * o1) / rest)
            own = own * zq
        own = yi.clone()
        for k in range(5):
            mean.append((o[:, 6 + k] - own * o1) / rest)
            own = own * zq
        ez, eyz = mean[:5], mean[5:]
        out[:, s:e] = _expand(zq, ez, eyz)
        redo[s:e] = rest < 1e-3  # the others weigh under ~2e-3 of the own key: redo directly
    return (*out.unbind(0), redo)


def _expand(zi: torch.Tensor, ez: list, eyz: list) -> torch.Tensor:
    """E[y], E[u], E[u^2], E[uy], E[u^2 y] from E[z^k], E[y z^k] (k = 0..4), u = (z_i - z)^2:
    E[(z_i - z)^{2m} g] = sum_k binom(2m, k) (-1)^k z_i^{2m - k} E[z^k g]."""

    def power_mean(m, e):
        coef = _BINOM[m]
        deg = len(coef) - 1
        return sum(c * zi.pow(deg - k) * e[k] for k, c in enumerate(coef))

    return torch.stack(
        [eyz[0], power_mean(1, ez), power_mean(2, ez), power_mean(1, eyz), power_mean(2, eyz)]
    )


def _direct_moments(keys, y, a, lo, hi, dmin, self_index, rows):
    """E[y], E[v], E[v^2], E[vy], E[v^2 y] for the points `rows` (sorted indices; None: all),
    v = u - u of the nearest other key, block by block over their windows; weights
    exp(-v / 2), the point's own key hidden."""
    idx = torch.arange(keys.n) if rows is None else rows
    lo_r, hi_r = lo[idx], hi[idx]
    out = torch.empty(5, idx.shape[0], dtype=keys.x.dtype)
    floor = negligible_score(keys.x.dtype)
    a2 = a * a
    vals = torch.stack([torch.ones_like(y), y], dim=1)  # (K, 2)
    for s, e, k_lo, k_hi in _blocks(lo_r, hi_r, _BLOCK_ENTRIES, 1 << 30):
        qi = idx[s:e]
        v = (keys.x[qi, None] - keys.x[None, k_lo:k_hi]).square_().mul_(a2)  # (rows, keys) u
        v.sub_(a2 * dmin[qi, None].square())  # v = u - u of the nearest other key
        wts = v.mul(-0.5).clamp_(min=-floor).exp_()  # (rows, keys) <= 1 but the own key
        cols = self_index[qi] - k_lo
        inside = (cols >= 0) & (cols < k_hi - k_lo)
        wts[torch.arange(e - s)[inside], cols[inside]] = 0.0  # hide each point's own key
        ones_y = vals[k_lo:k_hi]  # (keys, 2)
        s0 = wts @ ones_y  # (rows, 2): sum K, sum K y
        wv = wts.mul_(v)
        s1 = wv @ ones_y  # sum K v, sum K v y
        s2 = wv.mul_(v) @ ones_y  # sum K v^2, sum K v^2 y
        den = s0[:, 0]
        out[0, s:e] = s0[:, 1] / den
        out[1, s:e] = s1[:, 0] / den
        out[2, s:e] = s2[:, 0] / den
        out[3, s:e] = s1[:, 1] / den
        out[4, s:e] = s2[:, 1] / den
    return tuple(out.unbind(0))

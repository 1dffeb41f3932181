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
_ROWS = 512  # rows per block at most (so a group's padding stays small)
_MIN_ROWS = 16  # fewer rows per block on average: the direct sums instead
_PAD_WASTE = 1.5  # a group computes at most this many times its blocks' own entries
_GROUP_KEYS = 1 << 17  # padded keys per batched call (features (B, K, 12): 12 MB each)
_DUMMY_KEY = torch.zeros(1, 1, 2, dtype=torch.float64)
_BINOM_2 = torch.tensor([1.0, -2.0, 1.0], dtype=torch.float64)  # (z_i - z)^2
_BINOM_4 = torch.tensor([1.0, -4.0, 6.0, -4.0, 1.0], dtype=torch.float64)  # (z_i - z)^4


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
    attention; None where that does not pay or is not float64 on CPU (see fused_loo).

    Blocks of similar size go to one batched attention call (padded keys score -1e30, so they
    weigh exactly 0); everything after the call is elementwise over all N rows at once."""
    xs = keys.x
    if not (xs.device.type == "cpu" and xs.dtype == torch.float64):
        return None
    blocks = _blocks(lo, hi, 1 << 62, _ROWS, xs, a, spread=_SPREAD)
    if len(blocks) * _MIN_ROWS > xs.shape[0]:
        return None  # narrow windows: padded attention would mostly compute zeros
    n = xs.shape[0]
    out = xs.new_empty(n, _WIDTH)  # (N, W) attention outputs, sorted order
    zq_all = torch.empty_like(xs)  # (N,) each point in bandwidths from its block's centre
    for group in _groups(blocks):
        b = torch.tensor(group, dtype=torch.long)  # (B, 4): start, stop, key_lo, key_hi
        s, e, k_lo, k_hi = b.unbind(1)
        rows, width = int((e - s).max()), int((k_hi - k_lo).max())
        r_idx = s[:, None] + torch.arange(rows)  # (B, R)
        r_ok = r_idx < e[:, None]
        k_idx = k_lo[:, None] + torch.arange(width)  # (B, K)
        k_ok = k_idx < k_hi[:, None]
        c = 0.5 * (xs[s] + xs[e - 1])  # (B,) centre: exact shift, fewer lost digits
        zq = (xs[r_idx.clamp_(max=n - 1)] - c[:, None]) * a  # (B, R)
        zk = (xs[k_idx.clamp_(max=n - 1)] - c[:, None]) * a  # (B, K)
        qf = torch.stack([zq, torch.ones_like(zq), 0.5 * zq.square()], -1)  # (B, R, 3)
        score = torch.where(k_ok, -0.5 * zk.square(), -1e30)  # padded keys weigh 0
        kf = torch.cat([torch.stack([zk, score], -1), _DUMMY_KEY.expand(len(group), 1, 2)], 1)
        power = _powers(zk)  # (B, K, 5) z^0..4
        vf = torch.cat([power, y[k_idx][..., None] * power], -1)  # (B, K, 10)
        vf = F.pad(vf, (1, 1, 0, 1))  # (B, K + 1, 12): [marker, z^0..4, y z^0..4, 0]
        vf[:, -1, 0] = 1.0  # the marker: 1 only for the dummy key
        qf = F.pad(qf, (0, _WIDTH - 3))  # (B, R, W) [z_i, 1, z_i^2 / 2, 0...]
        kf = F.pad(kf, (0, _WIDTH - 2))  # (B, K + 1, W) [z, -z^2 / 2 | dummy 0, 0, 1 ...]
        kf[:, -1, 2] = 1.0  # the dummy key scores z_i^2 / 2, like the point's own key
        o = F.scaled_dot_product_attention(qf[:, None], kf[:, None], vf[:, None], scale=1.0)
        span = slice(int(s[0]), int(e[-1]))  # the group's rows are contiguous, in order
        out[span] = o[:, 0][r_ok]
        zq_all[span] = zq[r_ok]
    o1 = out[:, 0]  # 1 / (D + 2), D the others' weight relative to the own key's
    rest = 1.0 - 2.0 * o1  # D / (D + 2)
    power = _powers(zq_all)  # (N, 5) z_i^k
    own = o1[:, None] / rest[:, None]
    ez = out[:, 1:6] / rest[:, None] - power * own  # (N, 5) E[z^k] over the others
    eyz = out[:, 6:11] / rest[:, None] - (y[:, None] * power) * own  # (N, 5) E[y z^k]
    moments = _expand(power, ez, eyz)  # (5, N)
    return (*moments.unbind(0), rest < 1e-3)  # redo: the others weigh under ~2e-3 of own


def _powers(z: torch.Tensor) -> torch.Tensor:
    """(..., 5): z^0 .. z^4 by products (pow with a tensor exponent is 10x slower)."""
    z2 = z.square()
    return torch.stack([torch.ones_like(z), z, z2, z2 * z, z2.square()], -1)


def _groups(blocks: list[tuple[int, int, int, int]]) -> list[list[tuple[int, int, int, int]]]:
    """Consecutive blocks batched for one attention call: padded to the group's largest
    (rows, keys), at most _PAD_WASTE more entries than the blocks themselves hold, and at most
    _GROUP_KEYS padded keys in all (the features are (B, K, W) tensors)."""
    groups: list[list[tuple[int, int, int, int]]] = []
    rows = keys = entries = 0
    for blk in blocks:
        r, k = blk[1] - blk[0], blk[3] - blk[2]
        size = len(groups[-1]) + 1 if groups else 1
        new_rows, new_keys = max(rows, r), max(keys, k)
        padded = size * new_rows * new_keys
        if (
            groups
            and padded <= _PAD_WASTE * (entries + r * k)
            and size * (new_keys + 1) <= _GROUP_KEYS
        ):
            groups[-1].append(blk)
            rows, keys, entries = new_rows, new_keys, entries + r * k
        else:
            groups.append([blk])
            rows, keys, entries = r, k, r * k
    return groups


def _expand(power: torch.Tensor, ez: torch.Tensor, eyz: torch.Tensor) -> torch.Tensor:
    """E[y], E[u], E[u^2], E[uy], E[u^2 y] (5, N) from E[z^k], E[y z^k] (N, 5), k = 0..4,
    u = (z_i - z)^2, power (N, 5) = z_i^k: E[(z_i - z)^{2m} g] = sum_k binom(2m, k) (-1)^k
    z_i^{2m - k} E[z^k g]."""
    two = power[:, [2, 1, 0]] * _BINOM_2  # (N, 3) coefficients of E[z^k g], k = 0..2
    four = power[:, [4, 3, 2, 1, 0]] * _BINOM_4  # (N, 5)
    return torch.stack(
        [
            eyz[:, 0],
            (two * ez[:, :3]).sum(1),
            (four * ez).sum(1),
            (two * eyz[:, :3]).sum(1),
            (four * eyz).sum(1),
        ]
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

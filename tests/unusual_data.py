"""Data unlike the book's, shared by the bandwidth tests: offsets, tiny scales, clusters and
heavy tails, each drawn from one seeded generator (the same seed gives the same arrays).

>>> x, y = unusual("offset", 4, seed=0)
>>> bool((x > 1e8).all()), y.shape
(True, (4,))
"""

from __future__ import annotations

import numpy as np

KINDS = ("offset", "tiny", "clusters", "wide_clusters", "heavy_x", "heavy_noise")


def unusual(kind: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """x (n,) and y (n,) of one kind (clusters: 4 x (n // 4) points)."""
    g = np.random.default_rng(seed)
    if kind == "offset":  # x around 1e8
        x = 1e8 + g.uniform(0, 5, n)
        y = np.sin(x - 1e8) + 0.3 * g.standard_normal(n)
    elif kind == "tiny":  # x at 1e-6 scale, y at 1e5
        x = 1e-6 * g.uniform(0, 5, n)
        y = 1e5 * (np.sin(x * 1e6) + 0.3 * g.standard_normal(n))
    elif kind in ("clusters", "wide_clusters"):  # four tight (sd 0.05) or wide (sd 0.3) groups
        sd, centres = (0.05, (0.0, 1.0, 3.0, 7.0)) if kind == "clusters" else (0.3, (0, 2, 3, 7))
        x = np.concatenate([g.normal(c, sd, n // 4) for c in centres])
        y = np.cos(x) + 0.2 * g.standard_normal(x.shape[0])
    elif kind == "heavy_x":  # x itself heavy-tailed: student-t, 2 degrees of freedom
        x = g.standard_t(2, n)
        y = np.tanh(x) + 0.2 * g.standard_t(3, n)
    elif kind == "heavy_noise":  # heavy-tailed noise: student-t, 3 degrees of freedom
        x = g.uniform(-3, 3, n)
        y = np.tanh(2 * x) + 0.3 * g.standard_t(3, n)
    else:
        raise ValueError(f"unknown kind {kind!r}: one of {', '.join(KINDS)}")
    return x, y

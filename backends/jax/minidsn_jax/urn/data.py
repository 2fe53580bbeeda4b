"""Concentric-spheres data (seed 002, Sec. 2: two uniform concentric 10-d spherical shells).

What the seed leaves open follows the assumptions docs/models/urn.md lists: shells [[1, 1.5], [2, 2.5]], uniform in
the shell's volume (P(r) ~ r^(d-1), so r = (r0^d + u (r1^d - r0^d))^(1/d)) or in the radius, exactly n//2 samples per
class (class 1 gets the odd one), shuffled. Directions are normalised standard normals (uniform on the sphere).
This is an independent generator: its draws are not minidsn's, only the distribution is the same.
"""

from __future__ import annotations

import numpy as np


def make_spheres(rng: np.random.Generator, n: int, dim: int, shells, radial: str = "volume"):
    """(x (n, dim), labels (n,) int64)."""
    counts = [n // 2, n - n // 2]
    xs, ys = [], []
    for label, (count, (r0, r1)) in enumerate(zip(counts, shells)):
        direction = rng.standard_normal((count, dim))
        direction /= np.linalg.norm(direction, axis=1, keepdims=True)
        u = rng.random(count)
        if radial == "volume":
            r = (r0**dim + u * (r1**dim - r0**dim)) ** (1.0 / dim)
        elif radial == "radius":
            r = r0 + u * (r1 - r0)
        else:
            raise ValueError(f"radial must be 'volume' or 'radius', got {radial!r}")
        xs.append(direction * r[:, None])
        ys.append(np.full(count, label, np.int64))
    x, y = np.concatenate(xs), np.concatenate(ys)
    order = rng.permutation(n)
    return x[order], y[order]

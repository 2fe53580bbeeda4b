"""Concentric spherical shells in d dimensions: the binary task of seed 002, Sec. 2 ("two uniform concentric 10-d
spherical shell distributions").

The seed gives the dimension (10) and the training-set size (4,000) but not the radii, the thickness, the meaning
of "uniform", or the class balance. ASSUMPTIONS (each a parameter):
  - radii: class 0 in the shell r in [1.0, 1.5], class 1 in r in [2.0, 2.5] (`shells`);
  - "uniform" = uniform in the shell's volume (`radial="volume"`: P(r) ~ r^(d-1)); `radial="radius"` draws the
    radius uniformly instead;
  - balance: n // k samples per class, the first n % k classes one more (two classes: n - n // 2 of class 0 and
    n // 2 of class 1), shuffled (`balanced=True`); with `balanced=False` each label is a fair draw.
Directions are uniform on the sphere (normalised standard normals).
"""

from __future__ import annotations

import numpy as np

DEFAULT_SHELLS = ((1.0, 1.5), (2.0, 2.5))
RADIAL_LAWS = ("volume", "radius")


def _check_shells(shells):
    shells = tuple(tuple(float(r) for r in s) for s in shells)
    if len(shells) < 2:
        raise ValueError(f"spheres: need at least two shells (one per class), got {len(shells)}")
    for lo, hi in shells:
        if not (np.isfinite(lo) and np.isfinite(hi) and 0 <= lo <= hi):
            raise ValueError(f"spheres: each shell is (r_min, r_max) with 0 <= r_min <= r_max, got {(lo, hi)}")
    return shells


def sample_shell(n, dim, r_min, r_max, rng, radial="volume"):
    """n points uniform in the shell r_min <= |x| <= r_max of R^dim (by volume, or with uniform radius)."""
    if radial not in RADIAL_LAWS:
        raise ValueError(f"spheres: radial must be one of {RADIAL_LAWS}, got {radial!r}")
    direction = rng.standard_normal((n, dim))
    direction /= np.linalg.norm(direction, axis=1, keepdims=True)
    u = rng.random(n)
    if radial == "volume":
        # inverse CDF of P(r) ~ r^(dim-1) on [r_min, r_max]
        r = (r_min**dim + u * (r_max**dim - r_min**dim)) ** (1.0 / dim)
    else:
        r = r_min + u * (r_max - r_min)
    return direction * r[:, None]


def make_spheres(n, rng, dim=10, shells=DEFAULT_SHELLS, radial="volume", balanced=True):
    """(x, y): x (n, dim) float64, y (n,) int64 class = index of the shell the point was drawn from."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("spheres: rng must be a numpy.random.Generator")
    if int(n) < 1 or int(dim) < 1:
        raise ValueError(f"spheres: n and dim must be >= 1, got n={n}, dim={dim}")
    shells = _check_shells(shells)
    k = len(shells)
    if balanced:
        y = np.repeat(np.arange(k), [n // k + (1 if c < n % k else 0) for c in range(k)])
        y = y[rng.permutation(n)]
    else:
        y = rng.integers(0, k, size=n)
    x = np.empty((n, dim))
    for c, (lo, hi) in enumerate(shells):
        idx = np.flatnonzero(y == c)
        x[idx] = sample_shell(idx.size, dim, lo, hi, rng, radial)
    return x, y.astype(np.int64)

"""Seeded synthetic classification sets generated in code (no files): Gaussian blobs and interleaved spirals."""

from __future__ import annotations

import numpy as np

__all__ = ["gaussian_blobs", "spirals"]


def _check_counts(n, n_classes):
    if not isinstance(n, (int, np.integer)) or n <= 0:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if not isinstance(n_classes, (int, np.integer)) or n_classes < 2:
        raise ValueError(f"n_classes must be an integer >= 2, got {n_classes!r}")


def _balanced_labels(rng, n, n_classes):
    """Labels 0..C-1 in equal shares (the first n mod C classes get one more), in random order."""
    return rng.permutation(np.arange(n) % n_classes).astype(np.int64)


def gaussian_blobs(rng: np.random.Generator, n: int, n_classes: int = 3, n_features: int = 2,
                   spread: float = 1.0, center_scale: float = 3.0, centers: np.ndarray | None = None):
    """Isotropic Gaussian clusters: x = c_y + spread * z,  z ~ N(0, I),  c_k ~ N(0, center_scale^2 I).

    Returns (x float64 [n, n_features], y int64 [n], centers [n_classes, n_features]).  Pass ``centers`` to draw a
    second sample (e.g. a test set) from the same clusters.
    """
    _check_counts(n, n_classes)
    if n_features < 1:
        raise ValueError(f"n_features must be >= 1, got {n_features}")
    if not spread > 0:
        raise ValueError(f"spread must be > 0, got {spread}")
    if centers is None:
        centers = center_scale * rng.standard_normal((n_classes, n_features))
    elif centers.shape != (n_classes, n_features):
        raise ValueError(f"centers must have shape {(n_classes, n_features)}, got {centers.shape}")
    y = _balanced_labels(rng, n, n_classes)
    x = centers[y] + spread * rng.standard_normal((n, n_features))
    return x, y, centers


def spirals(rng: np.random.Generator, n: int, n_classes: int = 2, noise: float = 0.1, turns: float = 1.0):
    """Interleaved spiral arms in the plane, one per class (n_classes = 2 is the classic "two spirals").

    For a point of class k with t ~ U(0, 1):  r = t,  theta = 2 pi (turns t + k / n_classes),
    x = r (cos theta, sin theta) + noise * z,  z ~ N(0, I_2).   Returns (x float64 [n, 2], y int64 [n]).
    """
    _check_counts(n, n_classes)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    y = _balanced_labels(rng, n, n_classes)
    t = rng.uniform(0.0, 1.0, n)
    theta = 2.0 * np.pi * (turns * t + y / n_classes)
    x = np.stack([t * np.cos(theta), t * np.sin(theta)], axis=1) + noise * rng.standard_normal((n, 2))
    return x, y

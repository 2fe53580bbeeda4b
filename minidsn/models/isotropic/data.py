"""Data for the isotropic-network runs: MNIST / Fashion-MNIST / CIFAR-10 through minidsn.data, flattened and
per-pixel standardised (the author's code divides by per-pixel stddev after subtracting the per-pixel mean:
*_normalisations.pkl "mean" / "inverse stddev"), and a small synthetic Gaussian-mixture set for tests and oracle
cases.  Loaded arrays are cached per process, so they never enter the checkpointed state."""

from __future__ import annotations

import numpy as np

__all__ = ["DATASETS", "load_dataset", "synthetic_blobs"]

DATASETS = ("mnist", "fashion-mnist", "cifar10", "synthetic")
_CACHE: dict = {}


def synthetic_blobs(n, dim, classes, seed):
    """n points in R^dim from ``classes`` unit-variance Gaussians with N(0, 4 I) means (deterministic in seed).

    Source: none (synthetic test data; no formula)
    """
    rng = np.random.default_rng(seed)
    means = 2.0 * rng.standard_normal((classes, dim))
    y = rng.integers(0, classes, n)
    x = means[y] + rng.standard_normal((n, dim))
    return x, y.astype(np.int64)


def _standardise(train, test):
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    inv = np.where(std > 1e-8, 1.0 / np.where(std > 1e-8, std, 1.0), 1.0)  # constant pixels: only centred
    return (train - mean) * inv, (test - mean) * inv


def load_dataset(name, data_dir=None, *, train_limit=0, test_limit=0, synthetic_dim=20, synthetic_classes=5,
                 synthetic_seed=0):
    """(x_train, y_train, x_test, y_test): float64 [n, d] standardised inputs and int64 labels.

    Source: none (data loading; Fashion-MNIST stands in for the seed's CIFAR-10, seed 003 Fig. 3)
    """
    if name not in DATASETS:
        raise ValueError(f"dataset must be one of {DATASETS}, got {name!r}")
    key = (name, str(data_dir), train_limit, test_limit, synthetic_dim, synthetic_classes, synthetic_seed)
    if key in _CACHE:
        return _CACHE[key]
    if name == "synthetic":
        xtr, ytr = synthetic_blobs(train_limit or 2000, synthetic_dim, synthetic_classes, synthetic_seed)
        xte, yte = synthetic_blobs(test_limit or 500, synthetic_dim, synthetic_classes, synthetic_seed + 1)
    else:
        if name == "cifar10":
            from minidsn.data.cifar import load_cifar10 as _load

            (xtr, ytr), (xte, yte) = _load(data_dir, "train"), _load(data_dir, "test")
        else:
            from minidsn.data.mnist import load_mnist

            (xtr, ytr), (xte, yte) = load_mnist(data_dir, "train", name), load_mnist(data_dir, "test", name)
        xtr = xtr.reshape(len(xtr), -1).astype(np.float64) / 255.0
        xte = xte.reshape(len(xte), -1).astype(np.float64) / 255.0
        ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
        if train_limit:
            xtr, ytr = xtr[:train_limit], ytr[:train_limit]
        if test_limit:
            xte, yte = xte[:test_limit], yte[:test_limit]
    xtr, xte = _standardise(xtr, xte)
    _CACHE[key] = (xtr, ytr, xte, yte)
    return _CACHE[key]

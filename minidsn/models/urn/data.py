"""Data sets of the URN runs (seed 002): concentric spheres (Sec. 2) and images on the input plane (Sec. 3).

Images (MNIST, Fashion-MNIST — the stand-in for monochrome CIFAR-10 — and CIFAR-10 in grey) are scaled to [0, 1]
(ASSUMPTION), interpolated to the input plane (minidsn.data.grid_embed) and flattened row-major, so they sit on the
z = 0 plane of the grid (the seed's "z = 1", 1-based). The files are read by minidsn.data's loaders (IDX, CIFAR-10
binary batches) from --data-dir / $MINIDSN_DATA.
"""

from __future__ import annotations

import numpy as np

from minidsn.data.grid_embed import embed_on_plane
from minidsn.data.spheres import make_spheres
from minidsn.models.api import ConfigError

DATASETS = ("spheres", "mnist", "fashion-mnist", "cifar10-gray")
_FULL_TRAIN = {"mnist": 60000, "fashion-mnist": 60000, "cifar10-gray": 50000}


def full_train_size(dataset):
    """Source: seed 002 l. 77 (4000 training samples)"""
    return _FULL_TRAIN.get(dataset, 0) or 1


def n_classes(cfg, y):
    """Spheres: one class per shell (data_shape); images: 10 (or more, if the labels say so).

    Source: seed 002 l. 77 (two shells, two classes; more shells are ours: one class per shell)
    """
    return data_shape(cfg)[1] if cfg["dataset"] == "spheres" else int(max(10, int(np.max(y)) + 1))


def data_shape(cfg):
    """(d_in, d_out, plane) a config implies before any data are read: spheres have d_in = sphere_dim and one class
    per shell; the image data sets have 10 classes on the 2-d input plane cfg['plane'] (required).

    Source: seed 002 l. 77 (spheres: two shells, two classes; more shells are ours: one class per shell), Sec. 3 (images interpolated onto the input plane)
    """
    if cfg["dataset"] == "spheres":
        return cfg["sphere_dim"], len(cfg["shells"]), None
    if len(cfg["plane"]) != 2:
        raise ConfigError("config key 'plane': image data need a 2-d input plane, e.g. [14, 14]")
    return int(np.prod(cfg["plane"])), 10, tuple(cfg["plane"])


def make_spheres_xy(cfg, n, rng):
    """Source: seed 002 l. 77 (two uniform concentric 10-d spherical shells); assumptions: shell radii and widths,
        the radial law and the class balance (docs/models/urn.md, options shells / radial / balance).
    """
    return make_spheres(n, rng, dim=cfg["sphere_dim"], shells=[tuple(s) for s in cfg["shells"]],
                        radial=cfg["radial"], balanced=cfg["balance"] == "exact")


def make_sphere_split(cfg, rng):
    """Training and test sets drawn from the same shells (test size: ASSUMPTION).

    Source: seed 002 l. 77; assumption: test-set size and class balance.
    """
    x, y = make_spheres_xy(cfg, cfg["n_train"], rng)
    xt, yt = make_spheres_xy(cfg, cfg["n_test"], rng)
    return x, y, xt, yt


def _raw_images(dataset, data_dir):
    """(x_train (N, H, W), y_train, x_test, y_test) from the harness's loaders (minidsn.data.mnist / cifar)."""
    if dataset == "cifar10-gray":
        from minidsn.data.cifar import load_cifar10

        # ASSUMPTION: the luma conversion for "monochrome CIFAR-10" (the seed does not say which)
        return (*load_cifar10(data_dir, "train", monochrome="luma"), *load_cifar10(data_dir, "test", monochrome="luma"))
    from minidsn.data.mnist import load_mnist

    return (*load_mnist(data_dir, "train", kind=dataset), *load_mnist(data_dir, "test", kind=dataset))


def load_images(cfg, data_dir):
    """(x_train, y_train, x_test, y_test) with x flattened on the input plane cfg['plane'] (required).

    Source: seed 002 Sec. 3 (monochrome CIFAR-10 interpolated onto the input plane); assumption: Fashion-MNIST stands
        in, plane size per config.
    """
    data_shape(cfg)  # the plane must be 2-d
    x, y, xt, yt = _raw_images(cfg["dataset"], data_dir)
    n, nt = cfg["n_train"] or len(y), cfg["n_test"] or len(yt)
    if n > len(y) or nt > len(yt):
        raise ConfigError(f"config keys 'n_train' / 'n_test': {n} / {nt} exceed the data set ({len(y)} / {len(yt)})")
    # the first n / nt samples in the official order (ASSUMPTION: no subsampling at random)
    emb = lambda a: embed_on_plane(np.asarray(a[:], dtype=np.float64) / 255.0, cfg["plane"], cfg["interpolation"])
    return emb(x[:n]), np.asarray(y[:n], dtype=np.int64), emb(xt[:nt]), np.asarray(yt[:nt], dtype=np.int64)

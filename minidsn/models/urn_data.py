"""Data sets of the URN runs (seed 002): concentric spheres (Sec. 2) and images on the input plane (Sec. 3).

Images (MNIST, Fashion-MNIST — the stand-in for monochrome CIFAR-10 — and CIFAR-10 in grey) are scaled to [0, 1]
(ASSUMPTION), interpolated to the input plane (minidsn.data.grid_embed) and flattened row-major, so they sit on the
z = 0 plane of the grid (the seed's "z = 1", 1-based). A minimal IDX reader here reads the four standard (gzip'd)
files until the harness's loaders in minidsn.data are wired in (docs/requests/urn.md); CIFAR-10 waits for them.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

from minidsn.data.grid_embed import embed_on_plane
from minidsn.data.spheres import make_spheres

DATASETS = ("spheres", "mnist", "fashion-mnist", "cifar10-gray")
_FULL_TRAIN = {"mnist": 60000, "fashion-mnist": 60000, "cifar10-gray": 50000}
_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
          "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def full_train_size(dataset):
    return _FULL_TRAIN.get(dataset, 0) or 1


def n_classes(dataset, y):
    return 2 if dataset == "spheres" else int(max(10, int(np.max(y)) + 1))


def make_spheres_xy(cfg, n, rng):
    return make_spheres(n, rng, dim=cfg["sphere_dim"], shells=[tuple(s) for s in cfg["shells"]],
                        radial=cfg["radial"])


def make_sphere_split(cfg, rng):
    """Training and test sets drawn from the same shells (test size: ASSUMPTION)."""
    x, y = make_spheres_xy(cfg, cfg["n_train"], rng)
    xt, yt = make_spheres_xy(cfg, cfg["n_test"], rng)
    return x, y, xt, yt


def _read_idx(path):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError(f"{path}: too short for an IDX header")
    magic, count = struct.unpack(">II", raw[:8])
    if magic == 2049:
        data = np.frombuffer(raw, dtype=np.uint8, offset=8)
        shape = (count,)
    elif magic == 2051:
        rows, cols = struct.unpack(">II", raw[8:16])
        data = np.frombuffer(raw, dtype=np.uint8, offset=16)
        shape = (count, rows, cols)
    else:
        raise ValueError(f"{path}: bad IDX magic number {magic}")
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape}, file holds {data.size} values")
    return data.reshape(shape)


def _find(directory, name):
    for cand in (Path(directory) / name, Path(directory) / (name + ".gz")):
        if cand.exists():
            return cand
    raise FileNotFoundError(f"{name}(.gz) not found in {directory}")


def _resolve_dir(dataset, data_dir):
    base = data_dir or os.environ.get("MINIDSN_DATA")
    if not base:
        raise FileNotFoundError(f"dataset {dataset!r}: no data directory (give --data-dir or set MINIDSN_DATA)")
    base = Path(base)
    return base / dataset if (base / dataset).is_dir() else base


def _raw_images(dataset, data_dir):
    """(x_train uint8/float (N, H, W), y_train, x_test, y_test)."""
    if dataset == "cifar10-gray":
        raise FileNotFoundError("cifar10-gray needs the CIFAR-10 loader of minidsn.data (not wired in yet)")
    d = _resolve_dir(dataset, data_dir)
    out = []
    for split in ("train", "test"):
        xi, yi = (_read_idx(_find(d, f)) for f in _FILES[split])
        out += [xi, yi]
    return tuple(out)


def load_images(cfg, data_dir):
    """(x_train, y_train, x_test, y_test) with x flattened on the input plane cfg['plane'] (required)."""
    if not cfg["plane"] or len(cfg["plane"]) != 2:
        raise ValueError("config key 'plane': image data need a 2-d input plane, e.g. [14, 14]")
    x, y, xt, yt = _raw_images(cfg["dataset"], data_dir)
    n, nt = cfg["n_train"] or len(y), cfg["n_test"] or len(yt)
    if n > len(y) or nt > len(yt):
        raise ValueError(f"n_train/n_test ({n}/{nt}) exceed the data set ({len(y)}/{len(yt)})")
    # the first n / nt samples in the official order (ASSUMPTION: no subsampling at random)
    emb = lambda a: embed_on_plane(np.asarray(a[:], dtype=np.float64) / 255.0, cfg["plane"], cfg["interpolation"])
    return emb(x[:n]), np.asarray(y[:n], dtype=np.int64), emb(xt[:nt]), np.asarray(yt[:nt], dtype=np.int64)

"""MNIST and Fashion-MNIST from their four standard IDX files (plain or .gz) in a data directory."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from minidsn.data.errors import DataError
from minidsn.data.idx import find_file, read_idx

__all__ = ["load_mnist", "resolve_data_dir", "dataset_dir", "IDX_FILES"]

IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049


def resolve_data_dir(data_dir=None) -> Path:
    """``data_dir`` if given, else $MINIDSN_DATA; DataError when neither is set."""
    d = data_dir or os.environ.get("MINIDSN_DATA")
    if not d:
        raise DataError("no data directory: pass --data-dir DIR or set MINIDSN_DATA "
                        "(`minidsn data fetch mnist --dir DIR` downloads the files)")
    return Path(d)


def dataset_dir(name: str, data_dir=None) -> Path:
    """``<data_dir>/<name>/`` when it exists, else ``<data_dir>`` itself (files placed directly there)."""
    base = resolve_data_dir(data_dir)
    sub = base / name
    return sub if sub.is_dir() else base


def load_mnist(data_dir=None, split: str = "train", kind: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [n, 28, 28], labels uint8 [n]) of ``kind`` in ("mnist", "fashion-mnist"), split train/test."""
    if kind not in ("mnist", "fashion-mnist"):
        raise ValueError(f"kind must be 'mnist' or 'fashion-mnist', got {kind!r}")
    if split not in IDX_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    d = dataset_dir(kind, data_dir)
    img_name, lab_name = IDX_FILES[split]
    try:
        img_path, lab_path = find_file(d, img_name), find_file(d, lab_name)
    except DataError as exc:
        raise DataError(
            f"{exc} (looked in {d}{'' if d.name == kind else f' and {d / kind}'}). Get the files with "
            f"`minidsn data fetch {kind} --dir DIR`, then pass --data-dir DIR or set MINIDSN_DATA=DIR"
        ) from None
    images = read_idx(img_path, expect_magic=IMAGES_MAGIC)
    labels = read_idx(lab_path, expect_magic=LABELS_MAGIC)
    if images.ndim != 3 or labels.ndim != 1:
        raise DataError(f"{d}: images must be 3-d and labels 1-d, got {images.shape} and {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise DataError(f"{d}: {images.shape[0]} images but {labels.shape[0]} labels ({split})")
    if labels.size and labels.max() > 9:
        raise DataError(f"{d}: label {int(labels.max())} out of range 0..9")
    return images, labels

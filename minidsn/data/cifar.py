"""CIFAR-10 binary batches (``data_batch_1.bin`` .. ``data_batch_5.bin``, ``test_batch.bin``).

Each record is 1 label byte (0..9) then 3072 pixel bytes: 1024 red, 1024 green, 1024 blue, each a 32x32 image in
row-major order (Krizhevsky, the CIFAR page, "Binary version").  Monochrome: ``monochrome="luma"`` gives
Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601), ``"mean"`` gives (R + G + B) / 3; both float64 in [0, 255].
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from minidsn.data.errors import DataError
from minidsn.data.mnist import resolve_data_dir

__all__ = ["load_cifar10", "read_cifar_batch", "CIFAR_FILES", "RECORD_BYTES", "to_monochrome", "MAX_CIFAR_BYTES"]

RECORD_BYTES = 1 + 3 * 32 * 32
MAX_CIFAR_BYTES = 1 << 31  # a real batch is 30,730,000 bytes; a larger file is refused before it is read
CIFAR_FILES = {"train": tuple(f"data_batch_{i}.bin" for i in range(1, 6)), "test": ("test_batch.bin",)}
_LUMA = np.array([0.299, 0.587, 0.114])


def read_cifar_batch(path) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 [n, 3, 32, 32], labels uint8 [n]) from one binary batch file."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"CIFAR-10 file {path} does not exist")
    size = os.path.getsize(path)
    if size > MAX_CIFAR_BYTES:
        raise DataError(f"{path}: {size} bytes, above the {MAX_CIFAR_BYTES}-byte limit of a CIFAR-10 batch file")
    if size == 0 or size % RECORD_BYTES:
        raise DataError(f"{path}: {size} bytes is not a whole number of {RECORD_BYTES}-byte CIFAR-10 records")
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, RECORD_BYTES)
    labels = raw[:, 0].copy()
    if labels.max() > 9:
        bad = int(np.argmax(labels > 9))
        raise DataError(f"{path}: record {bad} has label {int(labels[bad])} (0..9 allowed): not a CIFAR-10 file")
    return raw[:, 1:].reshape(-1, 3, 32, 32).copy(), labels


def to_monochrome(images: np.ndarray, method: str = "luma") -> np.ndarray:
    """[n, 3, 32, 32] uint8 -> [n, 32, 32] float64 (see module docstring for the two methods)."""
    if method == "luma":
        return np.tensordot(images.astype(np.float64), _LUMA, axes=([1], [0]))
    if method == "mean":
        return images.astype(np.float64).mean(axis=1)
    raise ValueError(f"monochrome must be 'luma' or 'mean', got {method!r}")


def load_cifar10(data_dir=None, split: str = "train", monochrome: str | None = None):
    """Images and labels of a split from ``<data_dir>/cifar10/`` (or ``cifar-10-batches-bin/``, or data_dir).

    Returns uint8 [n, 3, 32, 32] images, or float64 [n, 32, 32] with ``monochrome`` in ("luma", "mean").
    """
    if split not in CIFAR_FILES:
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    base = resolve_data_dir(data_dir)
    for d in (base / "cifar10", base / "cifar10" / "cifar-10-batches-bin", base / "cifar-10-batches-bin", base):
        if (d / CIFAR_FILES[split][0]).is_file():
            break
    else:
        raise DataError(f"CIFAR-10 {split} files ({', '.join(CIFAR_FILES[split])}) not found under {base}")
    parts = [read_cifar_batch(d / name) for name in CIFAR_FILES[split]]
    images = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if monochrome is not None:
        images = to_monochrome(images, monochrome)
    return images, labels

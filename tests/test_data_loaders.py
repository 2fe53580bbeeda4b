"""IDX and CIFAR-10 loaders on small files the tests write: round trips, hostile headers, malformed files."""

import gzip
import os
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.data import DataError, load_cifar10, load_mnist, read_cifar_batch, read_idx, to_monochrome
from minidsn.data.cifar import RECORD_BYTES


def idx_bytes(arr: np.ndarray) -> bytes:
    code = {np.dtype(np.uint8): 0x08, np.dtype(np.int16): 0x0B, np.dtype(np.float64): 0x0E}[arr.dtype]
    head = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_mnist(d, n=7, gz=False, rng=None):
    rng = rng or np.random.default_rng(0)
    d.mkdir(parents=True, exist_ok=True)
    imgs = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labs = rng.integers(0, 10, n, dtype=np.uint8)
    for name, a in (("train-images-idx3-ubyte", imgs), ("train-labels-idx1-ubyte", labs)):
        data = idx_bytes(a)
        if gz:
            (d / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (d / name).write_bytes(data)
    return imgs, labs


@settings(max_examples=20)
@given(st.sampled_from([np.uint8, np.int16, np.float64]),
       st.lists(st.integers(1, 4), min_size=1, max_size=3), st.booleans(), st.integers(0, 2**31))
def test_idx_roundtrip(tmp_path_factory, dtype, shape, gz, seed):
    rng = np.random.default_rng(seed)
    a = (rng.normal(size=shape) * 100).astype(dtype)
    p = tmp_path_factory.mktemp("idx") / ("a.idx.gz" if gz else "a.idx")
    data = idx_bytes(a)
    p.write_bytes(gzip.compress(data) if gz else data)
    b = read_idx(p)
    assert b.dtype == np.dtype(dtype) and b.shape == a.shape and np.array_equal(a, b)


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist_layouts(tmp_path, gz):
    imgs, labs = write_mnist(tmp_path / "mnist", gz=gz)
    x, y = load_mnist(tmp_path, "train")  # <dir>/mnist/
    assert np.array_equal(x, imgs) and np.array_equal(y, labs)
    x, y = load_mnist(tmp_path / "mnist", "train")  # files directly in the dir
    assert np.array_equal(x, imgs)


def test_data_dir_from_environment(tmp_path, monkeypatch):
    write_mnist(tmp_path / "fashion-mnist")
    monkeypatch.setenv("MINIDSN_DATA", str(tmp_path))
    x, _ = load_mnist(split="train", kind="fashion-mnist")
    assert x.shape == (7, 28, 28)
    monkeypatch.delenv("MINIDSN_DATA")
    with pytest.raises(DataError, match="MINIDSN_DATA"):
        load_mnist(split="train")


def test_hostile_header_does_not_allocate(tmp_path):
    # claims 60000 x 10^4 x 10^4 uint8 (6e12 bytes) but holds 10 bytes
    head = bytes([0, 0, 8, 3]) + struct.pack(">3I", 60000, 10**4, 10**4)
    p = tmp_path / "evil"
    p.write_bytes(head + b"\x00" * 10)
    with pytest.raises(DataError, match="above the"):
        read_idx(p)
    # within the limit but larger than the file: refused from the file size, before reading
    head = bytes([0, 0, 8, 3]) + struct.pack(">3I", 1000, 28, 28)
    p.write_bytes(head + b"\x00" * 10)
    with pytest.raises(DataError, match="file holds 10"):
        read_idx(p)
    # gzip'd: read in chunks; stops at the real end
    g = tmp_path / "evil.gz"
    g.write_bytes(gzip.compress(head + b"\x00" * 10))
    with pytest.raises(DataError, match="only 10 bytes"):
        read_idx(g)


@pytest.mark.parametrize("content,match", [
    (b"\x00\x00", "too short"),
    (b"\x12\x34\x08\x01\x00\x00\x00\x01\x00", "bad IDX magic"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", "bad IDX magic"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00\x08\x02\x00\x00\x00", "truncated IDX header"),
    (b"\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02\x03", "file holds 3"),
])
def test_malformed_idx(tmp_path, content, match):
    p = tmp_path / "f"
    p.write_bytes(content)
    with pytest.raises(DataError, match=match):
        read_idx(p)


def test_wrong_magic_and_mismatched_counts(tmp_path):
    write_mnist(tmp_path)
    os.replace(tmp_path / "train-labels-idx1-ubyte", tmp_path / "x")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(5, np.uint8)))
    with pytest.raises(DataError, match="7 images but 5 labels"):
        load_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros((7, 28, 28), np.uint8)))
    with pytest.raises(DataError, match="magic number 2051, expected 2049"):
        load_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="train-labels-idx1-ubyte.*not found"):
        load_mnist(tmp_path)
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8b not really gzip")
    (tmp_path / "train-images-idx3-ubyte").unlink()
    with pytest.raises(DataError, match="cannot read"):
        read_idx(tmp_path / "train-images-idx3-ubyte.gz")


def write_cifar(d, name, n, rng):
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    pix = rng.integers(0, 256, (n, 3, 32, 32), dtype=np.uint8)
    rec = np.concatenate([labels[:, None], pix.reshape(n, -1)], axis=1)
    (d / name).write_bytes(rec.tobytes())
    return pix, labels


def test_cifar_batches_and_monochrome(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "cifar10"
    d.mkdir()
    parts = [write_cifar(d, f"data_batch_{i}.bin", 3, rng) for i in range(1, 6)]
    tpix, tlab = write_cifar(d, "test_batch.bin", 4, rng)
    x, y = load_cifar10(tmp_path, "train")
    assert x.shape == (15, 3, 32, 32) and np.array_equal(x[3:6], parts[1][0]) and np.array_equal(y[:3], parts[0][1])
    xm, ym = load_cifar10(tmp_path, "test", monochrome="luma")
    assert xm.shape == (4, 32, 32) and xm.dtype == np.float64 and np.array_equal(ym, tlab)
    r, g, b = tpix[0].astype(float)
    assert np.allclose(xm[0], 0.299 * r + 0.587 * g + 0.114 * b)
    assert np.allclose(to_monochrome(tpix, "mean")[0], (r + g + b) / 3)
    with pytest.raises(ValueError, match="monochrome"):
        to_monochrome(tpix, "avg")


def test_cifar_malformed(tmp_path):
    p = tmp_path / "b.bin"
    p.write_bytes(b"\x00" * (RECORD_BYTES + 5))
    with pytest.raises(DataError, match="whole number"):
        read_cifar_batch(p)
    p.write_bytes(b"\x0c" + b"\x00" * (RECORD_BYTES - 1))
    with pytest.raises(DataError, match="label 12"):
        read_cifar_batch(p)
    with pytest.raises(DataError, match="not found"):
        load_cifar10(tmp_path, "test")

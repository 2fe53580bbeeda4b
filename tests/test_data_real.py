"""Optional: the real MNIST / Fashion-MNIST files (MINIDSN_DATA or ../shared/data); skips cleanly without them."""

import gzip
import hashlib
import os
from pathlib import Path

import numpy as np
import pytest

from minidsn.data import load_mnist
from minidsn.data.sources import DATASETS

pytestmark = pytest.mark.data


def real_data_dir() -> Path:
    for cand in (os.environ.get("MINIDSN_DATA"), Path(__file__).resolve().parents[2] / "shared" / "data"):
        if cand and (Path(cand) / "mnist").is_dir():
            return Path(cand)
    pytest.skip("real data not found: set MINIDSN_DATA to a directory with mnist/ and fashion-mnist/")


@pytest.mark.parametrize("kind", ["mnist", "fashion-mnist"])
def test_real_files_match_table_sha256(kind):
    d = real_data_dir() / kind
    if not d.is_dir():
        pytest.skip(f"{d} not found")
    for rf in DATASETS[kind].files:
        plain, gz = d / rf.local, d / rf.remote
        if plain.exists():
            data = plain.read_bytes()
        elif gz.exists():
            data = gzip.decompress(gz.read_bytes())
        else:
            pytest.skip(f"{rf.local} not in {d}")
        assert hashlib.sha256(data).hexdigest() == rf.sha256, rf.local


@pytest.mark.parametrize("kind", ["mnist", "fashion-mnist"])
def test_real_sets_load(kind):
    d = real_data_dir()
    x, y = load_mnist(d, "test", kind)
    assert x.shape == (10000, 28, 28) and y.shape == (10000,) and x.dtype == np.uint8
    assert np.array_equal(np.bincount(y, minlength=10) > 800, np.ones(10, bool))
    if kind == "mnist":
        assert y[:10].tolist() == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]  # the well-known first test labels

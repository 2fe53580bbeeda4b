"""URN image data: IDX files -> inputs on the grid plane (seed 002 Sec. 3), on small files the test writes."""

import gzip
import struct

import numpy as np
import pytest

from minidsn.data.grid_embed import interpolate_images
from minidsn.models.api import ConfigError
from minidsn.models.urn import data as urn_data
from minidsn.models.urn.model import URNModel


def _write_idx(path, arr):
    arr = np.asarray(arr, dtype=np.uint8)
    if arr.ndim == 1:
        head = struct.pack(">II", 2049, arr.shape[0])
    else:
        head = struct.pack(">IIII", 2051, *arr.shape)
    with gzip.open(path, "wb") as f:
        f.write(head + arr.tobytes())


def _fake_set(tmp_path, n=12, nt=6):
    rng = np.random.default_rng(0)
    d = tmp_path / "fashion-mnist"
    d.mkdir()
    x = rng.integers(0, 256, (n, 28, 28))
    xt = rng.integers(0, 256, (nt, 28, 28))
    y, yt = rng.integers(0, 10, n), rng.integers(0, 10, nt)
    _write_idx(d / "train-images-idx3-ubyte.gz", x)
    _write_idx(d / "train-labels-idx1-ubyte.gz", y)
    _write_idx(d / "t10k-images-idx3-ubyte.gz", xt)
    _write_idx(d / "t10k-labels-idx1-ubyte.gz", yt)
    return x, y, xt, yt


def test_images_embedded_on_plane(tmp_path):
    x, y, xt, yt = _fake_set(tmp_path)
    cfg = URNModel.validate_config({"dataset": "fashion-mnist", "plane": [7, 7], "n_train": 10, "n_test": 0})
    a, b, c, d = urn_data.load_images(cfg, str(tmp_path))
    assert a.shape == (10, 49) and c.shape == (6, 49)
    np.testing.assert_array_equal(b, y[:10])
    np.testing.assert_allclose(a, interpolate_images(x[:10] / 255.0, (7, 7)).reshape(10, 49))


def test_image_model_runs_on_small_files(tmp_path):
    _fake_set(tmp_path)
    m = URNModel()
    cfg = m.validate_config({"dataset": "fashion-mnist", "plane": [4, 4], "n_neurons": 48, "n_train": 12,
                             "n_test": 6, "geometry": "grid", "c_syn": 1e-3, "output_nodes": "top_centre",
                             "residual_out": True, "batch_size": 4})
    rng = np.random.default_rng(0)
    state = m.init(cfg, rng, str(tmp_path))
    assert "data" not in state  # images stay out of checkpoints
    state, met = m.step(state, cfg, rng, 0)
    assert np.isfinite(met["loss"])
    ev = m.evaluate(state, cfg, rng, str(tmp_path))
    assert 0.0 <= ev["test_acc"] <= 1.0


def test_missing_files_and_missing_plane(tmp_path):
    cfg = URNModel.validate_config({"dataset": "fashion-mnist", "plane": [7, 7]})
    with pytest.raises(Exception, match="(?i)not found|no such|missing"):
        urn_data.load_images(cfg, str(tmp_path))  # no files there
    with pytest.raises(ConfigError, match="'plane'"):  # refused when validated, before any data are read
        URNModel.validate_config({"dataset": "fashion-mnist"})
    with pytest.raises(ConfigError, match="'plane'"):  # and by the loader, for a config never validated
        urn_data.load_images({**cfg, "plane": []}, str(tmp_path))


@pytest.mark.parametrize("n_train", [7, 64])
def test_sphere_balance_option(n_train):
    """balance = exact (default) gives n // 2 to each class and the odd one to class 0; coin draws each label.
    The default's data are the data make_spheres gives with balanced=True (so recorded runs keep their data)."""
    from minidsn.data.spheres import make_spheres

    exact = URNModel.validate_config({"n_train": n_train, "n_test": 8})
    x, y, _, _ = urn_data.make_sphere_split(exact, np.random.default_rng(3))
    assert np.bincount(y, minlength=2).tolist() == [n_train - n_train // 2, n_train // 2]
    x0, y0 = make_spheres(n_train, np.random.default_rng(3), balanced=True)
    np.testing.assert_array_equal(x, x0)
    np.testing.assert_array_equal(y, y0)
    coin = URNModel.validate_config({"n_train": n_train, "n_test": 8, "balance": "coin"})
    counts = set()
    for seed in range(20):
        _, yc, _, _ = urn_data.make_sphere_split(coin, np.random.default_rng(seed))
        counts.add(int(np.sum(yc == 0)))
        # the label decides the shell: class 0 radii within [1, 1.5], class 1 within [2, 2.5]
        xc, yc2 = make_spheres(n_train, np.random.default_rng(seed), balanced=False)
        r = np.linalg.norm(xc, axis=1)
        assert np.all((yc2 == 0) == (r <= 1.5 + 1e-12))
    assert len(counts) > 1  # the class count varies with the draw, unlike exact
    with pytest.raises(Exception, match="balance"):
        URNModel.validate_config({"balance": "even"})

"""Spheres generator (seed 002 Sec. 2) and image-to-grid interpolation (seed 002 Sec. 3)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn.data.grid_embed import interpolate_images, resample_matrix
from minidsn.data.spheres import make_spheres


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31), n=st.integers(2, 300), dim=st.integers(1, 12),
       radial=st.sampled_from(["volume", "radius"]))
def test_spheres_radii_labels_balance(seed, n, dim, radial):
    shells = ((1.0, 1.5), (2.0, 2.5))
    x, y = make_spheres(n, np.random.default_rng(seed), dim=dim, shells=shells, radial=radial)
    assert x.shape == (n, dim) and y.shape == (n,) and x.dtype == np.float64
    r = np.linalg.norm(x, axis=1)
    for c, (lo, hi) in enumerate(shells):
        assert np.all((r[y == c] >= lo - 1e-12) & (r[y == c] <= hi + 1e-12))
    assert abs(int(np.sum(y == 0)) - int(np.sum(y == 1))) <= 1


def test_spheres_deterministic_and_volume_law():
    a = make_spheres(500, np.random.default_rng(3))
    b = make_spheres(500, np.random.default_rng(3))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    # uniform in volume in 10-d: P(r <= t) = (t^10 - lo^10) / (hi^10 - lo^10); check the median radius of class 1
    x, y = make_spheres(20000, np.random.default_rng(0), dim=10)
    r = np.linalg.norm(x[y == 1], axis=1)
    median = (2.0**10 + 0.5 * (2.5**10 - 2.0**10)) ** 0.1
    assert abs(np.median(r) - median) < 0.01


def test_spheres_bad_input():
    with pytest.raises(ValueError, match="r_min"):
        make_spheres(10, np.random.default_rng(0), shells=((2.0, 1.0), (3.0, 4.0)))
    with pytest.raises(ValueError, match="radial"):
        make_spheres(10, np.random.default_rng(0), radial="shell")
    with pytest.raises(TypeError, match="Generator"):
        make_spheres(10, 0)


@settings(max_examples=20)
@given(seed=st.integers(0, 2**31), H=st.integers(2, 12), W=st.integers(2, 12), h=st.integers(2, 20),
       w=st.integers(2, 20), method=st.sampled_from(["bilinear", "nearest"]))
def test_interpolation_properties(seed, H, W, h, w, method):
    rng = np.random.default_rng(seed)
    img = rng.normal(size=(3, H, W))
    out = interpolate_images(img, (h, w), method)
    assert out.shape == (3, h, w)
    # corners map to corners; constants stay constant; rows of R sum to 1 (a convex combination)
    np.testing.assert_allclose(out[:, 0, 0], img[:, 0, 0])
    np.testing.assert_allclose(out[:, -1, -1], img[:, -1, -1])
    np.testing.assert_allclose(interpolate_images(np.full((1, H, W), 2.5), (h, w), method), 2.5)
    assert np.all(out <= img.max() + 1e-12) and np.all(out >= img.min() - 1e-12)
    # same size is the identity
    np.testing.assert_allclose(interpolate_images(img, (H, W), method), img, atol=1e-12)
    if method == "bilinear":
        # a linear ramp is reproduced exactly (bilinear is exact on affine images)
        yy, xx = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
        ramp = 0.3 * yy + 0.7 * xx
        out_r = interpolate_images(ramp, (h, w))
        py = np.arange(h) * (H - 1) / (h - 1)
        px = np.arange(w) * (W - 1) / (w - 1)
        np.testing.assert_allclose(out_r, 0.3 * py[:, None] + 0.7 * px[None, :], atol=1e-12)


def test_interpolation_bad_input():
    with pytest.raises(ValueError, match="method"):
        resample_matrix(3, 4, "cubic")
    with pytest.raises(ValueError, match="NaN"):
        interpolate_images(np.full((2, 2), np.nan), (3, 3))
    with pytest.raises(ValueError, match="shape"):
        interpolate_images(np.ones(4), (3, 3))

"""Embedding images on the URN's input plane by interpolation (seed 002, Sec. 3: "the 32x32 inputs are expanded to
60x60 using interpolation and are embedded in the z=1 neurons").

The seed does not name the interpolation. ASSUMPTION (parameter `method`): "bilinear" with corner-aligned sampling
(output pixel k of n sits at input coordinate k (m - 1) / (n - 1), so corners map to corners and a constant image
stays constant), or "nearest". Both are separable: out = Ry @ img @ Rx^T with (n x m) resampling matrices, which
also shrinks images (each output sample reads its two neighbours, no anti-aliasing).
"""

from __future__ import annotations

import numpy as np

METHODS = ("bilinear", "nearest")


def resample_matrix(n_out, n_in, method="bilinear"):
    """(n_out, n_in) matrix R such that R @ v resamples a length-n_in signal to n_out samples."""
    n_out, n_in = int(n_out), int(n_in)
    if n_out < 1 or n_in < 1:
        raise ValueError(f"grid_embed: sizes must be >= 1, got n_out={n_out}, n_in={n_in}")
    if method not in METHODS:
        raise ValueError(f"grid_embed: method must be one of {METHODS}, got {method!r}")
    pos = np.zeros(n_out) if n_out == 1 else np.arange(n_out) * (n_in - 1) / (n_out - 1)
    R = np.zeros((n_out, n_in))
    rows = np.arange(n_out)
    if method == "nearest":
        R[rows, np.clip(np.floor(pos + 0.5).astype(int), 0, n_in - 1)] = 1.0
        return R
    lo = np.clip(np.floor(pos).astype(int), 0, n_in - 1)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = pos - lo
    np.add.at(R, (rows, lo), 1.0 - frac)
    np.add.at(R, (rows, hi), frac)
    return R


def interpolate_images(images, out_shape, method="bilinear"):
    """(N, H, W) -> (N, h, w) by separable interpolation; a single (H, W) image gives (h, w)."""
    x = np.asarray(images, dtype=np.float64)
    single = x.ndim == 2
    if single:
        x = x[None]
    if x.ndim != 3:
        raise ValueError(f"grid_embed: images must be (N, H, W) or (H, W), got shape {np.shape(images)}")
    if not np.all(np.isfinite(x)):
        raise ValueError("grid_embed: images contain NaN or inf")
    h, w = (int(v) for v in out_shape)
    Ry = resample_matrix(h, x.shape[1], method)
    Rx = resample_matrix(w, x.shape[2], method)
    out = np.einsum("ij,njk,lk->nil", Ry, x, Rx, optimize=True)
    return out[0] if single else out


def embed_on_plane(images, plane_shape, method="bilinear"):
    """Flattened (N, h * w) inputs for the URN's input plane (row-major, the order of `grid_positions`)."""
    out = interpolate_images(images, plane_shape, method)
    return out.reshape(out.shape[0] if out.ndim == 3 else 1, -1)

"""Figures of the URN's emergent structure (seed 002, Fig. 3): activities and the weight matrix of the active
neurons sorted by the iteration at which they first activate. Written as PNG with zlib alone, so the figure exists
without matplotlib: grey = 0, dark = large |value| (log scale), red lines = layer boundaries.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from .net import forward_logits
from .structure import layer_of_neurons, order_by_layer, reorder_weights


def write_png_rgb(img, path):
    """img (H, W, 3) uint8 -> PNG file (8-bit RGB, no interlace).

    Source: none (PNG writer; no formula)
    """
    img = np.ascontiguousarray(img, dtype=np.uint8)
    h, w, _ = img.shape
    raw = b"".join(b"\x00" + img[r].tobytes() for r in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")
    Path(path).write_bytes(png)


def _shade(a, scale):
    """|a| on a log scale -> white (0) .. black (>= max), as uint8 RGB."""
    m = np.abs(a)
    top = np.max(m) if m.size and np.max(m) > 0 else 1.0
    v = np.clip(np.log10(1 + 9 * m / top), 0, 1) if scale == "log" else m / top
    g = (255 * (1 - v)).astype(np.uint8)
    return np.stack([g, g, g], axis=-1)


def _upscale(img, k):
    return np.repeat(np.repeat(img, k, axis=0), k, axis=1)


def _boundaries(layer_sorted):
    return np.flatnonzero(np.diff(layer_sorted)) + 1


def structure_images(W, amap, states_sample):
    """(weights_rgb, activities_rgb) for the active neurons in layer order.

    Source: seed 002 Fig. 3 (activities and |W| of the active neurons, ordered by layer).
    """
    layer = layer_of_neurons(amap)
    order = order_by_layer(layer)
    Ws = reorder_weights(W, order)
    img = _shade(Ws, "log")
    for bnd in _boundaries(layer[order]):
        img[bnd, :] = (220, 0, 0)
        img[:, bnd] = (220, 0, 0)
    acts = np.concatenate([h[:, order] for h in states_sample], axis=0)  # (I+1) blocks of samples
    aimg = _shade(acts, "lin")
    return img, aimg


def plot_structure(params, spec, x, cfg, out_dir, n_samples=20):
    """Source: seed 002 Fig. 3, Fig. 4 (the figures written by a run)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _, amap = forward_logits(params, x, spec, threshold=cfg["active_threshold"])
    from .net import states

    hs = states(params, x[:n_samples], spec)
    wimg, aimg = structure_images(params["W"], amap, hs)
    k = max(1, 600 // max(1, wimg.shape[0]))
    write_png_rgb(_upscale(wimg, k), out_dir / "urn_weights_by_layer.png")
    write_png_rgb(_upscale(aimg, max(1, min(k, 4))), out_dir / "urn_activities_by_layer.png")

"""Export one oracle case of a registered model: ``minidsn oracle export MODEL --seed S --out case.npz``."""

from __future__ import annotations

import platform

import numpy as np

import minidsn
from minidsn.oracle.format import KEY_SCHEME, build_arrays, conformance_notes, write_case
from minidsn.models.api import get_model

__all__ = ["make_case", "export_case"]


def make_case(model: str, seed: int = 0, config: dict | None = None, data_dir=None):
    """(arrays, meta) of one case; the model's oracle_case gets ``default_rng(seed)`` and the validated config."""
    cls = get_model(model)
    cfg = cls.validate_config(config or {})
    rng = np.random.default_rng(seed)
    arrays, dtypes = build_arrays(cls().oracle_case(cfg, rng, data_dir))
    meta = {
        "model": model,
        "variant": cfg.get("variant"),
        "config": cfg,
        "seed": seed,
        "minidsn_version": minidsn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "key_scheme": KEY_SCHEME,
        "dtypes": dtypes,
        "shapes": {k: list(a.shape) for k, a in arrays.items()},
        "conformance": conformance_notes(arrays),
    }
    return arrays, meta


def export_case(model: str, out, seed: int = 0, config: dict | None = None, data_dir=None):
    """Write one case to ``out``; returns (path, arrays, meta)."""
    arrays, meta = make_case(model, seed, config, data_dir)
    return write_case(out, arrays, meta), arrays, meta

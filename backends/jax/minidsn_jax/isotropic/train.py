"""Isotropic MLP initialisation and one AdamW step (note, "Network": orthogonal W, b = 0, psi = 0, o = o_init;
AdamW lr 1e-3, weight decay 1e-3 in the experiments).

The trained pytree holds W, b, and, by mode, psi (trainable / trainable_decay) and log_o (trainable o = exp(log_o))
or o (o_positive = False); constant modes keep psi (zeros) / o in a separate buffers pytree.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

import jax
import numpy as np

from minidsn_jax.isotropic.net import loss_terms
from minidsn_jax.optim import adam_init, adamw_update


def orthogonal(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """A (rows, cols) matrix with orthonormal rows or columns (QR of a Gaussian, signs fixed by R's diagonal)."""
    n = max(rows, cols)
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    q = q * np.sign(np.diag(r))
    return q[:rows, :cols]


def init(cfg: dict, rng: np.random.Generator, sizes: list[int]) -> tuple[dict, dict]:
    """(params, buffers) for layer widths ``sizes``."""
    H = len(sizes) - 2
    params = {"W": [orthogonal(rng, b, a) for a, b in zip(sizes[:-1], sizes[1:])],
              "b": [np.zeros(b) for b in sizes[1:]]}
    buffers = {}
    if cfg.get("activation", "isotropic") == "elementwise":
        return params, buffers
    psi = [np.zeros(b) for b in sizes[2:]]
    psi_mode, o_mode = cfg.get("psi_mode", "trainable_decay"), cfg.get("o_mode", "trainable")
    if psi_mode in ("trainable", "trainable_decay"):
        params["psi"] = psi
    elif psi_mode == "zeros":
        buffers["psi"] = psi
    o = float(cfg.get("o_init", 1e-6))
    if o_mode == "trainable":
        if cfg.get("o_positive", True):
            params["log_o"] = [np.float64(math.log(o))] * H
        else:
            params["o"] = [np.float64(o)] * H
    elif o_mode == "constant":
        buffers["o"] = [np.float64(o)] * H
    return params, buffers


@lru_cache(maxsize=16)
def _compiled(cfg_json: str):
    cfg = json.loads(cfg_json)

    def step(params, opt, buffers, x, labels):
        (_, (losses, logits)), grads = jax.value_and_grad(
            lambda p: (lambda t, l, z: (t, (l, z)))(*loss_terms(p, buffers, x, labels, cfg)), has_aux=True)(params)
        new, opt = adamw_update(params, grads, opt, cfg["lr"], cfg["weight_decay"])
        return new, opt, losses, grads

    return jax.jit(step)


def train_step(params, opt, buffers, x, labels, cfg):
    """One AdamW step (jitted per config; recompiled when the widths change after a structural operation)."""
    return _compiled(json.dumps(cfg, sort_keys=True, default=str))(params, opt, buffers, x, labels)


def new_optimiser(params):
    return adam_init(params)

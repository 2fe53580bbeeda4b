"""MLP initialisation and one Adam step (Kingma & Ba, Algorithm 1) on a batch; jitted per config."""

from __future__ import annotations

import json
from functools import lru_cache

import jax
import numpy as np

from minidsn_jax.mlp.net import loss_terms
from minidsn_jax.optim import adam_init, adam_update


def init(rng: np.random.Generator, sizes: list[int]) -> dict:
    """Glorot-uniform W (fan_in + fan_out), zero b: the widths [d, *hidden, C]."""
    layers = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        lim = np.sqrt(6.0 / (a + b))
        layers.append({"W": rng.uniform(-lim, lim, (a, b)), "b": np.zeros(b)})
    return {"layers": layers}


@lru_cache(maxsize=16)
def _compiled(cfg_json: str):
    cfg = json.loads(cfg_json)

    def step(params, opt, x, y):
        (_, losses), grads = jax.value_and_grad(lambda p: loss_terms(p, x, y, cfg)[:2], has_aux=True)(params)
        new, opt = adam_update(params, grads, opt, cfg["lr"])
        return new, opt, losses, grads

    return jax.jit(step)


def train_step(params, opt, x, y, cfg):
    return _compiled(json.dumps(cfg, sort_keys=True, default=str))(params, opt, x, y)


def new_optimiser(params):
    return adam_init(params)

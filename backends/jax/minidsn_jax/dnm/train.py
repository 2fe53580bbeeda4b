"""DNM initialisation, toy data and one Adam training step (note, "Trainable variables", "Training").

Initialisation (note, table "Trainable variables"): one N(mean, sd) value per neuron for each closeness parameter,
w, b ~ N(0, 1), kappa = kappa_init (-1). Adam (beta1 0.9, beta2 0.999, eps 1e-8) in TensorFlow 1.x's "efficient"
eps placement by default (note, "Training"; docs/models/dnm.md, departure 2), no clipping.
Toy data (seed, "Some Examples"): x ~ N(0, 1), columns (a, b, c, d, e); targets [b+e, e-d, b+e+d, e-d-c].
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from minidsn_jax.dnm.net import PARAM_NAMES, loss_terms
from minidsn_jax.optim import adam_init, adam_update


def init_table(kind: str, n_neurons: int, n_inputs: int) -> dict:
    """(mean, sd) per closeness parameter for the toy or the MNIST notebook."""
    if kind == "toy":
        return {"alpha": (5.0, 0.1), "beta": (0.0, 0.01), "gamma": (0.0, 0.1), "theta": (0.0, 0.1),
                "phi": (math.pi / 2, 0.001 * math.pi), "sigma": (n_inputs**0.75, n_neurons**0.133),
                "mu": (0.0, 2.0)}
    if kind == "mnist":
        return {"alpha": (5.0, 1.0), "beta": (0.0, 0.01), "gamma": (0.0, 1.0), "theta": (0.0, 1.0),
                "phi": (math.pi / 2, 0.01 * math.pi), "sigma": (n_inputs**0.66, n_neurons**0.33),
                "mu": (0.0, 14.0)}
    raise ValueError(f"dnm init must be 'toy' or 'mnist', got {kind!r}")


def init_params(cfg: dict, rng: np.random.Generator) -> dict:
    N, n_in = cfg["n_neurons"], cfg["n_inputs"]
    kind = cfg.get("init") or ("mnist" if cfg.get("dataset") == "mnist" else "toy")
    params = {}
    for name, (mean, sd) in init_table(kind, N, n_in).items():
        params[name] = rng.normal(mean, sd, size=N)
    params["w"] = rng.normal(0.0, 1.0, size=N)
    params["b"] = rng.normal(0.0, 1.0, size=N)
    params["kappa"] = np.float64(cfg.get("kappa_init", -1.0))
    return params


def toy_batch(rng: np.random.Generator, batch_size: int) -> tuple[np.ndarray, np.ndarray]:
    """x ~ N(0,1) (B, 5) = (a, b, c, d, e); target (B, 4) = [b+e, e-d, b+e+d, e-d-c]."""
    x = rng.standard_normal((batch_size, 5))
    a, b, c, d, e = x.T
    return x, np.stack([b + e, e - d, b + e + d, e - d - c], axis=1)


def _key(cfg: dict) -> str:
    return json.dumps(cfg, sort_keys=True, default=str)


@lru_cache(maxsize=16)
def _compiled(cfg_json: str):
    cfg = json.loads(cfg_json)

    def value_and_grad(params, x, target):
        def total(p):
            t, losses, outputs = loss_terms(p, x, target, cfg)
            return t, (losses, outputs["cutoff"])
        (_, (losses, cutoff)), grads = jax.value_and_grad(total, has_aux=True)(params)
        return losses, cutoff, grads

    def step(params, opt, x, target):
        losses, cutoff, grads = value_and_grad(params, x, target)
        new, opt = adam_update(params, grads, opt, cfg["lr"], eps_form=cfg.get("adam_eps_form", "efficient"))
        return new, opt, losses, cutoff, grads

    def evaluate(params, x, target):
        _, losses, _ = loss_terms(params, x, target, cfg)
        return losses["objective"]

    return jax.jit(step), jax.jit(evaluate), jax.jit(value_and_grad)


def train_step(params, opt, x, target, cfg):
    """One Adam step on (x, target): (params, opt, losses, cutoff, grads); everything jitted per config."""
    return _compiled(_key(cfg))[0](params, opt, x, target)


def objective(params, x, target, cfg):
    return _compiled(_key(cfg))[1](params, x, target)


def new_optimiser(params):
    return adam_init({k: params[k] for k in PARAM_NAMES})

"""URN initialisation and one Adam step (seed 002, Sec. 2: "He normal" dense W, Adam).

W ~ init_std N(0, 1) with init_std = sqrt(2/S) by default (He normal with fan-in S, an assumption of docs/models/urn.md),
b = bias_init. Adam (Kingma & Ba, Algorithm 1; eps = adam_eps) on W and b.
"""

from __future__ import annotations

import json
import math
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from minidsn_jax.optim import adam_init, adam_update
from minidsn_jax.urn.net import activation, forward, loss_terms, syn_weights_for


def init_params(cfg: dict, rng: np.random.Generator) -> dict:
    S = cfg["n_neurons"]
    std = cfg.get("init_std") or math.sqrt(2.0 / S)
    return {"W": std * rng.standard_normal((S, S)), "b": np.full(S, float(cfg.get("bias_init", 0.0)))}


@lru_cache(maxsize=16)
def _compiled(cfg_json: str, S: int, d_in: int):
    cfg = json.loads(cfg_json)
    syn = jnp.asarray(syn_weights_for(cfg, S, d_in)) if cfg.get("geometry", "none") == "grid" else None

    def step(params, opt, x, y):
        def total(p):
            t, losses, out = loss_terms(p, x, y, cfg, syn)
            return t, (losses, out["logits"], out["states"])
        (_, (losses, logits, states)), grads = jax.value_and_grad(total, has_aux=True)(params)
        new, opt = adam_update(params, grads, opt, cfg["lr"], eps=cfg.get("adam_eps", 1e-8),
                               eps_form=cfg.get("adam_eps_form", "algorithm1"))
        acc = jnp.mean(jnp.argmax(logits, 1) == jnp.argmax(y, 1))
        live = jnp.sum(jnp.any(states[1:] != 0, axis=(0, 1)))
        return new, opt, losses, acc, live, grads

    phi = activation(cfg.get("phi", "relu"), cfg.get("leaky_slope", 0.01))

    def states(params, x, d_out):
        return forward(params["W"], params["b"], x, cfg["n_iter"], d_out, phi,
                       cfg.get("residual_in", False), cfg.get("residual_out", False))

    return jax.jit(step), jax.jit(states, static_argnums=2)


def _key(cfg):
    return json.dumps(cfg, sort_keys=True, default=str)


def train_step(params, opt, x, y, cfg):
    return _compiled(_key(cfg), params["W"].shape[0], x.shape[1])[0](params, opt, x, y)


def run_forward(params, x, d_out, cfg):
    """States (I+1, n, S) and logits (n, d_out), in chunks of 1,000 samples."""
    fn = _compiled(_key(cfg), params["W"].shape[0], x.shape[1])[1]
    outs = [fn(params, jnp.asarray(x[i:i + 1000]), d_out) for i in range(0, len(x), 1000)]
    return (np.concatenate([np.asarray(o[0]) for o in outs], axis=1),
            np.concatenate([np.asarray(o[1]) for o in outs], axis=0))


def new_optimiser(params):
    return adam_init(params)

"""bench/backends.py's hook: one synthesis training step of the JAX backend per call: the 140-cycle episode of the
full trainable network (1,486 gates) under lax.scan, its gradient, and the Adam update (synthesis.train_step; the
gates go back to the host each step, as the pruning schedule needs them there)."""

from __future__ import annotations

import numpy as np

from minidsn_jax.dmm.handcrafted import handcrafted_targets
from minidsn_jax.dmm.synthesis import init_state, train_step
from minidsn_jax.dmm.trainable import make_plan

__all__ = ["jit_stepper"]


def jit_stepper(cfg: dict, seed: int = 0):
    string = cfg.get("string", "test string.")
    n_cycles = int(cfg.get("n_cycles", 140))
    plan = make_plan(string, n_cycles, int(cfg.get("n_layers", 5)), int(cfg.get("n_per_layer", 2)))
    box = {"state": init_state(plan, np.random.default_rng(seed), float(cfg.get("init_scale", 0.01)))}
    inputs = {"targets": np.asarray(handcrafted_targets(string, n_cycles)), "lam": float(cfg.get("lam_base", 1e-3)),
              "lr": float(cfg.get("lr", 1e-3)), "drop": np.zeros(0, dtype=np.int64)}

    def step():
        box["state"] = train_step(box["state"], inputs, plan)[0]
    return step

"""DMM as a backend of minidsn's conformance kit (minidsn.oracle.conformance; docs/oracle.md, "dmm").

A trajectory step is one synthesis step (synthesis.train_step): state {"params": {"gates"}, "opt": {"step", "m",
"v"}, "link_ids"}, inputs {"targets", "lam", "lr", "drop"}, no draws; events: one "prune" when ``drop`` is not
empty. Link ids index the links of trainable.make_plan(string, n_cycles, n_layers, n_per_layer) (the original's
order), from the case's config. Nothing here computes: it converts between the case's layout and minidsn_jax.dmm.
"""

from __future__ import annotations

import numpy as np

from minidsn_jax.dmm.synthesis import train_step
from minidsn_jax.dmm.trainable import make_plan

__all__ = ["DMMBackend"]


class DMMBackend:
    def __init__(self):
        self.plan = None

    def setup(self, meta):
        cfg = meta["config"]
        network = cfg.get("network", "feedforward")
        if network != "feedforward":  # minidsn's compare-free and recurrent starts are not built here
            raise NotImplementedError(f"minidsn_jax dmm: network {network!r} is not implemented (only 'feedforward')")
        self.plan = make_plan(cfg["string"], int(cfg["n_cycles"]), int(cfg["n_layers"]), int(cfg["n_per_layer"]))
        self.betas = (float(cfg.get("beta1", 0.9)), float(cfg.get("beta2", 0.999)))
        self.eps = float(cfg.get("eps", 1e-8))
        self.prune_optimizer = str(cfg.get("prune_optimizer", "trim"))

    def step(self, state, inputs, draws):
        if len(draws):
            raise ValueError(f"a DMM synthesis step draws no random number; the case recorded {len(draws)}")
        st = {"params": {"gates": np.asarray(state["params"]["gates"], dtype=np.float64)},
              "opt": {"step": int(np.asarray(state["opt"]["step"])),
                      "m": {"gates": np.asarray(state["opt"]["m"]["gates"], dtype=np.float64)},
                      "v": {"gates": np.asarray(state["opt"]["v"]["gates"], dtype=np.float64)}},
              "link_ids": np.asarray(state["link_ids"]).astype(np.int64)}
        drop = np.asarray(inputs.get("drop", np.zeros(0))).astype(np.int64).reshape(-1)
        inp = {"targets": np.asarray(inputs["targets"], dtype=np.float64), "lam": float(np.asarray(inputs["lam"])),
               "lr": float(np.asarray(inputs["lr"])), "drop": drop}
        return train_step(st, inp, self.plan, self.betas, self.eps, self.prune_optimizer)

"""bench/backends.py's hook: one DiffRNN cycle of the JAX backend per call (minidsn_jax.diffrnn.trainer.Trainer).

A cycle is the jitted window + gradient + update on the device, the score brought to the host, and the structural
step there (the network re-uploaded only on the cycles that add or delete), from a fresh H = 1 network on the task
text, as minidsn's Model.step is timed. The device work of a cycle cannot be separated from the host's decision: the
next window's shape depends on it.
"""

from __future__ import annotations

import math

import numpy as np

from minidsn_jax.diffrnn.model import JaxDiffRNN
from minidsn_jax.diffrnn.trainer import Trainer

__all__ = ["jit_stepper"]


def jit_stepper(cfg: dict, seed: int = 0):
    full = JaxDiffRNN.validate_config({k: v for k, v in cfg.items() if k in JaxDiffRNN.options})
    model = JaxDiffRNN()
    rng = np.random.default_rng(seed)
    st = model.init(full, rng, None)
    tr = Trainer(full, st["params"], st["mem"], st["s"], model._texts(full), 0, 0, 40 * math.log(4), 0)

    def step():
        tr.cycle(rng)
    return step

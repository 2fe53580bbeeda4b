"""The independent NumPy MLP backend (minidsn.oracle.examples.mlp_numpy) with one weight changed by 1e-6 (relative)
in the update of step ``at``."""

from __future__ import annotations

from minidsn.oracle.examples.mlp_numpy import Backend


class Perturbed(Backend):
    def __init__(self, at):
        self.at = at

    def train_step(self, state, inputs, draws):
        new, events = super().train_step(state, inputs, draws)
        if new["opt"]["step"] == self.at + 1:
            new["params"]["layers"][1]["W"][2, 3] *= 1 + 1e-6
        return new, events

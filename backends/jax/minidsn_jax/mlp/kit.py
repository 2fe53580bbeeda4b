"""The mlp's conformance-kit backend (docs/oracle.md, "mlp"): state {"params": {"layers": [{"W", "b"}]},
"opt": {"step", "m", "v"}}, inputs {"x", "y"}; one Adam step (Algorithm 1, lr from the config), no events.

    minidsn oracle verify mlp.npz --backend minidsn_jax.mlp.kit:Backend
"""

from __future__ import annotations

import jax

from minidsn_jax.mlp.net import loss_terms
from minidsn_jax.optim import adam_update
from minidsn_jax.oracle_adapter import KitBackend


class Backend(KitBackend):
    def _loss_and_grads(self, state, inputs):
        params = {"layers": list(state["params"]["layers"])}
        (_, losses), grads = jax.value_and_grad(
            lambda p: loss_terms(p, inputs["x"], inputs["y"], self.cfg)[:2], has_aux=True)(params)
        return losses, grads

    def _train_step(self, state, inputs, draws):
        _, grads = self._loss_and_grads(state, inputs)
        opt = state["opt"]
        params = {"layers": list(state["params"]["layers"])}
        new, adam = adam_update(params, grads, {"m": opt["m"], "v": opt["v"], "t": opt["step"]}, self.cfg["lr"])
        return {"params": new, "opt": {"step": adam["t"], "m": adam["m"], "v": adam["v"]}}, []

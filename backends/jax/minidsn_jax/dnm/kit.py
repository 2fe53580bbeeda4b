"""The DNM's conformance-kit backend (docs/oracle.md, "dnm"): state {"params": {alpha..w, b, kappa},
"opt": {"step", "m", "v"}}, inputs {"x", "target"}; one Adam step (eps placement ``adam_eps_form``).

Events: the closeness entries whose liveness (d != 0, i.e. |v| > c on an allowed entry) the step changed, as
``switched_on`` then ``switched_off``, each with ``rows`` and ``cols`` (closeness-matrix indices, row-major order).

    minidsn oracle verify dnm.npz --backend minidsn_jax.dnm.kit:Backend
"""

from __future__ import annotations

import jax
import numpy as np

from minidsn_jax.dnm.closeness import closeness
from minidsn_jax.dnm.net import PARAM_NAMES, loss_terms
from minidsn_jax.optim import adam_update
from minidsn_jax.oracle_adapter import KitBackend

LOSS_KEYS = ("total", "objective", "flow", "pct", "sparsity")


class Backend(KitBackend):
    def _loss_and_grads(self, state, inputs):
        params = {k: state["params"][k] for k in PARAM_NAMES}

        def total(p):
            t, losses, _ = loss_terms(p, inputs["x"], inputs["target"], self.cfg)
            return t, losses

        (_, losses), grads = jax.value_and_grad(total, has_aux=True)(params)
        return {k: losses[k] for k in LOSS_KEYS}, grads

    def _live(self, params):
        c = self.cfg
        d, _, _ = closeness(params, c["n_neurons"], c["n_inputs"], c["n_outputs"], c["period"])
        return np.asarray(d != 0)

    def _train_step(self, state, inputs, draws):
        _, grads = self._loss_and_grads(state, inputs)
        opt = state["opt"]
        params = {k: state["params"][k] for k in PARAM_NAMES}
        new, adam = adam_update(params, grads, {"m": opt["m"], "v": opt["v"], "t": opt["step"]}, self.cfg["lr"],
                                eps_form=self.cfg.get("adam_eps_form", "efficient"))
        before, after = self._live(params), self._live(new)
        events = []
        for kind, mask in (("switched_on", after & ~before), ("switched_off", before & ~after)):
            if mask.any():
                rows, cols = np.nonzero(mask)
                events.append({"kind": kind, "rows": rows.astype(np.int64), "cols": cols.astype(np.int64)})
        return {"params": new, "opt": {"step": adam["t"], "m": adam["m"], "v": adam["v"]}}, events


__all__ = ["Backend"]

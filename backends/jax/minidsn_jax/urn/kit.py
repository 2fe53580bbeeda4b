"""The URN's conformance-kit backend (docs/oracle.md, "urn"): state {"params": {"W", "b"}, "opt": {"step", "m",
"v"}}, inputs {"x", "y_onehot"}; one Adam step (eps = adam_eps; eps placement adam_eps_form, default
Algorithm 1).

Events after each update, read on the step's batch with the new parameters (seed 002 Sec. 2 read-out):
- ``structure``: ``layer`` (S,) = the first iteration l = 0..I at which neuron i is active (|N_i^(l)| > 0 on some
  sample; input nodes are layer 0; -1 = never active), ``n_active``;
- ``pruned``: the "used" synapses W_ij (j active at some l and i active at l + 1) as ``kept_rows`` / ``kept_cols``
  (row-major), ``n_removed`` = nonzero weights outside them, ``max_abs_change`` = max |logits(pruned) - logits|.
The state after the step is the unpruned one (the pruning is a read-out).

    minidsn oracle verify urn.npz --backend minidsn_jax.urn.kit:Backend
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from minidsn_jax.optim import adam_update
from minidsn_jax.oracle_adapter import KitBackend
from minidsn_jax.urn.net import activation, forward, loss_terms

LOSS_KEYS = ("total", "ce", "l1_w", "l1_n", "syn")


class Backend(KitBackend):
    def _loss_and_grads(self, state, inputs):
        params = {"W": state["params"]["W"], "b": state["params"]["b"]}

        def total(p):
            t, losses, _ = loss_terms(p, inputs["x"], inputs["y_onehot"], self.cfg)
            return t, losses

        (_, losses), grads = jax.value_and_grad(total, has_aux=True)(params)
        return {k: losses[k] for k in LOSS_KEYS if k in losses}, grads

    def _forward(self, W, b, x, d_out):
        c = self.cfg
        return forward(W, b, x, c["n_iter"], d_out, activation(c.get("phi", "relu"), c.get("leaky_slope", 0.01)),
                       c.get("residual_in", False), c.get("residual_out", False))

    def _train_step(self, state, inputs, draws):
        _, grads = self._loss_and_grads(state, inputs)
        opt = state["opt"]
        params = {"W": state["params"]["W"], "b": state["params"]["b"]}
        new, adam = adam_update(params, grads, {"m": opt["m"], "v": opt["v"], "t": opt["step"]}, self.cfg["lr"],
                                eps=self.cfg.get("adam_eps", 1e-8),
                                eps_form=self.cfg.get("adam_eps_form", "algorithm1"))
        events = self._read_out(new, inputs)
        return {"params": new, "opt": {"step": adam["t"], "m": adam["m"], "v": adam["v"]}}, events

    def _read_out(self, params, inputs):
        x, d_out = inputs["x"], inputs["y_onehot"].shape[1]
        states, logits = self._forward(params["W"], params["b"], x, d_out)
        active_at = np.array(jnp.any(jnp.abs(states) > self.cfg.get("active_threshold", 0.0), axis=1))
        active_at[0, : x.shape[1]] = True
        layer = np.where(active_at.any(0), np.argmax(active_at, 0), -1).astype(np.int64)
        keep = np.zeros((active_at.shape[1],) * 2, bool)
        for l in range(active_at.shape[0] - 1):
            keep |= np.outer(active_at[l + 1], active_at[l])
        W = np.asarray(params["W"])
        _, pruned_logits = self._forward(jnp.asarray(np.where(keep, W, 0.0)), params["b"], x, d_out)
        rows, cols = np.nonzero(keep)
        return [{"kind": "structure", "layer": layer, "n_active": int(np.sum(layer >= 0))},
                {"kind": "pruned", "kept_rows": rows.astype(np.int64), "kept_cols": cols.astype(np.int64),
                 "n_removed": int(np.sum((W != 0) & ~keep)),
                 "max_abs_change": float(jnp.max(jnp.abs(pruned_logits - logits)))}]

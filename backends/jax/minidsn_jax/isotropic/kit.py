"""Isotropic networks' conformance-kit backend (docs/oracle.md, "isotropic"): state {"params", "buffers" (absent when
empty), "opt": {"step", "m", "v"}}; inputs {"x", "labels", "epoch_end", "target_widths"}.

One step: AdamW (lr, weight_decay of the config) on every trained parameter from the gradient of the loss at the
state before; then, when ``epoch_end``, the width schedule: hidden layers from the deepest to the first, each moved
to ``target_widths[k]`` (-1: unchanged) by neurogenesis (one draw per layer: the new outgoing columns are
0.01 x the drawn standard normals) or by neurodegeneration one neuron at a time (note: "adjust deeper layers before
shallower ones"). Events, in order: ``diagonalise`` (layer, R, singular_values) before each ``neurogenesis``
(layer, count, new_column, width) and before each ``neurodegeneration`` (layer, sigma, b_star, W_star, width).

    minidsn oracle verify isotropic.npz --backend minidsn_jax.isotropic.kit:Backend
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from minidsn_jax.isotropic import ops
from minidsn_jax.isotropic.net import forward, loss_terms
from minidsn_jax.optim import adamw_update
from minidsn_jax.oracle_adapter import KitBackend
from minidsn_jax.trees import to_host


def _lists(tree):
    """Copy a {name: list} pytree with mutable lists of NumPy arrays."""
    return {k: [np.asarray(a) for a in v] if isinstance(v, (list, tuple)) else v for k, v in tree.items()}


class Backend(KitBackend):
    def setup(self, meta):
        super().setup(meta)
        fn = self.cfg.get("isotropic_fn", "tanh")
        if fn != "tanh":  # minidsn's functional class (arctan, isru) is not implemented here
            raise NotImplementedError(f"minidsn_jax isotropic: isotropic_fn {fn!r} is not implemented (tanh only)")

    def _loss_and_grads(self, state, inputs):
        buffers = state.get("buffers", {})

        def total(p):
            t, losses, _ = loss_terms(p, buffers, inputs["x"], inputs["labels"], self.cfg)
            return t, losses

        (_, losses), grads = jax.value_and_grad(total, has_aux=True)(state["params"])
        return {"total": losses["total"]}, grads

    def _train_step(self, state, inputs, draws):
        _, grads = self._loss_and_grads(state, inputs)
        opt = state["opt"]
        params, adam = adamw_update(state["params"], grads, {"m": opt["m"], "v": opt["v"], "t": opt["step"]},
                                    self.cfg["lr"], self.cfg["weight_decay"])
        params, buffers = _lists(to_host(params)), _lists(to_host(state.get("buffers", {})))
        moments = {"m": _lists(to_host(adam["m"])), "v": _lists(to_host(adam["v"]))}
        events = []
        if int(inputs["epoch_end"]):
            params, buffers, moments, events = self._resize(params, buffers, moments, inputs, list(draws))
        new_state = {"params": params, "opt": {"step": adam["t"], **moments}}
        if "buffers" in state:
            new_state["buffers"] = buffers
        return new_state, events

    def _resize(self, params, buffers, moments, inputs, draws):
        cfg, events = self.cfg, []
        net = {**buffers, **params}
        targets = np.asarray(inputs["target_widths"]).astype(np.int64)
        for k in reversed(range(len(targets))):
            width, target = net["W"][k].shape[0], int(targets[k])
            if target < 0 or target == width:
                continue
            if target > width:
                columns = 0.01 * np.asarray(draws.pop(0).value, dtype=np.float64)
                net, moments, info = ops.neurogenesis(net, k, columns, moments)
                events += [{"kind": "diagonalise", "layer": k, "R": info["R"],
                            "singular_values": info["singular_values"]},
                           {"kind": "neurogenesis", "layer": k, "count": target - width, "new_column": columns,
                            "width": target}]
                continue
            mean_s = None
            if cfg.get("psi_mode") == "expectation":
                _, scales = forward(jax.tree_util.tree_map(jnp.asarray, net), jnp.asarray(inputs["x"]), cfg)
                mean_s = float(jnp.mean(scales[k]))
            for _ in range(width - target):
                net, moments, info = ops.neurodegeneration(net, k, cfg.get("o_mode"), cfg.get("psi_mode"),
                                                           moments, mean_s)
                events += [{"kind": "diagonalise", "layer": k, "R": info["R"],
                            "singular_values": info["singular_values"]},
                           {"kind": "neurodegeneration", "layer": k, "sigma": info["sigma_min"],
                            "b_star": info["b_star"], "W_star": info["W_star"], "width": net["W"][k].shape[0]}]
        params = {name: net[name] for name in params}
        buffers = {name: net[name] for name in buffers}
        return params, buffers, moments, events

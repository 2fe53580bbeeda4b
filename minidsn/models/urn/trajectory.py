"""URN trajectory cases for the oracle (docs/oracle.md, "urn trajectory"): K Adam steps of the one-matrix network,
each followed by the read-out of its emergent structure and the pruning to it (seed 002, Sec. 2), as events.

One step (URNModel.step with fused_update = false; minidsn/models/urn/net.py for the equations):

    (L, aux), g = value_and_grad(loss_with_aux)(params, x, y_onehot)      L = ce + c_W l1_w + c_N l1_n + c_syn syn
    params', opt' = Adam(lr, 0.9, 0.999, adam_eps).update(g, opt, params)
    read-out on the step's batch x with params' (structure.py):
        H = [H_0, ..., H_I] = states(params', x);  active[l, i] = any_b |H_l[b, i]| > active_threshold
        layer[i] = first l with active[l, i], -1 if none                     event "structure"
        used[i, j] = exists l: active[l, j] and active[l + 1, i]              event "pruned": W'_ij kept where used
        max_abs_change = max |logits(W' * used, b') - logits(W', b')|        (the seed's check: 0 when exact)

The batch is drawn outside the step (the epoch order, as URNModel.step draws it) and is the step's input, so a step
consumes no draws.
"""

from __future__ import annotations

import numpy as np

from minidsn.engine import stop_gradient, value_and_grad
from minidsn.models.draws import record_step, replay_step
from minidsn.models.urn import data as urn_data
from minidsn.models.urn.net import forward_logits, loss_with_aux
from minidsn.models.urn.structure import layer_of_neurons, used_synapse_mask

__all__ = ["structure_events", "trajectory", "trajectory_step", "EVENT_KINDS"]

EVENT_KINDS = ("structure", "pruned")
LOSS_TERMS = ("ce", "l1_w", "l1_n", "syn")


def structure_events(params, x, spec, threshold: float) -> list[dict]:
    """The read-out of the module docstring: [{"kind": "structure", ...}, {"kind": "pruned", ...}].

    Source: seed 002 l. 79 (inactive neurons discarded; other weights set to zero, output checked), eq. (3)
        (W_ij carries signal from an active j at l to an active i at l + 1); assumption: read on the step's batch
        after every update (the oracle's choice; the seed reads the trained network).
    """
    logits, amap = forward_logits(params, x, spec, threshold=threshold)
    layer = layer_of_neurons(amap)
    used = used_synapse_mask(amap)
    pruned_logits, _ = forward_logits({"W": np.where(used, params["W"], 0.0), "b": params["b"]}, x, spec,
                                      threshold=threshold)
    rows, cols = np.nonzero(used)
    return [{"kind": "structure", "layer": layer.astype(np.int64), "n_active": int(np.sum(layer >= 0))},
            {"kind": "pruned", "kept_rows": rows.astype(np.int64), "kept_cols": cols.astype(np.int64),
             "n_removed": int(used.size - used.sum()),
             "max_abs_change": float(np.max(np.abs(pruned_logits - logits)))}]


def _step(model, cfg, spec, state, inputs, rng):
    (loss, aux), grads = value_and_grad(loss_with_aux, has_aux=True)(state["params"], inputs["x"],
                                                                     inputs["y_onehot"], spec)
    params, opt = model._opt(cfg).update(grads, state["opt"], state["params"])
    losses = {"total": float(loss), **{k: float(stop_gradient(aux[k])) for k in LOSS_TERMS if k in aux}}
    events = structure_events(params, inputs["x"], spec, cfg["active_threshold"])
    return {"params": params, "opt": opt}, losses, grads, events


def trajectory(model, cfg, spec, rng, data_dir, steps):
    """``steps`` steps from model.init(cfg); ``spec`` = build_spec(cfg, *urn_data.data_shape(cfg)[:2]).

    Source: none (oracle trajectory recorder; the update is URNModel.step's engine path)
    """
    from minidsn.models.api import ConfigError

    if cfg["dataset"] != "spheres":
        raise ConfigError("urn trajectory cases use the spheres data set (config key 'dataset')")
    if cfg["fused_update"]:
        raise ConfigError("config key 'fused_update': urn trajectory cases record the engine update (fused_update = "
                          "false, their default); l1_mode 'prox' / 'prox_adam' exist only in the fused kernel and "
                          "have no trajectory case yet")
    state = model.init(cfg, rng, data_dir)
    x_all, y_all = state["data"]["x_train"], state["data"]["y_train"]
    n, B = x_all.shape[0], min(cfg["batch_size"], x_all.shape[0])
    order, pos = state["order"], state["pos"]
    carried = {"params": state["params"], "opt": state["opt"]}
    out = []
    for _ in range(steps):
        if pos + B > n:  # as URNModel.step: a new epoch in a fresh order
            order, pos = rng.permutation(n), 0
        idx = order[pos:pos + B]
        pos += B
        inputs = {"x": x_all[idx], "y_onehot": np.eye(state["n_classes"])[y_all[idx]]}
        rec = record_step(lambda c, s, i, g: _step(model, c, spec, s, i, g), cfg, carried, inputs, rng)
        out.append(rec)
        carried = rec["state_after"]
    meta = {"variant": None, "forced": {}, "event_kinds": list(EVENT_KINDS),
            "regularisers": {k: cfg[k] for k in ("c_w", "c_n", "c_syn")},
            "residual": {"residual_out": cfg["residual_out"], "residual_in": cfg["residual_in"]},
            "sizes": {"n_neurons": spec.n_neurons, "n_iter": spec.n_iter, "d_in": spec.d_in,
                      "output_idx": spec.output_idx.tolist(), "batch": B},
            "note": "state = {params (W, b), opt (Adam: step, m, v)}; inputs = the batch (drawn outside the "
                    "step); no draws; events = the structure read-out and pruning after each update"}
    return {"meta": meta, "steps": out}


def trajectory_step(model, cfg, spec, state_before, inputs, draws):
    """One recorded step replayed from (state, inputs, draws).

    Source: none (oracle trajectory adapter; no formula)
    """
    return replay_step(lambda c, s, i, g: _step(model, c, spec, s, i, g), cfg, state_before, inputs, draws)

"""DNM trajectory cases for the oracle (docs/oracle.md, "dnm trajectory"): K Adam steps on toy batches, with the
cutoff's switching of closeness entries as structural events.

One step (the update of DNMModel.step; module docstrings of closeness.py and net.py for the equations):

    (L, aux), g = value_and_grad(network_loss)(params, x, target)       loss terms: net.network_loss
    params', opt' = Adam(lr, 0.9, 0.999, 1e-8, eps_form).update(g, opt, params)
    live(p)       = allowed & (|v(p)| > sigmoid(kappa))                   the strict cutoff (closeness.py)
    events        = "switched_on":  entries live under params' and not under params
                    "switched_off": entries live under params and not under params'
                    each {"rows": r, "cols": j} (int64, row-major order) with r = i - n_in, j the source neuron,
                    the indices of the closeness matrix d [N - n_in, N - n_out]

The batch is drawn outside the step (toy_batch, as DNMModel.step draws it) and is the step's input, so a step
consumes no draws.  With ``oracle_cutoff_tie`` the case sets kappa at the start so that sigmoid(kappa) equals
|v| of one allowed entry exactly: the strict cutoff excludes that entry, a cutoff compared with >= includes it
(and passes gradient through it); with real numbers and no tie the two comparisons cannot be told apart.
"""

from __future__ import annotations

import numpy as np
import scipy.special

from minidsn.engine import value_and_grad
from minidsn.models.dnm import guards
from minidsn.models.dnm.closeness import closeness
from minidsn.models.dnm.data import toy_batch
from minidsn.models.dnm.net import network_loss
from minidsn.models.draws import record_step, replay_step

__all__ = ["live_entries", "switch_events", "trajectory", "trajectory_step", "force_cutoff_tie", "EVENT_KINDS"]

EVENT_KINDS = ("switched_on", "switched_off")
LOSS_TERMS = ("objective", "flow", "sparsity", "pct")


def live_entries(params, layout) -> np.ndarray:
    """(N - n_in, N - n_out) bool: allowed entries with |v| > c, c = sigmoid(kappa) (closeness.py).

    Source: seed 000 l. 68-84 (cutoff); Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb
        cell 0 l. 161-183 (entries with |v| > cutoff kept, the rest 0).
    """
    _, v, c = closeness(params, layout.P, layout.mask, layout.n_in, layout.period)
    return (np.abs(v) > c) & layout.mask


def switch_events(live_before: np.ndarray, live_after: np.ndarray) -> list[dict]:
    """The "switched_on" / "switched_off" events of the module docstring (only the non-empty ones).

    Source: none (the oracle's record of what the cutoff switched; no formula)
    """
    out = []
    for kind, m in (("switched_on", live_after & ~live_before), ("switched_off", live_before & ~live_after)):
        if m.any():
            rows, cols = np.nonzero(m)
            out.append({"kind": kind, "rows": rows.astype(np.int64), "cols": cols.astype(np.int64)})
    return out


def _step(model, rc, state, inputs, rng):
    """One step; ``rc`` is the resolved config (model.resolve), so this module needs nothing of model.py."""
    layout, spec = model._layout(rc), model._spec(rc)
    params = state["params"]
    model._guard(rc, guards.check_exponent(params["beta"], layout.n_in), "trajectory")
    (loss, aux), grads = value_and_grad(network_loss, has_aux=True)(params, inputs["x"], inputs["target"], layout,
                                                                  spec)
    fin_msg = guards.check_finite({"loss": loss, **{f"grad {k}": v for k, v in grads.items()}})
    if fin_msg is not None:
        raise guards.DNMGuardError(f"dnm trajectory: {fin_msg}")
    new_params, new_opt = model._opt(rc).update(grads, state["opt"], params)
    events = switch_events(live_entries(params, layout), live_entries(new_params, layout))
    losses = {"total": float(loss), **{k: float(aux[k]) for k in LOSS_TERMS}}
    return {"params": new_params, "opt": new_opt}, losses, grads, events


def force_cutoff_tie(params, layout):
    """kappa such that sigmoid(kappa) == |v| exactly for an allowed entry of an output neuron's row (there the
    loss always depends on d: out = z_all @ d[n_comp:].T, so the entry's gradient is not 0), the one whose |v| is
    nearest the present cutoff among those where the round trip logit -> sigmoid is exact.
    Returns (params with that kappa, (r, j)).

    Source: none (oracle test device: a tie between |v| and the cutoff; minidsn choice)
    """
    _, v, c = closeness(params, layout.P, layout.mask, layout.n_in, layout.period)
    a = np.abs(v)
    out_rows = np.zeros(a.shape, dtype=bool)
    out_rows[layout.n_neurons - layout.n_in - layout.n_out:] = True
    cand = np.argwhere(layout.mask & out_rows & (a > 0) & (a < 1))
    cand = cand[np.argsort(np.abs(a[cand[:, 0], cand[:, 1]] - float(c)), kind="stable")]
    for r, j in cand:
        kappa = scipy.special.logit(a[r, j])
        if scipy.special.expit(kappa) == a[r, j]:
            return {**params, "kappa": np.array(kappa)}, (int(r), int(j))
    raise RuntimeError("dnm: no allowed entry admits an exact cutoff tie")


def trajectory(model, cfg, rc, rng, data_dir, steps):
    """``steps`` steps from model.init(cfg); ``rc`` = resolve(cfg).

    Source: none (oracle trajectory recorder; the update is DNMModel.step's)
    """
    if rc["dataset"] != "toy":
        from minidsn.models.api import ConfigError

        raise ConfigError("dnm trajectory cases use the toy data set (config key 'dataset')")
    layout = model._layout(rc)
    state = model.init(cfg, rng, data_dir)
    forced = {}
    if rc["oracle_cutoff_tie"]:
        params, (r, j) = force_cutoff_tie(state["params"], layout)
        state = {**state, "params": params}
        forced["kappa"] = (f"set to {float(params['kappa'])!r} so that sigmoid(kappa) equals |v| of entry "
                           f"(row {r}, col {j}) exactly at step 0: a tie the strict cutoff |v| > c excludes")
    state = {"params": state["params"], "opt": state["opt"]}
    out = []
    for _ in range(steps):
        x, t = toy_batch(rng, rc["batch_size"])
        rec = record_step(lambda c, s, i, g: _step(model, c, s, i, g), rc, state, {"x": x, "target": t}, rng)
        out.append(rec)
        state = rec["state_after"]
    meta = {"variant": rc["variant"], "forced": forced, "event_kinds": list(EVENT_KINDS),
            "resolved": {k: rc[k] for k in ("square_outputs", "sparsity", "objective", "init", "adam_eps_form",
                                             "activation", "closeness_range")},
            "sizes": {"n_neurons": layout.n_neurons, "n_in": layout.n_in, "n_out": layout.n_out,
                      "closeness_shape": list(layout.P.shape), "allowed_entries": int(layout.K)},
            "note": "state = {params, opt (Adam: step, m, v)}; inputs = the batch (drawn outside the step); "
                    "no draws; events = entries of the closeness matrix switched on / off by the cutoff"}
    return {"meta": meta, "steps": out}


def trajectory_step(model, rc, state_before, inputs, draws):
    """One recorded step replayed from (state, inputs, draws).

    Source: none (oracle trajectory adapter; no formula)
    """
    return replay_step(lambda c, s, i, g: _step(model, c, s, i, g), rc, state_before, inputs, draws)

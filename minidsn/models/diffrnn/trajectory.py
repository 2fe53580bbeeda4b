"""DiffRNN trajectory case: K consecutive training cycles from a seeded start (docs/oracle.md, "diffrnn").

Each step is the training part of one cycle, minidsn.models.diffrnn.cycle.train_window, recorded while the run makes
it: state = {"params", "opt" (Adagrad {"step", "sum_sq"}; g3: RMSProp {"step", "mean_sq"}), "carried" (the hidden
state carried between windows), "p" (data pointer)}; inputs = the window (``read_window``: "inputs", "targets",
"reset", "task_switch"); draws = the deletion permutation and coins, the two addition coins, the new neuron's
normals; events = "delete" and "add" (``train_window``'s docstring). The run's other bookkeeping (cycle count, task
phase, smoothed loss) is not part of the step.

TRAJECTORY_DEFAULTS are the config values a trajectory case uses unless the user sets them: the engine (reference)
backend, H = 4 at the start, and forced structure (p_add = 1, p_del = 0.75, p_spontaneous = 0.7, l1 = 1e-2) so that in the default 8 cycles both
event kinds happen (with the paper's P_add = 0.05, P_del = 0.25 and 1e-4 a deletion and an addition within a few
cycles are rare; with A = 1e-2 the L1 gradient 40 A = 0.4 outweighs a new neuron's CE gradient, so new neurons fall
below T_D and become deletable). Measured: with these, seeds 0-29 all show both kinds for g2 and altern, 29 of 30
for g3.
"""

from __future__ import annotations

import numpy as np

from minidsn.models.draws import record_step, replay_step

from .cycle import TRAINING_STATE, advance, init_state, read_window, train_window, training_state

__all__ = ["TRAJECTORY_DEFAULTS", "TRAJECTORY_STEPS", "FORCED_WHY", "trajectory", "trajectory_step"]

TRAJECTORY_DEFAULTS = {"hidden_size": 4, "p_add": 1.0, "p_del": 0.75, "p_spontaneous": 0.7, "l1": 1e-2,
                       "backend": "engine"}
TRAJECTORY_STEPS = 8
FORCED_WHY = {
    "hidden_size": "a small start keeps the case small (the run's default is 1; fixed: 100)",
    "p_add": "forced from 0.05 so that additions happen within a few cycles",
    "p_del": "forced from 0.25 so that deletions happen within a few cycles",
    "p_spontaneous": "forced from 1e-4 so that sub-threshold neurons accumulate and deletions become possible",
    "l1": "forced from 3e-5 so that new neurons' multipliers fall below t_d (40 A = 0.4 outweighs their CE gradient)",
    "backend": "the reference path (minidsn.numpy, engine gradients), as the single-gradient case; it also spares "
               "the 10 s of Numba compilation of the fused kernel in a fresh process (backend=fused records the "
               "compiled path runs use; the two agree to rounding)",
}


def trajectory(cfg, rng, steps=None):
    """{"meta", "steps"} of ``steps`` cycles (TRAJECTORY_STEPS when None) from ``init_state(cfg, rng)``.

    Source: none (the oracle's record of train_window; the formulas are cited there)
    """
    steps = TRAJECTORY_STEPS if steps is None else int(steps)
    state = init_state(cfg, rng)
    recorded = []
    for _ in range(steps):
        window = read_window(state, cfg)
        rec = record_step(train_window, cfg, training_state(state), window, rng)
        state, _ = advance(state, cfg, window, rec["state_after"], rec["losses"], rec["events"])
        recorded.append(rec)
    meta = {
        "variant": cfg["variant"],
        "training_state": list(TRAINING_STATE),
        "event_kinds": [] if cfg["variant"] == "fixed" or not cfg["structure"] else ["delete", "add"],
        "forced": {k: FORCED_WHY[k] for k, v in TRAJECTORY_DEFAULTS.items() if cfg.get(k) == v},
        "grads": "unclipped gradient of losses/total (= ce + l1_term with multipliers); the step clips it "
                 "elementwise to [-clip, clip] before Adagrad (g2, altern, fixed; g3 does not clip)",
    }
    return {"meta": meta, "steps": recorded}


def _as_int(x) -> int:
    return int(np.asarray(x).item())


def _from_file(state, inputs):
    """Integers that a case file stores as float64 made integers again (a no-op on minidsn's own records)."""
    state = dict(state, p=_as_int(state["p"]), opt=dict(state["opt"], step=_as_int(state["opt"]["step"])))
    window = {"inputs": np.asarray(inputs["inputs"]).astype(np.int64),
              "targets": np.asarray(inputs["targets"]).astype(np.int64),
              "reset": _as_int(inputs["reset"]), "task_switch": _as_int(inputs["task_switch"])}
    return state, window


def trajectory_step(cfg, state_before, inputs, draws):
    """The recorded step as a pure function: (state_after, losses, grads, events); bit-identical to the record.

    Source: none (replay of train_window from a record; the formulas are cited there)
    """
    state, window = _from_file(state_before, inputs)
    return replay_step(train_window, cfg, state, window, draws)

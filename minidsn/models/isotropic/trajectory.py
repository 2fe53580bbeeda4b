"""Isotropic trajectory case: K consecutive training steps from a seeded start (docs/oracle.md, "isotropic").

Each step is minidsn.models.isotropic.training.train_step, recorded while the run makes it (its docstring lists the
state, inputs, draws and events). The data pipeline (position in the epoch, the shuffle drawn at an epoch's end) is
not part of the step: its result is the step's minibatch.

TRAJECTORY_DEFAULTS are the config values a trajectory case uses unless the user sets them: the synthetic data set
(no files), 8 inputs, 3 classes, 16 training points in batches of 8 (an epoch every 2 steps), hidden widths [7, 3]
moving to 5 over 2 epochs with no pretraining, so that in the default 4 steps both epoch ends change the widths:
layer 1 grows (3 -> 4 -> 5: diagonalise + neurogenesis) and layer 0 shrinks (7 -> 6 -> 5: diagonalise +
neurodegeneration). Every diagonalised layer is then no wider than its input, so its SVD is unique up to the sign
convention of ops.svd_layer. The elementwise-tanh control (activation = "elementwise", o_mode = psi_mode = "none")
prunes instead ("prune" events).
"""

from __future__ import annotations

import numpy as np

from minidsn.models.draws import record_step, replay_step

from .training import TRAINING_STATE, train_step, training_state

__all__ = ["TRAJECTORY_DEFAULTS", "TRAJECTORY_STEPS", "trajectory", "trajectory_step"]

TRAJECTORY_DEFAULTS = {"dataset": "synthetic", "synthetic_dim": 8, "synthetic_classes": 3, "train_limit": 16,
                       "test_limit": 16, "batch_size": 8, "hidden": [7, 3], "width_target": 5, "pretrain_epochs": 0,
                       "schedule_epochs": 2}
TRAJECTORY_STEPS = 4
FORCED_WHY = {
    "dataset": "synthetic: no data files needed",
    "synthetic_dim": "small inputs keep the case small",
    "synthetic_classes": "small outputs keep the case small",
    "train_limit": "16 points in batches of 8: an epoch, and so a structural update, every 2 steps",
    "test_limit": "the test set is not used by a training step",
    "batch_size": "16 points in batches of 8: an epoch, and so a structural update, every 2 steps",
    "hidden": "[7, 3] with width_target 5: one layer shrinks, one grows",
    "width_target": "the v1 width schedule on, so that epoch ends change the widths",
    "pretrain_epochs": "no pretraining: the schedule starts at the first epoch end",
    "schedule_epochs": "the widths move over 2 epochs: a structural change at each of the first two epoch ends",
}


def _kinds_possible(cfg):
    if not (cfg["width_target"] or cfg["auto_adapt"]):
        return []
    if cfg["activation"] == "elementwise":
        return ["neurogenesis", "prune"]
    return ["diagonalise", "neurodegeneration", "neurogenesis"]


def trajectory(model, cfg, rng, data_dir, steps=None):
    """{"meta", "steps"} of ``steps`` training steps (TRAJECTORY_STEPS when None) from ``model.init``.

    Source: none (the oracle's record of training.train_step; the formulas are cited there)
    """
    steps = TRAJECTORY_STEPS if steps is None else int(steps)
    state = model.init(cfg, rng, data_dir)
    recorded = []
    for _ in range(steps):
        inputs, nxt = model.next_inputs(state, cfg, rng)
        rec = record_step(train_step, cfg, training_state(state), inputs, rng)
        state, _ = model.advance(state, rec["state_after"], nxt, {})
        recorded.append(rec)
    meta = {
        "variant": f"o_{cfg['o_mode']}__psi_{cfg['psi_mode']}" if cfg["activation"] == "isotropic"
        else "elementwise",
        "training_state": list(TRAINING_STATE),
        "event_kinds": _kinds_possible(cfg),
        "forced": {k: FORCED_WHY[k] for k, v in TRAJECTORY_DEFAULTS.items() if cfg.get(k) == v},
        "outside_the_step": "the data pipeline: the shuffle drawn at an epoch's end (its result is the minibatch)",
    }
    return {"meta": meta, "steps": recorded}


def _opt_from_file(opt):
    return dict(opt, step=int(np.asarray(opt["step"]).item()))


def trajectory_step(cfg, state_before, inputs, draws):
    """The recorded step as a pure function: (state_after, losses, grads, events); bit-identical to the record.

    Source: none (replay of training.train_step from a record; the formulas are cited there)
    """
    state = dict(state_before, opt=_opt_from_file(state_before["opt"]))
    return replay_step(train_step, cfg, state, inputs, draws)

"""DMM trajectory case: K consecutive synthesis steps of the trainable DMM-Lite network from a seeded start
(docs/oracle.md, "dmm").

Each step is minidsn.models.dmm.synthesis.train_step: one Adam step on the episode loss + lambda L1 at the lambda
and learning rate the schedule sets (inputs "lam", "lr"), then the removal of the links the schedule prunes after
that update (inputs "drop": positions in the current gate vector, sorted; removed from the gates, from both Adam
moments, and from link_ids). State = {"params": {"gates"}, "opt": Adam {"step", "m", "v"}, "link_ids"}; inputs also
hold the targets (the hand-crafted network's outputs); the exogenous streams come from config "string" (one character
every 10 cycles). The step draws no random number (the gates are drawn once, at the start).

The schedule (phase, round, guard, snapshot, which links a round removes) is the controller around the step: the
trajectory runs it (synthesis_step), reads what it decided, and records the step as the pure function of those
decisions, checking that the pure function gives the run's state bit for bit. A round the guard reverts (the state
jumps back to a snapshot) is not a training step: the trajectory stops with an error naming the step.

TRAJECTORY_DEFAULTS are the config values a trajectory case uses unless the user sets them: pruning starts after 2
base steps and then every 2 steps (base_steps = round_steps = 2), and the guard accepts every round (loss_guard =
loss_cap = 1e9), so the default 4 steps show two prunes (the first removes 12% = 178 of the 1,486 links); the network
is the note's full trainable net (5 layers of 2 of each type, "test string.", 140 cycles).

The self-modifying form (DMM 1.0, minidsn.models.dmm.self_modifying) is not trained in minidsn, so it has no
trajectory case; the hand-crafted variant does not train either.
"""

from __future__ import annotations

import numpy as np

from minidsn.models.draws import record_step, replay_step

from .synthesis import TRAINING_STATE, cfg_plan, new_state, step_settings, synthesis_step, train_step, training_state

__all__ = ["TRAJECTORY_DEFAULTS", "TRAJECTORY_STEPS", "trajectory", "trajectory_step"]

TRAJECTORY_DEFAULTS = {"variant": "synthesis", "base_steps": 2, "round_steps": 2, "loss_guard": 1e9, "loss_cap": 1e9}
TRAJECTORY_STEPS = 4
FORCED_WHY = {
    "variant": "the synthesis variant is the one that trains",
    "base_steps": "pruning starts after 2 steps instead of 2,500",
    "round_steps": "a prune every 2 steps instead of every 100",
    "loss_guard": "every round is accepted (a reverted round is not a training step)",
    "loss_cap": "every round is accepted (a reverted round is not a training step)",
}


def _check(cfg):
    if cfg["variant"] != "synthesis":
        raise ValueError(f"dmm trajectory cases need variant 'synthesis' (the one that trains), got {cfg['variant']!r}")
    if cfg.get("gradient", "exact") != "exact":
        raise ValueError("dmm trajectory cases record the exact gradient; gradient = 'es' (a random estimate) is not "
                         "supported there")
    if cfg["extra_strings"]:
        raise ValueError("dmm trajectory cases train on one string; extra_strings must be empty")


def _same(a, b) -> bool:
    return (np.array_equal(a["params"]["gates"], b["params"]["gates"]) and a["opt"]["step"] == b["opt"]["step"]
            and all(np.array_equal(a["opt"][s]["gates"], b["opt"][s]["gates"]) for s in ("m", "v"))
            and np.array_equal(a["link_ids"], b["link_ids"]))


def trajectory(cfg, rng, steps=None):
    """{"meta", "steps"} of ``steps`` synthesis steps (TRAJECTORY_STEPS when None) from ``new_state(cfg, rng)``.

    Source: none (the oracle's record of synthesis.train_step; the formulas are cited there)
    """
    _check(cfg)
    steps = TRAJECTORY_STEPS if steps is None else int(steps)
    plan = cfg_plan(cfg)
    state = new_state(cfg, rng)
    recorded = []
    for k in range(steps):
        before = training_state(state)
        lam, lr = step_settings(state, cfg)
        state, metrics = synthesis_step(state, cfg)
        if metrics["event"] < 0:
            raise ValueError(f"dmm trajectory: the guard reverted the round ending at step {k}; a trajectory case "
                             "needs accepted rounds (raise loss_guard / loss_cap)")
        drop = np.flatnonzero(~np.isin(before["link_ids"], state["link_ids"])).astype(np.int64)
        inputs = {"targets": plan.targets.copy(), "lam": float(lam), "lr": float(lr), "drop": drop}
        rec = record_step(train_step, cfg, before, inputs, rng)
        if not _same(rec["state_after"], training_state(state)):
            raise RuntimeError(f"dmm trajectory: train_step does not reproduce the run's step {k}")
        recorded.append(rec)
    meta = {
        "variant": cfg["variant"],
        "training_state": list(TRAINING_STATE),
        "event_kinds": ["prune"],
        "forced": {k: FORCED_WHY[k] for k, v in TRAJECTORY_DEFAULTS.items() if cfg.get(k) == v},
        "links": "link_ids index make_plan(string, n_cycles, n_layers, n_per_layer).links "
                 "(minidsn.models.dmm.synthesis; each (to neuron, to field, from neuron, from field))",
        "not_covered": "the self-modifying form (DMM 1.0) is not trained in minidsn",
    }
    return {"meta": meta, "steps": recorded}


def trajectory_step(cfg, state_before, inputs, draws):
    """The recorded step as a pure function: (state_after, losses, grads, events); bit-identical to the record.

    Source: none (replay of synthesis.train_step from a record; the formulas are cited there)
    """
    _check(cfg)
    state = dict(state_before, link_ids=np.asarray(state_before["link_ids"]).astype(np.int64),
                 opt=dict(state_before["opt"], step=int(np.asarray(state_before["opt"]["step"]).item())))
    return replay_step(train_step, cfg, state, inputs, draws)

"""Sparsifying training of the gated DMM-Lite network: Adam on the episode loss + lambda L1, and link pruning.

notes/dmm.md ("Trainable network", "Sparsification"): one Adam step per episode (lr 1e-3, betas 0.9 / 0.999, eps
1e-8, applied leaf-wise: each gate is its own leaf), loss = data + lambda sum |w|; pruning removes links (the
original: |w| < cutoff, then re-creates Adam; the variant without compare neurons trims the Adam moments with the
weights). Here a pruned link leaves the gate vector, both Adam moments and the list of link ids together, so no
optimiser state survives for a link that no longer exists; the step count (Adam's bias correction) is kept.

One training step (the unit of minidsn's trajectory case):
    state  {"params": {"gates": (n,)}, "opt": {"step": t, "m": {"gates"}, "v": {"gates"}}, "link_ids": (n,) int}
    inputs {"targets": (n_cycles, 2), "lam": lambda, "lr": learning rate, "drop": positions to prune (sorted)}
    -> Adam step at (lam, lr), then the links at ``drop`` are removed.
"""

from __future__ import annotations

import numpy as np

from minidsn_jax.dmm.trainable import Plan, loss_and_grad
from minidsn_jax.optim import adam_update

__all__ = ["train_step", "prune", "magnitude_drop", "init_state"]


def init_state(plan: Plan, rng: np.random.Generator, init_scale: float = 0.01) -> dict:
    """Gates ~ init_scale N(0, 1) in link order, Adam moments 0, step 0, every link present."""
    n = len(plan.links)
    gates = init_scale * rng.standard_normal(n)
    return {"params": {"gates": gates}, "opt": {"step": 0, "m": {"gates": np.zeros(n)}, "v": {"gates": np.zeros(n)}},
            "link_ids": np.arange(n, dtype=np.int64)}


def prune(state: dict, drop: np.ndarray, optimizer: str = "trim") -> dict:
    """Remove the links at positions ``drop`` from the gates, both Adam moments and the link ids. ``optimizer``:
    "trim" keeps the surviving links' moments and the step count; "reset" re-creates Adam (moments 0, step 0), as
    the original's sparsification did."""
    keep = np.ones(state["link_ids"].shape[0], dtype=bool)
    keep[np.asarray(drop, dtype=np.int64)] = False
    if optimizer == "reset":
        n = int(keep.sum())
        opt = {"step": 0, "m": {"gates": np.zeros(n)}, "v": {"gates": np.zeros(n)}}
    elif optimizer == "trim":
        opt = {"step": state["opt"]["step"], "m": {"gates": state["opt"]["m"]["gates"][keep]},
               "v": {"gates": state["opt"]["v"]["gates"][keep]}}
    else:
        raise ValueError(f"prune optimizer must be 'trim' or 'reset', got {optimizer!r}")
    return {"params": {"gates": state["params"]["gates"][keep]}, "opt": opt, "link_ids": state["link_ids"][keep]}


def magnitude_drop(gates: np.ndarray, cutoff: float) -> np.ndarray:
    """Positions of the links with |w| < cutoff (the original's sparsification rule)."""
    return np.flatnonzero(np.abs(gates) < cutoff)


def train_step(state: dict, inputs: dict, plan: Plan, betas=(0.9, 0.999), eps: float = 1e-8,
               prune_optimizer: str = "trim"):
    """(new_state, losses, grads, events) of one step; see the module docstring."""
    ids = np.asarray(state["link_ids"], dtype=np.int64)
    gates = np.asarray(state["params"]["gates"], dtype=np.float64)
    # The episode always runs on the full link list, pruned links at weight exactly 0 (their gradient entries are
    # dropped): the same numbers as the pruned network, and one compilation for every size.
    full = np.zeros(len(plan.links))
    full[ids] = gates
    total, data, l1, ys, g = loss_and_grad(full, plan.link_in, plan.link_out,
                                           np.asarray(inputs["targets"], dtype=np.float64), float(inputs["lam"]),
                                           plan)
    g = np.asarray(g)[ids]
    opt = {"m": np.asarray(state["opt"]["m"]["gates"]), "v": np.asarray(state["opt"]["v"]["gates"]),
           "t": np.int64(state["opt"]["step"])}
    new_gates, new_opt = adam_update(gates, g, opt, float(inputs["lr"]), betas[0], betas[1], eps)
    new = {"params": {"gates": np.asarray(new_gates)},
           "opt": {"step": int(new_opt["t"]), "m": {"gates": np.asarray(new_opt["m"])},
                   "v": {"gates": np.asarray(new_opt["v"])}},
           "link_ids": ids}
    drop = np.asarray(inputs.get("drop", np.zeros(0)), dtype=np.int64)
    events = []
    if drop.size:
        events.append({"kind": "prune", "positions": drop, "link_ids": ids[drop], "n_links": int(ids.size - drop.size),
                       "optimizer": prune_optimizer})
        new = prune(new, drop, prune_optimizer)
    losses = {"total": float(total), "data": float(data), "l1": float(l1)}
    return new, losses, {"gates": np.asarray(g)}, events

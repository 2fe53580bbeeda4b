"""One training step of the `isotropic` model as a pure function of (state, inputs, rng): an AdamW minibatch update
and, at an epoch boundary, the structural schedule (note isotropic.md "Network" for the optimiser, "Neurogenesis",
"Neurodegeneration", "Automatic neuro-adaptation"; the v1 width schedule: minidsn.models.isotropic.model).

    training state  {"params", "buffers", "opt"}: the network (params trained, buffers constant: o, a zeros-psi)
                    and the AdamW state {"step", "m", "v"} (minidsn.optim.AdamW)
    inputs          {"x": (B, d), "labels": (B,), "epoch_end": 0 | 1, "target_widths": (H,) int64 (-1 = none)}
    step            loss = loss_fn(params, buffers, x, labels) (cross-entropy, + psi decay); AdamW update; then,
                    when epoch_end: for each hidden layer k from the deepest down with target_widths[k] >= 0,
                    resize_hidden(k, target) (neurogenesis / neurodegeneration with x_ref = x / elementwise prune);
                    then, if cfg["auto_adapt"], auto_neuroadapt(tau, K) (x_ref = x)
    draws           one standard_normal (m_out, n) per neurogenesis: the new outgoing columns ("new_column_<k>")
    events          minidsn.models.isotropic.ops (diagonalise, neurogenesis, neurodegeneration, prune)

The run's own step (model.py) reads the batch, draws the epoch's new shuffle (before this step: the update draws
nothing, so the generator's stream is the same as drawing it after) and calls these functions.
"""

from __future__ import annotations

import numpy as np

from .net import loss_fn, net_config
from .ops import auto_neuroadapt, resize_hidden

__all__ = ["TRAINING_STATE", "training_state", "make_optimizer", "net_cfg", "update_step", "restructure_step", "train_step"]

TRAINING_STATE = ("params", "buffers", "opt")


def training_state(state):
    """The part of the run state a training step reads and writes (what a trajectory case records).

    Source: none (the part of the run state a step reads and writes; no formula)
    """
    return {"params": state["net"]["params"], "buffers": state["net"]["buffers"], "opt": state["opt"]}


def make_optimizer(cfg):
    """AdamW(lr, weight_decay) of the model's config (note "Network": lr 1e-3, weight decay 1e-3).

    Source: none (AdamW with lr 1e-3, weight decay 1e-3 as in the author's experiment notebooks; minidsn.optim.AdamW)
    """
    from minidsn.optim import AdamW

    return AdamW(lr=cfg["lr"], weight_decay=cfg["weight_decay"])


def net_cfg(cfg):
    """The network config (minidsn.models.isotropic.net.net_config) inside the model's config.

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0 Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.__init__
        (the o / psi modes of the network config).
    """
    return net_config(**{k: cfg[k] for k in ("activation", "o_mode", "o_init", "o_positive", "psi_mode",
                                              "psi_decay", "eps", "guard", "isotropic_fn")})


def update_step(cfg, ncfg, tstate, x, labels):
    """AdamW on the minibatch: (new training state, loss, grads).

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0 Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.forward
        (the loss differentiated), AdamW (the author's experiments).
    """
    from minidsn import numpy as mnp
    from minidsn.engine import value_and_grad

    # C-ordered parameters, as a case file gives them back: structural edits can leave Fortran-ordered matrices,
    # and NumPy's matrix products sum in another order for another layout
    net = dict(tstate, params=_contiguous(tstate["params"]), buffers=_contiguous(tstate.get("buffers", {})))
    loss, grads = value_and_grad(loss_fn)(net["params"], net["buffers"], x, labels, ncfg, mnp)
    params, opt_state = make_optimizer(cfg).update(grads, tstate["opt"], net["params"])
    return {"params": params, "buffers": net["buffers"], "opt": opt_state}, float(loss), grads


def restructure_step(cfg, ncfg, tstate, target_widths, x_ref, rng, events=None):
    """The structural schedule at an epoch boundary (module doc); returns the new training state.

    Source: seed 003 Fig. 3, Fig. 4 (width changes at epoch boundaries); GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurogenerate,
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurodegenerate,
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.auto_neuroadapation.
    """
    net = {"params": tstate["params"], "buffers": tstate["buffers"]}
    opt_state = tstate["opt"]
    for k in range(len(target_widths) - 1, -1, -1):
        if int(target_widths[k]) >= 0:
            net, opt_state, _ = resize_hidden(net, ncfg, k, int(target_widths[k]), rng, opt_state, x_ref=x_ref,
                                              events=events)
    if cfg["auto_adapt"]:
        net, opt_state, _ = auto_neuroadapt(net, ncfg, cfg["tau"], cfg["K"], rng, opt_state, x_ref=x_ref,
                                            events=events)
    return {"params": net["params"], "buffers": net["buffers"], "opt": opt_state}


def _contiguous(tree: dict) -> dict:
    return {k: [np.require(v, requirements="C") for v in leaves] for k, leaves in tree.items()}


def train_step(cfg, tstate, inputs, rng):
    """The whole step (module doc): (new training state, losses {"total"}, grads, events).

    Source: seed 003 Fig. 3; GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.forward and the structural operations of
        restructure_step.
    """
    ncfg = net_cfg(cfg)
    x = np.asarray(inputs["x"], dtype=np.float64)
    labels = np.asarray(inputs["labels"]).astype(np.int64)
    tstate, loss, grads = update_step(cfg, ncfg, tstate, x, labels)
    events: list = []
    if int(np.asarray(inputs["epoch_end"]).item()):
        tstate = restructure_step(cfg, ncfg, tstate, np.asarray(inputs["target_widths"]).astype(np.int64), x, rng,
                                  events)
    return tstate, {"total": loss}, grads, events

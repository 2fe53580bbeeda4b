"""`isotropic` model: isotropic-tanh MLPs with diagonalisation, neurogenesis and neurodegeneration
(G. Bird, seed 003_65f8765f7dcd8253 = v1 abstract; v2 algebra and experiments in note isotropic.md).

One Model.step is one AdamW minibatch step (lr 1e-3, weight decay 1e-3, batch 48: note "Network").  At every epoch
boundary the structural schedule runs: the linear width schedule of the v1 experiment (``width_target``; pretrain
epochs at the start width, then the width moves linearly over ``schedule_epochs``) and/or automatic
neuro-adaptation (tau, K), each applied deepest layer first, optimiser state transformed with the network.
``experiment`` selects the extra figures Model.evaluate computes: "invariance" (v2 Exp 1 table), "sparsify"
(v2 Exp 5), or none ("train").
Modules: activation (f), net (MLP), ops (structure), state (optimiser
state edits), data (data), experiments (evaluation figures).
"""

from __future__ import annotations

import math

import numpy as np

from minidsn.models.api import ConfigError, Model, Option, register_model

from .activation import ISOTROPIC_FUNCTIONS
from .data import DATASETS, load_dataset
from .experiments import invariance_table, sparsify_figures
from .net import (
    ACTIVATIONS,
    O_MODES,
    PSI_MODES,
    accuracy,
    forward,
    init_network,
    loss_fn,
    net_config,
    sizes_of,
)
from .ops import neurogenesis
from .training import make_optimizer, net_cfg, restructure_step, training_state, update_step
from .trajectory import TRAJECTORY_DEFAULTS, TRAJECTORY_STEPS
from minidsn.models.api import non_negative as _non_negative, positive as _positive

__all__ = ["IsotropicModel", "scheduled_width"]


def _widths(v):
    if len(v) < 1 or not all(isinstance(w, int) and w > 0 for w in v):
        return "must be a non-empty list of positive ints"
    return None


def scheduled_width(epoch, start, target, pretrain_epochs, schedule_epochs):
    """Width after ``epoch`` completed epochs: start during pretraining, then linear to target over
    schedule_epochs (v1 Fig. 3/4: 24 pretraining epochs, 48 epochs of adaptation), rounded to the nearest int.

    Source: seed 003 Fig. 3, Fig. 4 (24 pretraining epochs, then 48 epochs while the width changes); minidsn choice:
        linear schedule rounded to the nearest int.
    """
    if target <= 0 or epoch <= pretrain_epochs:
        return start
    frac = min(1.0, (epoch - pretrain_epochs) / max(1, schedule_epochs))
    return int(round(start + (target - start) * frac))


def _counts_ok(v):
    ok = all(isinstance(n, int) and not isinstance(n, bool) and n >= 1 for n in v)
    return None if ok else "must be a list of ints >= 1"


# When an option has an effect (Option.only_when), from net.py and training.py: the elementwise control never calls
# isotropic_scale and has no o or psi; o_init is read for a constant or trainable o, o_positive for a trainable one,
# psi_decay by the trainable_decay penalty; tau / K by the automatic adaptation; the experiment figures by their
# experiment; synthetic_* by the synthetic data set.
_ISOTROPIC = {"activation": ("isotropic",)}


@register_model
class IsotropicModel(Model):
    """The ``isotropic`` model: options, data, the epoch schedule and the run-harness adapter.

    Source: none (registry glue of the isotropic model; the formulas are cited in net.py, ops.py and training.py)
    """

    name = "isotropic"
    description = "isotropic-tanh MLP: diagonalisation, exact neurogenesis, compensated neurodegeneration"
    trajectory_defaults = TRAJECTORY_DEFAULTS  # config of a trajectory case unless set (see .trajectory)
    trajectory_steps = TRAJECTORY_STEPS
    options = {
        "dataset": Option(str, "mnist", "data set (synthetic needs no files)", choices=DATASETS),
        "hidden": Option(list, [100, 100], "hidden widths", check=_widths),
        "activation": Option(str, "isotropic", "isotropic tanh or the elementwise-tanh control", choices=ACTIVATIONS),
        "o_mode": Option(str, "trainable", "intrinsic length o: none / constant / trainable (exp theta)",
                         choices=O_MODES),
        "o_init": Option(float, 1e-6, "initial o", check=_non_negative,
                         only_when={**_ISOTROPIC, "o_mode": ("constant", "trainable")}),
        "o_positive": Option(bool, True, "trainable o as exp(theta) (True) or o itself (False)",
                             only_when={**_ISOTROPIC, "o_mode": ("trainable",)}),
        "psi_mode": Option(str, "trainable_decay", "psi: none (v1) / zeros / trainable / trainable_decay / "
                           "expectation", choices=PSI_MODES),
        "psi_decay": Option(float, 0.1, "psi penalty weight in trainable_decay", check=_non_negative,
                            only_when={**_ISOTROPIC, "psi_mode": ("trainable_decay",)}),
        "eps": Option(float, 1e-3, "guard radius near r = 0", check=_positive, only_when=_ISOTROPIC),
        "guard": Option(str, "series", "series = exact limit and derivative; code = author's constant",
                        choices=("series", "code"), only_when=_ISOTROPIC),
        "isotropic_fn": Option(str, "tanh", "member of the isotropic class sigma(|h|) h/|h|: tanh (the paper's), "
                               "arctan, isru (r/sqrt(1+r^2))", choices=ISOTROPIC_FUNCTIONS, only_when=_ISOTROPIC),
        "lr": Option(float, 1e-3, "AdamW learning rate", check=_positive),
        "weight_decay": Option(float, 1e-3, "AdamW weight decay", check=_non_negative),
        "batch_size": Option(int, 48, "minibatch size", check=_positive),
        "train_limit": Option(int, 0, "use the first N training examples (0 = all)", check=_non_negative),
        "test_limit": Option(int, 0, "use the first N test examples (0 = all)", check=_non_negative),
        "width_target": Option(int, 0, "v1 width schedule: target hidden width (0 = off)", check=_non_negative),
        "pretrain_epochs": Option(int, 24, "epochs at the start width before the schedule", check=_non_negative),
        "schedule_epochs": Option(int, 48, "epochs over which the width moves linearly", check=_positive),
        "auto_adapt": Option(bool, False, "automatic neuro-adaptation once per epoch"),
        "tau": Option(float, 0.95, "auto-adaptation: scaffold threshold on singular values", check=_positive,
                      only_when={"auto_adapt": (True,)}),
        "K": Option(int, 5, "auto-adaptation: scaffold neurons to keep per layer", check=_positive,
                    only_when={"auto_adapt": (True,)}),
        "experiment": Option(str, "train", "extra evaluation figures", choices=("train", "invariance", "sparsify")),
        "invariance_layer": Option(int, 1, "layer fully diagonalised and resized in the invariance table",
                                   check=_non_negative, only_when={"experiment": ("invariance",)}),
        "invariance_counts": Option(list, [1, 5, 25, 50, 75], "neurons added / removed in the invariance table",
                                    check=_counts_ok, only_when={"experiment": ("invariance",)}),
        "param_threshold": Option(float, 1e-4, "|p| above which a parameter counts (sparsify)", check=_positive,
                                  only_when={"experiment": ("sparsify",)}),
        "synthetic_dim": Option(int, 20, "synthetic data: input dimension", check=_positive,
                                only_when={"dataset": ("synthetic",)}),
        "synthetic_classes": Option(int, 5, "synthetic data: classes", check=_positive,
                                    only_when={"dataset": ("synthetic",)}),
    }

    # ----------------------------------------------------------------------------------------------------------
    @classmethod
    def check_config(cls, cfg):
        """Combinations no single option rules out; the network's own checks are net.check_config's. The experiment
        tables run after training, so what they need is checked here, before it.

        Source: none (configuration checks; no formula)
        """
        net_cfg(cfg)
        isotropic = cfg["activation"] == "isotropic"
        if cfg["auto_adapt"] and not isotropic:
            raise ConfigError("config key 'auto_adapt': needs activation = 'isotropic' (it reads singular values)")
        if cfg["experiment"] in ("invariance", "sparsify") and not isotropic:
            raise ConfigError(f"config key 'experiment': {cfg['experiment']!r} diagonalises layers, which needs "
                              "activation = 'isotropic' (a change of basis does not commute with an elementwise "
                              "activation)")
        if cfg["experiment"] == "invariance" and cfg["invariance_layer"] >= len(cfg["hidden"]):
            raise ConfigError(f"config key 'invariance_layer': {cfg['invariance_layer']} is not a hidden layer of "
                              f"hidden = {list(cfg['hidden'])} (0 to {len(cfg['hidden']) - 1})")

    net_cfg = staticmethod(net_cfg)

    @staticmethod
    def _data(cfg, data_dir):
        return load_dataset(cfg["dataset"], data_dir, train_limit=cfg["train_limit"], test_limit=cfg["test_limit"],
                            synthetic_dim=cfg["synthetic_dim"], synthetic_classes=cfg["synthetic_classes"])

    def steps_per_epoch(self, cfg):
        """ceil(n_train / batch_size): the last, shorter batch closes the epoch.

        Source: none (run-harness adapter; no formula)
        """
        n = {"mnist": 60000, "fashion-mnist": 60000, "cifar10": 50000, "synthetic": 2000}[cfg["dataset"]]
        if cfg["train_limit"]:
            n = cfg["train_limit"] if cfg["dataset"] == "synthetic" else min(n, cfg["train_limit"])
        return math.ceil(n / cfg["batch_size"])

    def init(self, cfg, rng, data_dir):
        """Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
            Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.simple_initialiser (orthogonal W, b = 0, psi = 0) via
            net.init_network
        """
        ncfg = self.net_cfg(cfg)
        self.check_config(cfg)
        xtr, ytr, xte, yte = self._data(cfg, data_dir)
        sizes = [xtr.shape[1]] + list(cfg["hidden"]) + [int(max(ytr.max(), yte.max())) + 1]
        net = init_network(sizes, ncfg, rng)
        return {"net": net, "opt": make_optimizer(cfg).init(net["params"]), "epoch": 0, "pos": 0,
                "perm": rng.permutation(len(xtr)), "data_dir": "" if data_dir is None else str(data_dir)}

    def step(self, state, cfg, rng, step):
        """Source: seed 003 Fig. 3 (width changes at epoch boundaries); GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
            Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.forward and AdamW (the author's experiments: lr 1e-3,
            weight decay 1e-3, batch 48).
        """
        inputs, nxt = self.next_inputs(state, cfg, rng)
        ncfg = self.net_cfg(cfg)
        tstate, loss, _ = update_step(cfg, ncfg, training_state(state), inputs["x"], inputs["labels"])
        logits = forward(tstate["params"], tstate["buffers"], inputs["x"], ncfg, xp=np)
        metrics = {"loss": loss, "batch_acc": float(np.mean(np.argmax(logits, axis=1) == inputs["labels"]))}
        if inputs["epoch_end"]:
            tstate = restructure_step(cfg, ncfg, tstate, inputs["target_widths"], inputs["x"], rng)
            metrics["epoch_done"] = float(nxt["epoch"])
        return self.advance(state, tstate, nxt, metrics)

    def next_inputs(self, state, cfg, rng):
        """(inputs of the next training step, the data position after it): the minibatch, whether it ends an epoch,
        and the widths the v1 schedule sets then; at an epoch's end the next shuffle is drawn here, before the
        update (which draws nothing, so the generator's stream is as if drawn after it).

        Source: seed 003 Fig. 3, Fig. 4 (the width schedule at epoch boundaries); minidsn choice: shuffled minibatches
            of 48 (the author's experiments).
        """
        xtr, ytr, _, _ = self._data(cfg, state["data_dir"] or None)
        bs = cfg["batch_size"]
        idx = state["perm"][state["pos"]:state["pos"] + bs]
        pos, epoch, perm = state["pos"] + bs, state["epoch"], state["perm"]
        epoch_end = pos >= len(xtr)
        hidden = len(cfg["hidden"])
        targets = np.full(hidden, -1, dtype=np.int64)
        if epoch_end:  # epoch boundary: a fresh shuffle, then the structural schedule
            epoch += 1
            pos = 0
            perm = rng.permutation(len(xtr))
            if cfg["width_target"]:
                targets = np.array([scheduled_width(epoch, cfg["hidden"][k], cfg["width_target"],
                                                    cfg["pretrain_epochs"], cfg["schedule_epochs"])
                                    for k in range(hidden)], dtype=np.int64)
        inputs = {"x": xtr[idx], "labels": ytr[idx], "epoch_end": int(epoch_end), "target_widths": targets}
        return inputs, {"pos": pos, "epoch": epoch, "perm": perm, "n_train": len(xtr)}

    @staticmethod
    def advance(state, tstate, nxt, metrics):
        """The run state after a step: the new network and optimiser state, data position, epoch, shuffle.

        Source: none (run-state bookkeeping; no formula)
        """
        net = {"params": tstate["params"], "buffers": tstate["buffers"]}
        metrics["width"] = float(sum(sizes_of(net)[1:-1]))
        metrics["epoch"] = nxt["epoch"] + nxt["pos"] / nxt["n_train"]
        return {"net": net, "opt": tstate["opt"], "epoch": nxt["epoch"], "pos": nxt["pos"], "perm": nxt["perm"],
                "data_dir": state["data_dir"]}, metrics

    def trajectory(self, cfg, rng, data_dir, steps=None):
        """K consecutive steps with everything each reads, draws and changes (minidsn.models.isotropic.trajectory).

        Source: none (oracle trajectory record; formulas in training.py)
        """
        from .trajectory import trajectory

        return trajectory(self, cfg, rng, data_dir, steps)

    def trajectory_step(self, cfg, state_before, inputs, draws):
        """One recorded step replayed from its state, inputs and draws: (state_after, losses, grads, events).

        Source: none (replay of a recorded step; formulas in training.py)
        """
        from .trajectory import trajectory_step

        return trajectory_step(cfg, state_before, inputs, draws)

    def evaluate(self, state, cfg, rng, data_dir):
        """Source: none (reporting: test accuracy and the experiment tables of experiments.py)"""
        ncfg = self.net_cfg(cfg)
        xtr, ytr, xte, yte = self._data(cfg, data_dir if data_dir is not None else (state["data_dir"] or None))
        net = state["net"]
        out = {"test_acc": accuracy(net["params"], net["buffers"], xte, yte, ncfg),
               "epochs": float(state["epoch"] + state["pos"] / len(xtr))}
        for k, w in enumerate(sizes_of(net)[1:-1]):
            out[f"width_{k}"] = float(w)
        if cfg["experiment"] == "invariance":
            out.update(invariance_table(net, ncfg, xte, yte, cfg["invariance_layer"], cfg["invariance_counts"], rng))
        elif cfg["experiment"] == "sparsify":
            out.update(sparsify_figures(net, ncfg, xte, yte, cfg["param_threshold"]))
        return out

    def oracle_case(self, cfg, rng, data_dir):
        """Small isotropic MLPs in every o / psi mode (params, inputs, logits, loss, gradients) and a network
        before and after neurogenesis (its logits must agree to rounding).

        Sub-case <name> has params/<name>/..., its non-trained buffers (constant psi) in inputs/<name>/buffers/...,
        outputs/<name> (logits) and losses/<name>; losses/total is the sum of the sub-case losses, so grads/<name>/...
        (the gradient of total) is each sub-case's own gradient: the sub-cases share no parameters.

        Source: none (oracle export; formulas in net.py and ops.py)
        """
        from minidsn import numpy as mnp
        from minidsn.engine import value_and_grad

        sizes = [5, 4, 3, 2]
        x = rng.standard_normal((3, sizes[0]))
        y = np.array([0, 1, 1])
        case = {"params": {}, "inputs": {"x": x, "labels": y.astype(np.float64)}, "outputs": {}, "losses": {},
                "grads": {}}
        for om in O_MODES:
            for pm in PSI_MODES:
                ncfg = net_config(o_mode=om, psi_mode=pm, o_init=0.01)
                net = init_network(sizes, ncfg, rng)
                net = _perturb(net, rng)
                name = f"o_{om}__psi_{pm}"
                loss, g = value_and_grad(loss_fn)(net["params"], net["buffers"], x, y, ncfg, mnp)
                case["params"][name] = net["params"]
                case["inputs"][name] = {"buffers": net["buffers"]}
                case["outputs"][name] = forward(net["params"], net["buffers"], x, ncfg, xp=np)
                case["losses"][name] = np.asarray(float(loss))
                case["grads"][name] = g
        ncfg = net_config()
        net = _perturb(init_network(sizes, ncfg, rng), rng)
        grown, _, _ = neurogenesis(net, ncfg, 0, 2, rng)
        grown, _, _ = neurogenesis(grown, ncfg, 1, 1, rng)
        for name, n in (("genesis_before", net), ("genesis_after", grown)):
            loss, g = value_and_grad(loss_fn)(n["params"], n["buffers"], x, y, ncfg, mnp)
            case["params"][name] = n["params"]
            case["inputs"][name] = {"buffers": n["buffers"]}
            case["outputs"][name] = forward(n["params"], n["buffers"], x, ncfg, xp=np)
            case["losses"][name] = np.asarray(float(loss))
            case["grads"][name] = g
        case["losses"]["total"] = np.asarray(float(sum(float(v) for v in case["losses"].values())))
        return case

    def plot(self, state, metrics, out_dir):
        """Source: none (figures of a run; no formula)"""
        try:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return None
        steps = [m["step"] for m in metrics if "width" in m]
        if not steps:
            return None
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
        ax[0].plot(steps, [m["loss"] for m in metrics if "width" in m])
        ax[0].set_xlabel("step")
        ax[0].set_ylabel("training loss")
        ax[1].plot(steps, [m["width"] for m in metrics if "width" in m])
        ax[1].set_xlabel("step")
        ax[1].set_ylabel("total hidden width")
        fig.tight_layout()
        fig.savefig(f"{out_dir}/isotropic_training.png", dpi=100)
        plt.close(fig)
        return None


def _perturb(net, rng):
    """Nonzero biases / psi / o so every term of the forward pass is exercised."""
    P, B = net["params"], net["buffers"]
    P["b"] = [0.3 * rng.standard_normal(b.shape) for b in P["b"]]
    for tree in (P, B):
        if "psi" in tree:
            tree["psi"] = [0.3 * rng.standard_normal(v.shape) for v in tree["psi"]]
    if "log_o" in P:
        P["log_o"] = [np.array(math.log(0.05)) for _ in P["log_o"]]
    return net

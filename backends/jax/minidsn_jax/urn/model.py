"""The URN as a harness model ``jax-urn``: the config keys of minidsn's ``urn`` (docs/models/urn.md), spheres data.

Implementation switches of minidsn (``sparse``, ``fused_update``) are accepted and have no effect (one JAX path);
image data sets and ``output_nodes = "top_centre"`` are not implemented here (clear error).
Epoch: a fresh permutation of the training set, batches of ``batch_size``, the last one partial
(steps_per_epoch = ceil(n_train / batch_size)).

Read-out (seed Sec. 2; the assumptions of docs/models/urn.md): a neuron is active where |N_i^(l)| > active_threshold
for some training sample at some iteration l = 0..I; its layer is the first such l (input nodes: layer 0).
Pruning check: zero every weight W_ij unless i and j are both active, and report the largest change of the logits.
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

from minidsn.runs import Model, Option, register_model
from minidsn_jax.trees import to_device, to_host
from minidsn_jax.urn import train
from minidsn_jax.urn.data import make_spheres

_pos = lambda v: None if v > 0 else "must be > 0"  # noqa: E731
_nonneg = lambda v: None if v >= 0 else "must be >= 0"  # noqa: E731


@register_model
class JaxURN(Model):
    name = "jax-urn"
    description = "minidsn_jax: Unrestricted Recursive Network in JAX (spheres data set)"
    options = {
        "dataset": Option(str, "spheres", "spheres only in minidsn_jax",
                          choices=("spheres", "mnist", "fashion-mnist", "cifar10-gray")),
        "n_train": Option(int, 4000, "training samples", check=_pos),
        "n_test": Option(int, 1000, "test samples", check=_pos),
        "sphere_dim": Option(int, 10, "dimension d", check=_pos),
        "shells": Option(list, [[1.0, 1.5], [2.0, 2.5]], "[r_min, r_max] per class"),
        "radial": Option(str, "volume", "uniform in volume or radius", choices=("volume", "radius")),
        "interpolation": Option(str, "bilinear", "images only: no effect here", choices=("bilinear", "nearest")),
        "n_neurons": Option(int, 5000, "S", check=_pos),
        "n_iter": Option(int, 4, "I", check=_pos),
        "phi": Option(str, "relu", "activation", choices=("relu", "leaky_relu", "softplus", "tanh")),
        "leaky_slope": Option(float, 0.01, "leaky_relu slope"),
        "residual_out": Option(bool, False, "residual output nodes (eq. 6)"),
        "residual_in": Option(bool, False, "residual input nodes (eq. 7)"),
        "output_nodes": Option(str, "last", "last only in minidsn_jax", choices=("last", "top_centre")),
        "init_std": Option(float, None, "std of W at init; None = sqrt(2/S)"),
        "bias_init": Option(float, 0.0, "initial bias"),
        "c_w": Option(float, 5e-7, "weight L1", check=_nonneg),
        "c_n": Option(float, 2e-5, "activity L1", check=_nonneg),
        "activity_reduction": Option(str, "mean", "activity L1 over a batch", choices=("mean", "sum")),
        "c_syn": Option(float, 0.0, "synaptic length (eq. 9); needs geometry grid", check=_nonneg),
        "geometry": Option(str, "none", "neuron positions", choices=("none", "grid")),
        "plane": Option(list, [], "input-plane shape of the grid ([] = [d_in])"),
        "beta": Option(float, 1.0, "weight of dz^2 (eq. 8)"),
        "gamma": Option(float, 1.0, "distance power (eq. 9)", check=_pos),
        "syn_pairs": Option(str, "all", "all synapses or i < j", choices=("all", "upper")),
        "lr": Option(float, 7e-4, "Adam learning rate", check=_pos),
        "adam_eps": Option(float, 1e-8, "Adam epsilon", check=_pos),
        "adam_eps_form": Option(str, "algorithm1", "Adam eps placement", choices=("algorithm1", "efficient")),
        "batch_size": Option(int, 32, "mini-batch size", check=_pos),
        "sparse": Option(bool, True, "minidsn's sparse products: no effect here"),
        "fused_update": Option(bool, True, "minidsn's fused Adam kernel: no effect here"),
        "active_threshold": Option(float, 0.0, "active where |N_i| > this", check=_nonneg),
        "active_on": Option(str, "train", "data on which activity is read", choices=("train", "test")),
        "oracle_batch": Option(int, 4, "samples in an oracle case", check=_pos),
        "oracle_n_neurons": Option(int, 200, "cap on S in an oracle case", check=_nonneg),
    }

    def steps_per_epoch(self, cfg):
        return math.ceil(cfg["n_train"] / cfg["batch_size"])

    def init(self, cfg, rng, data_dir):
        if cfg["dataset"] != "spheres":
            raise NotImplementedError("minidsn_jax urn: only dataset 'spheres' is implemented")
        if cfg["output_nodes"] != "last":
            raise NotImplementedError("minidsn_jax urn: output_nodes 'top_centre' is not implemented")
        if len(cfg["shells"]) != 2:  # the data, the one-hot targets and the read-out are the seed's two classes
            raise NotImplementedError(f"minidsn_jax urn: exactly two shells (the seed's two classes) are implemented, "
                                      f"got {len(cfg['shells'])}")
        x, y = make_spheres(rng, cfg["n_train"], cfg["sphere_dim"], cfg["shells"], cfg["radial"])
        xt, yt = make_spheres(rng, cfg["n_test"], cfg["sphere_dim"], cfg["shells"], cfg["radial"])
        params = train.init_params(cfg, rng)
        return {"params": params, "opt": to_host(train.new_optimiser(to_device(params))),
                "data": {"x": x, "y": y, "x_test": xt, "y_test": yt}, "order": rng.permutation(cfg["n_train"])}

    def step(self, state, cfg, rng, step):
        per = self.steps_per_epoch(cfg)
        k = step % per
        order = state["order"]
        if k == 0 and step > 0:
            order = rng.permutation(cfg["n_train"])
        idx = order[k * cfg["batch_size"]:(k + 1) * cfg["batch_size"]]
        x = jnp.asarray(state["data"]["x"][idx])
        y = jnp.asarray(np.eye(2)[state["data"]["y"][idx]])
        params, opt, losses, acc, live, _ = train.train_step(to_device(state["params"]), to_device(state["opt"]),
                                                            x, y, cfg)
        metrics = {"loss": float(losses["total"]), "ce": float(losses["ce"]), "acc": float(acc),
                   "live_neurons_batch": float(live), "l1_w": float(losses["l1_w"]), "l1_n": float(losses["l1_n"])}
        if "syn" in losses:
            metrics["syn"] = float(losses["syn"])
        return {"params": to_host(params), "opt": to_host(opt), "data": state["data"], "order": order}, metrics

    def evaluate(self, state, cfg, rng, data_dir):
        params = {k: np.asarray(v) for k, v in state["params"].items()}
        d = state["data"]
        states_tr, logits_tr = train.run_forward(to_device(params), d["x"], 2, cfg)
        _, logits_te = train.run_forward(to_device(params), d["x_test"], 2, cfg)
        out = {"train_acc": float(np.mean(np.argmax(logits_tr, 1) == d["y"])),
               "test_acc": float(np.mean(np.argmax(logits_te, 1) == d["y_test"]))}
        read = states_tr if cfg["active_on"] == "train" else train.run_forward(to_device(params), d["x_test"], 2,
                                                                               cfg)[0]
        active_at = np.any(np.abs(read) > cfg["active_threshold"], axis=1)  # (I+1, S)
        S, d_in, I = params["W"].shape[0], d["x"].shape[1], cfg["n_iter"]
        active_at[0, :d_in] = True  # input nodes are layer 0
        active = np.any(active_at, axis=0)
        layer = np.where(active, np.argmax(active_at, axis=0), -1)
        hidden = active.copy()
        hidden[:d_in] = False
        hidden[S - 2:] = False
        out["n_active"] = float(active.sum())
        out["n_active_hidden"] = float(hidden.sum())
        for l in range(I + 1):
            out[f"layer_sizes_{l}"] = float(np.sum(layer == l))
        for l in range(I + 1):
            out[f"hidden_layer_sizes_{l}"] = float(np.sum(hidden & (layer == l)))
        keep = np.outer(active, active)
        pruned = {"W": np.where(keep, params["W"], 0.0), "b": params["b"]}
        for name, x in (("train", d["x"]), ("test", d["x_test"])):
            _, lp = train.run_forward(to_device(pruned), x, 2, cfg)
            ref = logits_tr if name == "train" else logits_te
            out[f"prune_active_max_abs_change_{name}"] = float(np.max(np.abs(lp - ref)))
        out["prune_active_kept_weights"] = float(keep.sum())
        out["weights_abs_gt_1e-3"] = float(np.sum(np.abs(params["W"]) > 1e-3))
        out["weights_total"] = float(params["W"].size)
        return out

"""``diffrnn-ff``: DiffRNN's structural rule on a small feed-forward classifier (seed 001 Sec. 5), per hidden layer
and, with ``depth_growth``, over residual layers. The network, objective and rule are in ff.py.

One Model.step = one mini-batch: gradient of the objective, clip, Adagrad, structural update. Data: seeded
synthetic sets from minidsn.data.synthetic (no files): "blobs" (Gaussian clusters, easy) and "spirals"
(interleaved arms, hard), a test set drawn from the same distribution.

The options t_d, m_min, p_add, p_del, l1, p_spontaneous, lr and clip are DiffRNN's own (same defaults, the paper's);
here they act per hidden layer, and l1 is A in ``mean CE + A sum|m|`` (per prediction, where DiffRNN's A T sum|m| is
per window of T predictions: the same ratio to the cross-entropy).
"""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

import minidsn.optim as optim
from minidsn.data.synthetic import gaussian_blobs, spirals
from minidsn.models.api import ConfigError, Model, Option, register_model
from minidsn.models.api import non_negative as _nonneg, positive as _positive, probability as _prob

from . import ff
from .model import DiffRNNModel

__all__ = ["DiffFFModel"]

# When an option has an effect (Option.only_when). structure = false zeroes p_add / p_del / p_spontaneous (step);
# k and max_width are still read then (they decide whether the structural update draws a random number). The
# residual-layer rule runs only with depth_growth; turns shapes only the spirals.
_STRUCTURE = {"structure": (True,)}
_DEPTH = {"depth_growth": (True,)}


def _rnn_option(key, only_when=None):
    """DiffRNN's option ``key`` with this model's condition (DiffRNN's own ones name its variants)."""
    return replace(DiffRNNModel.options[key], only_when=only_when)


def _widths_ok(v):
    if not v or not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in v):
        return "must be a non-empty list of positive integers"
    return None


def make_data(cfg, rng):
    """(x_train, y_train, x_test, y_test) of cfg["dataset"], drawn from ``rng``.

    Source: none (minidsn's synthetic tasks for the demonstration; the seed names no feed-forward task)
    """
    n, nt, C = cfg["n_train"], cfg["n_test"], cfg["n_classes"]
    if cfg["dataset"] == "blobs":
        x, y, centers = gaussian_blobs(rng, n, C, 2, spread=cfg["noise"])
        xt, yt, _ = gaussian_blobs(rng, nt, C, 2, spread=cfg["noise"], centers=centers)
    else:
        x, y = spirals(rng, n, C, noise=cfg["noise"], turns=cfg["turns"])
        xt, yt = spirals(rng, nt, C, noise=cfg["noise"], turns=cfg["turns"])
    return x, y, xt, yt


def _accuracy(params, x, y):
    return float(np.mean(np.argmax(ff.forward(params, x), axis=1) == y))


@register_model
class DiffFFModel(Model):
    """The ``diffrnn-ff`` model: options, synthetic data and the run-harness adapter around ff.py.

    Source: none (registry glue of the diffrnn-ff model; the network, objective and structural rule are cited in
        ff.py)
    """

    name = "diffrnn-ff"
    description = ("DiffRNN's rule on a feed-forward net (seed 001 Sec. 5): multipliers, L1, add/delete neurons per "
                   "layer; residual layers added/deleted by their own multipliers")
    options = {
        "dataset": Option(str, "spirals", "blobs = Gaussian clusters (easy); spirals = interleaved arms (hard)",
                          choices=("blobs", "spirals")),
        "n_classes": Option(int, 3, "classes", check=lambda v: None if v >= 2 else "must be >= 2"),
        "n_train": Option(int, 1024, "training points", check=_positive),
        "n_test": Option(int, 1024, "test points", check=_positive),
        "noise": Option(float, 0.05, "blobs: cluster std (centres ~ 3 N(0, I)); spirals: noise std", check=_nonneg),
        "turns": Option(float, 1.5, "spirals: turns of each arm", check=_positive, only_when={"dataset": ("spirals",)}),
        "widths": Option(list, [1, 1], "initial hidden-layer widths (one entry per hidden layer)", check=_widths_ok),
        "n_blocks": Option(int, 0, "initial residual layers", check=_nonneg),
        "structure": Option(bool, True, "add / delete neurons per layer (False: multipliers kept, widths fixed)"),
        "depth_growth": Option(bool, False, "add / delete residual layers by their multipliers mu"),
        # the paper's structural parameters (seed 001 Sec. 2.2), per layer
        "k": Option(int, 1, "sub-threshold neurons kept in reserve per layer", check=_positive),
        # t_d, m_min, p_add, p_del, l1, p_spontaneous: DiffRNN's options and defaults (seed 001 Sec. 2.2), per layer
        **{key: _rnn_option(key, _STRUCTURE if key in ("p_add", "p_del", "p_spontaneous") else None)
           for key in ("t_d", "m_min", "p_add", "p_del", "l1", "p_spontaneous")},
        "max_width": Option(int, 99, "no addition to a layer of this width", check=_positive),
        # the same rule over residual layers
        "k_layers": Option(int, 1, "sub-threshold residual layers kept in reserve", check=_nonneg, only_when=_DEPTH),
        "p_add_layer": Option(float, 0.05, "probability of adding a residual layer when none is in reserve",
                              check=_prob, only_when=_DEPTH),
        "p_del_layer": Option(float, 0.25, "probability of deleting each excess sub-threshold residual layer",
                              check=_prob, only_when=_DEPTH),
        "l1_layer": Option(float, 3e-5, "A_layer: L1 on the residual layers' multipliers mu", check=_nonneg),
        "max_blocks": Option(int, 20, "no residual layer added beyond this many", check=_positive, only_when=_DEPTH),
        **{key: _rnn_option(key) for key in ("lr", "clip")},  # G2's Adagrad and clip
        "batch_size": Option(int, 64, "mini-batch size", check=_positive),
        "init_scale": Option(float, 0.1, "std of the initial and new weights", check=_positive),
        "oracle_batch": Option(int, 8, "training points in an oracle case", check=_positive),
    }

    @classmethod
    def check_config(cls, cfg):
        """Source: none (configuration checks; no formula)"""
        if cfg["m_min"] >= cfg["t_d"]:
            raise ConfigError(f"config key 'm_min': {cfg['m_min']} must be below t_d ({cfg['t_d']})")
        if cfg["batch_size"] > cfg["n_train"]:
            raise ConfigError(f"config key 'batch_size': {cfg['batch_size']} exceeds n_train ({cfg['n_train']})")
        if cfg["dataset"] == "blobs" and not cfg["noise"] > 0:
            # the cluster std: 0 would put every point of a class on its centre (gaussian_blobs refuses it)
            raise ConfigError(f"config key 'noise': {cfg['noise']!r} must be > 0 with dataset = 'blobs' (the "
                              f"clusters' std; spirals accept 0)")

    def steps_per_epoch(self, cfg):
        """Source: none (run-harness adapter; no formula)"""
        return math.ceil(cfg["n_train"] / cfg["batch_size"])

    def init(self, cfg, rng, data_dir=None):
        """Data, then parameters (ff.init_params), Adagrad memories 0, a first epoch order.

        Source: none (run-harness adapter; the parameters are ff.init_params)
        """
        self.check_config(cfg)
        x, y, xt, yt = make_data(cfg, rng)
        params = ff.init_params(rng, 2, cfg["widths"], cfg["n_classes"], cfg["n_blocks"], cfg["init_scale"])
        return {"params": params, "opt": optim.Adagrad(lr=cfg["lr"], eps=1e-8).init(params),
                "data": {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt},
                "order": rng.permutation(cfg["n_train"]), "pos": 0, "n_added": 0, "n_deleted": 0,
                "blocks_added": 0, "blocks_deleted": 0}

    def step(self, state, cfg, rng, step):
        """One mini-batch: objective gradient, clip, Adagrad, structural update (ff module doc).

        Source: seed 001 Sec. 2.2 (update, then addition / deletion at the same time as the update); ff.py
        """
        n, B = cfg["n_train"], cfg["batch_size"]
        order, pos = state["order"], state["pos"]
        if pos + B > n:
            order, pos = rng.permutation(n), 0
        idx = order[pos:pos + B]
        x, y = state["data"]["x_train"][idx], state["data"]["y_train"][idx]
        ce, grads = ff.loss_and_grads(state["params"], x, y, cfg["l1"], cfg["l1_layer"])
        if not math.isfinite(ce):
            raise FloatingPointError(f"diffrnn-ff: loss is {ce}")
        if cfg["clip"] > 0:
            grads = optim.clip_elementwise(grads, cfg["clip"])
        params, opt = optim.Adagrad(lr=cfg["lr"], eps=1e-8).update(grads, state["opt"], state["params"])
        # structure = false: floors (and depth growth, if on) only, as DiffRNN's structure = false keeps the floor
        run_cfg = cfg if cfg["structure"] else dict(cfg, p_add=0.0, p_del=0.0, p_spontaneous=0.0)
        params, opt, events = ff.structural_update(params, opt, run_cfg, rng)
        neuron_ev = [e for e in events if e["layer"] != "blocks"]
        block_ev = [e for e in events if e["layer"] == "blocks"]
        n_del = sum(len(e["indices"]) for e in neuron_ev if e["kind"] == "delete")
        n_add = sum(e["kind"] == "add" for e in neuron_ev)
        b_del = sum(len(e["indices"]) for e in block_ev if e["kind"] == "delete")
        b_add = sum(e["kind"] == "add" for e in block_ev)
        new_state = {**state, "params": params, "opt": opt, "order": order, "pos": pos + B,
                     "n_added": state["n_added"] + n_add, "n_deleted": state["n_deleted"] + n_del,
                     "blocks_added": state["blocks_added"] + b_add, "blocks_deleted": state["blocks_deleted"] + b_del}
        return new_state, {"loss": ce, **self._sizes(params, cfg)}

    @staticmethod
    def _sizes(params, cfg):
        out = {f"width_{l + 1}": float(layer["b"].shape[0]) for l, layer in enumerate(params["layers"])}
        for l, layer in enumerate(params["layers"]):
            out[f"above_{l + 1}"] = float((layer["m"] > cfg["t_d"]).sum())
        out["n_blocks"] = float(len(params["blocks"]))
        out["blocks_above"] = float(sum(float(b["mu"][0]) > cfg["t_d"] for b in params["blocks"]))
        return out

    def evaluate(self, state, cfg, rng, data_dir=None):
        """Sizes, CE and accuracy on the whole training set and on the test set, the residual multipliers.

        Source: none (reporting; no formula)
        """
        p, d = state["params"], state["data"]
        ce_train = float(ff.objective(p, d["x_train"], d["y_train"], 0.0, 0.0)[1])
        ce_test = float(ff.objective(p, d["x_test"], d["y_test"], 0.0, 0.0)[1])
        out = {**self._sizes(p, cfg), "train_ce": ce_train, "test_ce": ce_test,
               "train_acc": _accuracy(p, d["x_train"], d["y_train"]), "test_acc": _accuracy(p, d["x_test"], d["y_test"]),
               "n_added": float(state["n_added"]), "n_deleted": float(state["n_deleted"]),
               "blocks_added": float(state["blocks_added"]), "blocks_deleted": float(state["blocks_deleted"])}
        for b, blk in enumerate(p["blocks"]):
            out[f"mu_{b + 1}"] = float(blk["mu"][0])
        return out

    def oracle_case(self, cfg, rng, data_dir=None):
        """One state of the network at the config's widths and residual layers: weights ~ 0.5 N(0,1), biases
        0.1 N(0,1), multipliers m and mu ~ U(0.025, 1.5) (drawn in that order after the data), so every gradient is
        clearly non-zero; a batch of ``oracle_batch`` training points; logits, probabilities, CE, the two L1 terms,
        the objective and its gradient (before clipping) for every parameter.

        Source: none (oracle export; the formulas are ff.forward and ff.objective)
        """
        self.check_config(cfg)
        x, y, _, _ = make_data(cfg, rng)
        nb = min(cfg["oracle_batch"], cfg["n_train"])
        x, y = x[:nb], y[:nb]
        params = ff.init_params(rng, 2, cfg["widths"], cfg["n_classes"], cfg["n_blocks"], 0.5)
        for group in ("layers", "blocks"):
            for part in params[group]:
                bias = "b" if group == "layers" else "c"
                mult = "m" if group == "layers" else "mu"
                part[bias] = 0.1 * rng.standard_normal(part[bias].shape)
                part[mult] = rng.uniform(0.025, 1.5, part[mult].shape)
        params["out"]["b"] = 0.1 * rng.standard_normal(params["out"]["b"].shape)
        logits = ff.forward(params, x)
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        ce, grads = ff.loss_and_grads(params, x, y, cfg["l1"], cfg["l1_layer"])
        l1_term = cfg["l1"] * sum(float(np.abs(lay["m"]).sum()) for lay in params["layers"])
        l1_layer_term = cfg["l1_layer"] * sum(float(np.abs(b["mu"]).sum()) for b in params["blocks"])
        return {
            "params": params,
            "inputs": {"x": x, "y": y.astype(np.float64)},
            "outputs": {"logits": logits, "probs": probs},
            "losses": {"total": ce + l1_term + l1_layer_term, "cross_entropy": ce, "l1_term": l1_term,
                       "l1_layer_term": l1_layer_term},
            "grads": grads,
        }

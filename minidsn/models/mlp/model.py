"""A plain multilayer perceptron on a built-in synthetic set: the model the harness tests and demos use.

Forward (layers l = 1..L, h_0 = x):   h_l = phi(h_{l-1} W_l + b_l) for l < L,   z = h_{L-1} W_L + b_L  (logits)
Loss:  cross_entropy = -(1/n) sum_i log softmax(z_i)[y_i];   l2 = (l2 / 2) sum_l ||W_l||_F^2;   total = sum of both.
Init:  Glorot-uniform W_l ~ U(-a, a), a = sqrt(6 / (fan_in + fan_out))  (Glorot & Bengio 2010, eq. 16), b_l = 0.
Train: Adam (minidsn.optim.Adam) on mini-batches; each epoch visits the training set in a fresh random order.
Gradients come from minidsn.engine.value_and_grad.
"""

from __future__ import annotations

import math

import numpy as np

import minidsn.numpy as mnp
from minidsn.data.synthetic import gaussian_blobs, spirals
from minidsn.engine import stop_gradient, value_and_grad
from minidsn.nn import relu
from minidsn.optim import Adam
from minidsn.models.api import Model, Option, register_model
from minidsn.scipy.special import log_softmax
from minidsn.models.api import positive as _positive

__all__ = ["MLPModel", "init_params", "forward", "loss_terms", "make_data"]


def _hidden_ok(v):
    if not all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in v):
        return "must be a list of positive integers"
    return None


def init_params(rng: np.random.Generator, sizes: list[int]) -> dict:
    """Glorot-uniform weights, zero biases, for layer widths ``sizes`` = [n_in, hidden..., n_out].

    Source: none (the harness demo's standard tanh MLP; no seed describes it)
    """
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        a = math.sqrt(6.0 / (fan_in + fan_out))
        layers.append({"W": rng.uniform(-a, a, (fan_in, fan_out)), "b": np.zeros(fan_out)})
    return {"layers": layers}


def forward(params, x, activation: str):
    """Return (logits, [h_1, ..., h_{L-1}]) (works on arrays and on traced values).

    Source: none (standard tanh MLP forward, h = tanh(W h + b); the harness demo, no seed)
    """
    phi = mnp.tanh if activation == "tanh" else relu
    h, hidden = x, []
    layers = params["layers"]
    for layer in layers[:-1]:
        h = phi(h @ layer["W"] + layer["b"])
        hidden.append(h)
    last = layers[-1]
    return h @ last["W"] + last["b"], hidden


def loss_terms(params, x, y, activation: str, l2: float):
    """(total, {"cross_entropy", "l2"}, logits, hidden): the loss equation in the module docstring.

    Source: none (softmax cross-entropy of the demo MLP; no seed)
    """
    logits, hidden = forward(params, x, activation)
    logp = log_softmax(logits, axis=1)
    ce = -mnp.mean(mnp.take_along_axis(logp, y[:, None], axis=1))
    reg = 0.0
    for layer in params["layers"]:
        reg = reg + mnp.sum(layer["W"] ** 2)
    reg = 0.5 * l2 * reg
    return ce + reg, {"cross_entropy": ce, "l2": reg}, logits, hidden


def _total_loss(params, x, y, activation, l2):
    total, terms, _, _ = loss_terms(params, x, y, activation, l2)
    return total, terms


def make_data(cfg, rng, with_centers: bool = False):
    """(x_train, y_train, x_test, y_test) for cfg["dataset"], drawn from ``rng`` (+ the blob centers, or None).

    Source: none (synthetic Gaussian blobs for the demo; no seed)
    """
    n, C = cfg["n_train"], cfg["n_classes"]
    centers = None
    if cfg["dataset"] == "blobs":
        x, y, centers = gaussian_blobs(rng, n, C, cfg["n_features"], spread=cfg["noise"])
        xt, yt, _ = gaussian_blobs(rng, cfg["n_test"], C, cfg["n_features"], spread=cfg["noise"], centers=centers)
    else:
        x, y = spirals(rng, n, C, noise=cfg["noise"])
        xt, yt = spirals(rng, cfg["n_test"], C, noise=cfg["noise"])
    return (x, y, xt, yt, centers) if with_centers else (x, y, xt, yt)


def nearest_center_accuracy(x, y, centers) -> float:
    """Accuracy of assigning each point to its nearest true blob center.  With equal spherical covariances and
    (near-)equal class shares this is the Bayes-optimal rule, so it is the ceiling an MLP can approach.

    Source: none (the Bayes-optimal nearest-centre rule for equal spherical clusters, the demo's yardstick; no seed)
    """
    d2 = ((x[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2)
    return float(np.mean(np.argmin(d2, axis=1) == y))


def _accuracy(logits, y) -> float:
    return float(np.mean(np.argmax(logits, axis=1) == y))


@register_model
class MLPModel(Model):
    """The ``mlp`` model: the harness demo's plain MLP.

    Source: none (registry glue of the harness demo MLP; no seed describes it)
    """

    name = "mlp"
    description = "plain MLP (tanh/relu, softmax cross-entropy, Adam) on seeded Gaussian blobs or spirals"
    options = {
        "dataset": Option(str, "blobs", "synthetic training set", choices=("blobs", "spirals")),
        "n_train": Option(int, 512, "training points", check=_positive),
        "n_test": Option(int, 256, "test points", check=_positive),
        "n_classes": Option(int, 3, "classes", check=lambda v: None if v >= 2 else "must be >= 2"),
        "n_features": Option(int, 2, "input dimension (spirals: must be 2)", check=_positive),
        "noise": Option(float, 1.0, "blobs: cluster std; spirals: noise std",
                        check=lambda v: None if v >= 0 else "must be >= 0"),
        "hidden": Option(list, [32, 32], "hidden layer widths", check=_hidden_ok),
        "activation": Option(str, "tanh", "hidden activation", choices=("tanh", "relu")),
        "lr": Option(float, 0.01, "Adam learning rate", check=_positive),
        "batch_size": Option(int, 64, "mini-batch size; 0 = full batch",
                             check=lambda v: None if v >= 0 else "must be >= 0"),
        "l2": Option(float, 0.0, "L2 weight penalty coefficient", check=lambda v: None if v >= 0 else "must be >= 0"),
        "oracle_batch": Option(int, 8, "training points in an oracle case", check=_positive),
    }

    @classmethod
    def check_config(cls, cfg):
        """Source: none (configuration checks; no formula)"""
        if cfg["dataset"] == "spirals" and cfg["n_features"] != 2:
            from minidsn.models.api import ConfigError

            raise ConfigError(f"config key 'n_features': spirals are 2-dimensional, got {cfg['n_features']}")
        if cfg["dataset"] == "blobs" and not cfg["noise"] > 0:
            from minidsn.models.api import ConfigError

            # the cluster std: 0 would put every point of a class on its centre (gaussian_blobs refuses it)
            raise ConfigError(f"config key 'noise': {cfg['noise']!r} must be > 0 with dataset = 'blobs' (the "
                              f"clusters' std; spirals accept 0)")

    def _batch(self, cfg):
        return cfg["n_train"] if cfg["batch_size"] == 0 else min(cfg["batch_size"], cfg["n_train"])

    def steps_per_epoch(self, cfg):
        """Source: none (run-harness adapter; no formula)"""
        return math.ceil(cfg["n_train"] / self._batch(cfg))

    def _sizes(self, cfg):
        d = 2 if cfg["dataset"] == "spirals" else cfg["n_features"]
        return [d, *cfg["hidden"], cfg["n_classes"]]

    def _opt(self, cfg):
        return Adam(lr=cfg["lr"])

    def init(self, cfg, rng, data_dir):
        """Source: none (run-harness adapter; no formula)"""
        x, y, xt, yt, centers = make_data(cfg, rng, with_centers=True)
        params = init_params(rng, self._sizes(cfg))
        data = {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}
        if centers is not None:
            data["centers"] = centers
        return {
            "params": params,
            "opt": self._opt(cfg).init(params),
            "data": data,
            "order": rng.permutation(cfg["n_train"]),
            "pos": 0,
        }

    def step(self, state, cfg, rng, step):
        """Source: none (one Adam step of the demo MLP; no seed)"""
        n, B = cfg["n_train"], self._batch(cfg)
        order, pos = state["order"], state["pos"]
        if pos + B > n:  # start a new epoch in a fresh order (the tail of the old one is dropped)
            order, pos = rng.permutation(n), 0
        idx = order[pos:pos + B]
        x, y = state["data"]["x_train"][idx], state["data"]["y_train"][idx]
        params, opt_state, loss, _, _ = self._update(cfg, state["params"], state["opt"], x, y)
        logits, _ = forward(state["params"], x, cfg["activation"])
        new_state = {**state, "params": params, "opt": opt_state, "order": order, "pos": pos + B}
        return new_state, {"loss": float(loss), "acc": _accuracy(logits, y)}

    def _update(self, cfg, params, opt_state, x, y):
        """One Adam step on the batch (x, y): (params, opt_state, loss, terms, grads); the step of both `step`
        and the oracle's trajectory."""
        (loss, terms), grads = value_and_grad(_total_loss, has_aux=True)(params, x, y, cfg["activation"], cfg["l2"])
        new_params, new_opt = self._opt(cfg).update(grads, opt_state, params)
        return new_params, new_opt, loss, terms, grads

    # ---- oracle trajectory (docs/oracle.md, "mlp trajectory") --------------------------------------------------
    trajectory_steps = 5
    trajectory_defaults = {"n_train": 24, "batch_size": 8, "hidden": [8, 8], "l2": 1e-3}

    def _trajectory_step(self, cfg, state, inputs, rng):
        """state = {params, opt}, inputs = the batch {x, y}; no draws, no structural events."""
        params, opt_state, loss, terms, grads = self._update(cfg, state["params"], state["opt"], inputs["x"],
                                                             inputs["y"])
        losses = {"total": float(loss), **{k: float(stop_gradient(v)) for k, v in terms.items()}}
        return {"params": params, "opt": opt_state}, losses, grads, []

    def trajectory(self, cfg, rng, data_dir, steps):
        """``steps`` training steps of `step` from `init` (same seed, same run): the batch order is drawn as in
        `step` (outside the recorded step: its result, the batch, is the step's input).

        Source: none (oracle trajectory adapter around `_update`; docs/oracle.md, "mlp trajectory")
        """
        from minidsn.models.draws import record_step

        state = self.init(cfg, rng, data_dir)
        n, B = cfg["n_train"], self._batch(cfg)
        out = []
        for _ in range(steps):
            if state["pos"] + B > n:
                state = {**state, "order": rng.permutation(n), "pos": 0}
            idx = state["order"][state["pos"]:state["pos"] + B]
            batch = {"x": state["data"]["x_train"][idx], "y": state["data"]["y_train"][idx]}
            rec = record_step(self._trajectory_step, cfg, {"params": state["params"], "opt": state["opt"]},
                              batch, rng)
            out.append(rec)
            state = {**state, **rec["state_after"], "pos": state["pos"] + B}
        meta = {"variant": None, "forced": {}, "event_kinds": [],
                "sizes": {"layer_widths": self._sizes(cfg), "batch": B},
                "note": "state = {params, opt (Adam: step, m, v)}; inputs = the batch; the batch order is drawn "
                        "outside the step, so steps consume no draws"}
        return {"meta": meta, "steps": out}

    def trajectory_step(self, cfg, state_before, inputs, draws):
        """One recorded step replayed (Model.trajectory_step).

        Source: none (oracle trajectory adapter; no formula)
        """
        from minidsn.models.draws import replay_step

        return replay_step(self._trajectory_step, cfg, state_before, inputs, draws)

    def evaluate(self, state, cfg, rng, data_dir):
        """Source: none (reporting; no formula)"""
        out = {}
        d = state["data"]
        for split in ("train", "test"):
            x, y = d[f"x_{split}"], d[f"y_{split}"]
            total, terms, logits, _ = loss_terms(state["params"], x, y, cfg["activation"], cfg["l2"])
            out[f"{split}_loss"] = float(terms["cross_entropy"])
            out[f"{split}_acc"] = _accuracy(logits, y)
        if "centers" in d:
            out["test_acc_bayes"] = nearest_center_accuracy(d["x_test"], d["y_test"], d["centers"])
        return out

    def oracle_case(self, cfg, rng, data_dir):
        """Source: none (oracle export of the demo MLP; no seed)"""
        x, y, _, _ = make_data(cfg, rng)
        params = init_params(rng, self._sizes(cfg))
        nb = min(cfg["oracle_batch"], cfg["n_train"])
        x, y = x[:nb], y[:nb]
        total, terms, logits, hidden = loss_terms(params, x, y, cfg["activation"], cfg["l2"])
        probs = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs /= probs.sum(axis=1, keepdims=True)
        (_, _), grads = value_and_grad(_total_loss, has_aux=True)(params, x, y, cfg["activation"], cfg["l2"])
        return {
            "params": params,
            "inputs": {"x": x, "y": y},
            "outputs": {"hidden": hidden, "logits": logits, "probs": probs},
            "losses": {"total": total, **terms},
            "grads": grads,
        }

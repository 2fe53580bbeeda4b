"""URN — the Unrestricted (Unstructured) Recursive Network of seed 002 (Golkar, "Emergent Structures and Lifetime
Structure Evolution in Artificial Neural Networks", arXiv 1911.11691), registered as model `urn`.

A single dense S x S weight matrix is applied I times to a neuron vector that holds the input (eqs. 2-4, 6, 7);
L1 penalties on weights and activities (eq. 5) and a synaptic-length penalty on an uplifted grid metric (eqs. 8,
9) make a layered (MLP-like, or locally connected) network emerge. No public code exists: every choice the seed
does not pin down is an option below marked ASSUMPTION, and listed in docs/models/urn.md.

The pieces (this folder): core (update rule and its reverse pass, NumPy), net (engine loss), structure (read-out),
data (data sets), minidsn.nn.regularizers (the penalties).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from minidsn.engine import value_and_grad
from minidsn.models.urn.adam_kernel import EPS_FORMS, L1_MODES, adam_l1_update, adam_l1_update_reference
from minidsn.kernels.workspace import SpareArrays
from minidsn.optim import Adam
from minidsn.models.api import ConfigError, Model, Option, register_model

from . import data as urn_data
from .net import (
    INIT_DISTS,
    LOGITS,
    UrnSpec,
    forward_logits,
    grid_length_weights,
    init_params,
    last_output_nodes,
    loss_terms,
    loss_with_aux,
    top_centre_output_nodes,
)
from .structure import layer_of_neurons, structure_masks, structure_summary, used_synapse_mask
from minidsn.models.api import non_negative as _nonneg, positive as _pos

__all__ = ["URNModel", "build_spec", "layout"]


# When an option has an effect (Option.only_when): the spheres' shape options are read only by make_spheres (data.py),
# interpolation only by the image loader. beta / gamma / syn_pairs stay unmarked: the oracle case puts every config
# on the grid (oracle_config), so they count there even with geometry = 'none'.
_SPHERES = {"dataset": ("spheres",)}
_IMAGES = {"dataset": tuple(d for d in urn_data.DATASETS if d != "spheres")}


def _shells_ok(v):
    try:
        ok = len(v) >= 2 and all(len(s) == 2 and 0 <= float(s[0]) <= float(s[1]) for s in v)
    except (TypeError, ValueError):
        ok = False
    return None if ok else "must be a list of >= 2 pairs [r_min, r_max] with 0 <= r_min <= r_max"


def _plane_ok(v):
    return None if all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in v) else \
        "must be a list of positive integers"


def build_spec(cfg, d_in, d_out, plane=None):
    """UrnSpec from a validated config; `plane` = input-plane shape for the grid geometry (None: (d_in,)).

    Source: seed 002 Sec. 2 (S, I, d_in, d_out), Sec. 3 (grid geometry, eq. (8)); assumption: every option the seed
        leaves open (docs/models/urn.md, 'Assumptions').
    """
    S, plane, depth, out_idx = layout(cfg, d_in, d_out, plane)
    L = grid_length_weights(plane, depth, cfg["beta"], cfg["gamma"], cfg["syn_pairs"]) if cfg["c_syn"] > 0 else None
    return UrnSpec(n_neurons=S, n_iter=cfg["n_iter"], d_in=d_in, output_idx=out_idx, phi=cfg["phi"],
                   slope=cfg["leaky_slope"], residual_out=cfg["residual_out"], residual_in=cfg["residual_in"],
                   c_w=cfg["c_w"], c_n=cfg["c_n"], c_syn=cfg["c_syn"], activity_reduction=cfg["activity_reduction"],
                   length_weights=L, sparse=cfg["sparse"], logits=cfg["logits"])


def layout(cfg, d_in, d_out, plane=None):
    """(S, plane, depth, output indices) of a validated config, or ConfigError naming the key that does not fit.

    Source: seed 002 Sec. 2 (inputs are the first d_in neurons, outputs d_out others), Sec. 3 (grid geometry: S =
        prod(plane) * depth); assumption: the output placement (option output_nodes, docs/models/urn.md).
    """
    S = cfg["n_neurons"]
    plane = tuple(cfg["plane"]) if cfg["plane"] else (plane or (d_in,))
    n_plane = int(np.prod(plane))
    geometric = cfg["geometry"] == "grid"
    if geometric or cfg["output_nodes"] == "top_centre":
        if n_plane != d_in:
            raise ConfigError(f"config key 'plane': {list(plane)} holds {n_plane} inputs, the data have {d_in}")
        if S % n_plane:
            raise ConfigError(f"config key 'n_neurons': {S} is not a whole number of {n_plane}-neuron planes "
                              "(geometry 'grid' / output_nodes 'top_centre' need S = prod(plane) * depth)")
    depth = S // n_plane
    if cfg["output_nodes"] == "last":
        out_idx = last_output_nodes(S, d_out)
    else:
        if depth < 2:
            raise ConfigError("config key 'n_neurons': output_nodes 'top_centre' needs at least two planes")
        out_idx = top_centre_output_nodes(plane, depth, d_out)
    if np.any(out_idx < d_in):
        raise ConfigError(f"config key 'n_neurons': S = {S} is too small; output nodes overlap the {d_in} inputs")
    if cfg["l1_mode"] != "subgradient" and not cfg["fused_update"]:
        raise ConfigError(f"config key 'l1_mode': {cfg['l1_mode']!r} is a step of the fused update; it needs "
                          "fused_update = true")
    if cfg["c_syn"] > 0 and not geometric:
        raise ConfigError("config key 'c_syn': the synaptic-length term needs geometry = 'grid'")
    return S, plane, depth, out_idx


def _accuracy(logits, y):
    return float(np.mean(np.argmax(logits, axis=1) == y))


@register_model
class URNModel(Model):
    """The ``urn`` model: options, data and the run-harness adapter around net.py and core.py.

    Source: none (registry glue of the urn model; the formulas are cited in net.py and core.py)
    """

    name = "urn"
    description = "Unrestricted recursive network: one dense S x S matrix iterated I times; L1 + synaptic-length " \
                  "penalties make layers emerge (Golkar 2019)"
    options = {
        # data
        "dataset": Option(str, "spheres", "training data", choices=urn_data.DATASETS),
        "n_train": Option(int, 4000, "training samples (seed: 4,000 for spheres); images: 0 = all", check=_nonneg),
        "n_test": Option(int, 1000, "test samples (ASSUMPTION for spheres: 1,000); images: 0 = all",
                         check=_nonneg),
        "sphere_dim": Option(int, 10, "spheres: dimension d (seed: 10)", check=_pos, only_when=_SPHERES),
        "shells": Option(list, [[1.0, 1.5], [2.0, 2.5]], "spheres: [r_min, r_max] per class (ASSUMPTION)",
                         check=_shells_ok, only_when=_SPHERES),
        "radial": Option(str, "volume", "spheres: uniform in volume or in radius (ASSUMPTION)",
                         choices=("volume", "radius"), only_when=_SPHERES),
        "balance": Option(str, "exact", "spheres: class balance (ASSUMPTION): exact = n // 2 per class, shuffled; "
                          "coin = each label a fair coin", choices=("exact", "coin"), only_when=_SPHERES),
        "interpolation": Option(str, "bilinear", "images: resampling to the input plane (ASSUMPTION)",
                                choices=("bilinear", "nearest"), only_when=_IMAGES),
        # network
        "n_neurons": Option(int, 5000, "S, total neurons (seed: 5000)", check=_pos),
        "n_iter": Option(int, 4, "I, iterations of the update rule (seed: 4)", check=_pos),
        "phi": Option(str, "relu", "activation phi (ASSUMPTION: relu)",
                      choices=("relu", "leaky_relu", "softplus", "tanh")),
        "leaky_slope": Option(float, 0.01, "slope of leaky_relu for x < 0", check=_nonneg,
                              only_when={"phi": ("leaky_relu",)}),
        "residual_out": Option(bool, False, "residual output nodes (eq. 6)"),
        "residual_in": Option(bool, False, "residual input nodes (eq. 7)"),
        "output_nodes": Option(str, "last", "'last' d_out neurons (eq. 4) or the 'top_centre' of the grid (Sec. 3)",
                               choices=("last", "top_centre")),
        "init_std": Option(float, None, "std of W at init; None = He, sqrt(2/S) (ASSUMPTION: fan-in S)",
                           check=_pos),
        "bias_init": Option(float, 0.0, "initial bias (ASSUMPTION: 0)"),
        "init_dist": Option(str, "normal", "W at init: plain 'normal' (ASSUMPTION) or Keras' he_normal "
                            "'truncated_normal' (to +-2 std, std corrected to keep the variance)",
                            choices=INIT_DISTS),
        "logits": Option(str, "after_phi", "eq. 4 logits: the output neurons 'after_phi' (ASSUMPTION) or their "
                         "last pre-activation 'before_phi' (a linear output layer)", choices=LOGITS),
        # loss
        "c_w": Option(float, 5e-7, "c_W, weight L1 (seed: 5e-7)", check=_nonneg),
        "c_n": Option(float, 2e-5, "c_N, activity L1 (seed: 2e-5)", check=_nonneg),
        "activity_reduction": Option(str, "mean", "activity L1 over a batch: mean or sum of per-sample norms "
                                     "(ASSUMPTION: mean)", choices=("mean", "sum")),
        "c_syn": Option(float, 0.0, "c_syn, synaptic-length penalty (eq. 9); needs geometry 'grid'",
                        check=_nonneg),
        "geometry": Option(str, "none", "neuron positions: 'none' or the uplifted 'grid' of eq. 8",
                           choices=("none", "grid")),
        "plane": Option(list, [], "input-plane shape of the grid; [] = [d_in] for vectors, the image's "
                        "interpolated size must be given for images", check=_plane_ok),
        "beta": Option(float, 1.0, "weight of dz^2 in eq. 8 (ASSUMPTION: 1)", check=_nonneg),
        "gamma": Option(float, 1.0, "power of the distance in eq. 9 (ASSUMPTION: 1)", check=_pos),
        "syn_pairs": Option(str, "all", "eq. 9 sum over every synapse ('all', ASSUMPTION) or literal i < j "
                            "('upper')", choices=("all", "upper")),
        # training
        "lr": Option(float, 7e-4, "Adam learning rate (seed: 7e-4)", check=_pos),
        "adam_eps": Option(float, 1e-8, "Adam epsilon (ASSUMPTION)", check=_pos),
        "adam_eps_form": Option(str, "algorithm1", "where eps enters Adam: 'algorithm1' (Kingma & Ba Alg. 1, "
                                "ASSUMPTION) or 'efficient' (TensorFlow / Keras); see minidsn.optim.Adam",
                                choices=EPS_FORMS),
        "l1_mode": Option(str, "subgradient", "how the |W| penalties act: 'subgradient' through Adam (ASSUMPTION, "
                          "as a Keras regularizer; no weight becomes exactly 0), 'prox' (soft threshold lr * c "
                          "after Adam) or 'prox_adam' (threshold lr * c / Adam's denominator); see adam_kernel",
                          choices=L1_MODES),
        "batch_size": Option(int, 32, "mini-batch size (ASSUMPTION: 32)", check=_pos),
        "sparse": Option(bool, True, "skip dead neurons in the products (same result up to rounding)"),
        "fused_update": Option(bool, True, "W's |W| / synaptic-length subgradient and Adam in one compiled pass "
                               "(minidsn.models.urn.adam_kernel; equals the engine path + minidsn.optim.Adam up to "
                               "rounding); false = every term through the engine"),
        # read-out
        "active_threshold": Option(float, 0.0, "a neuron is active where |N_i| > this (ASSUMPTION: 0)",
                                   check=_nonneg),
        "active_on": Option(str, "train", "data on which activity is read (ASSUMPTION: train)",
                            choices=("train", "test")),
        "oracle_batch": Option(int, 4, "samples in an oracle case", check=_pos),
        "oracle_n_neurons": Option(int, 200, "cap on S in an oracle case: min(n_neurons, this), a portable file "
                                   "(the S = 5000 case holds two 200 MB arrays); 0 = no cap", check=_nonneg),
    }

    @classmethod
    def check_config(cls, cfg):
        """The layout build_spec would make from this config (inputs, outputs, grid), checked before any data are
        read or any S x S array is made.

        Source: none (configuration checks; the layout is layout()'s)
        """
        layout(cfg, *urn_data.data_shape(cfg))

    def __init__(self):
        self._cache = {}
        self._last_cfg = None
        self._spare = SpareArrays()  # S x S arrays of the state before last, rewritten by the fused step

    # ---- data -------------------------------------------------------------------------------------------------
    def _data(self, state, cfg):
        """(x_train, y_train, x_test, y_test): in the state for spheres, loaded (and cached) for images."""
        self._last_cfg = cfg
        d = state.get("data")
        if d is not None and "x_train" in d:
            return d["x_train"], d["y_train"], d["x_test"], d["y_test"]
        data_dir = state.get("data_dir", "")
        key = (cfg["dataset"], data_dir, cfg["n_train"], cfg["n_test"], tuple(cfg["plane"]), cfg["interpolation"])
        if key not in self._cache:
            self._cache = {key: urn_data.load_images(cfg, data_dir or None)}
        return self._cache[key]

    def _spec(self, cfg, x, y_count):
        key = ("spec", x.shape[1], y_count) + tuple(sorted((k, str(v)) for k, v in cfg.items()))
        if key not in self._cache:
            self._cache[key] = build_spec(cfg, x.shape[1], y_count)
        return self._cache[key]

    def _opt(self, cfg):
        return Adam(lr=cfg["lr"], eps=cfg["adam_eps"], eps_form=cfg["adam_eps_form"])

    def steps_per_epoch(self, cfg):
        """Source: none (run-harness adapter; no formula)"""
        n = cfg["n_train"] or urn_data.full_train_size(cfg["dataset"])
        return math.ceil(n / min(cfg["batch_size"], n))

    # ---- Model API --------------------------------------------------------------------------------------------
    def init(self, cfg, rng, data_dir):
        """Source: none (run-harness adapter; parameters from net.init_params)"""
        state = {"data_dir": "" if data_dir is None else str(data_dir)}
        if cfg["dataset"] == "spheres":
            x, y, xt, yt = urn_data.make_sphere_split(cfg, rng)
            state["data"] = {"x_train": x, "y_train": y, "x_test": xt, "y_test": yt}
        else:
            x, y, xt, yt = self._data(state, cfg)
        n_classes = urn_data.n_classes(cfg, y)
        spec = self._spec(cfg, x, n_classes)
        params = init_params(spec, rng, cfg["init_std"], cfg["bias_init"], cfg["init_dist"])
        state.update({"params": params, "opt": self._opt(cfg).init(params), "n_classes": n_classes,
                      "order": rng.permutation(x.shape[0]), "pos": 0})
        return state

    def step(self, state, cfg, rng, step):
        """Source: seed 002 l. 77 (Adam on the loss of eq. (5) / eq. (9), minibatches over 200 epochs);
            assumption: batch size (config).
        """
        x_all, y_all, _, _ = self._data(state, cfg)
        n = x_all.shape[0]
        B = min(cfg["batch_size"], n)
        order, pos = state["order"], state["pos"]
        if pos + B > n:  # a new epoch in a fresh order (the tail of the old one is dropped)
            order, pos = rng.permutation(n), 0
        idx = order[pos:pos + B]
        x, y = x_all[idx], y_all[idx]
        spec = self._spec(cfg, x_all, state["n_classes"])
        y1 = np.eye(state["n_classes"])[y]
        if cfg["fused_update"]:
            (loss, aux), params, opt_state = self._fused_step(state, cfg, spec, x, y1)
        else:
            (loss, aux), grads = value_and_grad(loss_with_aux, has_aux=True)(state["params"], x, y1, spec)
            params, opt_state = self._opt(cfg).update(grads, state["opt"], state["params"])
        hs = aux["states"]
        live = np.zeros(spec.n_neurons, dtype=bool)
        for h in hs[1:]:
            live |= np.any(h != 0, axis=0)
        metrics = {"loss": float(loss), "ce": float(aux["ce"]), "acc": _accuracy(aux["logits"], y),
                   "live_neurons_batch": float(live.sum())}
        for k in ("l1_w", "l1_n", "syn"):
            if k in aux:
                metrics[k] = float(aux[k])
        new_state = {**state, "params": params, "opt": opt_state, "order": order, "pos": pos + B}
        return new_state, metrics

    def _fused_step(self, state, cfg, spec, x, y1):
        """The engine differentiates the data terms (cross-entropy, activity L1); the W penalties and Adam are one
        compiled pass (minidsn.models.urn.adam_kernel). Same update as the engine path (tests/test_urn_kernels.py).

        Memory: gW and the new W, m, v are written into arrays of earlier steps that nothing refers to any more
        (minidsn.kernels.workspace; same results, no page faults on fresh S x S arrays). The input state is never
        written: it stays valid until the caller commits the returned one."""
        key = ("data-spec", id(spec))
        if key not in self._cache:
            self._cache[key] = dataclasses.replace(spec, c_w=0.0, c_syn=0.0, length_weights=None)
        data_spec = self._cache[key]
        opt, st, p = self._opt(cfg), state["opt"], state["params"]
        W, mW0, vW0 = p["W"], st["m"]["W"], st["v"]["W"]
        data_spec.gw_out = self._spare.take("gW", W.shape, avoid=(W, mW0, vW0))
        # logits before phi read W's output rows: as a leaf of their own, their gradient goes into gW's rows in
        # place (the same sums as the engine's scatter-then-add: a + b = b + a exactly), saving two (S, S)
        # allocations and passes per step
        rows_leaf = spec.logits == "before_phi"
        leaves = {**p, "W_out": W[spec.output_idx]} if rows_leaf else p
        try:
            (loss, aux), grads = value_and_grad(loss_with_aux, has_aux=True)(leaves, x, y1, data_spec)
        finally:
            data_spec.gw_out = None
        if rows_leaf:
            grads["W"][spec.output_idx] += grads.pop("W_out")
        t = int(st["step"]) + 1
        hyper = (t, opt.lr, opt.beta1, opt.beta2, opt.eps)
        out = tuple(self._spare.take(k, W.shape, avoid=(W, mW0, vW0, grads["W"])) for k in ("W", "m", "v"))
        W2, mW, vW, l1, syn = adam_l1_update(W, grads["W"], mW0, vW0, spec.length_weights, spec.c_w, spec.c_syn,
                                             *hyper, out=out, l1_mode=cfg["l1_mode"], eps_form=opt.eps_form)
        b2, mb, vb, _, _ = adam_l1_update_reference(p["b"], grads["b"], st["m"]["b"], st["v"]["b"], None, 0.0,
                                                    0.0, *hyper, eps_form=opt.eps_form)
        # the inputs become the spares of the next step: reused then only if the caller has let go of them
        for k, arr in (("gW", grads["W"]), ("W", W), ("m", mW0), ("v", vW0)):
            self._spare.offer(k, arr)
        aux = dict(aux)
        pen = spec.c_w * l1 + spec.c_syn * syn
        if spec.c_w > 0:
            aux["l1_w"] = l1
        if spec.c_syn > 0:
            aux["syn"] = syn
        new_opt = {**st, "step": t, "m": {"W": mW, "b": mb}, "v": {"W": vW, "b": vb}}
        return (float(loss) + pen, aux), {"W": W2, "b": b2}, new_opt

    def evaluate(self, state, cfg, rng, data_dir):
        """Source: seed 002 Sec. 2 l. 77-79 (test accuracy, active neurons, pruning check) via structure_report."""
        x, y, xt, yt = self._data(state, cfg)
        spec = self._spec(cfg, x, state["n_classes"])
        return structure_report(state["params"], spec, x, y, xt, yt, cfg)

    # oracle trajectory cases (minidsn/models/urn/trajectory.py): a small grid network with every regulariser on,
    # the engine update (no Numba compilation, and no workspace reuse: the recorded states stay valid), and a
    # negative initial bias so that some neurons are inactive and the read-out has more than two layers at once
    trajectory_steps = 6
    trajectory_defaults = {"n_neurons": 40, "n_train": 64, "n_test": 16, "batch_size": 8, "geometry": "grid",
                           "c_w": 1e-3, "c_n": 1e-3, "c_syn": 1e-3, "fused_update": False, "bias_init": -0.1}

    def trajectory(self, cfg, rng, data_dir, steps):
        """Model.trajectory: minidsn/models/urn/trajectory.py.

        Source: none (oracle trajectory adapter; the step's equations are cited in urn/trajectory.py)
        """
        from . import trajectory

        return trajectory.trajectory(self, cfg, self._trajectory_spec(cfg), rng, data_dir, steps)

    def trajectory_step(self, cfg, state_before, inputs, draws):
        """Model.trajectory_step: minidsn/models/urn/trajectory.py.

        Source: none (oracle trajectory adapter; no formula)
        """
        from . import trajectory

        return trajectory.trajectory_step(self, cfg, self._trajectory_spec(cfg), state_before, inputs, draws)

    def _trajectory_spec(self, cfg):
        key = ("trajectory-spec",) + tuple(sorted((k, str(v)) for k, v in cfg.items()))
        if key not in self._cache:
            d_in, d_out, _ = urn_data.data_shape(cfg)
            self._cache[key] = build_spec(cfg, d_in, d_out)
        return self._cache[key]

    def oracle_config(self, cfg):
        """The case's config: the spheres data on the grid (eq. 8), every regulariser on (a coefficient left at 0 is set
        to 1e-3; nonzero ones, like c_W's default 5e-7, are kept), S = min(n_neurons, oracle_n_neurons).

        Source: none (oracle export; the regularisers are cited in net.py)
        """
        cfg = dict(cfg)
        if cfg["dataset"] != "spheres":
            raise ConfigError("urn oracle cases use the spheres data set (config key 'dataset')")
        cfg.update(geometry="grid", c_syn=cfg["c_syn"] or 1e-3, c_w=cfg["c_w"] or 1e-3, c_n=cfg["c_n"] or 1e-3)
        if cfg["oracle_n_neurons"]:
            cfg["n_neurons"] = min(cfg["n_neurons"], cfg["oracle_n_neurons"])
        return cfg

    def oracle_case(self, cfg, rng, data_dir):
        """Spheres model with every regulariser on (c_W, c_N, c_syn on the grid) and both residual rules.

        Source: none (oracle export; formulas in net.py and core.py)
        """
        cfg = self.oracle_config(cfg)
        x, y = urn_data.make_spheres_xy(cfg, cfg["oracle_batch"], rng)
        n_classes = urn_data.n_classes(cfg, y)
        spec = build_spec(cfg, x.shape[1], n_classes)
        params = init_params(spec, rng, cfg["init_std"], cfg["bias_init"], cfg["init_dist"])
        y1 = np.eye(n_classes)[y]
        total, terms = loss_terms(params, x, y1, spec)
        _, grads = value_and_grad(lambda p: loss_terms(p, x, y1, spec)[0])(params)
        losses = {"total": np.float64(total), **{k: np.float64(v) for k, v in terms.items()
                                                  if k in ("ce", "l1_w", "l1_n", "syn")}}
        return {"params": params, "inputs": {"x": x, "y_onehot": y1},
                "outputs": {"logits": terms["logits"], "states": np.stack(terms["states"])},
                "losses": losses, "grads": grads}

    def plot(self, state, metrics, out_dir):
        """Source: seed 002 Fig. 3 (activities and weights ordered by layer) via plot.plot_structure"""
        from .plot import plot_structure

        if getattr(self, "_last_cfg", None) is None:  # plot() gets no cfg: the one of the last step/evaluate
            return None
        x, y, xt, yt = self._data(state, self._last_cfg)
        spec = self._spec(self._last_cfg, x, state["n_classes"])
        plot_structure(state["params"], spec, x, self._last_cfg, out_dir)


def structure_report(params, spec, x, y, xt, yt, cfg):
    """Accuracy, the emergent structure (seed Sec. 2) and the pruning verification, as a flat dict of floats.

    Source: seed 002 Sec. 2 l. 79 (active neurons, emergent layer sizes, output unchanged after zeroing every other
        weight), Fig. 3, Fig. 4.
    """
    thr = cfg["active_threshold"]
    logits_tr, amap_tr = forward_logits(params, x, spec, threshold=thr)
    logits_te, amap_te = forward_logits(params, xt, spec, threshold=thr)
    amap = amap_tr if cfg["active_on"] == "train" else amap_te
    out = {"train_acc": _accuracy(logits_tr, y), "test_acc": _accuracy(logits_te, yt)}
    summ = structure_summary(amap, params["W"], np.arange(spec.d_in), spec.output_idx)
    for k, v in summ.items():
        if isinstance(v, list):
            for l, n in enumerate(v):
                out[f"{k}_{l}"] = float(n)
        else:
            out[k] = float(v)
    layer = layer_of_neurons(amap)
    active_mask, layered_mask = structure_masks(layer)
    masks = {"active": active_mask, "used": used_synapse_mask(amap), "layered": layered_mask}
    for name, mask in masks.items():
        pruned = {"W": np.where(mask, params["W"], 0.0), "b": params["b"]}
        # on the data the activity was read from (the seed's check: output unchanged) and on the other split
        for split, xs, ys, ref in (("train", x, y, logits_tr), ("test", xt, yt, logits_te)):
            lp, _ = forward_logits(pruned, xs, spec, threshold=thr)
            out[f"prune_{name}_max_abs_change_{split}"] = float(np.max(np.abs(lp - ref)))
            out[f"prune_{name}_{split}_acc"] = _accuracy(lp, ys)
        out[f"prune_{name}_kept_weights"] = float(mask.sum())
    W = params["W"]
    if cfg["geometry"] == "grid":
        out.update(locality_report(W, layer, cfg, spec))
    out["weights_abs_gt_1e-3"] = float(np.sum(np.abs(W) > 1e-3))
    out["weights_total"] = float(W.size)
    return out


def locality_report(W, layer, cfg, spec):
    """Seed Sec. 3, Fig. 6: among synapses between active neurons, the |W| mass going forward (to larger z), backward
    and within a z plane, and the |W|-weighted mean in-plane length (locality).

    Source: seed 002 Sec. 3, Fig. 6 (emergent connectivity is feed-forward and local).
    """
    from minidsn.nn.regularizers import grid_positions

    plane = tuple(cfg["plane"]) if cfg["plane"] else (spec.d_in,)
    pos = grid_positions(plane, spec.n_neurons // int(np.prod(plane)))
    act = np.flatnonzero(layer >= 0)
    A = np.abs(W[np.ix_(act, act)])
    z = pos[act, -1]
    dz = z[:, None] - z[None, :]  # target minus source
    total = A.sum()
    if total == 0:
        return {"syn_forward_fraction": float("nan")}
    dx = np.sqrt(sum((pos[act, c][:, None] - pos[act, c][None, :]) ** 2 for c in range(pos.shape[1] - 1)))
    return {"syn_forward_fraction": float(A[dz > 0].sum() / total),
            "syn_backward_fraction": float(A[dz < 0].sum() / total),
            "syn_same_z_fraction": float(A[dz == 0].sum() / total),
            "syn_mean_inplane_length": float((A * dx).sum() / total)}

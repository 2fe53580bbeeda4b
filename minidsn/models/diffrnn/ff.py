"""DiffRNN's structural rule on a layered feed-forward net: per-layer widths, and depth by residual layers.

Source: seed 001 Sec. 5, third paragraph:
    "The method described here extends naturally to layered feedforward networks. Within each layer, the method can
    be applied essentially unchanged to adjust layer size. The number of layers can also be made differentiable, by
    adding and deleting residual layers [1] with initially low multipliers on their pre-additive output. These
    residual layers, which would initially have minimal impact on the network's output, would play the same role as
    sub-threshold neurons in the method described above."

The network (x: a batch of inputs, rows; every product is batch-row times matrix):

    a_0 = x;   a_l = m_l * tanh(a_{l-1} W_l + b_l),  l = 1..L          (hidden layers; m_l per-neuron multipliers)
    r_0 = a_L; r_b = r_{b-1} + mu_b tanh(r_{b-1} U_b + c_b),  b = 1..B  (residual layers; mu_b one multiplier each,
                                                                         on the pre-additive output)
    logits = r_B W_out + b_out

    objective = mean_i CE(logits_i, y_i) + A sum_l sum_j |m_lj| + A_layer sum_b |mu_b|

The multiplier of a neuron scales its output, its only path onward, as G2's m scales h on its only path to the
output (minidsn.models.diffrnn.loss). The gradient (minidsn.engine.value_and_grad) is clipped elementwise to
[-clip, clip] and given to Adagrad (M += d^2, theta -= lr d / sqrt(M + 1e-8)), as DiffRNN's G2.

Structural update after each step, "essentially unchanged" (structure.py's rules 1-4 with their draws):
  * per hidden layer l = 1..L, in order: floor m_l >= M_min; deletion of excess sub-threshold neurons
    (choose_deletions: keep k in reserve, delete each other one with probability P_del); addition (addition_wanted:
    when no neuron is in reserve, with probability P_add, or spontaneously with p_spontaneous; up to max_width).
    Deleting neuron j of layer l removes column j of W_l, b_l[j], m_l[j] and row j of the next matrix (W_{l+1}, or for
    the last layer W_out and row and column j of every U_b and c_b[j]). A new neuron appended at j = H_l: a column
    of W_l ~ s N(0,1), then a row of the next matrix ~ s N(0,1) (for the last layer: a row of W_out, then per residual
    layer a row of U_b and a column of U_b with its self weight ~ s N(0,1), c_b[j] = 0); b_l[j] = 0, m_l[j] = T_D.
  * with ``depth_growth``, then the residual layers, as neurons of one more "layer" whose score is mu: floor
    mu_b >= M_min; the same deletion rule (k_layers in reserve, P_del_layer); the same addition rule (P_add_layer,
    up to max_blocks, no spontaneous addition); a new residual layer is appended last with U ~ s N(0,1) (H_L x H_L),
    c = 0, mu = T_D ("initially low multipliers on their pre-additive output").
Optimiser memories of new entries start at 0 and deleted entries' memories go with them (minidsn.optim edits).

What is minidsn's choice, not the text's: tanh everywhere, one weight layer per residual branch, the last hidden
layer as the residual stream, Adagrad and its clip as G2, the L1 coefficients, the synthetic tasks.
"""

from __future__ import annotations

import numpy as np

import minidsn.numpy as mnp
import minidsn.optim as optim
from minidsn.engine import value_and_grad
from minidsn.scipy.special import log_softmax

from .structure import addition_wanted, choose_deletions

__all__ = ["init_params", "forward", "objective", "loss_and_grads", "delete_neurons", "add_neuron", "add_block",
           "delete_blocks", "structural_update"]


def init_params(rng, n_in, widths, n_out, n_blocks, scale):
    """W_l, W_out, U_b ~ scale N(0,1) (drawn in that order), biases 0, m = 1, mu = 1.

    Source: seed 001 Sec. 2.1 (multipliers on every node; start small), ThomasMiconi/DiffRNN@8b2491f rnn.py:62-74
        (weights ~ 0.01 N(0,1), biases 0, m = 1; the FF net's scale is an option)
    """
    layers, fan_in = [], n_in
    for h in widths:
        layers.append({"W": scale * rng.standard_normal((fan_in, h)), "b": np.zeros(h), "m": np.ones(h)})
        fan_in = h
    out = {"W": scale * rng.standard_normal((fan_in, n_out)), "b": np.zeros(n_out)}
    blocks = [{"U": scale * rng.standard_normal((fan_in, fan_in)), "c": np.zeros(fan_in), "mu": np.ones(1)}
              for _ in range(n_blocks)]
    return {"layers": layers, "blocks": blocks, "out": out}


def forward(params, x):
    """logits of the module doc's network (arrays or engine values).

    Source: seed 001 Sec. 2.1 (a multiplier on every node's output), Sec. 5 (the same per layer; residual layers
        [He et al. 2015] with a multiplier on the pre-additive output)
    """
    a = x
    for layer in params["layers"]:
        a = layer["m"] * mnp.tanh(a @ layer["W"] + layer["b"])
    for blk in params["blocks"]:
        a = a + blk["mu"] * mnp.tanh(a @ blk["U"] + blk["c"])
    return a @ params["out"]["W"] + params["out"]["b"]


def objective(params, x, y, l1, l1_layer):
    """mean CE + l1 sum|m| + l1_layer sum|mu|; returns (objective, CE) for value_and_grad(has_aux=True).

    Source: seed 001 Sec. 2.1 (L1 on the multipliers), Sec. 2.2 (A_L1reg = 3e-5 per 40 characters, i.e. per
        prediction: the same ratio to a mean CE), Sec. 5 (residual layers' multipliers play the neurons' role)
    """
    logp = log_softmax(forward(params, x), axis=1)
    ce = -mnp.mean(mnp.take_along_axis(logp, y[:, None], axis=1))
    total = ce
    for layer in params["layers"]:
        total = total + l1 * mnp.sum(mnp.abs(layer["m"]))
    for blk in params["blocks"]:
        total = total + l1_layer * mnp.sum(mnp.abs(blk["mu"]))
    return total, ce


def loss_and_grads(params, x, y, l1, l1_layer):
    """(CE float, grads like params) of ``objective``.

    Source: none (value_and_grad of objective; the formula is cited there)
    """
    (_, ce), grads = value_and_grad(objective, has_aux=True)(params, x, y, l1, l1_layer)
    return float(ce), grads


def _consumers(params, l):
    """(path, axis) of every entry indexed by the neurons of hidden layer l, in insertion order (module doc)."""
    L = len(params["layers"])
    own = [(("layers", l, "W"), 1), (("layers", l, "b"), 0), (("layers", l, "m"), 0)]
    if l < L - 1:
        return own + [(("layers", l + 1, "W"), 0)]
    nxt = [(("out", "W"), 0)]
    for b in range(len(params["blocks"])):
        nxt += [(("blocks", b, "U"), 0), (("blocks", b, "U"), 1), (("blocks", b, "c"), 0)]
    return own + nxt


def delete_neurons(params, opt, l, idx):
    """Remove neurons ``idx`` of hidden layer l from every parameter and optimiser slot (module doc).

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:209-222 (a deleted neuron's rows and columns and their memories go)
    """
    for path, axis in _consumers(params, l):
        params, opt = optim.delete_entries(params, opt, path, axis, idx)
    return params, opt


def add_neuron(params, opt, l, rng, t_d, scale):
    """Append one neuron to hidden layer l: draws in the module doc's order; b = 0, m = T_D, memories 0.

    Source: seed 001 Sec. 2.1 ("a new neuron ... with initially random connectivity and a multiplier initially set
        exactly at the threshold value"); ThomasMiconi/DiffRNN@8b2491f rnn.py:228-244 (s N(0,1) weights, m = T_D)
    """
    H = params["layers"][l]["b"].shape[0]
    for path, axis in _consumers(params, l):
        leaf = params
        for key in path:
            leaf = leaf[key]
        if path[-1] in ("b", "c"):
            values = np.zeros(1)
        elif path[-1] == "m":
            values = np.full(1, t_d)
        else:
            shape = list(leaf.shape)
            shape[axis] = 1
            values = scale * rng.standard_normal(shape)
        params, opt = optim.insert_entries(params, opt, path, axis, H, values)
    return params, opt


def _with_blocks(params, opt, blocks, opt_blocks):
    params = dict(params, blocks=blocks)
    if opt is not None:
        opt = dict(opt)
        for slot in [k for k in opt if k != "step"]:
            opt[slot] = dict(opt[slot], blocks=opt_blocks[slot])
    return params, opt


def add_block(params, opt, rng, t_d, scale):
    """Append a residual layer: U ~ scale N(0,1) (H_L x H_L), c = 0, mu = T_D; memories 0.

    Source: seed 001 Sec. 5 ("adding ... residual layers [1] with initially low multipliers on their pre-additive
        output")
    """
    H = params["out"]["W"].shape[0]
    new = {"U": scale * rng.standard_normal((H, H)), "c": np.zeros(H), "mu": np.full(1, t_d)}
    slots = {} if opt is None else {s: opt[s]["blocks"] + [{k: np.zeros_like(v) for k, v in new.items()}]
                                    for s in opt if s != "step"}
    return _with_blocks(params, opt, params["blocks"] + [new], slots)


def delete_blocks(params, opt, idx):
    """Remove residual layers ``idx`` and their memories.

    Source: seed 001 Sec. 5 ("adding and deleting residual layers")
    """
    keep = [b for b in range(len(params["blocks"])) if b not in set(int(i) for i in idx)]
    slots = {} if opt is None else {s: [opt[s]["blocks"][b] for b in keep] for s in opt if s != "step"}
    return _with_blocks(params, opt, [params["blocks"][b] for b in keep], slots)


def structural_update(params, opt, cfg, rng):
    """Floors, deletions and additions of the module doc, per hidden layer then (depth_growth) per residual layer.
    Returns (params, opt, events) with events [{"kind": "delete"|"add", "layer": l or "blocks", ...}].

    Source: seed 001 Sec. 2.1-2.2 (k, T_D, P_add, P_del, M_min), Sec. 5 (per layer; residual layers as neurons);
        ThomasMiconi/DiffRNN@8b2491f rnn.py:188-245 (the rule, as structure.py)
    """
    events = []
    for l in range(len(params["layers"])):
        layers = list(params["layers"])
        layers[l] = dict(layers[l], m=np.maximum(layers[l]["m"], cfg["m_min"]))
        params = dict(params, layers=layers)
        m = params["layers"][l]["m"]
        idx = choose_deletions(m, cfg["t_d"], cfg["k"], cfg["p_del"], rng)
        if idx.size:
            params, opt = delete_neurons(params, opt, l, idx)
            events.append({"kind": "delete", "layer": l, "indices": idx})
        m = params["layers"][l]["m"]
        if addition_wanted(m, cfg["t_d"], cfg["k"], cfg["p_add"], rng, max_hidden=cfg["max_width"],
                           p_spontaneous=cfg["p_spontaneous"]):
            params, opt = add_neuron(params, opt, l, rng, cfg["t_d"], cfg["init_scale"])
            events.append({"kind": "add", "layer": l})
    # the floor also holds the residual layers' mu without depth growth (as G2's floor without structure)
    blocks = [dict(b, mu=np.maximum(b["mu"], cfg["m_min"])) for b in params["blocks"]]
    params = dict(params, blocks=blocks)
    if cfg["depth_growth"]:
        mu = np.array([float(b["mu"][0]) for b in blocks])
        idx = choose_deletions(mu, cfg["t_d"], cfg["k_layers"], cfg["p_del_layer"], rng)
        if idx.size:
            params, opt = delete_blocks(params, opt, idx)
            mu = np.delete(mu, idx)
            events.append({"kind": "delete", "layer": "blocks", "indices": idx})
        if addition_wanted(mu, cfg["t_d"], cfg["k_layers"], cfg["p_add_layer"], rng, max_hidden=cfg["max_blocks"],
                           p_spontaneous=0.0):
            params, opt = add_block(params, opt, rng, cfg["t_d"], cfg["init_scale"])
            events.append({"kind": "add", "layer": "blocks"})
    return params, opt, events

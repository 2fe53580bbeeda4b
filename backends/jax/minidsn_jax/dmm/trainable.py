"""The trainable DMM-Lite network of the synthesis experiments, and its episode compiled to dense rows.

Structure (notes/dmm.md "Trainable network"; original julia-flux-drafts v0-1/feedforward_with_accums.jl): layer 0 =
input.char, eos.char, const_1; then ``n_layers`` layers of ``n_per_layer`` instances each of accum, norm, dot,
compare; every accum has a fixed, untrained self-link dict-1 <- own dict (weight 1); soft links join every input
field of a layer to every output of every earlier layer, and the output neuron's two fields to every output of every
layer. Link order = the original's loop (feedforward_with_accums.jl:123-128): for each input layer, for each of its
input fields (instance by instance, fields in the template order accum.dict-2, norm.dict, dot.dict-1, dot.dict-2,
compare.dict-1, compare.dict-2), for each earlier output layer, for each of its output fields (layer 0: input.char,
eos.char, const_1; then accum.dict, norm.norm, dot.dot, compare.true, compare.false per instance). With 5 layers of 2:
1,486 links. Loss per episode (reset, 140 cycles): sum_t (y1_t - T1_t)^2 + (y2_t - T2_t)^2 + lambda sum |w|.

Dense episode: every V-value stream is a row over the keys the exogenous neurons can emit plus ":number" (10 keys for
"test string."): the down movement is I = W O (W: soft-input fields x output fields, scattered from the gate vector;
the accum self-links add O[accum.dict] to accum.dict-1), the up movement is elementwise per neuron type; 140 cycles
under ``lax.scan``; gradients by ``jax.grad``. lite.py is the V-value reference it is tested against.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from minidsn_jax.dmm.lite import Network, clip4, link, relu0
from minidsn_jax.dmm.vvalue import NUMBER, abs0

__all__ = ["Plan", "make_plan", "as_network", "episode_outputs", "episode_loss", "loss_and_grad", "input_rows"]

TEMPLATE_IN = [("accum", "dict-2"), ("norm", "dict"), ("dot", "dict-1"), ("dot", "dict-2"), ("compare", "dict-1"),
               ("compare", "dict-2")]
TEMPLATE_OUT = [("accum", "dict"), ("norm", "norm"), ("dot", "dot"), ("compare", "true"), ("compare", "false")]
LAYER0_OUT = [("input", "char"), ("eos", "char"), ("const_1", "const_1")]
OUTPUT_IN = [("output", "dict-1"), ("output", "dict-2")]
TYPES = ("accum", "norm", "dot", "compare")


def _name(kind, layer, k):
    return f"{kind}-{layer}-{k}"


@dataclass(frozen=True)
class Plan:
    """The network's fields and links as index arrays (static for jit: a Plan is hashable by identity)."""

    string: str
    n_cycles: int
    n_layers: int
    n_per_layer: int
    keys: tuple            # row labels: ":number" first, then the string's characters in order of appearance
    out_fields: tuple      # (neuron, field) of every output stream
    in_fields: tuple       # (neuron, field) of every soft input field
    links: tuple           # (to neuron, to field, from neuron, from field), the original's order
    link_in: np.ndarray    # in_fields index of each link
    link_out: np.ndarray   # out_fields index of each link

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other


def make_plan(string: str = "test string.", n_cycles: int = 140, n_layers: int = 5, n_per_layer: int = 2) -> Plan:
    outs = [list(LAYER0_OUT)] + [[(_name(t, l, k), f) for k in range(1, n_per_layer + 1) for t, f in TEMPLATE_OUT]
                                 for l in range(1, n_layers + 1)]
    ins = [[(_name(t, l, k), f) for k in range(1, n_per_layer + 1) for t, f in TEMPLATE_IN]
           for l in range(1, n_layers + 1)] + [list(OUTPUT_IN)]
    links = [(a, b, c, d) for il in range(len(ins)) for a, b in ins[il] for ol in range(il + 1) for c, d in outs[ol]]
    out_fields = tuple(x for layer in outs for x in layer)
    in_fields = tuple(x for layer in ins for x in layer)
    oi = {x: i for i, x in enumerate(out_fields)}
    ii = {x: i for i, x in enumerate(in_fields)}
    keys = (NUMBER,) + tuple(dict.fromkeys(string + "."))
    return Plan(string, n_cycles, n_layers, n_per_layer, keys, out_fields, in_fields, tuple(links),
                np.array([ii[(a, b)] for a, b, _, _ in links]), np.array([oi[(c, d)] for _, _, c, d in links]))


def as_network(plan: Plan, gates) -> Network:
    """The same network on V-values (lite.py), with soft links of weight ``gates`` (for the reference engine)."""
    neurons = {"timer": "timer", "input": "input", "eos": "eos", "const_1": "const_1", "output": "output"}
    for l in range(1, plan.n_layers + 1):
        for k in range(1, plan.n_per_layer + 1):
            for t in TYPES:
                neurons[_name(t, l, k)] = t
    net = Network(neurons)
    link(net.fixed, "timer", "timer", "timer", "timer")
    link(net.fixed, "input", "timer", "timer", "timer")
    for l in range(1, plan.n_layers + 1):
        for k in range(1, plan.n_per_layer + 1):
            a = _name("accum", l, k)
            link(net.fixed, a, "dict-1", a, "dict")
    for (a, b, c, d), w in zip(plan.links, gates):
        net.matrix.setdefault(a, {}).setdefault(b, {}).setdefault(c, {})[d] = w
    return net


def input_rows(plan: Plan) -> np.ndarray:
    """(n_cycles, K): the input neuron's output at each cycle. At cycle c (1-based) its timer input is c - 1 (the
    timer's output of the previous cycle); a character s[min((c-1)/10 + 1, len s)] when (c - 1) mod 10 == 0."""
    K = len(plan.keys)
    rows = np.zeros((plan.n_cycles, K))
    for c in range(1, plan.n_cycles + 1):
        t = c - 1
        if t % 10 == 0:
            ch = plan.string[min(t // 10 + 1, len(plan.string)) - 1]
            rows[c - 1, plan.keys.index(ch)] = 1.0
    return rows


def _indices(plan: Plan):
    oi = {x: i for i, x in enumerate(plan.out_fields)}
    ii = {x: i for i, x in enumerate(plan.in_fields)}
    inst = [(l, k) for l in range(1, plan.n_layers + 1) for k in range(1, plan.n_per_layer + 1)]

    def idx(table, kind, fld):
        return np.array([table[(_name(kind, l, k), fld)] for l, k in inst], dtype=np.int64)

    return {
        "acc_in2": idx(ii, "accum", "dict-2"), "acc_out": idx(oi, "accum", "dict"),
        "norm_in": idx(ii, "norm", "dict"), "norm_out": idx(oi, "norm", "norm"),
        "dot_in1": idx(ii, "dot", "dict-1"), "dot_in2": idx(ii, "dot", "dict-2"), "dot_out": idx(oi, "dot", "dot"),
        "cmp_in1": idx(ii, "compare", "dict-1"), "cmp_in2": idx(ii, "compare", "dict-2"),
        "cmp_true": idx(oi, "compare", "true"), "cmp_false": idx(oi, "compare", "false"),
        "in_char": oi[("input", "char")], "eos": oi[("eos", "char")], "const_1": oi[("const_1", "const_1")],
        "y": np.array([ii[f] for f in OUTPUT_IN]),
    }


@partial(jax.jit, static_argnames=("plan",))
def episode_outputs(gates, link_in, link_out, plan: Plan):
    """(n_cycles, 2): the output neuron's two read-outs per cycle, for soft links (link_in, link_out, gates)."""
    ix = _indices(plan)
    K = len(plan.keys)
    n_in, n_out = len(plan.in_fields), len(plan.out_fields)
    W = jnp.zeros((n_in, n_out)).at[link_in, link_out].add(gates)
    num = jnp.zeros(K).at[0].set(1.0)  # the ":number" row
    eos = jnp.zeros(K).at[plan.keys.index(".")].set(1.0)
    X = jnp.asarray(input_rows(plan))

    def step(O, x_row):
        I = W @ O                                                  # down movement (soft links)
        y = I[ix["y"], 0]                                          # the read-out: output's ":number" per field
        acc = O[ix["acc_out"]] + I[ix["acc_in2"]]                  # accum: dict-1 (fixed self-link) + dict-2
        nrm = jnp.maximum(0.0, jnp.max(abs0(I[ix["norm_in"]]), axis=1))
        dt = clip4(jnp.sum(I[ix["dot_in1"]] * I[ix["dot_in2"]], axis=1))
        n1, n2 = I[ix["cmp_in1"], 0], I[ix["cmp_in2"], 0]
        O2 = jnp.zeros_like(O)
        O2 = O2.at[ix["acc_out"]].set(acc)
        O2 = O2.at[ix["norm_out"]].set(nrm[:, None] * num)
        O2 = O2.at[ix["dot_out"]].set(dt[:, None] * num)
        O2 = O2.at[ix["cmp_true"]].set(relu0(n1 - n2)[:, None] * num)
        O2 = O2.at[ix["cmp_false"]].set(relu0(n2 - n1)[:, None] * num)
        O2 = O2.at[ix["in_char"]].set(x_row).at[ix["eos"]].set(eos).at[ix["const_1"]].set(num)
        return O2, y

    _, ys = lax.scan(step, jnp.zeros((n_out, K)), X)
    return ys


def episode_loss(gates, link_in, link_out, targets, lam, plan: Plan):
    """(total, (data, l1, ys)): data = sum of squared errors over cycles and both outputs; l1 = lam sum |w|
    (slope sign(w), 0 at 0)."""
    ys = episode_outputs(gates, link_in, link_out, plan)
    data = jnp.sum((ys - targets) ** 2)
    l1 = lam * jnp.sum(abs0(gates))
    return data + l1, (data, l1, ys)


@partial(jax.jit, static_argnames=("plan",))
def loss_and_grad(gates, link_in, link_out, targets, lam, plan: Plan):
    (total, (data, l1, ys)), g = jax.value_and_grad(episode_loss, has_aux=True)(gates, link_in, link_out, targets,
                                                                                lam, plan)
    return total, data, l1, ys, g

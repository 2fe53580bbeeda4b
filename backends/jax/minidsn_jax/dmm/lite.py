"""DMM Lite on V-value pytrees: neuron library, network matrix, two-stroke cycle, episodes (the reference engine).

Written from notes/dmm.md ("Two-stroke cycle", "DMM-Lite neuron functions") and the original code
(anhinga/julia-flux-drafts, arxiv-1606-09470-section3/May-August-2022/v0-1/dmm-lite.jl):

- a neuron maps a V-value keyed by its input names to a V-value keyed by its output names; each field holds a flat
  V-value {key: number};
- the network matrix is rank 4, W[to_neuron][to_field][from_neuron][from_field] = weight: itself a V-value;
- one cycle = down movement (every neuron's input = lincomb(W[neuron], outputs), i.e. a linear combination of the
  previous outputs) then up movement (every neuron applies its function). Down first, then up;
- reset per episode: every input and output is {}.

Neuron functions (dmm-lite.jl; notes table): accum dict = dict-1 + dict-2; norm = max(0, max_k |d_k|);
dot = clip(sum_k d1_k d2_k, -4, 4) (closed interval: slope 1 at +-4, 0 outside); compare true = relu(n1 - n2),
false = relu(n2 - n1) (relu'(0) = 0); const_1 = 1; eos = {".": 1}; timer = n + 1; input = the character
s[min(t / 10 + 1, len s)] when t mod 10 == 0, else {}; output = nothing (its input is the read-out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import jax.numpy as jnp

from minidsn_jax.dmm.vvalue import NUMBER, dot, lincomb, max_norm, number, vadd

__all__ = ["NEURON_TYPES", "clip4", "relu0", "Network", "link", "down", "up", "cycle", "reset", "run_episode", "all_links"]


def relu0(x):
    """max(0, x) with slope 0 at 0 (jnp.where picks the zero branch at 0)."""
    return jnp.where(x > 0, x, 0.0)


def clip4(s):
    """sign(s) 4 when |s| > 4, else s (dmm-lite.jl dot_product_dicts): slope 1 on the closed interval."""
    return jnp.where(jnp.abs(s) > 4.0, jnp.sign(s) * 4.0, s)


def _accum(x, ctx):
    return {"dict": vadd(x.get("dict-1", {}), x.get("dict-2", {}))}


def _norm(x, ctx):
    return {"norm": {NUMBER: max_norm(x.get("dict", {}))}}


def _dot(x, ctx):
    return {"dot": {NUMBER: clip4(jnp.asarray(dot(x.get("dict-1", {}), x.get("dict-2", {})), dtype=jnp.float64))}}


def _compare(x, ctx):
    n1 = jnp.asarray(number(x.get("dict-1", {})), dtype=jnp.float64)
    n2 = jnp.asarray(number(x.get("dict-2", {})), dtype=jnp.float64)
    return {"true": {NUMBER: relu0(n1 - n2)}, "false": {NUMBER: relu0(n2 - n1)}}


def _const_1(x, ctx):
    return {"const_1": {NUMBER: 1.0}}


def _eos(x, ctx):
    return {"char": {".": 1.0}}


def _timer(x, ctx):
    return {"timer": {NUMBER: number(x.get("timer", {})) + 1.0}}


def _input(x, ctx):
    """The driving input: concrete in the timer (the timer never depends on trained weights)."""
    t = max(float(number(x.get("timer", {}))), 0.0)
    s = ctx["string"]
    if t % 10 == 0:
        i = min(int(t // 10) + 1, len(s))
        return {"char": {s[i - 1]: 1.0}}
    return {"char": {}}


def _output(x, ctx):
    return {}


NEURON_TYPES: dict[str, Callable] = {"accum": _accum, "norm": _norm, "dot": _dot, "compare": _compare,
                                     "const_1": _const_1, "eos": _eos, "timer": _timer, "input": _input,
                                     "output": _output}


@dataclass
class Network:
    """Neurons (name -> type) and the rank-4 matrix; ``fixed`` holds links that are not trained."""

    neurons: dict
    matrix: dict = field(default_factory=dict)
    fixed: dict = field(default_factory=dict)


def link(matrix: dict, to_neuron: str, to_field: str, from_neuron: str, from_field: str, w=1.0) -> None:
    """Add w to W[to_neuron][to_field][from_neuron][from_field] (dmm-lite.jl link!: additive)."""
    row = matrix.setdefault(to_neuron, {}).setdefault(to_field, {}).setdefault(from_neuron, {})
    row[from_field] = row.get(from_field, 0.0) + w


def reset(net: Network):
    """(inputs, outputs): every neuron's input and output V-values empty."""
    return {n: {} for n in net.neurons}, {n: {} for n in net.neurons}


def down(net: Network, matrix: dict, inputs: dict, outputs: dict) -> dict:
    """x_{to, field} = sum over links of w * y_{from, field}: lincomb of the matrix row with all outputs.
    A neuron the matrix does not mention keeps its input (dmm-lite.jl down_movement!)."""
    new = dict(inputs)
    for name in net.neurons:
        rows = [m[name] for m in (matrix, net.fixed) if name in m]
        if not rows:
            continue
        fields = {}
        for row in rows:
            for fld, mask in row.items():
                fields[fld] = vadd(fields.get(fld, {}), lincomb(mask, outputs))
        new[name] = fields
    return new


def up(net: Network, inputs: dict, ctx: dict) -> dict:
    return {name: NEURON_TYPES[kind](inputs[name], ctx) for name, kind in net.neurons.items()}


def cycle(net: Network, matrix: dict, inputs: dict, outputs: dict, ctx: dict):
    """One two-stroke cycle: down movement, then up movement. Returns (inputs, outputs)."""
    inputs = down(net, matrix, inputs, outputs)
    return inputs, up(net, inputs, ctx)


def run_episode(net: Network, matrix: dict, n_cycles: int, string: str, read=("output", ("dict-1", "dict-2"))):
    """Reset, then ``n_cycles`` cycles; returns the read-out per cycle: the ":number" of each field of the output
    neuron's input after the down movement, as a (n_cycles, n_fields) array."""
    inputs, outputs = reset(net)
    ctx = {"string": string}
    ys = []
    for _ in range(n_cycles):
        inputs, outputs = cycle(net, matrix, inputs, outputs, ctx)
        name, fields = read
        ys.append(jnp.stack([jnp.asarray(number(inputs[name].get(f, {})), dtype=jnp.float64) for f in fields]))
    return jnp.stack(ys)


def all_links(matrix: dict):
    """[(to, to_field, from, from_field, w)] in label order."""
    return [(a, b, c, d, w) for a in sorted(matrix) for b in sorted(matrix[a]) for c in sorted(matrix[a][b])
            for d, w in sorted(matrix[a][b][c].items())]


"""The self-modifying form (DMM 1.0): the network matrix is the output of an accumulator neuron, ``self``, and other
neurons rewrite it by writing additive updates into its ``delta`` input.

notes/dmm.md ("Two-stroke cycle", "Self-modification"; original jsa-aerial/DMM src/dmm/core.clj and
arXiv 1712.07447): accum(in) = {single: in[accum] + in[delta]}; the accum input of ``self`` is wired from its own
output at weight 1 (memory), so the matrix persists; the matrix used by each down movement is ``self``'s current
output. The matrix is a V-value W[to_neuron][to_field][from_neuron][from_field] (the rank-4 form of DMM Lite; DMM 1.0's
rank 6 adds the neuron type in front of each neuron, which a name that is unique across types makes implicit).

Timing: an update emitted by neuron P in the up movement of cycle c enters self.delta in the down movement of c + 1,
is in self's output after the up movement of c + 1, and is used by the down movement of c + 2.
Because the matrix is an ordinary V-value flowing through the network, ``jax.grad`` differentiates through
self-modification: the gradient with respect to a weight on the link P -> self.delta is the gradient through every
later use of the rewritten matrix.
"""

from __future__ import annotations

from typing import Callable

import jax.numpy as jnp

from minidsn_jax.dmm.lite import NEURON_TYPES, Network, down
from minidsn_jax.dmm.vvalue import number, vadd

__all__ = ["SELF", "self_accumulator", "run_self_modifying"]

SELF = "self"


def self_accumulator(x, ctx):
    """{single: in[accum] + in[delta]}."""
    return {"single": vadd(x.get("accum", {}), x.get("delta", {}))}


def run_self_modifying(neurons: dict, initial_matrix: dict, n_cycles: int, ctx: dict, read: tuple,
                       extra_types: dict[str, Callable] | None = None):
    """Run from reset with ``self``'s output = ``initial_matrix`` (which must hold the memory link
    self.accum <- self.single, weight 1, for the matrix to persist). Returns (reads, matrices): the ":number" of
    ``read`` = (neuron, field) after each down movement, and the matrix each down movement used."""
    types = {**NEURON_TYPES, "self": self_accumulator, **(extra_types or {})}
    net = Network({**neurons, SELF: "self"})
    inputs = {n: {} for n in net.neurons}
    outputs = {n: {} for n in net.neurons}
    outputs[SELF] = {"single": initial_matrix}
    reads, used = [], []
    for c in range(1, n_cycles + 1):
        matrix = outputs[SELF]["single"]
        used.append(matrix)
        inputs = down(net, matrix, inputs, outputs)
        ctx = {**ctx, "cycle": c}
        outputs = {name: types[kind](inputs[name], ctx) for name, kind in net.neurons.items()}
        reads.append(jnp.asarray(number(inputs[read[0]].get(read[1], {})), dtype=jnp.float64))
    return jnp.stack(reads), used

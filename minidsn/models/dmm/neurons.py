"""The DMM-Lite neuron library (notes/dmm.md "DMM-Lite neuron functions"; julia-flux-drafts dmm-lite.jl facts).

A neuron maps a V-value keyed by its input field names to a V-value keyed by its output field names.  Scalars travel
as ``{":number": v}`` and a missing key reads as 0.  The functions use V-value operations and minidsn.numpy, so the
engine differentiates through them; the kinks follow the engine's rules (max splits ties evenly, |x| has gradient 0
at 0, clip passes the gradient on the closed interval, relu has gradient 0 at 0).

| name    | inputs -> outputs       | definition                                                   |
|---------|-------------------------|--------------------------------------------------------------|
| accum   | dict-1, dict-2 -> dict  | dict-1 + dict-2                                              |
| norm    | dict -> norm            | max(0, max_k |d_k|)                                          |
| dot     | dict-1, dict-2 -> dot   | clip(sum_k d1_k d2_k, -4, 4)                                 |
| compare | dict-1, dict-2 -> true, false | true = relu(n1 - n2), false = relu(n2 - n1)            |
| const_1 | -> const_1              | 1                                                            |
| eos     | -> char                 | {".": 1}                                                     |
| timer   | timer -> timer          | n + 1                                                        |
| input   | timer -> char           | if t mod 10 == 0: {s[min(t/10 + 1, len s)]: 1} else {}  (1-based s) |
| output  | dict-1, dict-2 -> none  | returns {}; its input after the down movement is the read-out |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import minidsn.numpy as mnp
from minidsn.engine import is_traced, stop_gradient
from minidsn.nn.activations import relu
from minidsn.vvalue import NUMBER, VValue, dot, max_norm

__all__ = ["NeuronType", "LIBRARY", "make_input", "DOT_CLIP", "END_OF_TEXT"]

DOT_CLIP = 4.0
END_OF_TEXT = "."


@dataclass(frozen=True)
class NeuronType:
    """A neuron function with its input and output field names.

    Source: none (record of a neuron function and its field names; each function in this module cites its
        definition)
    """

    name: str
    fn: Callable[[VValue], VValue]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]


def _field(x: VValue, name: str) -> VValue:
    sub = x.get(name)
    if sub is None:
        return VValue()
    return sub if isinstance(sub, VValue) else VValue._raw({NUMBER: sub})


def _num(x) -> VValue:
    return VValue._build({NUMBER: x})


def accum(x: VValue) -> VValue:
    """{dict: dict-1 + dict-2}.

    Source: seed 004 l. 15-17 (super-neurons of dataflow matrix machines); anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:112-119 (sum_dicts: dict = dict-1
        + dict-2); jsa-aerial/DMM@5339079 src/dmm/core.clj:237-238 (DMM 1.0 accum: accum + delta).
    """
    return VValue._build({"dict": _field(x, "dict-1") + _field(x, "dict-2")})


def norm(x: VValue) -> VValue:
    """{norm: max(0, max_k |dict_k|)} (max-norm of the input dict).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:145-152 (max_norm: max(0, max_k
        |d_k|) at ':number').
    """
    return VValue._build({"norm": _num(max_norm(_field(x, "dict")))})


def dot_neuron(x: VValue) -> VValue:
    """{dot: clip(<dict-1, dict-2>, -4, 4)}.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:156-167 (dot_product_dicts: sum_k
        d1_k d2_k, clipped to [-4, 4]).
    """
    s = dot(_field(x, "dict-1"), _field(x, "dict-2"))
    if is_traced(s):
        s = mnp.clip(s, -DOT_CLIP, DOT_CLIP)
    else:
        s = min(max(float(s), -DOT_CLIP), DOT_CLIP)
    return VValue._build({"dot": _num(s)})


def compare(x: VValue) -> VValue:
    """{true: relu(n1 - n2), false: relu(n2 - n1)} with n_i the number in dict-i.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:171-183 (compare_scalars: true =
        relu(n1 - n2), false = relu(n2 - n1)).
    """
    d = _field(x, "dict-1").number_at() - _field(x, "dict-2").number_at()
    if is_traced(d):
        t, f = relu(d), relu(-d)
    else:
        t, f = max(float(d), 0.0), max(-float(d), 0.0)
    return VValue._build({"true": _num(t), "false": _num(f)})


def const_1(x: VValue) -> VValue:
    """{const_1: 1}.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:187-189.
    """
    return VValue({"const_1": {NUMBER: 1.0}})


def eos(x: VValue) -> VValue:
    """{char: {".": 1}}.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:193-197 (const_end: {'.': 1} on
        field char).
    """
    return VValue({"char": {END_OF_TEXT: 1.0}})


def timer(x: VValue) -> VValue:
    """{timer: n + 1} with n the number at input field timer.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:201-205 (timer_add_one: n + 1).
    """
    return VValue._build({"timer": _num(_field(x, "timer").number_at() + 1.0)})


def output(x: VValue) -> VValue:
    """No outputs: the read-out is the output neuron's input after the down movement.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:224-231 (output_dummy: no
        outputs; the read-out is its input dict-1 / dict-2).
    """
    return VValue()


def make_input(s: str, period: int = 10) -> NeuronType:
    """The driving input for string s: {char: {s[min(t // period + 1, len s)]: 1}} when t mod period == 0 (1-based).

    The timer value is a control signal (the original wraps it in Zygote.@ignore): it is read without gradient.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:209-220 (input_dummy: if t mod 10
        == 0, {s[min(t / 10 + 1, len s)]: 1}, t under Zygote.@ignore).
    """
    if not isinstance(s, str) or not s:
        raise ValueError("the input string must be a non-empty str")
    if period < 1:
        raise ValueError(f"input period must be >= 1, got {period}")

    def input_fn(x: VValue) -> VValue:
        t = float(stop_gradient(_field(x, "timer").number_at()))
        t = max(t, 0.0)
        if t % period == 0:
            i = min(int(t // period) + 1, len(s))
            return VValue({"char": {s[i - 1]: 1.0}})
        return VValue()

    return NeuronType("input", input_fn, ("timer",), ("char",))


LIBRARY: dict[str, NeuronType] = {
    "accum": NeuronType("accum", accum, ("dict-1", "dict-2"), ("dict",)),
    "norm": NeuronType("norm", norm, ("dict",), ("norm",)),
    "dot": NeuronType("dot", dot_neuron, ("dict-1", "dict-2"), ("dot",)),
    "compare": NeuronType("compare", compare, ("dict-1", "dict-2"), ("true", "false")),
    "const_1": NeuronType("const_1", const_1, (), ("const_1",)),
    "eos": NeuronType("eos", eos, (), ("char",)),
    "timer": NeuronType("timer", timer, ("timer",), ("timer",)),
    "output": NeuronType("output", output, ("dict-1", "dict-2"), ()),
}

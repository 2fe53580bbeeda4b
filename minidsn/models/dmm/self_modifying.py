"""DMM 1.0: the self-modifying form, where the network matrix is itself a V-value produced by the network.

Notes/dmm.md "Two-stroke cycle" / "Self-modification" (arXiv 1712.07447; jsa-aerial/DMM core.clj facts):
- W is a rank-6 V-value W[type][instance][input][type][instance][output]; outputs are y[type][instance][field].
- down movement: x[f][n][i] = lincomb(W[f][n][i], y);  up movement: y[f][n] = f(x[f][n]).
- The accumulator instance ``self`` (type "self"): {single: in[accum] + in[delta]}, with its accum input wired from
  its own output at weight 1 (this wiring lives inside W itself).  The W used by each down movement is the current
  output y["self"]["self"]["single"]; other neurons write additive updates into its ``delta`` input.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from minidsn.vvalue import VValue, lincomb

from .neurons import NeuronType

__all__ = ["SELF_TYPE", "self_neuron", "DMMSelf", "self_link", "rank6_from_lite"]

SELF_TYPE = "self"


def _self_fn(x: VValue) -> VValue:
    """{single: accum + delta}."""
    parts = [x.get(k) for k in ("accum", "delta")]
    total = VValue()
    for p in parts:
        if p is not None:
            total = total + (p if isinstance(p, VValue) else VValue.number(p))
    return VValue._build({"single": total})


self_neuron = NeuronType(SELF_TYPE, _self_fn, ("accum", "delta"), ("single",))


def self_link() -> tuple:
    """The memory link of the self accumulator: W[self][self][accum][self][self][single] = 1.

    Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:237-238, 297-301 (the accumulator 'self' holds the matrix; its
        accum input is its own output at weight 1).
    """
    return (SELF_TYPE, "self", "accum", SELF_TYPE, "self", "single")


@dataclass
class DMMSelf:
    """A DMM 1.0 machine: neuron types by type name; instances are whatever the matrix and outputs name.

    Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:297-334 (DMM 1.0: down movement with the current matrix taken
        from the accumulator :self at 297-301, up movement at 330-334); jsa-aerial/DMM@5339079 src/dmm/core.clj:237-238
        (the accumulator: accum + delta)
    """

    types: dict[str, NeuronType]
    _t: dict = field(init=False, repr=False)

    def __post_init__(self):
        self._t = dict(self.types)
        self._t[SELF_TYPE] = self_neuron

    def initial_outputs(self, matrix: VValue, instances) -> VValue:
        """Reset state with the self accumulator holding ``matrix``; ``instances`` lists (type, instance) pairs.

        Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:297-301 (the matrix is the output of accum instance :self).
        """
        d = {t: {} for t, _ in instances}
        for t, n in instances:
            if t not in self._t:
                raise ValueError(f"unknown neuron type {t!r}")
            d[t][n] = {}
        d.setdefault(SELF_TYPE, {})["self"] = {"single": matrix}
        return VValue(d)

    def cycle(self, outputs: VValue, instances):
        """One two-stroke cycle with W = outputs[self][self][single]; returns (inputs, new outputs).

        Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:297-301 (down-movement with the current matrix taken from
            :self), jsa-aerial/DMM@5339079 src/dmm/core.clj:330-334 (up-movement).
        """
        w = outputs.get((SELF_TYPE, "self", "single"))
        w = w if isinstance(w, VValue) else VValue()
        inputs = {}
        new = {}
        for t, n in list(instances) + [(SELF_TYPE, "self")]:
            row = w.get((t, n))
            x = VValue._build({i: lincomb(row[i], outputs) for i in row}) if isinstance(row, VValue) else VValue()
            inputs[(t, n)] = x
            new.setdefault(t, {})[n] = self._t[t].fn(x)
        return inputs, VValue._build({t: VValue._build(v) for t, v in new.items()})

    def run(self, matrix: VValue, instances, n_cycles: int, record=None):
        """Run from reset; returns the list of inputs dicts {(type, instance): V-value} per cycle.

        Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:297-334 (repeated two-stroke cycles).
        """
        y = self.initial_outputs(matrix, instances)
        trace = []
        for _ in range(n_cycles):
            x, y = self.cycle(y, instances)
            trace.append(x)
            if record is not None:
                record.append(y)
        return trace


def rank6_from_lite(matrix4: VValue, type_of: dict[str, str]) -> VValue:
    """Rank-4 DMM-Lite matrix -> rank-6 DMM 1.0 matrix, neuron name n -> (type_of[n], n), plus the self memory link.

    Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:292-301 (the DMM 1.0 matrix is applied at level 3: type, instance,
        field on both sides); anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:265-276 (the rank-4 DMM-Lite
        matrix).
    """
    d: dict = {}
    for (to_n, to_f, from_n, from_f), w in matrix4.paths():
        row = d.setdefault(type_of[to_n], {}).setdefault(to_n, {}).setdefault(to_f, {})
        row.setdefault(type_of[from_n], {}).setdefault(from_n, {})[from_f] = w
    t, n, i, t2, n2, o = self_link()
    d.setdefault(t, {}).setdefault(n, {}).setdefault(i, {}).setdefault(t2, {}).setdefault(n2, {})[o] = 1.0
    return VValue(d)

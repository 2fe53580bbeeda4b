"""DMM-Lite: a fixed set of neurons, an external rank-4 network matrix, and the two-stroke cycle.

Notes/dmm.md "Two-stroke cycle" and "DMM Lite": W[to_neuron][to_field][from_neuron][from_field] is a V-value.
One cycle:
- down movement (linear):  x_{n,i} = sum_{m,o} W[n][i][m][o] * y_{m,o}   (= lincomb(W[n][i], y))
- up movement (neurons):   y_n = f_n(x_n)
Down first, then up.  An episode starts from reset state: every input and output is the empty V-value.
The functions here are pure (no mutation), so the engine can differentiate an episode with respect to W.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from minidsn.vvalue import VValue, lincomb

from .neurons import NeuronType

__all__ = ["DMMLite", "link_matrix"]


def link_matrix(links) -> VValue:
    """A rank-4 matrix from (to_neuron, to_field, from_neuron, from_field, weight) rows (repeated links add up).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:265-276 (link!:
        W[to_neuron][to_field][from_neuron][from_field] += weight).
    """
    d: dict = {}
    for to_n, to_f, from_n, from_f, w in links:
        row = d.setdefault(to_n, {}).setdefault(to_f, {}).setdefault(from_n, {})
        row[from_f] = row[from_f] + w if from_f in row else w
    return VValue(d)


@dataclass
class DMMLite:
    """A DMM-Lite machine: neuron name -> NeuronType.  The matrix is passed to each call (it is the parameter).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:65-105 (the machine: y = f(x)
        for every neuron at 65-72, the down movement x[to][field] = sum over the matrix row of weight *
        y[from][from_field] at 74-96, two_stroke_cycle! = down movement, then up movement at 102-105); seed 004 l. 17
        (the neural modules are the "super-neurons" of dataflow matrix machines)
    """

    neurons: dict[str, NeuronType]
    read_out: str = "output"
    _names: tuple = field(init=False, repr=False)

    def __post_init__(self):
        self._names = tuple(sorted(self.neurons))

    def check_matrix(self, matrix: VValue) -> None:
        """Every link must name existing neurons and fields (a clear error instead of a silent zero).

        Source: none (input checks; no formula)
        """
        for path, _ in matrix.paths():
            if len(path) != 4:
                raise ValueError(f"network matrix paths must have 4 labels, got {path!r}")
            to_n, to_f, from_n, from_f = path
            for n in (to_n, from_n):
                if n not in self.neurons:
                    raise ValueError(f"network matrix names unknown neuron {n!r} in link {path!r}")
            if to_f not in self.neurons[to_n].inputs:
                raise ValueError(f"neuron {to_n!r} has no input field {to_f!r} (link {path!r})")
            if from_f not in self.neurons[from_n].outputs:
                raise ValueError(f"neuron {from_n!r} has no output field {from_f!r} (link {path!r})")

    def reset(self) -> VValue:
        """All outputs empty (episode start).

        Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:258-263
            (reset_network_dicts!).
        """
        return VValue()

    def down_movement(self, matrix: VValue, outputs: VValue) -> dict[str, VValue]:
        """Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:74-96 (x[to][field] = sum
            over the matrix row of weight * y[from][from_field]); jsa-aerial/DMM@5339079 src/dmm/core.clj:297-301 (DMM
            1.0: apply-matrix at level 3).
        """
        inputs = {}
        for n in self._names:
            row = matrix.get(n)
            if row is None:
                inputs[n] = VValue()
                continue
            inputs[n] = VValue._build({f: lincomb(row[f], outputs) for f in row})
        return inputs

    def up_movement(self, inputs: dict[str, VValue]) -> VValue:
        """Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:65-72 (y = f(x) for every
            neuron); jsa-aerial/DMM@5339079 src/dmm/core.clj:330-334.
        """
        return VValue._build({n: self.neurons[n].fn(inputs[n]) for n in self._names})

    def cycle(self, matrix: VValue, outputs: VValue):
        """One two-stroke cycle: returns (inputs, new outputs).

        Source: seed 004 l. 15; anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:102-105 (two_stroke_cycle!:
            down movement, then up movement).
        """
        inputs = self.down_movement(matrix, outputs)
        return inputs, self.up_movement(inputs)

    def run(self, matrix: VValue, n_cycles: int, record=None):
        """Run n_cycles from reset; returns the list of the read-out neuron's inputs, one per cycle (cycle 1 first).

        ``record`` (optional list) receives (inputs, outputs) of every cycle for inspection.

        Source: anhinga/julia-flux-drafts@6527aa0
            arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:34-37 (140 two-stroke cycles per
            episode from reset).
        """
        if n_cycles < 0:
            raise ValueError(f"n_cycles must be >= 0, got {n_cycles}")
        y = self.reset()
        reads = []
        for _ in range(n_cycles):
            x, y = self.cycle(matrix, y)
            reads.append(x[self.read_out])
            if record is not None:
                record.append((x, y))
        return reads

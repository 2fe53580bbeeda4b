"""The hand-crafted duplicate-character detector (arXiv 1606.09470 section 3; notes/dmm.md, 11 links of weight 1).

    timer <- timer;  input.timer <- timer;  accum.dict-1 <- accum.dict (memory);  accum.dict-2 <- input.char;
    norm <- accum;  compare.dict-1 <- norm;  compare.dict-2 <- const_1;  dot.dict-1 <- accum;  dot.dict-2 <- eos;
    output.dict-1 <- compare.true;  output.dict-2 <- dot.

Outputs: y1 = relu(max character count - 1), y2 = min(count of ".", 4), each with one cycle of delay per link.
"""

from __future__ import annotations

import numpy as np

from minidsn.vvalue import VValue

from .lite import DMMLite, link_matrix
from .neurons import LIBRARY, make_input

__all__ = ["HANDCRAFTED_LINKS", "handcrafted_machine", "handcrafted_matrix", "read_outputs", "step_cycles",
           "handcrafted_traces"]

HANDCRAFTED_LINKS = (
    ("timer", "timer", "timer", "timer", 1.0),
    ("input", "timer", "timer", "timer", 1.0),
    ("accum", "dict-1", "accum", "dict", 1.0),
    ("accum", "dict-2", "input", "char", 1.0),
    ("norm", "dict", "accum", "dict", 1.0),
    ("compare", "dict-1", "norm", "norm", 1.0),
    ("compare", "dict-2", "const_1", "const_1", 1.0),
    ("dot", "dict-1", "accum", "dict", 1.0),
    ("dot", "dict-2", "eos", "char", 1.0),
    ("output", "dict-1", "compare", "true", 1.0),
    ("output", "dict-2", "dot", "dot", 1.0),
)


def handcrafted_machine(s: str = "test string.", period: int = 10) -> DMMLite:
    """Source: seed 004 l. 17 (the hand-crafted duplicate character detector); anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/handcrafted.jl:3-24 (neurons).
    """
    neurons = {n: LIBRARY[n] for n in ("timer", "accum", "norm", "const_1", "compare", "eos", "dot", "output")}
    neurons["input"] = make_input(s, period)
    return DMMLite(neurons)


def handcrafted_matrix() -> VValue:
    """Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/handcrafted.jl:28-47 (the 11 links, weight
        1).
    """
    return link_matrix(HANDCRAFTED_LINKS)


def read_outputs(reads) -> np.ndarray:
    """(n_cycles, 2) array of the numbers at output.dict-1 and output.dict-2, per cycle (concrete reads only).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:38-41 (read-out: the numbers at
        output.dict-1 and output.dict-2 after each cycle).
    """
    return np.array([[_number(r, "dict-1"), _number(r, "dict-2")] for r in reads], dtype=float)


def _number(read: VValue, fld: str) -> float:
    sub = read.get(fld)
    if sub is None:
        return 0.0
    return float(sub.number_at() if isinstance(sub, VValue) else sub)

def handcrafted_traces(s: str = "test string.", n_cycles: int = 140, period: int = 10) -> np.ndarray:
    """Targets T[c-1] = (y1, y2) at cycles c = 1..n_cycles.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:37-39 (targets = the hand-crafted
        net's read-outs, cycle by cycle).
    """
    m = handcrafted_machine(s, period)
    return read_outputs(m.run(handcrafted_matrix(), n_cycles))


def step_cycles(trace) -> list[tuple[int, float]]:
    """[(cycle, new value), ...] where a 1-based trace changes value.

    Source: none (reporting: where a trace changes value; no formula)
    """
    out = []
    prev = 0.0
    for c, v in enumerate(trace, start=1):
        if v != prev:
            out.append((c, float(v)))
        prev = v
    return out

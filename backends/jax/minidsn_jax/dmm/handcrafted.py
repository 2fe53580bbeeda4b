"""The hand-crafted duplicate-character detector (arXiv 1606.09470 section 3; notes/dmm.md; original
julia-flux-drafts v0-1/handcrafted.jl): 11 links, all of weight 1.

Read-out: y1 = relu(max character count - 1) (duplicates), y2 = min(count of ".", 4) (the dot of the accumulated
characters with eos, clipped at 4). On "test string." over 140 cycles y1 steps to 1 at cycle 35 and to 2 at 65, and
y2 to 1, 2, 3 at cycles 114, 124, 134 (one cycle of delay per link).
"""

from __future__ import annotations

from minidsn_jax.dmm.lite import Network, link, run_episode

__all__ = ["handcrafted", "handcrafted_targets"]

LINKS = [
    ("timer", "timer", "timer", "timer"),
    ("input", "timer", "timer", "timer"),
    ("accum", "dict-1", "accum", "dict"),     # memory
    ("accum", "dict-2", "input", "char"),
    ("norm", "dict", "accum", "dict"),
    ("compare", "dict-1", "norm", "norm"),
    ("compare", "dict-2", "const_1", "const_1"),
    ("dot", "dict-1", "accum", "dict"),
    ("dot", "dict-2", "eos", "char"),
    ("output", "dict-1", "compare", "true"),
    ("output", "dict-2", "dot", "dot"),
]


def handcrafted() -> Network:
    net = Network({n: n for n in ("timer", "input", "accum", "norm", "const_1", "compare", "eos", "dot", "output")})
    for lk in LINKS:
        link(net.matrix, *lk)
    return net


def handcrafted_targets(string: str = "test string.", n_cycles: int = 140):
    """(n_cycles, 2) array of (y1, y2) per cycle: the training targets."""
    net = handcrafted()
    return run_episode(net, net.matrix, n_cycles, string)

"""The structural step of DiffRNN between two jitted windows: threshold, deletion, addition (host side, NumPy).

Seed 001 section 2.1-2.2; original code 277c4a6 rnn.py:186-244 (G2; rnnAltern.py is the same on its carried q) and
HEAD c81eb14 rnn.py:199-266 (G3); order and constants from notes/diffrnn.md ("Structural update"):

1. sel = score > T_D (strict). score = m after the floor (g2, altern) or the outgoing-weight norm (g3).
2. If sum(sel) < H - k: shuffle the sub-threshold indices (one permutation draw), keep the first k, then draw one
   uniform u per other candidate (one vector draw, in shuffled order); the neuron is deleted when u <= P_del (the original tests preservation,
   ``rand() > PROBADEL``, rnn.py:204). Deleting removes row j of Wxh, bh, m, s and their memories, row and column
   j of Whh and column j of Wiy.
3. If H < max_hidden: draw r1, then r2 (always both; the original's ``&`` and ``|`` do not short-circuit,
   rnn.py:225-226) and add one neuron when (sum(score > T_D) > H - k and r1 < P_add) or r2 < p_spontaneous.
   (score restricted to the survivors; in G3 not recomputed for the new H, as in HEAD rnn.py:239.)

New neuron, G2/altern (rnn.py:228-242): draws in this order, each 0.01 N(0,1): Whh row (H), Whh column (H+1, its
self weight last), Wxh row (V), Wiy column (V); bh = 0, s = 0, m = T_D, all its memories 0.
New neuron, G3 (HEAD rnn.py:242-264): Whh row (H) and Wxh row (V), 0.01 N(0,1); Wiy column c (V) N(0,1) rescaled
to 0.5 T_D c / (1e-8 + sum|c|); Whh column c (H+1) N(0,1) rescaled to 0.5 H T_D c / (1e-8 + 4 sum|c|) (H before the
addition); bh = 0, s = 0; every new memory 0.01.

The random source is anything with NumPy Generator's ``permutation``, ``random(n)`` and ``standard_normal(shape)``: the run's
``numpy.random.Generator``, or a replay of an oracle case's recorded draws (minidsn_jax.diffrnn.conformance).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["StructureConfig", "Events", "Decision", "decide", "apply_decision", "decide_deletions",
           "decide_addition", "draw_new_neuron", "delete_neurons", "add_neuron", "structural_step"]

NEURON_ROWS = ("Wxh", "bh", "m")  # parameters indexed by neuron along axis 0 (besides Whh's two axes and Wiy's columns)


@dataclass(frozen=True)
class StructureConfig:
    k: int = 1
    t_d: float = 0.05
    p_add: float = 0.05
    p_del: float = 0.25
    max_hidden: int = 99
    p_spontaneous: float = 1e-4
    init_scale: float = 0.01
    variant: str = "g2"


@dataclass
class Events:
    """What one structural step did, in the indices of the network it acted on."""

    deleted: list = field(default_factory=list)   # indices (before deletion), ascending
    added: bool = False
    added_index: int = -1                         # index of the new neuron after the step (= H after deletion)
    new_values: dict = field(default_factory=dict)  # name -> the values written for the new neuron
    h_before: int = 0
    h_after: int = 0


def decide_deletions(score: np.ndarray, rng, cfg: StructureConfig) -> np.ndarray:
    """Sorted indices of the neurons to delete (draws: one permutation, then one uniform per candidate)."""
    H = score.shape[0]
    sel = score > cfg.t_d
    if int(sel.sum()) >= H - cfg.k:
        return np.zeros(0, dtype=np.int64)
    below = np.flatnonzero(~sel)
    shuffled = np.asarray(rng.permutation(below), dtype=np.int64)
    candidates = shuffled[cfg.k:]
    u = np.asarray(rng.random(candidates.shape[0]), dtype=np.float64)  # one coin per candidate, in shuffled order
    return np.sort(candidates[~(u > cfg.p_del)])


def decide_addition(score_kept: np.ndarray, rng, cfg: StructureConfig) -> bool:
    """Draw r1 and r2 (always both, when H < max_hidden) and apply the addition rule."""
    H = score_kept.shape[0]
    if H >= cfg.max_hidden:
        return False
    few_reserve = int((score_kept > cfg.t_d).sum()) > H - cfg.k
    r1 = float(rng.random())
    r2 = float(rng.random())
    return (few_reserve and r1 < cfg.p_add) or r2 < cfg.p_spontaneous


def draw_new_neuron(H: int, V: int, rng, cfg: StructureConfig) -> dict:
    """The new neuron's weights, drawn in the original's order (H = size before the addition)."""
    s = cfg.init_scale

    def normal(shape):  # the original's np.random.randn(*shape), flattened
        return np.asarray(rng.standard_normal(shape), dtype=np.float64).reshape(-1)

    if cfg.variant == "g3":
        row = s * normal((1, H))
        wxh = s * normal((1, V))
        c_out = normal((V, 1))
        c_out = 0.5 * cfg.t_d * c_out / (1e-8 + np.sum(np.abs(c_out)))
        c_rec = normal((H + 1, 1))
        c_rec = 0.5 * H * cfg.t_d * c_rec / (1e-8 + 4.0 * np.sum(np.abs(c_rec)))
        return {"Whh_row": row, "Whh_col": c_rec, "Wxh_row": wxh, "Wiy_col": c_out}
    row = s * normal((1, H))
    col = s * normal((H + 1, 1))
    wxh = s * normal((1, V))
    wiy = s * normal((V, 1))
    return {"Whh_row": row, "Whh_col": col, "Wxh_row": wxh, "Wiy_col": wiy}


def _delete_tree(tree: dict, keep: np.ndarray) -> dict:
    out = {}
    for k, a in tree.items():
        if k == "Whh":
            out[k] = a[keep][:, keep]
        elif k == "Wiy":
            out[k] = a[:, keep]
        elif k in NEURON_ROWS:
            out[k] = a[keep]
        else:  # by
            out[k] = a.copy()
    return out


def delete_neurons(params: dict, mem: dict, s: np.ndarray, deleted: np.ndarray):
    """Remove the neurons ``deleted`` from parameters, memories (edited together) and the carried state."""
    keep = np.ones(s.shape[0], dtype=bool)
    keep[deleted] = False
    return _delete_tree(params, keep), _delete_tree(mem, keep), s[keep].copy()


def _append_neuron(a: np.ndarray, name: str, new: dict | None, fill: float, t_d: float) -> np.ndarray:
    if name == "Whh":
        H = a.shape[0]
        row = new["Whh_row"] if new else np.full(H, fill)
        col = new["Whh_col"] if new else np.full(H + 1, fill)
        return np.concatenate([np.concatenate([a, row[None, :]], axis=0), col[:, None]], axis=1)
    if name == "Wiy":
        col = new["Wiy_col"] if new else np.full(a.shape[0], fill)
        return np.concatenate([a, col[:, None]], axis=1)
    if name == "Wxh":
        row = new["Wxh_row"] if new else np.full(a.shape[1], fill)
        return np.concatenate([a, row[None, :]], axis=0)
    if name == "bh":
        return np.concatenate([a, [0.0 if new else fill]])
    if name == "m":
        return np.concatenate([a, [t_d if new else fill]])
    return a.copy()  # by


def add_neuron(params: dict, mem: dict, s: np.ndarray, new: dict, cfg: StructureConfig):
    """Append the new neuron at index H: its weights ``new``, bias 0, state 0, m = T_D; memories 0 (g2) or 0.01
    (g3, HEAD rnn.py:260-264)."""
    mem_fill = 0.01 if cfg.variant == "g3" else 0.0
    p2 = {k: _append_neuron(a, k, new, 0.0, cfg.t_d) for k, a in params.items()}
    m2 = {k: _append_neuron(a, k, None, mem_fill, cfg.t_d) for k, a in mem.items()}
    return p2, m2, np.concatenate([s, [0.0]])


@dataclass
class Decision:
    """The outcome of the draws of one structural step: which neurons go, the new neuron's weights (or None)."""

    deleted: np.ndarray
    new: dict | None
    score_kept: np.ndarray

    @property
    def changes(self) -> bool:
        return bool(self.deleted.size) or self.new is not None


def decide(score: np.ndarray, rng, cfg: StructureConfig, V: int = 4) -> Decision:
    """Every draw of the structural step, in the original's order: deletion permutation and coins, the two addition
    coins, the new neuron's weights. Needs only the score vector, so the run loop calls it without the network."""
    deleted = decide_deletions(score, rng, cfg)
    kept = np.delete(score, deleted) if deleted.size else score
    new = draw_new_neuron(kept.shape[0], V, rng, cfg) if decide_addition(kept, rng, cfg) else None
    return Decision(deleted, new, kept)


def apply_decision(params: dict, mem: dict, s: np.ndarray, d: Decision, cfg: StructureConfig):
    """Deletion then addition on unpadded NumPy arrays; returns (params, mem, s, Events)."""
    ev = Events(h_before=s.shape[0])
    if d.deleted.size:
        params, mem, s = delete_neurons(params, mem, s, d.deleted)
        ev.deleted = [int(j) for j in d.deleted]
    if d.new is not None:
        params, mem, s = add_neuron(params, mem, s, d.new, cfg)
        ev.added, ev.added_index, ev.new_values = True, s.shape[0] - 1, d.new
    ev.h_after = s.shape[0]
    return params, mem, s, ev


def structural_step(params: dict, mem: dict, s: np.ndarray, score: np.ndarray, rng, cfg: StructureConfig):
    """decide + apply_decision: (params, mem, s, Events)."""
    return apply_decision(params, mem, s, decide(score, rng, cfg, params["Wxh"].shape[1]), cfg)

"""DiffRNN structural update: delete and add hidden neurons after each parameter update.

Source: ../shared/notes/diffrnn.md, "Structural update after each parameter update, in this order" (G2) and "G3
differences"; seed 001_678d4d4066cd8cbb.txt section 2.1 (k, T_D, P_add, P_del) and 2.2 (M_min).

G2, after the Adagrad step, in this order:
  1. floor:      m <- max(m, M_min)
  2. threshold:  sel = m > T_D  (strict)
  3. deletion:   if sum(sel) < H - k: shuffle the sub-threshold indices, keep the first k; each of the others is
                 deleted when its uniform draw u <= P_del (the original tests "u > P_del" for keeping it).
                 Deleting neuron j removes row j of Wxh, bh, m, entry j of the carried state, row and column j of
                 Whh, column j of Wiy, and the same entries of every optimiser memory (minidsn.optim.delete_entries).
  4. addition:   if H < max_hidden (99): draw r1, r2 (both ALWAYS drawn, in this order, as the original's
                 non-short-circuit "&" / "|");  add one neuron when (sum(m > T_D) > H - k and r1 < P_add) or
                 r2 < p_spontaneous (1e-4; a rule that appears in no paper, note "Text versus code" 5).
                 New neuron j = H (appended): Whh row 0.01 N(0,1) (1 x H), then Whh column 0.01 N(0,1)
                 ((H+1) x 1, with the self weight), Wxh row 0.01 N(0,1), Wiy column 0.01 N(0,1), drawn in that order;
                 bh = 0, state 0, m = T_D (sub-threshold, since the threshold is strict); memories 0
                 (minidsn.optim.insert_entries).
G3 (HEAD code) uses, instead of m, the per-neuron outgoing-weight norm n_j = 0.5 (sum_o |Why_oj| +
4 sum_i |Whh_ij| / H), no floor, and a different new-neuron initialisation (``add_neuron_g3``).
"""

from __future__ import annotations

import numpy as np

import minidsn.optim as optim

from .loss import HIDDEN_AXES

__all__ = [
    "choose_deletions",
    "addition_wanted",
    "delete_neurons",
    "insert_neuron",
    "add_neuron_g2",
    "add_neuron_g3",
    "g3_outgoing_norm",
]


def choose_deletions(score, threshold, k, p_del, rng):
    """Indices (sorted) of neurons to delete under rule 3 (module doc), from scores (m, or the G3 norm).

    Draws: one permutation of the sub-threshold indices and one uniform per sub-threshold index beyond the first k,
    only when sum(score > threshold) < H - k.

    Source: seed 001 Sec. 2.1 (T_D, k, P_del); ThomasMiconi/DiffRNN@8b2491f rnn.py:192-205 (sel = m > T_D; if sum(sel)
        < H - k: shuffle sub-threshold, keep k, keep each other with prob 1 - P_del); ThomasMiconi/DiffRNN@5b95733
        rnn.py:205-218 (same rule on the G3 score).
    """
    score = np.asarray(score)
    H = score.shape[0]
    sel = score > threshold
    if int(sel.sum()) >= H - k:
        return np.zeros(0, dtype=np.int64)
    deletable = rng.permutation(np.flatnonzero(~sel))
    rest = deletable[k:]
    u = rng.random(rest.shape[0])
    return np.sort(rest[u <= p_del]).astype(np.int64)


def addition_wanted(score, threshold, k, p_add, rng, *, max_hidden=99, p_spontaneous=1e-4):
    """Rule 4's decision. Draws two uniforms whenever H < max_hidden (none otherwise, as the original).

    Source: seed 001 Sec. 2.1 (P_add); ThomasMiconi/DiffRNN@8b2491f rnn.py:224-226 (H < MAX - 1 and [(sum(m > T_D) > H
        - k and rand < P_add) or rand < 1e-4], both uniforms drawn).
    """
    score = np.asarray(score)
    H = score.shape[0]
    if H >= max_hidden:
        return False
    r1 = rng.random()
    r2 = rng.random()
    return bool((int((score > threshold).sum()) > H - k and r1 < p_add) or r2 < p_spontaneous)


def delete_neurons(params, opt_state, carried, idx):
    """Remove neurons ``idx`` from every parameter (HIDDEN_AXES), every optimiser slot and the carried state.

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:209-222 (rows of Wxh, bh, m, h_prev, row and column of Whh, column of
        Wiy, and their Adagrad memories).
    """
    idx = np.asarray(idx, dtype=np.int64)
    if idx.size == 0:
        return params, opt_state, carried
    for name in sorted(params):
        for axis in HIDDEN_AXES[name]:
            params, opt_state = optim.delete_entries(params, opt_state, (name,), axis, idx)
    return params, opt_state, np.delete(carried, idx)


def insert_neuron(params, opt_state, carried, blocks, slot_values=None):
    """Append one neuron: ``blocks`` maps each parameter's (name, axis) to the values to insert, in order.

    Whh gets its row first (axis 0, 1 x H), then its column (axis 1, (H+1) x 1), as in the original.
    slot_values: optional {(name, axis): {slot: values}} for optimisers whose new memories are not 0 (G3).

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:228-242 (Whh row, then Whh column, Wxh row, Wiy column; memories 0).
    """
    H = carried.shape[0]
    for (name, axis), values in blocks.items():
        sv = None if slot_values is None else slot_values.get((name, axis))
        params, opt_state = optim.insert_entries(params, opt_state, (name,), axis, H, values, slot_values=sv)
    return params, opt_state, np.append(carried, 0.0)


def add_neuron_g2(params, opt_state, carried, rng, threshold, scale=0.01):
    """G2's new neuron (module doc, rule 4), appended at index H; also used by rnnAltern.

    Source: seed 001 Sec. 2.1; ThomasMiconi/DiffRNN@8b2491f rnn.py:228-244 (0.01 N(0,1) rows/columns, bh = 0, h = 0, m
        = T_D, memories 0).
    """
    H = carried.shape[0]
    V = params["Wxh"].shape[1]
    whh_row = scale * rng.standard_normal((1, H))
    whh_col = scale * rng.standard_normal((H + 1, 1))
    wxh_row = scale * rng.standard_normal((1, V))
    wiy_col = scale * rng.standard_normal((V, 1))
    blocks = {
        ("Whh", 0): whh_row,
        ("Whh", 1): whh_col,
        ("Wxh", 0): wxh_row,
        ("Wiy", 1): wiy_col,
        ("bh", 0): np.zeros(1),
        ("m", 0): np.full(1, threshold),
    }
    return insert_neuron(params, opt_state, carried, blocks)


def g3_outgoing_norm(params):
    """G3 score n_j = 0.5 (sum_o |Wiy_oj| + 4 sum_i |Whh_ij| / H) (note, "G3 differences").

    Source: ThomasMiconi/DiffRNN@5b95733 rnn.py:189 (normz = 0.5 (sum_o |Why_oj| + 4 sum_i |Whh_ij| / H)).
    """
    H = params["Whh"].shape[0]
    return 0.5 * (np.abs(params["Wiy"]).sum(axis=0) + 4.0 * np.abs(params["Whh"]).sum(axis=0) / H)


def add_neuron_g3(params, opt_state, carried, rng, threshold, memory_init=0.01):
    """G3's new neuron (original HEAD code): Whh row 0.01 N(0,1) (1 x H), Wxh row 0.01 N(0,1), then an outgoing
    column of Wiy w ~ N(0,1) rescaled to L1 norm T_D / 2 (w <- 0.5 T_D w / (1e-8 + sum|w|)), then a Whh column
    c ~ N(0,1) ((H+1) x 1) rescaled to c <- 0.5 H T_D c / (1e-8 + 4 sum|c|) (H the old size), drawn in that order;
    bh = 0, state 0; the new RMSProp memories start at 0.01.

    Source: ThomasMiconi/DiffRNN@5b95733 rnn.py:242-266 (new rows 0.01 N(0,1); Why column rescaled to L1 0.5 T_D, Whh
        column to 0.5 H T_D / 4; RMSProp memories 0.01).
    """
    H = carried.shape[0]
    V = params["Wxh"].shape[1]
    whh_row = 0.01 * rng.standard_normal((1, H))
    wxh_row = 0.01 * rng.standard_normal((1, V))
    w = rng.standard_normal((V, 1))
    w = 0.5 * threshold * w / (1e-8 + np.abs(w).sum())
    c = rng.standard_normal((H + 1, 1))
    c = 0.5 * H * threshold * c / (1e-8 + 4.0 * np.abs(c).sum())
    blocks = {
        ("Whh", 0): whh_row,
        ("Wxh", 0): wxh_row,
        ("Wiy", 1): w,
        ("Whh", 1): c,
        ("bh", 0): np.zeros(1),
    }
    slot = None
    if opt_state is not None:
        slot = {key: {name: memory_init for name in opt_state if name != "step"} for key in blocks}
    return insert_neuron(params, opt_state, carried, blocks, slot)

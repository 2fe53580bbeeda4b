"""DiffRNN structural update: delete and add hidden neurons after each parameter update.

Source: seed 001 Sec. 2.1 (k, T_D, P_add, P_del), Sec. 2.2 (M_min); ThomasMiconi/DiffRNN@8b2491f rnn.py:188-245
(G2); ThomasMiconi/DiffRNN@5b95733 rnn.py:189-266 (G3).

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
from minidsn.models.draws import draw_label

from .lineage import age_order
from .loss import HIDDEN_AXES

__all__ = [
    "choose_deletions",
    "addition_wanted",
    "delete_neurons",
    "insert_neuron",
    "new_neuron_g2",
    "new_neuron_g3",
    "add_neuron_g2",
    "add_neuron_g3",
    "g3_outgoing_norm",
    "g3_memory_values",
]


def choose_deletions(score, threshold, k, p_del, rng, *, age=None, age_bias="none"):
    """Indices (sorted) of neurons to delete under rule 3 (module doc), from scores (m, or the G3 norm).

    Draws: one permutation of the sub-threshold indices and one uniform per sub-threshold index beyond the first k,
    only when sum(score > threshold) < H - k. With ``age_bias`` != "none" (extension, seed 001 Sec. 5) the permuted
    indices are sorted stably by ``age`` before the first k are kept (lineage.age_order); the draws are the same.

    Source: seed 001 Sec. 2.1 (T_D, k, P_del); ThomasMiconi/DiffRNN@8b2491f rnn.py:192-205 (sel = m > T_D; if sum(sel)
        < H - k: shuffle sub-threshold, keep k, keep each other with prob 1 - P_del); ThomasMiconi/DiffRNN@5b95733
        rnn.py:205-218 (same rule on the G3 score).
    """
    score = np.asarray(score)
    H = score.shape[0]
    sel = score > threshold
    if int(sel.sum()) >= H - k:
        return np.zeros(0, dtype=np.int64)
    with draw_label(rng, "delete_order"):
        deletable = rng.permutation(np.flatnonzero(~sel))
    deletable = age_order(deletable, age, age_bias)
    rest = deletable[k:]
    with draw_label(rng, "delete_coins"):
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
    with draw_label(rng, "add_coin"):
        r1 = rng.random()
    with draw_label(rng, "spontaneous_coin"):
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


def new_neuron_g2(H, V, rng, threshold, scale=0.01):
    """The values G2 writes for a neuron appended at index H (module doc, rule 4), as insert_neuron's blocks:
    Whh row, Whh column, Wxh row, Wiy column ~ scale N(0,1), drawn in that order; bh = 0; m = T_D.

    Source: seed 001 Sec. 2.1; ThomasMiconi/DiffRNN@8b2491f rnn.py:228-244 (0.01 N(0,1) rows/columns, bh = 0, h = 0, m
        = T_D, memories 0).
    """
    with draw_label(rng, "new_Whh_row"):
        whh_row = scale * rng.standard_normal((1, H))
    with draw_label(rng, "new_Whh_col"):
        whh_col = scale * rng.standard_normal((H + 1, 1))
    with draw_label(rng, "new_Wxh_row"):
        wxh_row = scale * rng.standard_normal((1, V))
    with draw_label(rng, "new_Wiy_col"):
        wiy_col = scale * rng.standard_normal((V, 1))
    return {
        ("Whh", 0): whh_row,
        ("Whh", 1): whh_col,
        ("Wxh", 0): wxh_row,
        ("Wiy", 1): wiy_col,
        ("bh", 0): np.zeros(1),
        ("m", 0): np.full(1, threshold),
    }


def add_neuron_g2(params, opt_state, carried, rng, threshold, scale=0.01):
    """G2's new neuron (``new_neuron_g2``), appended at index H; also used by rnnAltern.

    Source: seed 001 Sec. 2.1; ThomasMiconi/DiffRNN@8b2491f rnn.py:228-244 (0.01 N(0,1) rows/columns, bh = 0, h = 0, m
        = T_D, memories 0).
    """
    blocks = new_neuron_g2(carried.shape[0], params["Wxh"].shape[1], rng, threshold, scale)
    return insert_neuron(params, opt_state, carried, blocks)


def g3_outgoing_norm(params):
    """G3 score n_j = 0.5 (sum_o |Wiy_oj| + 4 sum_i |Whh_ij| / H) (note, "G3 differences").

    Source: ThomasMiconi/DiffRNN@5b95733 rnn.py:189 (normz = 0.5 (sum_o |Why_oj| + 4 sum_i |Whh_ij| / H)).
    """
    H = params["Whh"].shape[0]
    return 0.5 * (np.abs(params["Wiy"]).sum(axis=0) + 4.0 * np.abs(params["Whh"]).sum(axis=0) / H)


def new_neuron_g3(H, V, rng, threshold):
    """The values G3 (original HEAD code) writes for a neuron appended at index H, as insert_neuron's blocks:
    Whh row 0.01 N(0,1) (1 x H), Wxh row 0.01 N(0,1), then an outgoing column of Wiy w ~ N(0,1) rescaled to L1 norm
    T_D / 2 (w <- 0.5 T_D w / (1e-8 + sum|w|)), then a Whh column c ~ N(0,1) ((H+1) x 1) rescaled to
    c <- 0.5 H T_D c / (1e-8 + 4 sum|c|) (H the old size), drawn in that order; bh = 0.

    Source: ThomasMiconi/DiffRNN@5b95733 rnn.py:242-266 (new rows 0.01 N(0,1); Why column rescaled to L1 0.5 T_D, Whh
        column to 0.5 H T_D / 4; RMSProp memories 0.01).
    """
    with draw_label(rng, "new_Whh_row"):
        whh_row = 0.01 * rng.standard_normal((1, H))
    with draw_label(rng, "new_Wxh_row"):
        wxh_row = 0.01 * rng.standard_normal((1, V))
    with draw_label(rng, "new_Wiy_col"):
        w = rng.standard_normal((V, 1))
    w = 0.5 * threshold * w / (1e-8 + np.abs(w).sum())
    with draw_label(rng, "new_Whh_col"):
        c = rng.standard_normal((H + 1, 1))
    c = 0.5 * H * threshold * c / (1e-8 + 4.0 * np.abs(c).sum())
    return {
        ("Whh", 0): whh_row,
        ("Wxh", 0): wxh_row,
        ("Wiy", 1): w,
        ("Whh", 1): c,
        ("bh", 0): np.zeros(1),
    }


def g3_memory_values(opt_state, blocks, memory_init=0.01):
    """insert_neuron's slot_values for G3: every new RMSProp memory entry starts at ``memory_init``.

    Source: ThomasMiconi/DiffRNN@5b95733 rnn.py:242-266 (RMSProp memories 0.01).
    """
    if opt_state is None:
        return None
    return {key: {name: memory_init for name in opt_state if name != "step"} for key in blocks}


def add_neuron_g3(params, opt_state, carried, rng, threshold, memory_init=0.01):
    """G3's new neuron (``new_neuron_g3``), appended at index H, state 0; the new RMSProp memories start at 0.01.

    Source: ThomasMiconi/DiffRNN@5b95733 rnn.py:242-266 (new rows 0.01 N(0,1); Why column rescaled to L1 0.5 T_D, Whh
        column to 0.5 H T_D / 4; RMSProp memories 0.01).
    """
    blocks = new_neuron_g3(carried.shape[0], params["Wxh"].shape[1], rng, threshold)
    return insert_neuron(params, opt_state, carried, blocks, g3_memory_values(opt_state, blocks, memory_init))

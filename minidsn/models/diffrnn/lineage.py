"""Two extensions of DiffRNN's structural update that the seed proposes in its conclusion: age-biased deletion and
inherited connectivity. Both are off by default (the paper's method); neither changes a random draw.

Source: seed 001 Sec. 5 ("Conclusions and future work"), second paragraph:
    "For example, deletion of neurons could be biased by neuron "age" (i.e. how long the neuron has been present),
    rather than being random. Deleted neurons could be partially preserved, so that newly added neurons could
    actually inherit connectivity of previously deleted ones, rather than being randomly initialized."

The text gives neither the direction of the age bias nor which deleted neuron is inherited or what happens to its
multiplier; the choices below are minidsn's, named by the options (docs/models/diffrnn.md, "Extensions").

**Age** (option ``age_bias``): a_j = the number of updates neuron j has taken part in (0 when added; +1 at the start
of every cycle). Rule 3 of structure.py draws a random permutation of the sub-threshold neurons, keeps the first k
and deletes each other one with probability P_del. With ``age_bias = "delete_old"`` the permuted list is sorted
stably by age, youngest first, so the k youngest sub-threshold neurons are the reserve and the older ones face the
P_del coin (a neuron that has been below threshold longest has had its chance); ``"delete_young"`` sorts oldest
first. Ties (e.g. the initial neurons) keep the random order. The same permutation and coins are drawn as without
the bias.

**Inheritance** (option ``inherit_pool`` = P > 0): every deleted neuron j is kept in a pool (the last P, newest
last) with its connectivity at the time of deletion, expressed on the neurons that survive it:
    Wxh row, bh, Wiy column * f, Whh row (incoming from survivors), Whh column (outgoing to survivors) * g, Whh_jj * g
with f = m_j / T_D for the multiplier variants (a new neuron enters with m = T_D, so its output contribution
m Wiy[:, j] h_j is the one it left with), f = 1 for g3; g = f for rnnAltern (whose recurrence carries m * h), else 1.
When a neuron is added and the pool is not empty, the newest entry is taken out and written over the new neuron's
freshly drawn values (the draws are made as usual, so every run draws the same numbers with or without the
extension); a connection to a neuron that did not exist when the entry was deleted keeps its fresh value. The new
neuron's multiplier (T_D), carried state (0) and optimiser memories are those of any new neuron. With
``inherit_recurrent = false`` only the Wxh row, bh and the Wiy column are inherited (the Whh row and column keep
their fresh draws). The pool follows
every later structural edit (a deleted neuron's entries are removed from each pool vector; an added neuron's are
marked unknown in the entry's boolean "known" mask, so it keeps its fresh value; no NaN, which the run's guard would
stop on).
Property (tests/test_diffrnn_lineage.py): deleting neuron j and at once adding a neuron that inherits it gives the
old network with j moved to the last index, up to rounding: the same outputs from a state where s_j = 0.
"""

from __future__ import annotations

import numpy as np

__all__ = ["AGE_BIASES", "lineage_wanted", "init_lineage", "age_order", "pool_deletions", "inherit_blocks",
           "pool_addition"]

AGE_BIASES = ("none", "delete_old", "delete_young")


def lineage_wanted(cfg) -> bool:
    """True when an extension needs the per-neuron record (the run state then has a "lineage" entry).

    Source: none (bookkeeping; the rules are in the module doc, seed 001 Sec. 5)
    """
    return cfg.get("age_bias", "none") != "none" or cfg.get("inherit_pool", 0) > 0


def init_lineage(H):
    """{"age": H zeros (int64), "pool": [], "n_inherited": 0} for a network of H neurons.

    Source: seed 001 Sec. 5 (neuron "age": how long the neuron has been present)
    """
    return {"age": np.zeros(H, dtype=np.int64), "pool": [], "n_inherited": 0}


def age_order(candidates, age, bias):
    """``candidates`` (indices, already in random order) sorted stably by age: youngest first for "delete_old"
    (the first k, the reserve, are the youngest), oldest first for "delete_young"; unchanged for "none".

    Source: seed 001 Sec. 5 ("deletion of neurons could be biased by neuron "age" ... rather than being random")
    """
    if bias == "none":
        return candidates
    a = np.asarray(age)[candidates]
    key = a if bias == "delete_old" else -a
    return candidates[np.argsort(key, kind="stable")]


def _fold(params, j, t_d, gate):
    """(f, g) of the module doc for neuron j."""
    if "m" not in params:
        return 1.0, 1.0
    f = float(params["m"][j]) / t_d
    return f, (f if gate else 1.0)


def pool_deletions(lineage, params, idx, *, t_d, gate, capacity):
    """The lineage after deleting neurons ``idx`` (sorted) from ``params`` (the parameters BEFORE the deletion):
    ages of the survivors, every pool vector restricted to the survivors, then one entry per deleted neuron pushed
    (newest last; only the last ``capacity`` kept).

    Source: seed 001 Sec. 5 ("Deleted neurons could be partially preserved"); module doc for the entry's content
    """
    H = params["Whh"].shape[0]
    keep = np.setdiff1d(np.arange(H), idx)
    pool = [dict(e, Whh_in=e["Whh_in"][keep], Whh_out=e["Whh_out"][keep], known=e["known"][keep])
            for e in lineage["pool"]]
    if capacity > 0:
        for j in idx:
            f, g = _fold(params, j, t_d, gate)
            pool.append({
                "Wxh": params["Wxh"][j].copy(),
                "bh": float(params["bh"][j]),
                "Wiy": params["Wiy"][:, j] * f,
                "Whh_in": params["Whh"][j, keep].copy(),
                "Whh_out": params["Whh"][keep, j] * g,
                "Whh_self": float(params["Whh"][j, j]) * g,
                "known": np.ones(keep.shape[0], dtype=bool),
            })
        pool = pool[-capacity:]
    return dict(lineage, age=lineage["age"][keep], pool=pool)


def inherit_blocks(blocks, entry, recurrent=True):
    """insert_neuron's blocks (freshly drawn, new_neuron_g2 / new_neuron_g3) with the pool ``entry`` written over
    them; a connection the entry does not know (to a neuron added after its deletion) keeps the fresh value.
    recurrent=False (option ``inherit_recurrent = false``): only the input weights, bias and output weights are
    inherited, the Whh row and column keep their fresh values (another reading of "partially preserved").

    Source: seed 001 Sec. 5 ("newly added neurons could actually inherit connectivity of previously deleted ones,
        rather than being randomly initialized")
    """
    out = dict(blocks)
    out[("Wxh", 0)] = entry["Wxh"].reshape(1, -1).copy()
    out[("Wiy", 1)] = entry["Wiy"].reshape(-1, 1).copy()
    out[("bh", 0)] = np.full(1, entry["bh"])
    if not recurrent:
        return out
    row = blocks[("Whh", 0)].reshape(-1)
    col = blocks[("Whh", 1)].reshape(-1)
    known = entry["known"]
    out[("Whh", 0)] = np.where(known, entry["Whh_in"], row).reshape(1, -1)
    col_known = np.append(known, True)  # the self weight is always the entry's
    out[("Whh", 1)] = np.where(col_known, np.append(entry["Whh_out"], entry["Whh_self"]), col).reshape(-1, 1)
    return out


def pool_addition(lineage, inherited):
    """The lineage after one neuron was appended: age 0 for it, an unknown connection appended to every remaining pool
    entry, the inheritance counted.

    Source: none (bookkeeping of the module doc's pool)
    """
    pool = [dict(e, Whh_in=np.append(e["Whh_in"], 0.0), Whh_out=np.append(e["Whh_out"], 0.0),
                 known=np.append(e["known"], False)) for e in lineage["pool"]]
    return dict(lineage, age=np.append(lineage["age"], 0), pool=pool,
                n_inherited=lineage["n_inherited"] + int(inherited))

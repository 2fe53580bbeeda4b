"""Copy-on-write edits of an isotropic network together with its optimiser state (note isotropic.md,
"Diagonalisation": "first moments rotate exactly like the weights; second moments approximately, v <- (R^T)^{o2} v").

The optimiser state follows docs/design.md: ``{"step": int, "<slot>": tree like params, ...}``.  A slot is a
*second moment* (a running mean of squared gradients) when its name is in SECOND_MOMENT_SLOTS (extra names); every other slot
is classified by minidsn.optim's SLOT_MOMENTS table (the same one minidsn.optim.change_basis uses); a slot neither
names is an error rather than a guess.  For a linear change of basis p <- M p of a parameter:

* first moments transform exactly like the gradient they average: m <- M m (the gradient of p' = M p is M g when M
  is orthogonal);
* second moments use the elementwise-square rule v <- (M o M) v: the diagonal of M diag(v) M^T (the author's
  approx_transform_second_moment; exact only when M is a signed permutation);
* entries that are appended start at 0 in every slot; deleted entries are deleted in every slot.

The same rule is what minidsn.optim.change_basis / insert_entries / delete_entries implement, with the same slot
table; it is written here because the isotropic operations also need two-sided products (A p B), non-orthogonal
compensation updates and exact value overrides (L Q^T), which those edits do not offer.
"""

from __future__ import annotations

import numpy as np

__all__ = ["SECOND_MOMENT_SLOTS", "copy_net", "copy_state", "Editor"]

try:  # the slot kinds minidsn.optim declares (1 = first moment, 2 = second moment): the one source of truth
    from minidsn.optim.base import SLOT_MOMENTS as _SLOT_MOMENTS
except ImportError:  # pragma: no cover - minidsn.optim is part of the package
    _SLOT_MOMENTS = {}

# Default extra second-moment slot names (beyond minidsn.optim's own, which _SLOT_MOMENTS already classifies).
SECOND_MOMENT_SLOTS = frozenset()


def copy_net(net: dict) -> dict:
    """Shallow copies of the dict/list structure (arrays are never modified in place, so they can be shared).

    Source: none (copy of the parameter trees; no formula)
    """
    return {group: {key: list(leaves) for key, leaves in net[group].items()} for group in ("params", "buffers")}


def copy_state(state):
    """Source: none (copy of the optimiser state; no formula)"""
    if state is None:
        return None
    out = {}
    for slot, tree in state.items():
        if isinstance(tree, dict):
            out[slot] = {key: list(leaves) if isinstance(leaves, (list, tuple)) else leaves
                         for key, leaves in tree.items()}
        else:
            out[slot] = tree
    return out


class Editor:
    """Applies edits to copies of (net, state).  ``key`` names a list in params (trained: state follows) or buffers
    (constant: no state); ``idx`` is the layer index in that list.

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.left_partial_diagonalise (p <- M p; exp_avg <- M m;
        exp_avg_sq <- (M^2) v; the next layer W_next <- W_next R, m <- m R, v <- v (R^2));
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.full_diagonalise (W <- R^T W Q; m <- R^T m QT^T;
        v <- (R^T)^2 v (QT^T)^2); GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurogenerate (new rows / columns; their moments start
        at 0); GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurodegenerate (the removed row / column / entry and its
        moments; additive compensations leave the moments alone)
    """

    def __init__(self, net: dict, state=None, second_moment_slots=SECOND_MOMENT_SLOTS):
        self.net = copy_net(net)
        self.state = copy_state(state)
        self.second = frozenset(second_moment_slots)

    # -- where a parameter lives -------------------------------------------------------------------------------
    def _group(self, key):
        if key in self.net["params"]:
            return "params"
        if key in self.net["buffers"]:
            return "buffers"
        raise KeyError(f"network has no parameter or buffer {key!r}")

    def has(self, key) -> bool:
        """Source: none (bookkeeping of parameters and moments; no formula)"""
        return key in self.net["params"] or key in self.net["buffers"]

    def get(self, key, idx):
        """Source: none (bookkeeping of parameters and moments; no formula)"""
        return self.net[self._group(key)][key][idx]

    def _slots(self, key):
        """(slot name, is_second_moment) for every state slot holding ``key``."""
        if self.state is None or self._group(key) != "params":
            return []
        out = []
        for slot, tree in self.state.items():
            if not (isinstance(tree, dict) and key in tree):
                continue
            if slot in self.second:
                out.append((slot, True))
            elif _SLOT_MOMENTS.get(slot) in (1, 2):
                out.append((slot, _SLOT_MOMENTS[slot] == 2))
            else:  # never guess: a second moment transformed as a first one would silently corrupt training
                raise KeyError(f"optimiser state slot {slot!r} has no known moment order (minidsn.optim knows "
                               f"{sorted(_SLOT_MOMENTS)}); pass second_moment_slots={{{slot!r}}} if it holds "
                               "squared gradients")
        return out

    # -- edits ------------------------------------------------------------------------------------------------
    def set(self, key, idx, value):
        """Replace a value without touching its optimiser moments (additive compensations, as the author's code).

        Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
            Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurodegenerate (additive compensations leave the
            optimiser moments alone, as here).
        """
        self.net[self._group(key)][key][idx] = np.asarray(value, dtype=np.float64)

    def left(self, key, idx, M, value=None):
        """p <- M @ p (rows mix).  ``value`` overrides the new parameter (e.g. L Q^T instead of R^T W, equal up to
        rounding); moments: m <- M m, v <- (M*M) v.

        Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
            Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.left_partial_diagonalise (p <- M p; exp_avg <- M m;
            exp_avg_sq <- (M^2) v).
        """
        p = self.get(key, idx)
        self.set(key, idx, M @ p if value is None else value)
        for slot, second in self._slots(key):
            s = self.state[slot][key][idx]
            self.state[slot][key][idx] = (M * M) @ s if second else M @ s

    def right(self, key, idx, M, value=None):
        """p <- p @ M (columns mix); moments m <- m M, v <- v (M*M).

        Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
            Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.left_partial_diagonalise (W_next <- W_next R; m <- m
            R; v <- v (R^2)).
        """
        p = self.get(key, idx)
        self.set(key, idx, p @ M if value is None else value)
        for slot, second in self._slots(key):
            s = self.state[slot][key][idx]
            self.state[slot][key][idx] = s @ (M * M) if second else s @ M

    def both(self, key, idx, A, B, value=None):
        """p <- A @ p @ B; moments m <- A m B, v <- (A*A) v (B*B).

        Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
            Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.full_diagonalise (W <- R^T W Q; m <- R^T m QT^T; v <-
            (R^T)^2 v (QT^T)^2).
        """
        p = self.get(key, idx)
        self.set(key, idx, A @ p @ B if value is None else value)
        for slot, second in self._slots(key):
            s = self.state[slot][key][idx]
            self.state[slot][key][idx] = (A * A) @ s @ (B * B) if second else A @ s @ B

    def append(self, key, idx, axis, values):
        """Append ``values`` along ``axis``; every moment gets zeros there.

        Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
            Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurogenerate (new rows / columns; their moments
            start at 0).
        """
        p = self.get(key, idx)
        values = np.asarray(values, dtype=np.float64)
        self.set(key, idx, np.concatenate([p, values], axis=axis))
        for slot, _ in self._slots(key):
            s = self.state[slot][key][idx]
            self.state[slot][key][idx] = np.concatenate([s, np.zeros_like(values)], axis=axis)

    def delete(self, key, idx, axis, index):
        """Delete entry ``index`` along ``axis`` in the value and every moment.

        Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
            Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurodegenerate (the removed row / column / entry and
            its moments).
        """
        self.set(key, idx, np.delete(self.get(key, idx), index, axis=axis))
        for slot, _ in self._slots(key):
            self.state[slot][key][idx] = np.delete(self.state[slot][key][idx], index, axis=axis)

    def result(self):
        """Source: none (returns the edited trees; no formula)"""
        return self.net, self.state

"""Structural edits: change a parameter AND the matching entries of every optimiser-state slot in one call.

Structure-changing networks delete, insert and rotate neurons while training (DiffRNN deletes and adds hidden
units, the isotropic networks rotate layers by the SVD basis and grow/shrink them, DMM pruning removes links). Each
edit below applies to the leaf at `path` in params and to the leaf at the same path in every slot of the state
(state = {"step": int, slot: tree like params}; state may also be None for "no optimiser"). The step count is
kept. Leaves not at `path` are shared with the input trees, never modified.

Slot kinds come from SLOT_MOMENTS (first moments: velocity, m; second moments: v, sum_sq, mean_sq); a custom slot
name needs `slot_moments={"name": 1 or 2}`.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ._tree import format_path, leaf_index, replace_leaves, tree_flatten
from .base import SLOT_MOMENTS

__all__ = ["delete_entries", "insert_entries", "change_basis"]


# --- argument checks ---------------------------------------------------------------------------------------------

def _norm_path(path: Any) -> tuple:
    if isinstance(path, (str, int)) and not isinstance(path, bool):
        return (path,)
    if isinstance(path, list):
        return tuple(path)
    if not isinstance(path, tuple):
        raise TypeError(f"path must be a tuple of keys into the params pytree, e.g. ('Whh',), got {path!r}")
    return path


def _leaf(tree: Any, path: tuple, what: str) -> tuple[int, np.ndarray]:
    i = leaf_index(tree, path, what)
    x = tree_flatten(tree)[0][i]
    if isinstance(x, (float, np.floating)):
        x = np.asarray(x)
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{what} leaf at {format_path(path)} is {type(x).__name__}, not an ndarray")
    return i, x


def _norm_axis(axis: Any, ndim: int, path: tuple) -> int:
    if isinstance(axis, (bool, np.bool_)):
        raise TypeError(f"axis must be an int, got {axis!r}")
    try:
        a = operator.index(axis)
    except TypeError:
        raise TypeError(f"axis must be an int, got {axis!r}") from None
    if not -ndim <= a < ndim:
        raise ValueError(f"axis {axis} is out of range for the {ndim}-d parameter at {format_path(path)}")
    return a % ndim


def _state_slots(state: Any) -> list[str]:
    if state is None:
        return []
    if not isinstance(state, dict) or "step" not in state:
        raise TypeError("state must be an optimiser state dict {'step': int, slot: tree, ...} (or None)")
    return [k for k in state if k != "step"]


def _slot_leaf(state: dict, name: str, path: tuple, shape: tuple) -> tuple[int, np.ndarray]:
    i, s = _leaf(state[name], path, f"state[{name!r}]")
    if s.shape != shape:
        raise ValueError(f"state[{name!r}] at {format_path(path)} has shape {s.shape}, the parameter has {shape}")
    return i, s


def _apply(params: Any, state: Any, path: tuple, new_p: np.ndarray, new_slots: dict) -> tuple[Any, Any]:
    i = leaf_index(params, path, "params")
    params_out = replace_leaves(params, {i: new_p})
    if state is None:
        return params_out, None
    state_out = dict(state)
    for name, (j, leaf) in new_slots.items():
        state_out[name] = replace_leaves(state[name], {j: leaf})
    return params_out, state_out


# --- the edits -----------------------------------------------------------------------------------------------------

def delete_entries(params: Any, state: Any, path: Any, axis: int, indices: Any) -> tuple[Any, Any]:
    """Delete entries `indices` along `axis` of the parameter at `path` and of every state slot at that path.

    p <- np.delete(p, indices, axis); the same for each slot (first and second moments alike: the remaining
    entries keep their values, so elementwise optimisers continue exactly as if the deleted entries never
    existed). indices: an int or a sequence of distinct ints in [-n, n). Example (DiffRNN, delete hidden unit j):
    ("Wxh", 0), ("bh", 0), ("Whh", 0), ("Whh", 1), ("Why", 1), each with [j].

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:209-222 (G2: the rows / columns of the deleted neurons are removed
    from Wxh, Whh, multips, Wiy, bh and from their Adagrad memories alike); ThomasMiconi/DiffRNN@5b95733
    rnn.py:231-234 (G3: the same for the RMSProp memories); minidsn choice: one entry set per call, on every slot
    of the state (any optimiser), the step count kept.
    """
    path = _norm_path(path)
    _, p = _leaf(params, path, "params")
    if p.ndim == 0:
        raise ValueError(f"cannot delete entries of the 0-d parameter at {format_path(path)}")
    a = _norm_axis(axis, p.ndim, path)
    n = p.shape[a]
    idx = np.asarray(indices)
    if idx.ndim > 1 or (idx.size and not np.issubdtype(idx.dtype, np.integer)) or idx.dtype == bool:
        raise TypeError(f"indices must be an int or a 1-d sequence of ints, got {indices!r}")
    idx = idx.astype(np.int64).reshape(-1)
    if idx.size and (idx.min() < -n or idx.max() >= n):
        raise IndexError(f"indices {idx.tolist()} out of range for axis {a} of size {n} at {format_path(path)}")
    idx = idx % n if n else idx
    if np.unique(idx).size != idx.size:
        raise ValueError(f"indices {np.asarray(indices).tolist()} repeat an entry (after wrapping negatives)")
    new_slots = {}
    for name in _state_slots(state):
        j, s = _slot_leaf(state, name, path, p.shape)
        new_slots[name] = (j, np.delete(s, idx, axis=a))
    return _apply(params, state, path, np.delete(p, idx, axis=a), new_slots)


def _block(values: Any, shape: tuple, a: int, what: str, dtype) -> np.ndarray:
    """values as the block to insert: same ndim as p (k entries), ndim - 1 (one entry), or a scalar (one entry)."""
    v = np.asarray(values)
    if v.dtype == object or not (np.issubdtype(v.dtype, np.floating) or np.issubdtype(v.dtype, np.integer)):
        raise TypeError(f"{what} must be real numbers, got dtype {v.dtype}")
    one = shape[:a] + (1,) + shape[a + 1:]
    if v.ndim == 0:
        v = np.broadcast_to(v, one)
    elif v.ndim == len(shape) - 1:
        v = np.expand_dims(v, a)
    if v.ndim != len(shape) or v.shape[:a] + v.shape[a + 1:] != shape[:a] + shape[a + 1:]:
        raise ValueError(
            f"{what} has shape {np.shape(values)}; along axis {a} of a parameter of shape {shape} it must have shape "
            f"{one[:a] + ('k',) + one[a + 1:]} (k entries), {shape[:a] + shape[a + 1:]} (one entry), or be a scalar"
        )
    if not np.isfinite(v).all():
        raise ValueError(f"{what} contains NaN or inf")
    return v.astype(dtype)


def insert_entries(params: Any, state: Any, path: Any, axis: int, index: int, values: Any,
                   slot_values: dict | None = None) -> tuple[Any, Any]:
    """Insert k entries before position `index` (0..n; n appends) along `axis` of the parameter at `path`, and
    k entries at the same place in every state slot at that path.

    p <- np.insert(p, [index]*k, values, axis). The new slot entries are 0 (a new neuron has no history) unless
    `slot_values` gives {slot name: scalar or block shaped like values}, e.g. {"mean_sq": 0.01} for DiffRNN G3.
    Second-moment slots must stay >= 0.

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:237-242 (G2: a new neuron's Adagrad memories are appended as zeros);
    ThomasMiconi/DiffRNN@5b95733 rnn.py:260-264 (G3: its RMSProp memories are appended as 0.01, hence
    slot_values); minidsn choice: new slot entries are 0 unless given, for every optimiser (for Adam the new entries
    are still bias-corrected with the global step, see Adam); DiffRNN appends at the end (index = n), any index is
    allowed here.
    """
    path = _norm_path(path)
    _, p = _leaf(params, path, "params")
    if p.ndim == 0:
        raise ValueError(f"cannot insert entries into the 0-d parameter at {format_path(path)}")
    a = _norm_axis(axis, p.ndim, path)
    n = p.shape[a]
    try:
        if isinstance(index, (bool, np.bool_)):
            raise TypeError
        pos = operator.index(index)
    except TypeError:
        raise TypeError(f"index must be an int, got {index!r}") from None
    if not 0 <= pos <= n:
        raise IndexError(f"index {index} out of range for inserting along axis {a} of size {n} (allowed 0..{n})")
    block = _block(values, p.shape, a, "values", p.dtype)
    k = block.shape[a]
    names = _state_slots(state)
    slot_values = dict(slot_values or {})
    unknown = sorted(set(slot_values) - set(names))
    if unknown:
        raise KeyError(f"slot_values names slots {unknown} that the state does not have (it has {names})")

    def ins(x: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([x[(slice(None),) * a + (slice(0, pos),)], b, x[(slice(None),) * a + (slice(pos, None),)]],
                              axis=a)

    new_slots = {}
    kshape = block.shape
    for name in names:
        j, s = _slot_leaf(state, name, path, p.shape)
        if name in slot_values:
            sv = _block(slot_values[name], p.shape, a, f"slot_values[{name!r}]", s.dtype)
            if sv.shape[a] != k:
                sv = np.broadcast_to(sv, kshape) if sv.shape[a] == 1 else sv
            if sv.shape != kshape:
                raise ValueError(f"slot_values[{name!r}] has {sv.shape[a]} entries along axis {a}, values has {k}")
            if SLOT_MOMENTS.get(name) == 2 and (sv < 0).any():
                raise ValueError(f"slot_values[{name!r}] is a second-moment slot and must be >= 0")
        else:
            sv = np.zeros(kshape, dtype=s.dtype)
        new_slots[name] = (j, ins(s, sv))
    return _apply(params, state, path, ins(p, block), new_slots)


def _rotate(x: np.ndarray, Q: np.ndarray, a: int) -> np.ndarray:
    """x'[..., j, ...] = sum_i Q[i, j] x[..., i, ...] along axis a (Q^T x for axis 0 of a matrix, x Q for axis 1)."""
    return np.moveaxis(np.tensordot(x, Q, axes=([a], [0])), -1, a)


def change_basis(params: Any, state: Any, path: Any, axis: int, Q: Any, *, check_orthogonal: bool = True,
                 orth_tol: float = 1e-8, slot_moments: dict | None = None) -> tuple[Any, Any]:
    """Change the basis of one axis of the parameter at `path` by the orthogonal n x n matrix Q:

        p'[..., j, ...] = sum_i Q[i, j] p[..., i, ...]     (p' = Q^T p along axis 0 of a matrix; p' = p Q along axis 1)

    If the network's function is invariant under the joint change (isotropic networks: W_k <- R^T W_k,
    W_{k+1} <- W_{k+1} R, note /work/shared/notes/isotropic.md "Diagonalisation"), the gradient transforms the same
    way, so first-moment slots (velocity, m) are transformed exactly like p. Second-moment slots (v, sum_sq,
    mean_sq) hold elementwise squares, which no rotation maps exactly; they get the elementwise-square rule
    s'[..., j, ...] = sum_i Q[i, j]**2 s[..., i, ...]  (note "Optimiser state": v <- (R^T)^{o2} v), exact for signed
    permutations and keeping s >= 0.

    check_orthogonal: refuse Q with max|Q^T Q - I| > orth_tol (set False to apply a general square Q; then only the
    linear map of p is meaningful). slot_moments: {slot: 1 or 2} for slots minidsn does not know.

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0 Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.__init__
    (the flags transform_first_moment and approx_transform_second_moment, whose comment gives the second-moment rule
    v'_i = sum_j R_ij R_ij v_j, i.e. the diagonal of R diag(v) R^T); seed 003 l. 31-32 (Figs. 1-2 captions: full and
    partial diagonalisation as a basis change of a layer's connectivity); minidsn choice: written per axis of one
    parameter with Q's columns as the new basis (p' = Q^T p on axis 0), for any slot by its moment order
    (SLOT_MOMENTS); the places in the author's code that apply the rotation to the optimiser state were not read,
    only the flags' comment.
    """
    path = _norm_path(path)
    _, p = _leaf(params, path, "params")
    if p.ndim == 0:
        raise ValueError(f"cannot change the basis of the 0-d parameter at {format_path(path)}")
    a = _norm_axis(axis, p.ndim, path)
    n = p.shape[a]
    Qa = np.asarray(Q)
    if Qa.ndim != 2 or Qa.shape != (n, n):
        raise ValueError(f"Q must be {n} x {n} for axis {a} of the parameter of shape {p.shape}, got shape {Qa.shape}")
    if not np.issubdtype(Qa.dtype, np.floating) and not np.issubdtype(Qa.dtype, np.integer):
        raise TypeError(f"Q must be a real matrix, got dtype {Qa.dtype}")
    if not np.isfinite(Qa).all():
        raise ValueError("Q contains NaN or inf")
    Qa = Qa.astype(p.dtype)
    if check_orthogonal:
        dev = float(np.max(np.abs(Qa.T @ Qa - np.eye(n)))) if n else 0.0
        if dev > orth_tol:
            raise ValueError(f"Q is not orthogonal: max|Q^T Q - I| = {dev:.3g} > orth_tol = {orth_tol:g} "
                             "(pass check_orthogonal=False to apply it anyway)")
    moments = dict(SLOT_MOMENTS)
    moments.update(slot_moments or {})
    new_slots = {}
    for name in _state_slots(state):
        order = moments.get(name)
        if order not in (1, 2):
            raise KeyError(f"state slot {name!r} has no known moment order; pass slot_moments={{{name!r}: 1 or 2}}")
        j, s = _slot_leaf(state, name, path, p.shape)
        new_slots[name] = (j, _rotate(s, Qa if order == 1 else Qa * Qa, a))
    return _apply(params, state, path, _rotate(p, Qa, a), new_slots)

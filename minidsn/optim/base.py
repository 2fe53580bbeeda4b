"""The shared machinery of the optimisers: pure init / update over pytrees, with the input checks in one place.

An optimiser is a frozen dataclass of hyperparameters. Its state is a plain dict

    {"step": int, "<slot>": tree like params, ...}

so it can be printed, saved with a checkpoint and edited (minidsn.optim.edits). `init` and `update` return new
objects and never modify their arguments. Subclasses give their slot names and one per-leaf rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from typing import Any

import numpy as np

from ._tree import format_path, tree_flatten, tree_paths, tree_unflatten

__all__ = ["Optimizer", "SLOT_MOMENTS", "check_hyper", "structure_difference"]

# A step count beyond this is not a real run (and beta**t would overflow converting it to a float).
MAX_STEP = 2**53

# Every state slot name used by a minidsn optimiser and the order of the moment it holds: 1 = linear in the
# gradients (momentum, Adam's m), 2 = built from squared gradients (Adam's v, Adagrad / RMSProp memories).
# The structural edits use this to transform each slot correctly (change_basis: Q for 1, Q**2 for 2).
SLOT_MOMENTS: dict[str, int] = {}


def check_hyper(name: str, value: Any, *, lo: float | None = None, hi: float | None = None,
                lo_open: bool = False, hi_open: bool = False) -> float:
    """Validate a real hyperparameter: finite, a number, inside [lo, hi] (open ends as asked). Returns float(value).

    Source: none (argument validation, no formula).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if lo is not None and (v < lo or (lo_open and v == lo)):
        raise ValueError(f"{name} must be {'>' if lo_open else '>='} {lo}, got {value!r}")
    if hi is not None and (v > hi or (hi_open and v == hi)):
        raise ValueError(f"{name} must be {'<' if hi_open else '<='} {hi}, got {value!r}")
    return v


def _as_float_leaf(x: Any, path: Any, what: str) -> np.ndarray:
    """A leaf as a float ndarray (Python / NumPy float scalars become 0-d arrays); anything else is an error.

    `path` is the leaf's path, or a zero-argument callable giving it (paths are only built for error messages)."""
    if type(x) is np.ndarray and x.dtype.kind == "f":  # the common case, checked cheaply
        return x
    where = format_path(path() if callable(path) else path)
    if isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, (float, np.floating)):
        arr = np.asarray(x)
    else:
        raise TypeError(f"{what} leaf at {where} is {type(x).__name__}; optimisers take pytrees of float ndarrays")
    if arr.dtype.kind != "f":
        raise TypeError(f"{what} leaf at {where} has dtype {arr.dtype}; it must be a float dtype")
    return arr


def _flatten_like(tree: Any, treedef: Any, what: str) -> list:
    leaves, d = tree_flatten(tree)
    if d != treedef:
        raise ValueError(f"{what} has a different tree structure from params: {structure_difference(treedef, d, what)}")
    return leaves


def _def_keys(d: Any) -> list:
    """Path keys of the children of a treedef node (dict / V-value labels, else positions)."""
    if isinstance(d.aux, tuple) and len(d.aux) == len(d.children):
        return list(d.aux)
    return list(range(len(d.children)))


def _kind_name(d: Any) -> str:
    return "a leaf" if d.kind is None else f"a {d.kind.__name__}"


def _leaf_paths_under(d: Any, path: tuple, limit: int = 4) -> list[str]:
    out, stack = [], [(path, d)]
    while stack and len(out) <= limit:
        p, node = stack.pop()
        if node.kind is None:
            out.append(format_path(p))
            continue
        for k, c in reversed(list(zip(_def_keys(node), node.children))):
            stack.append((p + (k,), c))
    return out[:limit] + (["..."] if len(out) > limit else [])


def structure_difference(ref: Any, other: Any, what: str) -> str:
    """The first place (depth first) where the treedef `other` (of `what`) differs from `ref` (of params), in words,
    naming the path; e.g. "grads has no leaf at layers/1/b".

    Source: none (error-message helper of the optimisers).
    """
    stack = [((), ref, other)]
    while stack:
        path, a, b = stack.pop()
        if a == b:
            continue
        if a.kind is not b.kind:
            return f"at {format_path(path)}, {what} has {_kind_name(b)} where params has {_kind_name(a)}"
        ka, kb = _def_keys(a), _def_keys(b)
        if ka != kb:
            parts = []
            for k, c in zip(ka, a.children):
                if k not in kb:
                    parts.append(f"{what} has no leaf at " + ", ".join(_leaf_paths_under(c, path + (k,))))
            for k, c in zip(kb, b.children):
                if k not in ka:
                    parts.append(f"{what} has an extra entry at {format_path(path + (k,))}")
            if not parts:
                parts.append(f"at {format_path(path)}, {what} has keys {kb!r:.80} where params has {ka!r:.80}")
            return "; ".join(parts)
        if a.aux != b.aux:
            return f"at {format_path(path)}, {what} has static data {b.aux!r:.60} where params has {a.aux!r:.60}"
        for k, ca, cb in reversed(list(zip(ka, a.children, b.children))):
            stack.append((path + (k,), ca, cb))
    return f"{other!r:.200} vs {ref!r:.200}"


def _finite_sum(g: np.ndarray) -> bool:
    with np.errstate(over="ignore", invalid="ignore"):
        return bool(np.isfinite(g.sum()))


def paths_of(tree: Any, i: int) -> tuple:
    """Path of leaf number i of tree (for error messages).

    Source: none (error-message helper).
    """
    return tree_paths(tree)[i][0]


@dataclass(frozen=True, kw_only=True)
class Optimizer:
    """Base class. check_finite: raise FloatingPointError when a gradient holds NaN or inf (naming its path).

    Source: none (base class: state plumbing and input checks; each subclass's docstring cites its update rule).
    """

    check_finite: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.check_finite, (bool, np.bool_)):
            raise TypeError(f"check_finite must be True or False, got {self.check_finite!r}")

    def _check_dtype(self, dtype: Any, where: Any) -> None:
        """A float dtype in which eps (if the optimiser has one) does not round to 0: float16 with eps = 1e-8 would
        turn a zero gradient into 0 / 0 = NaN."""
        eps = getattr(self, "eps", None)
        if eps is not None and dtype != np.float64 and dtype.type(eps) == 0:
            place = format_path(where() if callable(where) else where)
            raise TypeError(f"params leaf at {place} has dtype {dtype}, in which eps={eps!r} rounds to 0 (the update "
                            f"would divide 0 by 0); use float32 or float64, or a larger eps")

    # --- what subclasses provide -------------------------------------------------------------------------------
    def slot_names(self) -> tuple[str, ...]:
        """Names of the per-parameter state slots, in a fixed order.

        Source: none (state layout, no formula).
        """
        raise NotImplementedError

    def _init_slot(self, name: str, p: np.ndarray) -> np.ndarray:
        return np.zeros_like(p)

    def _leaf_update(self, g: np.ndarray, p: np.ndarray, slots: tuple, step: int) -> tuple[np.ndarray, tuple]:
        """New (p, slots) for one leaf; `step` is the 1-based number of this update. Must not modify inputs."""
        raise NotImplementedError

    # --- the public, pure interface ------------------------------------------------------------------------------
    def hyperparams(self) -> dict:
        """The hyperparameters as a plain dict (for logs and checkpoints).

        Source: none (reporting, no formula).
        """
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def init(self, params: Any) -> dict:
        """Fresh state {"step": 0, slot: tree like params of initial values}.

        Source: none (state plumbing; the update rules and their sources are in each subclass's docstring).
        """
        paths_leaves = tree_paths(params)
        leaves, treedef = tree_flatten(params)
        arrs = [_as_float_leaf(x, path, "params") for (path, _), x in zip(paths_leaves, leaves)]
        for (path, _), a in zip(paths_leaves, arrs):
            if a.dtype != np.float64:
                self._check_dtype(a.dtype, path)
        state: dict = {"step": 0}
        for name in self.slot_names():
            state[name] = tree_unflatten(treedef, [self._init_slot(name, a) for a in arrs])
        return state

    def update(self, grads: Any, state: dict, params: Any) -> tuple[Any, dict]:
        """One step: returns (new params, new state). Neither input is modified.

        Source: none (the per-leaf rule `_leaf_update` of each subclass cites its source; this checks and maps it).
        """
        names = self.slot_names()
        self._check_state_keys(state, names)
        step = state["step"]
        if isinstance(step, bool) or not isinstance(step, (int, np.integer)) or step < 0:
            raise ValueError(f"state['step'] must be an int >= 0, got {step!r}")
        if step >= MAX_STEP:
            raise ValueError(f"state['step'] = {step} is beyond any real run (limit 2**53); the state is corrupt")

        p_leaves, treedef = tree_flatten(params)
        g_leaves = _flatten_like(grads, treedef, "grads")
        slot_leaves = [_flatten_like(state[n], treedef, f"state[{n!r}]") for n in names]
        paths: list = []

        def where(i: int) -> str:  # leaf paths, built only when a message needs one
            if not paths:
                paths.extend(path for path, _ in tree_paths(params))
            return format_path(paths[i])

        t = int(step) + 1
        new_p, new_slots = [], [[] for _ in names]
        for i, (p, g) in enumerate(zip(p_leaves, g_leaves)):
            p = _as_float_leaf(p, lambda: paths_of(params, i), "params")
            g = _as_float_leaf(g, lambda: paths_of(params, i), "grads")
            if g.shape != p.shape:
                raise ValueError(f"grads at {where(i)} has shape {g.shape}, params has {p.shape}")
            if g.dtype != p.dtype:
                raise TypeError(f"grads at {where(i)} has dtype {g.dtype}, params has {p.dtype}")
            if p.dtype != np.float64:
                self._check_dtype(p.dtype, lambda: paths_of(params, i))
            # a NaN/inf entry makes the sum NaN/inf, so a finite sum proves all entries finite (cheaper); a sum of
            # finite entries may overflow to inf, so the full check decides, and the overflow is not warned about
            if self.check_finite and not _finite_sum(g) and not np.isfinite(g).all():
                bad = int(np.size(g) - np.count_nonzero(np.isfinite(g)))
                raise FloatingPointError(
                    f"grads at {where(i)} has {bad} NaN/inf entries (pass check_finite=False to allow)"
                )
            slots = []
            for n, sl in zip(names, slot_leaves):
                s = _as_float_leaf(sl[i], lambda: paths_of(params, i), f"state[{n!r}]")
                if s.shape != p.shape:
                    raise ValueError(f"state[{n!r}] at {where(i)} has shape {s.shape}, params has {p.shape}")
                if s.dtype != p.dtype:
                    raise TypeError(f"state[{n!r}] at {where(i)} has dtype {s.dtype}, params has {p.dtype}")
                slots.append(s)
            p_out, s_out = self._leaf_update(g, p, tuple(slots), t)
            # np.asarray: arithmetic on 0-d arrays gives NumPy scalars; leaves stay ndarrays
            new_p.append(np.asarray(p_out))
            for k, s in enumerate(s_out):
                new_slots[k].append(np.asarray(s))

        new_state: dict = {"step": t}
        for n, leaves in zip(names, new_slots):
            new_state[n] = tree_unflatten(treedef, leaves)
        return tree_unflatten(treedef, new_p), new_state

    def _check_state_keys(self, state: Any, names: tuple) -> None:
        if not isinstance(state, dict):
            raise TypeError(f"state must be the dict returned by init(), got {type(state).__name__}")
        want = {"step", *names}
        have = set(state)
        if have != want:
            missing, extra = sorted(want - have), sorted(map(str, have - want))
            raise KeyError(
                f"{type(self).__name__} state must have keys {sorted(want)}; missing {missing}, unexpected {extra}"
            )

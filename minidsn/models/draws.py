"""Random draws made explicit: record every random number a training step consumes, and replay them.

The oracle's trajectory cases (docs/oracle.md) store, for each step, every random number the step consumed, so that
another backend can replay the step without NumPy's generator. Models keep drawing from an ordinary
``numpy.random.Generator`` (so recorded runs stay bit-identical); the oracle hands the step a
``RecordingGenerator`` instead, which draws from the wrapped generator exactly as it would have and records each
result. ``ReplayGenerator`` hands the recorded results back in the same order (and refuses any other call), which
is how minidsn checks that a recorded step is a pure function of (state, inputs, draws).

A model may name what a draw is for, so that the case says "add_coin" rather than "random":

    with draw_label(rng, "add_coin"):
        u = rng.random()

``draw_label`` does nothing on a plain Generator.

Each record: ``Draw(label, method, args, value)`` where value is a float64 or int64 ndarray (a scalar draw is a
0-d array). Supported methods: the ones minidsn's models call (random, uniform, normal, standard_normal, integers,
choice, permutation); any other raises, so a new kind of draw cannot go unrecorded.

``record_step`` / ``replay_step`` build a model's ``trajectory`` / ``trajectory_step`` (minidsn.models.api.Model) from
one function ``step_fn(cfg, state, inputs, rng) -> (state_after, losses, grads, events)``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Draw", "RecordingGenerator", "ReplayGenerator", "draw_label", "DrawReplayError", "SUPPORTED_METHODS",
           "record_step", "replay_step", "copy_tree"]

SUPPORTED_METHODS = ("random", "uniform", "normal", "standard_normal", "integers", "choice", "permutation")


class DrawReplayError(RuntimeError):
    """A replayed step asked for a different draw than the recorded one (method, shape or count).

    Source: none (recording and replay of random draws for the oracle; no formula)
    """


@dataclass
class Draw:
    """One recorded random draw: what it is for (label), the Generator method, its arguments, and the value drawn.

    Source: none (recording and replay of random draws for the oracle; no formula)
    """

    label: str
    method: str
    args: dict
    value: np.ndarray = field(repr=False)


def _as_array(value) -> np.ndarray:
    a = np.asarray(value)
    if a.dtype.kind == "f":
        return a.astype(np.float64, copy=False)
    if a.dtype.kind in "iub":
        return a.astype(np.int64, copy=False)
    raise TypeError(f"draw of dtype {a.dtype} is not supported")


def _restore(value: np.ndarray, like_scalar: bool):
    """A recorded value in the form the Generator call returns: a Python-compatible NumPy scalar for a scalar
    draw, else an array (a copy: the step may write into it)."""
    if like_scalar:
        return value[()]
    return np.array(value, copy=True)


class _LabelMixin:
    _label: str = ""

    def _current_label(self, method: str) -> str:
        return self._label or method


class RecordingGenerator(_LabelMixin):
    """Wraps a numpy Generator: every supported call draws from it exactly as the bare call would, and is recorded
    in ``self.draws`` (in order).

    Source: none (recording and replay of random draws for the oracle; no formula)
    """

    def __init__(self, rng: np.random.Generator):
        if isinstance(rng, (RecordingGenerator, ReplayGenerator)):
            raise TypeError("RecordingGenerator wraps a numpy Generator, not another wrapper")
        self._rng = rng
        self.draws: list[Draw] = []
        self._label = ""

    def _call(self, method: str, *args, **kwargs):
        value = getattr(self._rng, method)(*args, **kwargs)
        self.draws.append(Draw(self._current_label(method), method, {"args": args, "kwargs": kwargs},
                               _as_array(value)))
        return value

    def __getattr__(self, name: str) -> Any:
        if name in SUPPORTED_METHODS:
            return lambda *a, **k: self._call(name, *a, **k)
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(f"RecordingGenerator: Generator.{name} is not recorded (supported: "
                             f"{', '.join(SUPPORTED_METHODS)}); add it to minidsn.models.draws")


class ReplayGenerator(_LabelMixin):
    """Returns recorded draws in order. Each call must ask for the same method (and, where a shape is given, the
    same shape) as the recorded one; otherwise DrawReplayError names the draw. ``finish()`` checks all were used.

    Source: none (recording and replay of random draws for the oracle; no formula)
    """

    def __init__(self, draws: list[Draw]):
        self._draws = list(draws)
        self._i = 0
        self._label = ""

    def _call(self, method: str, *args, **kwargs):
        if self._i >= len(self._draws):
            raise DrawReplayError(f"draw {self._i} ({method}) was not recorded: the step asks for more draws than "
                                  f"the {len(self._draws)} recorded")
        d = self._draws[self._i]
        if d.method != method:
            raise DrawReplayError(f"draw {self._i}: the step asks for {method}, the record has {d.method} "
                                  f"({d.label})")
        size = kwargs.get("size")
        if size is not None:
            want = (size,) if np.isscalar(size) else tuple(size)
            if tuple(d.value.shape) != want:
                raise DrawReplayError(f"draw {self._i} ({d.label}): shape {want} asked, {d.value.shape} recorded")
        self._i += 1
        scalar = d.value.ndim == 0 and size is None and method not in ("permutation",)
        return _restore(d.value, scalar)

    def __getattr__(self, name: str) -> Any:
        if name in SUPPORTED_METHODS:
            return lambda *a, **k: self._call(name, *a, **k)
        if name.startswith("_"):
            raise AttributeError(name)
        raise AttributeError(f"ReplayGenerator: Generator.{name} was not recorded")

    def finish(self) -> None:
        """Source: none (recording and replay of random draws for the oracle; no formula)"""
        if self._i != len(self._draws):
            raise DrawReplayError(f"the step used {self._i} of {len(self._draws)} recorded draws")


@contextlib.contextmanager
def draw_label(rng, label: str):
    """Name the draws made inside the block (for the oracle's record); a no-op on a plain Generator.

    Source: none (recording and replay of random draws for the oracle; no formula)
    """
    if not isinstance(rng, _LabelMixin):
        yield rng
        return
    old = rng._label
    rng._label = label
    try:
        yield rng
    finally:
        rng._label = old


def copy_tree(tree):
    """A deep copy of a pytree of dicts / lists / tuples, arrays and scalars (arrays copied).

    Source: none (recording and replay of random draws for the oracle; no formula)
    """
    if isinstance(tree, dict):
        return {k: copy_tree(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(copy_tree(v) for v in tree)
    if isinstance(tree, np.ndarray):
        return tree.copy()
    return tree


def _same_tree(a, b) -> bool:
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same_tree(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)):
        return isinstance(b, (list, tuple)) and len(a) == len(b) and all(_same_tree(x, y) for x, y in zip(a, b))
    return np.array_equal(np.asarray(a), np.asarray(b), equal_nan=np.asarray(a).dtype.kind == "f")


def record_step(step_fn, cfg, state, inputs, rng: np.random.Generator) -> dict:
    """Run one step ``step_fn(cfg, state, inputs, rec)`` with ``rec = RecordingGenerator(rng)`` and return it as a
    trajectory step dict (state_before, inputs, draws, losses, grads, state_after, events; Model.trajectory).

    state_before and inputs are copies taken before the call; a step that writes into its input state raises
    (the recorded state_before would be wrong).

    Source: none (recording and replay of random draws for the oracle; no formula)
    """
    before, inp = copy_tree(state), copy_tree(inputs)
    rec = RecordingGenerator(rng)
    state_after, losses, grads, events = step_fn(cfg, state, inputs, rec)
    if not (_same_tree(before, state) and _same_tree(inp, inputs)):
        raise RuntimeError("record_step: the step modified its input state or inputs in place")
    return {"state_before": before, "inputs": inp, "draws": rec.draws, "losses": dict(losses), "grads": grads,
            "state_after": state_after, "events": list(events)}


def replay_step(step_fn, cfg, state, inputs, draws: list[Draw]):
    """``step_fn(cfg, state, inputs, ReplayGenerator(draws))``, checking every recorded draw was used; returns
    (state_after, losses, grads, events).

    Source: none (recording and replay of random draws for the oracle; no formula)
    """
    rep = ReplayGenerator(draws)
    out = step_fn(cfg, state, inputs, rep)
    rep.finish()
    return out

"""The engine's one broadcasting rule: a VJP's result is summed back to its argument's shape here, and only here."""

from __future__ import annotations

import numpy as np

from minidsn.engine.errors import EngineError

__all__ = ["unbroadcast", "unbroadcast_raw"]


def unbroadcast(g, shape, dtype, prim_name="?", argnum=0, ns=None):
    """Sum g back to `shape` (undo NumPy broadcasting), then assert the shape and cast to the argument's dtype.

    This is the only place where broadcasting is undone: no VJP rule needs to do it. A result that cannot be
    reduced to the argument's shape is a bug in that VJP, and is reported as such. `ns` is the array namespace whose
    differentiable `sum` / `astype` do the reduction (engine.core passes the installed one, so that higher-order
    passes can differentiate it); without it (None), NumPy's reductions do it (``unbroadcast_raw``).
    """
    if isinstance(g, (np.ndarray, np.generic)) and g.shape == shape and g.dtype == dtype:
        return g  # fast path: nothing to undo
    if ns is None:  # no namespace given: nothing will differentiate the reduction, NumPy's own does it
        return unbroadcast_raw(g, shape, dtype, prim_name, argnum)
    gshape = np.shape(g)
    if gshape != shape:
        extra = len(gshape) - len(shape)
        if extra > 0:
            g = ns.sum(g, axis=tuple(range(extra)))
            gshape = np.shape(g)
        if len(gshape) == len(shape):
            axes = tuple(i for i, (gs, s) in enumerate(zip(gshape, shape)) if s == 1 and gs != 1)
            if axes:
                g = ns.sum(g, axis=axes, keepdims=True)
                gshape = np.shape(g)
        if gshape != shape:
            raise EngineError(
                f"VJP of '{prim_name}' for argument {argnum} has shape {gshape}, which does not reduce to the "
                f"argument's shape {shape}"
            )
    gdtype = g.dtype if hasattr(g, "dtype") else np.result_type(g)
    if gdtype != dtype:
        if np.issubdtype(dtype, np.inexact):
            g = ns.astype(g, dtype)
        elif not np.issubdtype(gdtype, np.inexact):
            raise EngineError(f"VJP of '{prim_name}' for argument {argnum} is not a float array ({gdtype})")
    if not hasattr(g, "shape"):
        g = np.asarray(g)
    return g


def unbroadcast_raw(g, shape, dtype, prim_name="?", argnum=0):
    """``unbroadcast`` for first-order backward passes (nothing differentiates them): the same rule and checks,
    with NumPy's own reductions instead of the engine's sum primitive (tests check that both agree)."""
    if not isinstance(g, np.ndarray):
        g = np.asarray(g)
    gshape = g.shape
    if gshape[1:] == shape and gshape and g.dtype == dtype:  # the common case: one leading broadcast axis
        return np.add.reduce(g, axis=0) if shape else np.asarray(np.add.reduce(g, axis=0))
    if gshape != shape:
        extra = len(gshape) - len(shape)
        if extra > 0:
            g = np.add.reduce(g, axis=tuple(range(extra)))
            if not isinstance(g, np.ndarray):  # a reduction to shape () gives a NumPy scalar
                g = np.asarray(g)
            gshape = g.shape
        if len(gshape) == len(shape):
            axes = tuple(i for i, (gs, s) in enumerate(zip(gshape, shape)) if s == 1 and gs != 1)
            if axes:
                g = np.add.reduce(g, axis=axes, keepdims=True)
                gshape = g.shape
        if gshape != shape:
            raise EngineError(
                f"VJP of '{prim_name}' for argument {argnum} has shape {gshape}, which does not reduce to the "
                f"argument's shape {shape}"
            )
    if g.dtype != dtype:
        if np.issubdtype(dtype, np.inexact):
            g = g.astype(dtype)
        elif not np.issubdtype(g.dtype, np.inexact):
            raise EngineError(f"VJP of '{prim_name}' for argument {argnum} is not a float array ({g.dtype})")
    return g

"""Elementwise gradient clipping over pytrees."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._tree import format_path, tree_flatten, tree_paths, tree_unflatten
from .base import check_hyper

__all__ = ["clip_elementwise"]


def clip_elementwise(grads: Any, max_abs: float) -> Any:
    """Clip every entry of every leaf to [-max_abs, +max_abs]: g <- min(max(g, -c), c).

    The min-char-rnn / DiffRNN clip (np.clip(dparam, -5, 5), note /work/shared/notes/diffrnn.md, G2 backward).
    Returns a new tree of the same structure; NaN stays NaN (the optimisers' finiteness check reports it).

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:120-121 (G2: np.clip(dparam, -5, 5) on every gradient, the
    multipliers' too); minidsn choice: the bound is an argument (5 in DiffRNN), and G3's clip of the step rather than
    of the gradient is RMSProp(max_step=...), not this function.
    """
    c = check_hyper("max_abs", max_abs, lo=0.0, lo_open=True)
    leaves, treedef = tree_flatten(grads)
    out = []
    for (path, _), g in zip(tree_paths(grads), leaves):
        if isinstance(g, (float, np.floating)):
            g = np.asarray(g)
        if not isinstance(g, np.ndarray) or not np.issubdtype(g.dtype, np.floating):
            raise TypeError(f"clip_elementwise: leaf at {format_path(path)} is not a float array ({type(g).__name__})")
        out.append(np.clip(g, -c, c))
    return tree_unflatten(treedef, out)

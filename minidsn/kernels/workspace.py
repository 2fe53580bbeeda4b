"""Reuse of large arrays across training steps (double buffering), so a step does not pay for fresh memory.

Why: a fresh 200 MB array (S = 5000, float64) costs its page faults and the kernel zeroing every page before the
first write; measured here, writing a 5000 x 5000 result into a fresh array took 17 ms against 10.5 ms into a
reused one, and the URN's fused Adam pass 141 ms against 88 ms (three fresh outputs). A step returns new arrays (the
old state stays valid until the caller commits the new one: the run loop's NaN guard and Ctrl-C checkpoint rely on
that), so the arrays of the state before last are the ones that can be written again.

`SpareArrays.take` hands back an array offered earlier only when nothing else refers to it any more (checked with
the reference count: a caller who kept an old state, or any view of it, keeps it from being overwritten); otherwise
it allocates a new one. Reuse never changes a result: every element of a taken array is overwritten.
"""

from __future__ import annotations

import sys

import numpy as np


class SpareArrays:
    """Arrays a step has finished with, by name; `take` returns one that may be overwritten, or a new one."""

    def __init__(self):
        self._held: dict[str, np.ndarray] = {}

    def offer(self, name: str, arr) -> None:
        """`arr` may be overwritten by a later `take(name, ...)` once nothing else holds it."""
        if isinstance(arr, np.ndarray):
            self._held[name] = arr

    def take(self, name: str, shape: tuple, avoid: tuple = ()) -> np.ndarray:
        """A C-contiguous float64 array of `shape` with arbitrary content: the one offered under `name` if nothing
        else refers to it (and it is none of `avoid`), else a new one."""
        arr = self._held.pop(name, None)
        for a in avoid:
            if a is arr:
                arr = None
        if (arr is not None and arr.shape == tuple(shape) and arr.dtype == np.float64 and arr.flags.c_contiguous
                and arr.flags.writeable and arr.base is None
                # 2 = the local name `arr` + getrefcount's argument: no container, view or caller holds it
                and sys.getrefcount(arr) == 2):
            return arr
        return np.empty(shape)

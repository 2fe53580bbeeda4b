"""Memory measurement helpers: resident size, the allocator's view, and arrays kept alive only by reference cycles.

Why these three (issue 21): a long URN run grew to 12-14 GiB although the arrays it needs stayed the same. The
cause was arrays held by a reference cycle (a self-referencing closure in the checkpoint encoder): CPython frees such
objects only when its cyclic garbage collector runs, and objects that survive into its oldest generation are
collected rarely in a process holding many long-lived objects (Numba's compiler state), so every checkpoint left
W, m and v resident. `arrays_held_by_cycles` finds exactly this: it runs code with the collector off and returns the
ndarrays that only garbage cycles refer to.

Linux only for the resident size (/proc/self/statm) and mallinfo2 (glibc >= 2.33); elsewhere they return None.
"""

from __future__ import annotations

import ctypes
import gc
import os
from contextlib import contextmanager

import numpy as np

__all__ = ["rss_bytes", "malloc_info", "malloc_trim", "arrays_held_by_cycles", "unique_array_bytes"]

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes(pid: int | str = "self") -> int | None:
    """Resident set size of a process in bytes (None where /proc is missing)."""
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                              "fsmblks", "uordblks", "fordblks", "keepcost")]


def _libc():
    try:
        lib = ctypes.CDLL("libc.so.6")
        lib.mallinfo2.restype = _MallInfo2
        return lib
    except (OSError, AttributeError):
        return None


def malloc_info() -> dict | None:
    """glibc's view of the main heap and mmapped chunks, in bytes (None without glibc's mallinfo2):
    heap = bytes obtained with brk/sbrk, heap_in_use / heap_free = allocated / free bytes in it,
    mmapped = bytes in mmapped chunks (each large array is one), n_mmapped = their count."""
    lib = _libc()
    if lib is None:
        return None
    m = lib.mallinfo2()
    return {"heap": m.arena, "heap_in_use": m.uordblks, "heap_free": m.fordblks, "mmapped": m.hblkhd,
            "n_mmapped": m.hblks}


def malloc_trim() -> bool:
    """Ask glibc to return free heap pages to the system (malloc_trim(0)); False where unavailable."""
    lib = _libc()
    return bool(lib is not None and lib.malloc_trim(0))


def _held_arrays(garbage) -> list[np.ndarray]:
    # ndarrays and containers holding only untracked objects are not tracked by the collector, so they never appear
    # in gc.garbage themselves: walk from the garbage into untracked dicts / lists / tuples to find them.
    found, stack = {}, list(garbage)
    while stack:
        obj = stack.pop()
        try:
            refs = gc.get_referents(obj)
        except ReferenceError:  # a dead weak proxy
            continue
        for r in refs:
            if type(r) is np.ndarray:
                found[id(r)] = r
            elif type(r) in (dict, list, tuple) and not gc.is_tracked(r):
                stack.append(r)
    return list(found.values())


@contextmanager
def arrays_held_by_cycles():
    """Run the block with the cyclic collector off; afterwards the yielded list holds the ndarrays that were only
    reachable from reference cycles the block created (what a long run would keep until a full collection)."""
    held: list[np.ndarray] = []
    gc.collect()
    was_enabled, old_debug = gc.isenabled(), gc.get_debug()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        yield held
        gc.collect()
        held.extend(_held_arrays(gc.garbage))
    finally:
        gc.set_debug(old_debug)
        gc.garbage.clear()
        if was_enabled:
            gc.enable()


def unique_array_bytes(*trees) -> int:
    """Bytes of the distinct array buffers reachable from dicts / lists / tuples / objects' __dict__ in `trees`
    (a view counts as its base; an array reached twice counts once)."""
    seen_obj, seen_buf, total = set(), set(), 0
    stack = list(trees)
    while stack:
        x = stack.pop()
        if id(x) in seen_obj:
            continue
        seen_obj.add(id(x))
        if isinstance(x, np.ndarray):
            base = x
            while isinstance(base.base, np.ndarray):
                base = base.base
            if id(base) not in seen_buf:
                seen_buf.add(id(base))
                total += base.nbytes
        elif isinstance(x, dict):
            stack.extend(x.values())
        elif isinstance(x, (list, tuple, set)):
            stack.extend(x)
        elif hasattr(x, "__dict__") and not isinstance(x, type):
            stack.extend(vars(x).values())
    return total

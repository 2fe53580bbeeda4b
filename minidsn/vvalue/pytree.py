"""Registration of VValue with the engine's pytree registry.

Children are the values in canonical label order; the static aux data is the tuple of labels; path keys are the
labels.  Unflatten uses ``VValue._raw``: every leaf is kept (no zero-dropping), so a gradient with respect to a
V-value has exactly the argument's structure (see the zero-dropping rule in minidsn.vvalue.core).
"""

from __future__ import annotations

from .core import VValue

__all__ = ["register_with_engine"]

_done = False


def _flatten(v: VValue):
    keys = tuple(v._d)
    return [v._d[k] for k in keys], keys


def _unflatten(keys, children):
    return VValue._raw(dict(zip(keys, children)))


def _keys(v, keys):
    return list(keys)


def register_with_engine() -> bool:
    """Register once; returns False when the engine is not importable yet.

    Source: none (registration with the engine's pytree registry, no formula).
    """
    global _done
    if _done:
        return True
    try:
        from minidsn.engine import register_pytree_node
    except ImportError:
        try:
            from minidsn.engine.pytree import register_pytree_node
        except ImportError:
            return False
    register_pytree_node(VValue, _flatten, _unflatten, _keys)
    _done = True
    return True

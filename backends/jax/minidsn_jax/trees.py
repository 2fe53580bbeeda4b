"""Flat '/'-joined keys <-> nested dicts, and host (NumPy) <-> device (JAX) conversion of pytrees.

The oracle stores a pytree as flat keys ``<group>/<path>`` whose path joins dict keys and list indices with '/'
(docs/oracle.md, "File format"). These helpers read such a group into a nested dict and write one back; they are the
only bridge between the case files and the models' pytrees.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


def unflatten(flat: dict, prefix: str = "") -> dict:
    """Nested dict from ``{"a/b/c": v}`` (keeping only keys under ``prefix``, with the prefix removed)."""
    out: dict = {}
    p = prefix.rstrip("/") + "/" if prefix else ""
    for key, value in flat.items():
        if p and not key.startswith(p):
            continue
        parts = key[len(p):].split("/")
        node = out
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value
    return out


def flatten(tree, prefix: str = "") -> dict:
    """Flat ``{"prefix/a/b": leaf}`` from nested dicts / lists / tuples (dict keys sorted, list indices)."""
    out = {}

    def walk(node, path):
        if isinstance(node, dict):
            for k in sorted(node):
                walk(node[k], f"{path}/{k}" if path else str(k))
        elif isinstance(node, (list, tuple)):
            for i, v in enumerate(node):
                walk(v, f"{path}/{i}" if path else str(i))
        else:
            out[path] = node

    walk(tree, prefix.rstrip("/"))
    return out


def _numeric(a) -> bool:
    return isinstance(a, (np.ndarray, np.generic, jax.Array, int, float)) and not isinstance(a, (str, bytes))


def to_device(tree):
    """Every numeric leaf (NumPy array or scalar, Python number) as a jax array (dtype kept); strings stay."""
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a) if _numeric(a) else a, tree)


def to_host(tree):
    """Every jax array leaf as a NumPy array (float64 stays float64); other leaves (numbers, strings) stay."""
    return jax.tree_util.tree_map(lambda a: np.asarray(a) if isinstance(a, jax.Array) else a, tree)


def as_list(d: dict) -> list:
    """A dict keyed '0', '1', ... (a list as the flat keys spell it) back to a list in index order."""
    return [d[str(i)] for i in range(len(d))]

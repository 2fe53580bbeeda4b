"""Pytree helpers for the optimisers: flatten with paths, look a leaf up by path, replace one leaf.

The tree functions come from minidsn.engine: one pytree definition for the whole package (dict in sorted-key order,
list, tuple, None, and registered container types such as V-values).
"""

from __future__ import annotations

from typing import Any

from minidsn.engine import tree_flatten, tree_paths, tree_unflatten

__all__ = ["tree_flatten", "tree_unflatten", "tree_paths", "format_path", "leaf_index", "replace_leaves"]


def format_path(path: tuple) -> str:
    """Human-readable path for error messages, e.g. ('layers', 1, 'W') -> layers/1/W.

    Source: none (error-message helper, no formula).
    """
    return "/".join(str(k) for k in path) if path else "<root>"


def leaf_index(tree: Any, path: tuple, what: str = "params") -> int:
    """Position (in flattening order) of the leaf at `path`; a clear KeyError if there is none.

    Source: none (pytree lookup, no formula).
    """
    paths = [p for p, _ in tree_paths(tree)]
    for i, p in enumerate(paths):
        if p == path:
            return i
    below = [p for p in paths if p[: len(path)] == path]
    if below:
        raise KeyError(
            f"path {path!r} in {what} names a subtree with {len(below)} leaves, not one array; "
            f"give the full path to a leaf, e.g. {below[0]!r}"
        )
    shown = ", ".join(repr(p) for p in paths[:12]) + (" ..." if len(paths) > 12 else "")
    raise KeyError(f"path {path!r} not found in {what}; its leaf paths are: {shown}")


def replace_leaves(tree: Any, new_leaves: dict[int, Any]) -> Any:
    """A new tree equal to `tree` except that leaf number i is replaced by new_leaves[i]; `tree` is not modified.

    Source: none (pytree plumbing, no formula).
    """
    leaves, treedef = tree_flatten(tree)
    leaves = list(leaves)
    for i, leaf in new_leaves.items():
        leaves[i] = leaf
    return tree_unflatten(treedef, leaves)

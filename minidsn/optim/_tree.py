"""Pytree helpers for the optimisers: flatten with paths, look a leaf up by path, replace one leaf.

The tree functions come from minidsn.engine (one pytree definition for the whole package: dict in sorted-key order,
list, tuple, None, registered types). Until the engine package is importable a tiny private version with the same
semantics for dict / list / tuple / None is used.
"""

from __future__ import annotations

from typing import Any

try:  # the engine's pytrees (they also know registered container types such as V-values)
    from minidsn.engine import tree_flatten, tree_paths, tree_unflatten
except ImportError:  # pragma: no cover - interim fallback while the engine is being written

    def _children(node: Any):
        if isinstance(node, dict):
            keys = sorted(node)
            return keys, [node[k] for k in keys], ("dict", tuple(keys))
        if isinstance(node, (list, tuple)):
            return list(range(len(node))), list(node), (type(node).__name__, len(node))
        if node is None:
            return [], [], ("none", None)
        return None

    def tree_paths(tree: Any) -> list:
        out: list = []
        stack: list = [((), tree)]
        while stack:
            path, node = stack.pop()
            kids = _children(node) if type(node) in (dict, list, tuple, type(None)) else None
            if kids is None:
                out.append((path, node))
                continue
            keys, children, _ = kids
            for k, c in reversed(list(zip(keys, children))):
                stack.append((path + (k,), c))
        return out

    def _treedef(node: Any):
        kids = _children(node) if type(node) in (dict, list, tuple, type(None)) else None
        if kids is None:
            return "*"
        return (kids[2], tuple(_treedef(c) for c in kids[1]))

    def tree_flatten(tree: Any):
        return [leaf for _, leaf in tree_paths(tree)], _treedef(tree)

    def tree_unflatten(treedef: Any, leaves) -> Any:
        it = iter(list(leaves))

        def build(d):
            if d == "*":
                return next(it)
            (kind, aux), kids = d
            built = [build(k) for k in kids]
            if kind == "dict":
                return dict(zip(aux, built))
            if kind == "list":
                return built
            if kind == "tuple":
                return tuple(built)
            return None

        return build(treedef)


__all__ = ["tree_flatten", "tree_unflatten", "tree_paths", "format_path", "leaf_index", "replace_leaves"]


def format_path(path: tuple) -> str:
    """Human-readable path for error messages, e.g. ('layers', 1, 'W') -> layers/1/W."""
    return "/".join(str(k) for k in path) if path else "<root>"


def leaf_index(tree: Any, path: tuple, what: str = "params") -> int:
    """Position (in flattening order) of the leaf at `path`; a clear KeyError if there is none."""
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
    """A new tree equal to `tree` except that leaf number i is replaced by new_leaves[i]; `tree` is not modified."""
    leaves, treedef = tree_flatten(tree)
    leaves = list(leaves)
    for i, leaf in new_leaves.items():
        leaves[i] = leaf
    return tree_unflatten(treedef, leaves)

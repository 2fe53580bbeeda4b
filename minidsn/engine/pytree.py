"""Pytrees: nested containers of array leaves that the transforms accept as arguments and return as gradients.

Built in: dict (flattened in sorted-key order, so the order does not depend on insertion), list, tuple, namedtuples
(each class registered on first sight; its field names are the path keys), and None (an empty tree). Any other
container type joins with `register_pytree_node`; everything else is a leaf.

Flattening is iterative (an explicit stack), so deep trees do not hit Python's recursion limit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

__all__ = [
    "register_pytree_node",
    "tree_flatten",
    "tree_unflatten",
    "tree_leaves",
    "tree_map",
    "tree_paths",
    "tree_structure",
    "PyTreeDef",
]

# type -> (flatten(node) -> (children, aux), unflatten(aux, children) -> node, keys(node, aux) -> path keys)
_REGISTRY: dict[type, tuple[Callable, Callable, Callable]] = {}


def register_pytree_node(cls: type, flatten: Callable, unflatten: Callable, keys: Callable | None = None) -> None:
    """Register a container type.

    flatten(node) -> (children: sequence, aux: hashable static data)
    unflatten(aux, children: list) -> node
    keys(node, aux) -> one path key per child (for tree_paths / oracle keys); default: child positions 0, 1, ...
    """
    if not isinstance(cls, type):
        raise TypeError(f"register_pytree_node needs a type, got {cls!r}")
    _REGISTRY[cls] = (flatten, unflatten, keys or (lambda node, aux: list(range(len(flatten(node)[0])))))


def _sorted_keys(d: dict) -> list:
    try:
        return sorted(d)
    except TypeError as err:  # mixed key types cannot be ordered
        raise TypeError(f"pytree dict keys must be mutually orderable, got {list(d)!r}") from err


def _flatten_dict(d: dict):
    keys = _sorted_keys(d)
    return [d[k] for k in keys], tuple(keys)


register_pytree_node(dict, _flatten_dict, lambda aux, ch: dict(zip(aux, ch)), lambda d, aux: list(aux))
register_pytree_node(list, lambda x: (list(x), len(x)), lambda aux, ch: list(ch))
register_pytree_node(tuple, lambda x: (list(x), len(x)), lambda aux, ch: tuple(ch))
register_pytree_node(type(None), lambda x: ([], None), lambda aux, ch: None, lambda node, aux: [])


@dataclass(frozen=True)
class PyTreeDef:
    """The shape of a tree without its leaves. `kind` is None for a leaf; else the container type."""

    kind: type | None
    aux: Any
    children: tuple["PyTreeDef", ...]
    num_leaves: int

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        inner = ", ".join(repr(c) for c in self.children)
        return f"{self.kind.__name__}({inner})"


_LEAF = PyTreeDef(None, None, (), 1)
_FLAT_DEFS: dict = {}  # (container type, aux) -> treedef of a one-level container of leaves


def _is_node(x: Any) -> bool:
    kind = type(x)
    return kind in _REGISTRY or (issubclass(kind, tuple) and _register_namedtuple(kind))


def _register_namedtuple(kind: type) -> bool:
    """A namedtuple class is a container (as in JAX), registered on first sight: its fields are its children, the
    field names their path keys, and it comes back as the same class. Any other tuple subclass stays a leaf."""
    fields = getattr(kind, "_fields", None)
    if not (isinstance(fields, tuple) and all(isinstance(f, str) for f in fields)):
        return False
    register_pytree_node(kind, lambda x: (list(x), None), lambda aux, ch: kind(*ch), lambda node, aux: list(fields))
    return True


def tree_flatten(tree: Any) -> tuple[list, PyTreeDef]:
    """Return (leaves in order, treedef)."""
    kind = type(tree)
    if kind not in _REGISTRY and not (issubclass(kind, tuple) and _register_namedtuple(kind)):
        return [tree], _LEAF
    if kind is dict or kind is list or kind is tuple:
        # fast path: a one-level container of leaves (the usual parameter dict)
        children, aux = _REGISTRY[kind][0](tree)
        if not any(type(c) in _REGISTRY or isinstance(c, tuple) for c in children):  # (tuple: a namedtuple?)
            key = (kind, aux)
            treedef = _FLAT_DEFS.get(key)
            if treedef is None:  # one treedef object per container shape: no rebuilding on every call
                if len(_FLAT_DEFS) > 4096:  # bounded, whatever a caller does
                    _FLAT_DEFS.clear()
                n = len(children)
                treedef = _FLAT_DEFS[key] = PyTreeDef(kind, aux, (_LEAF,) * n, n)
            return list(children), treedef
    leaves: list = []
    # Post-order construction of defs with an explicit stack: (node, expanded?)
    stack: list = [(tree, False)]
    defs: list[PyTreeDef] = []
    while stack:
        node, expanded = stack.pop()
        if not _is_node(node):
            leaves.append(node)
            defs.append(_LEAF)
            continue
        flatten, _, _ = _REGISTRY[type(node)]
        children, aux = flatten(node)
        if expanded:
            n = len(children)
            kids = tuple(defs[len(defs) - n:]) if n else ()
            del defs[len(defs) - n:]
            defs.append(PyTreeDef(type(node), aux, kids, sum(k.num_leaves for k in kids)))
        else:
            stack.append((node, True))
            for child in reversed(list(children)):
                stack.append((child, False))
    return leaves, defs[0]


def tree_unflatten(treedef: PyTreeDef, leaves) -> Any:
    """Rebuild a tree of shape `treedef` from `leaves` (in flattening order)."""
    leaves = list(leaves)
    if len(leaves) != treedef.num_leaves:
        raise ValueError(f"tree_unflatten: treedef {treedef!r} needs {treedef.num_leaves} leaves, got {len(leaves)}")
    if treedef.kind is None:
        return leaves[0]
    if treedef.num_leaves == len(treedef.children) and all(c.kind is None for c in treedef.children):
        return _REGISTRY[treedef.kind][1](treedef.aux, leaves)  # fast path: one level of leaves
    it = iter(leaves)
    # Iterative post-order rebuild.
    stack: list = [(treedef, False)]
    built: list = []
    while stack:
        d, expanded = stack.pop()
        if d.kind is None:
            built.append(next(it))
            continue
        if expanded:
            n = len(d.children)
            kids = built[len(built) - n:] if n else []
            del built[len(built) - n:]
            built.append(_REGISTRY[d.kind][1](d.aux, list(kids)))
        else:
            stack.append((d, True))
            for c in reversed(d.children):
                stack.append((c, False))
    return built[0]


def tree_leaves(tree: Any) -> list:
    return tree_flatten(tree)[0]


def tree_structure(tree: Any) -> PyTreeDef:
    return tree_flatten(tree)[1]


def tree_map(f: Callable, tree: Any, *rest: Any) -> Any:
    """Apply f leaf-wise; `rest` trees must have the same structure as `tree`."""
    leaves, treedef = tree_flatten(tree)
    others = []
    for r in rest:
        rl, rd = tree_flatten(r)
        if rd != treedef:
            raise ValueError(f"tree_map: tree structures differ: {treedef!r} vs {rd!r}")
        others.append(rl)
    return tree_unflatten(treedef, [f(*xs) for xs in zip(leaves, *others)])


def tree_paths(tree: Any) -> list[tuple[tuple, Any]]:
    """[(path, leaf), ...] in flattening order; a path is the tuple of keys from the root to the leaf."""
    out: list = []
    stack: list = [((), tree)]
    while stack:
        path, node = stack.pop()
        if not _is_node(node):
            out.append((path, node))
            continue
        flatten, _, keys = _REGISTRY[type(node)]
        children, aux = flatten(node)
        ks = keys(node, aux)
        for k, c in reversed(list(zip(ks, children))):
            stack.append((path + (k,), c))
    return out

"""The V-value type: an immutable, sparse, finite prefix tree with numeric leaves.

Definition (seed 004 / notes/dmm.md "V-values"; arXiv 1712.07447 section 2): V = R (+) (L -> V) with finite support,
i.e. a nested dictionary whose leaves are numbers.  Example ``{"number": 3.5, "foo": {"number": 2, "bar": 7}}``.

Representation here
- Labels are ``str``, ``int`` or tuples of labels (``np.str_`` / NumPy integers are stored as ``str`` / ``int``).
  Children are kept in a canonical sorted order (strings before ints before tuples) so flattening, repr and iteration
  do not depend on insertion order.
- Depth: at most ``MAX_DEPTH`` (100) labels on a path from the root to a leaf.  Deeper (or cyclic) input is refused
  with a ValueError when the V-value is built, so no operation (all of them recurse over the tree) can run out of
  Python stack; every operation keeps the depth of its arguments.
- Leaves are Python/NumPy real numbers (stored as Python floats), real ndarrays (stored as read-only float64 copies),
  or engine-traced values.  Bools and complex numbers are refused.  NaN and inf are ordinary (non-zero) leaves and
  follow IEEE arithmetic: NaN != NaN, so a V-value holding NaN is not ``==`` to itself; inf - inf and 0 * inf are NaN.
- A number standing where a map is needed (e.g. in a sum with a map) is read as ``{NUMBER: x}`` (notes: "a number
  beside a map becomes {number: x}").  ``NUMBER`` is ``":number"``, the key the DMM-Lite code uses.

The zero-dropping rule (sparsity)
- When a V-value is *built by the public constructor or by an operation*, a leaf is dropped only if it is a concrete
  Python/NumPy value that is exactly zero everywhere (``0.0``, ``-0.0``, an all-zero array); subtrees left empty are
  dropped too.
- A leaf that is an engine-traced value is never dropped, whatever its current value: dropping would cut the leaf
  out of the recorded computation and change the structure of gradients.  Structural zeros therefore survive while
  tracing, which is harmless (a missing key and a zero leaf mean the same vector).
- Rebuilding from a pytree (``VValue._raw``, used by the engine's unflatten, e.g. for gradients) keeps every leaf, so a
  gradient has exactly the structure of the argument even where its entries are zero.  ``canonical()`` drops them.
"""

from __future__ import annotations

import numbers
from typing import Any, Iterator

import numpy as np

__all__ = ["VValue", "NUMBER", "MAX_DEPTH", "is_concrete_leaf", "is_zero_leaf", "label_sort_key", "as_vvalue"]

NUMBER = ":number"

# Longest path (number of labels from the root to a leaf) a V-value may have: see the module doc, "Depth".
MAX_DEPTH = 100


def _is_traced(x) -> bool:
    try:
        from minidsn.engine import is_traced
    except ImportError:  # engine not importable: nothing can be traced
        return False
    return is_traced(x)


def is_concrete_leaf(x) -> bool:
    """A plain Python/NumPy number or ndarray (never traced).

    Source: none (type predicate, no formula).
    """
    return isinstance(x, (numbers.Number, np.ndarray, np.generic)) and not isinstance(x, bool)


def is_zero_leaf(x) -> bool:
    """True only for a concrete leaf that is exactly zero everywhere; traced leaves are never 'zero' (see module doc).

    Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:11,15 (=num0?, nullelt?: the zero number and the empty map are the elements the
    operations drop); minidsn choice: an all-zero array leaf is zero too, a traced leaf never is (module doc, "The
    zero-dropping rule").
    """
    if not is_concrete_leaf(x):
        return False
    return not np.any(x)


def label_sort_key(label):
    """Total order on labels: strings, then ints, then tuples (compared element-wise by the same rule).

    Source: none (minidsn's canonical order of labels, so that flattening does not depend on insertion order; no
    formula: a V-value is unordered).
    """
    if isinstance(label, str):
        return (0, label)
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        return (1, int(label))
    if isinstance(label, tuple):
        return (2, tuple(label_sort_key(x) for x in label))
    raise TypeError(f"V-value labels must be str, int or tuples of those; got {type(label).__name__} {label!r}")


def _check_label(label):
    """The canonical form of a label (plain str / int inside tuples too); a TypeError for anything else."""
    if type(label) is str:  # the common case
        return label
    label_sort_key(label)  # raises for bad labels
    return _canon_label(label)


def _canon_label(label):
    if isinstance(label, str):
        return str(label)
    if isinstance(label, tuple):
        return tuple(_canon_label(x) for x in label)
    return int(label)


def _normalise_leaf(x, where):
    """Validate a leaf; concrete numbers become float64 scalars, arrays read-only float64 arrays."""
    if isinstance(x, bool) or isinstance(x, np.bool_):
        raise TypeError(f"V-value leaf at {where!r} is a bool; leaves must be numbers or float arrays")
    if isinstance(x, (numbers.Real, np.integer, np.floating)):
        return float(x)
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "fiu":
            raise TypeError(f"V-value leaf at {where!r} has dtype {x.dtype}; need a real numeric array")
        if x.ndim == 0:
            return float(x)
        a = np.array(x, dtype=np.float64, copy=True)
        a.setflags(write=False)
        return a
    if _is_traced(x):
        return x
    raise TypeError(f"V-value leaf at {where!r} has unsupported type {type(x).__name__}: {x!r}")


def leaf_shape(x) -> tuple:
    """Shape of a leaf: () for a Python float, else its ``shape`` attribute (() when it has none).

    Source: none (helper, no formula).
    """
    if isinstance(x, float):
        return ()
    return tuple(getattr(x, "shape", ()))


class VValue:
    """An immutable sparse tree-shaped vector.  Build with ``VValue({...})`` (nested dicts allowed) or ``VValue.number``.

    Mapping-like read access: ``v[label]``, ``label in v``, ``len(v)``, ``iter(v)`` (labels), ``v.items()``.
    Vector-space operations: ``a + b``, ``a - b``, ``-a``, ``c * a``, ``a / c`` (see minidsn.vvalue.algebra).

    Source: seed 004 l. 9 ("vectors with tree-shaped indices", after arXiv 1712.07447 "Dataflow Matrix Machines and
    V-values"); jsa-aerial/DMM@5339079 src/dmm/core.clj:9,16 (a value is a map or a number, mORn?; a number
    where a map is needed is (numelt x) = {:number x}); jsa-aerial/DMM@5339079 src/dmm/core.clj:45-66
    (the "recurrent maps" section: nested maps with numeric leaves, every operation recursing over them);
    minidsn choice: labels are str / int / tuples of those (the Clojure code uses keywords, the Julia code strings),
    kept in a canonical sorted order; depth at most MAX_DEPTH; leaves may also be real arrays or traced values; the
    number key is ":number", the Julia spelling (arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:151) —
    module doc, "Representation here".
    """

    __slots__ = ("_d",)

    def __init__(self, data=None, /):
        if data is None:
            data = {}
        if isinstance(data, VValue):
            data = data._d
        if not isinstance(data, dict):
            if is_concrete_leaf(data) or _is_traced(data):
                data = {NUMBER: data}
            else:
                raise TypeError(f"VValue needs a dict, a VValue or a number; got {type(data).__name__}")
        object.__setattr__(self, "_d", _sorted(_build_children(data, 1, ())))

    @classmethod
    def _raw(cls, d: dict) -> "VValue":
        """Build without validation or zero-dropping (pytree unflatten, gradients).  Keys must already be labels."""
        obj = object.__new__(cls)
        object.__setattr__(obj, "_d", _sorted(d))
        return obj

    @classmethod
    def _build(cls, d: dict) -> "VValue":
        """Build from already-valid children, applying the zero-dropping rule (used by operations)."""
        out = {}
        for k, v in d.items():
            if isinstance(v, VValue):
                if len(v._d):
                    out[k] = v
            elif not is_zero_leaf(v):
                out[k] = v
        return cls._raw(out)

    @classmethod
    def number(cls, x) -> "VValue":
        """``{NUMBER: x}``: how a scalar travels as a V-value (DMM-Lite stores scalars this way).

        Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:16 (numelt: {:number x}); anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:151 (DMM-Lite's scalars: Dict(":number" => s)).
        """
        return cls({NUMBER: x})

    # --- immutability ----------------------------------------------------------------------------------------
    def __setattr__(self, name, value):
        raise AttributeError("VValue is immutable")

    def __delattr__(self, name):
        raise AttributeError("VValue is immutable")

    # --- mapping-style access -----------------------------------------------------------------------------------
    def __getitem__(self, label):
        return self._d[label]

    def __contains__(self, label) -> bool:
        return label in self._d

    def __len__(self) -> int:
        return len(self._d)

    def __iter__(self) -> Iterator:
        return iter(self._d)

    def keys(self):
        """The labels of the top level, in canonical order.

        Source: none (mapping access).
        """
        return self._d.keys()

    def items(self):
        """(label, child) pairs of the top level, in canonical order.

        Source: none (mapping access).
        """
        return self._d.items()

    def values(self):
        """The children of the top level (sub-V-values or leaves), in canonical order.

        Source: none (mapping access).
        """
        return self._d.values()

    def get(self, path, default=None):
        """The subtree or leaf at ``path`` (a label or a tuple path), or ``default`` when absent.

        Descending into a leaf x by the label NUMBER returns x (a number is ``{NUMBER: x}``); any other label under a
        leaf is absent.  A single label that is itself a tuple must be wrapped: ``v.get((("a", 1),))``.

        Source: none (accessor, no formula); minidsn choice: descending into a leaf by NUMBER reads the leaf as
        {NUMBER: x}, the reading jsa-aerial/DMM@5339079 src/dmm/core.clj:94-95 gives a number beside a map in a sum.
        """
        if not isinstance(path, tuple):
            path = (path,)
        node = self
        for label in path:
            if isinstance(node, VValue):
                if label not in node._d:
                    return default
                node = node._d[label]
            elif label == NUMBER:
                continue
            else:
                return default
        return node

    def number_at(self, label=None):
        """The scalar at ``self[label][NUMBER]`` (or ``self[NUMBER]``), 0.0 when missing: DMM-Lite's ``get_N``.

        Source: anhinga/julia-flux-drafts@6527aa0 arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:11-17 (get_N: the
        number at a key, 0 when the key is missing); minidsn choice: a bare leaf is returned as is, a map under
        NUMBER reads as 0.0.
        """
        node = self if label is None else self.get(label)
        if node is None:
            return 0.0
        if isinstance(node, VValue):
            x = node._d.get(NUMBER, 0.0)
            return 0.0 if isinstance(x, VValue) else x
        return node

    def paths(self) -> list[tuple[tuple, Any]]:
        """``[(path, leaf), ...]`` in canonical (sorted, depth-first) order.

        Source: none (traversal, no formula).
        """
        out = []

        def walk(prefix, node):
            for k, v in node._d.items():
                if isinstance(v, VValue):
                    walk(prefix + (k,), v)
                else:
                    out.append((prefix + (k,), v))

        walk((), self)
        return out

    def leaves(self) -> list:
        """The leaves in canonical (sorted, depth-first) order.

        Source: none (traversal, no formula).
        """
        return [leaf for _, leaf in self.paths()]

    def is_traced(self) -> bool:
        """True when any leaf is an engine-traced value.

        Source: none (engine query, no formula).
        """
        return any(_is_traced(x) for x in self.leaves())

    def canonical(self) -> "VValue":
        """The same vector with exact concrete zeros and empty subtrees removed.

        Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:65,97 (rec-map-op and rec-map-sum drop a child that is nullelt?, i.e.
        0 or {}, l. 15); minidsn choice: a traced leaf is kept (module doc, "The zero-dropping rule").
        """
        out = {}
        for k, v in self._d.items():
            if isinstance(v, VValue):
                v = v.canonical()
            out[k] = v
        return VValue._build(out)

    # --- copying and pickling: immutable, so copies share; pickles keep every leaf (zeros too) ------------------
    def __copy__(self) -> "VValue":
        return self

    def __deepcopy__(self, memo) -> "VValue":
        return self

    def __reduce__(self):
        return (_unpickle, (self._d,))

    # The operators (+ - * / ==) are installed by minidsn.vvalue.algebra and the conversions (to_dict, to_json) by
    # minidsn.vvalue.io when the package is imported, so this module never imports them.
    __hash__ = None  # leaves may be arrays; equality is by value

    def __repr__(self) -> str:
        return f"VValue({_repr_tree(self)})"


def _build_children(data: dict, depth: int, chain: tuple) -> dict:
    """Validated children of one level of the public constructor (zero-dropping applied); ``depth`` counts the labels
    down to this level, ``chain`` holds the ids of the enclosing input dicts (a dict inside itself is refused)."""
    if depth > MAX_DEPTH:
        raise ValueError(f"V-value nesting deeper than {MAX_DEPTH} labels (or a cyclic dict): the limit is "
                         f"minidsn.vvalue.MAX_DEPTH")
    d = {}
    chain = chain + (id(data),)
    for k, v in data.items():
        k = _check_label(k)
        if isinstance(v, VValue):
            v = v._d
        elif not isinstance(v, dict):
            leaf = _normalise_leaf(v, k)
            if not is_zero_leaf(leaf):
                d[k] = leaf
            continue
        if id(v) in chain:
            raise ValueError(f"V-value input is cyclic: the dict under label {k!r} contains itself")
        children = _build_children(v, depth + 1, chain)
        if children:
            d[k] = VValue._raw(children)
    return d


def _unpickle(d: dict) -> "VValue":
    """Rebuild a pickled V-value: every leaf kept (as _raw), arrays read-only again."""
    out = {}
    for k, x in d.items():
        if isinstance(x, np.ndarray) and x.flags.writeable:
            x = x.copy()
            x.setflags(write=False)
        out[k] = x
    return VValue._raw(out)


def _sorted(d: dict) -> dict:
    return {k: d[k] for k in sorted(d, key=label_sort_key)}


def _repr_leaf(x) -> str:
    if isinstance(x, float):
        return repr(x)
    if isinstance(x, np.ndarray) and x.ndim == 0:
        return repr(float(x))
    if isinstance(x, np.ndarray):
        return np.array2string(x, separator=", ", precision=6, threshold=20)
    return repr(x)


def _repr_tree(v: VValue) -> str:
    parts = []
    for k, x in v._d.items():
        inner = _repr_tree(x) if isinstance(x, VValue) else _repr_leaf(x)
        parts.append(f"{k!r}: {inner}")
    return "{" + ", ".join(parts) + "}"


def as_vvalue(x) -> VValue:
    """A V-value from a V-value, a nested dict, or a number (a number becomes ``{NUMBER: x}``).

    Source: none (conversion; the number case is VValue.number).
    """
    if isinstance(x, VValue):
        return x
    return VValue(x)

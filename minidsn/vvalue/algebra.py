"""Vector-space operations on V-values (notes/dmm.md "V-values"; arXiv 1712.07447 section 2).

Every operation works leaf by leaf with Python operators or minidsn.numpy functions, never ``float()`` on a leaf, so
the same code runs on concrete leaves and on engine-traced leaves (gradients flow through V-values).  Results follow
the zero-dropping rule of minidsn.vvalue.core: only concrete exact zeros are dropped, traced leaves are kept.

Equations (V = R (+) (L -> V), a missing key is 0):
- sum:        (a + b)[k] = a[k] + b[k], recursively; a number x beside a map m is read as {NUMBER: x}
- scaling:    (c a)[k] = c a[k]
- mask lincomb: lincomb(mask, M) = sum over leaves (p, m) of mask of  m * M[p]     (M[p]: subtree of M at path p)
- max-norm:   |a|_max = max(0, max over leaves and their entries of |a_leaf|)   (NaN if any entry is NaN)
- dot:        <a, b> = sum over common leaf paths p of sum(a[p] * b[p])

Leaves at one path must have one shape, except that a scalar leaf beside an array leaf is broadcast (sum, ==, dot
alike); other shape differences are a ValueError naming the path.  NaN / inf follow IEEE arithmetic (core module doc).
"""

from __future__ import annotations

import functools
import numbers
import operator

import numpy as np

from .core import NUMBER, VValue, _is_traced, is_concrete_leaf, leaf_shape

__all__ = ["add", "scale", "vsum", "lincomb", "max_norm", "dot", "allclose", "leaf_abs_max"]


def _mnp():
    """minidsn.numpy when the engine is present (traced leaves need it); NumPy otherwise."""
    try:
        import minidsn.numpy as mnp

        if hasattr(mnp, "abs"):
            return mnp
    except ImportError:
        pass
    return np


def _promote(x) -> VValue:
    """A leaf where a map is needed: {NUMBER: x} (kept even if zero, so traced leaves are not lost)."""
    return VValue._raw({NUMBER: x})


def _add_leaves(x, y, where):
    sx, sy = leaf_shape(x), leaf_shape(y)
    if sx != sy and sx != () and sy != ():
        raise ValueError(f"V-value sum: leaves at {where!r} have shapes {sx} and {sy}")
    return x + y


def add(a: VValue, b: VValue, _where=()) -> VValue:
    """Recursive sum a + b (see module doc).

    Source: seed 004 l. 9 (vectors with tree-shaped indices); jsa-aerial/DMM@5339079 src/dmm/core.clj:85-98 (rec-map-sum:
    child by child, maps recursively, a number beside a map added as (numelt x) = {:number x}, l. 16; a child
    whose sum is 0 or {} is dropped, l. 97); cf. anhinga/julia-flux-drafts@6527aa0
    arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:112-119 (sum_dicts, the flat case: a missing key is 0);
    minidsn choice: only concrete exact zeros are dropped (traced leaves kept); array leaves (not in the originals)
    add elementwise, a scalar beside an array broadcasts, other shape mismatches are an error.
    """
    if not isinstance(a, VValue) or not isinstance(b, VValue):
        raise TypeError(f"add needs two VValues, got {type(a).__name__} and {type(b).__name__}")
    if not len(a._d):
        return b
    if not len(b._d):
        return a
    out = dict(a._d)
    for k, y in b._d.items():
        if k not in out:
            out[k] = y
            continue
        x = out[k]
        xv, yv = isinstance(x, VValue), isinstance(y, VValue)
        if xv and yv:
            out[k] = add(x, y, _where + (k,))
        elif xv:
            out[k] = add(x, _promote(y), _where + (k,))
        elif yv:
            out[k] = add(_promote(x), y, _where + (k,))
        else:
            out[k] = _add_leaves(x, y, _where + (k,))
    return VValue._build(out)


def scale(c, v: VValue) -> VValue:
    """c * v for a real scalar c (Python/NumPy number, 0-d real array, or traced 0-d value); bools are refused.

    Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:53-72 (rec-map-op / rec-map-mult: every leaf times n, recursively; n = 0
    gives {}, n = 1 returns M unchanged); minidsn choice: bools and non-scalars are refused; a traced c scales
    every leaf and no zero is dropped.
    """
    if isinstance(c, VValue) or not isinstance(v, VValue):
        raise TypeError("scale(c, v) needs a scalar c and a VValue v")
    if type(c) is not float and (isinstance(c, (bool, np.bool_)) or not (_is_real(c) or _is_traced(c))):
        raise TypeError(f"scale: the multiplier must be a real number, got {type(c).__name__} {c!r:.60}")
    if leaf_shape(c) != ():
        raise ValueError(f"scale: the multiplier must be a scalar, got shape {leaf_shape(c)}")
    if is_concrete_leaf(c):
        c = float(c)
        if c == 1.0:
            return v
    return _scale(c, v)


def _scale(c, v: VValue) -> VValue:
    out = {}
    for k, x in v._d.items():
        out[k] = _scale(c, x) if isinstance(x, VValue) else c * x
    return VValue._build(out)


def _is_real(c) -> bool:
    """A concrete real scalar or real ndarray (shape checked separately); bools are not real here."""
    if isinstance(c, np.ndarray):
        return c.dtype.kind in "fiu"
    return isinstance(c, (numbers.Real, np.integer, np.floating)) and not isinstance(c, (bool, np.bool_))


def vsum(values) -> VValue:
    """Sum of an iterable of V-values ({} when empty).

    Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:99-102 (the variadic rec-map-sum: a left fold of the pairwise sum).
    """
    return functools.reduce(add, values, VValue._raw({}))


def lincomb(mask: VValue, m: VValue) -> VValue:
    """Linear combination of subtrees of ``m`` with coefficients from ``mask``: sum_p mask[p] * m[p].

    This applies a network matrix: with ``mask = W[to_neuron][to_field]`` (leaves are the weights, their paths name
    (from_neuron, from_field)) and ``m`` the outputs, the result is the neuron input (notes/dmm.md "down movement").
    A path of the mask that is absent from ``m`` contributes nothing; a leaf of ``m`` reached by a path is a number.
    Mask leaves must be scalars.

    Source: seed 004 l. 9 ("neuron inputs computing linear combinations of vectors with tree-shaped indices");
    jsa-aerial/DMM@5339079 src/dmm/core.clj:157-182 (rec-map-lin-comb: walk the mask's leaves, multiply each by the subtree or
    number of M at the same path, sum; a path absent from M contributes nothing; l. 192-197 apply-matrix and
    l. 297-301 down-movement apply it as the network matrix); anhinga/julia-flux-drafts@6527aa0
    arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:74-95 (DMM-Lite's down movement, one weight per (neuron, field));
    minidsn choice: a mask path that runs past a number leaf x of m by the label NUMBER reaches x (x read as
    {NUMBER: x}), where core.clj:169 gives 0 (its own comment, l. 114-115, flags the {:number x} mask case as not
    working); mask leaves must be scalars.
    """
    if not isinstance(mask, VValue) or not isinstance(m, VValue):
        raise TypeError(f"lincomb needs two VValues, got {type(mask).__name__} and {type(m).__name__}")
    terms = []
    for path, w in mask.paths():
        if leaf_shape(w) != ():
            raise ValueError(f"lincomb: mask leaf at {path!r} must be a scalar, got shape {leaf_shape(w)}")
        sub = m.get(path)
        if sub is None:
            continue
        if not isinstance(sub, VValue):
            sub = _promote(sub)
        terms.append(scale(w, sub))
    return vsum(terms)


def leaf_abs_max(x):
    """max |x| over the entries of one leaf (0.0 for a size-0 array; NaN if an entry is NaN).

    Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:208 (the leaf step of rec-map-max-norm: (abs v)); minidsn choice: an array leaf
    gives the max over its entries, 0.0 when it has none.
    """
    if isinstance(x, float):
        return abs(x)
    if is_concrete_leaf(x):
        return float(np.max(np.abs(x))) if np.size(x) else 0.0
    mnp = _mnp()
    return mnp.max(mnp.abs(x))


def max_norm(v: VValue):
    """max(0, largest |leaf entry|); 0.0 for the empty V-value.

    On traced leaves the maximum is one ``max`` over the stacked |entries| (plus a 0 entry), so the engine's
    subgradient rule at ties applies exactly as in a dense computation over the same entries.  A NaN entry makes
    the norm NaN (as np.max), on concrete and traced leaves alike.

    Source: jsa-aerial/DMM@5339079 src/dmm/core.clj:203-211 (rec-map-max-norm: the max of |leaf| over the tree, starting from 0);
    anhinga/julia-flux-drafts@6527aa0 arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:145-152 (DMM-Lite's norm
    neuron, the flat case, starting from 0); minidsn choice: a NaN entry makes the norm NaN (as np.max).
    """
    if not isinstance(v, VValue):
        raise TypeError(f"max_norm needs a VValue, got {type(v).__name__}")
    leaves = v.leaves()
    if not any(_is_traced(x) for x in leaves):
        m = [leaf_abs_max(x) for x in leaves]
        if any(x != x for x in m):  # Python's max skips a NaN depending on its position: NaN wins, as in np.max
            return float("nan")
        return max([0.0] + m)
    mnp = _mnp()
    parts = [mnp.reshape(mnp.abs(x), (-1,)) if leaf_shape(x) != () else mnp.reshape(mnp.abs(x), (1,)) for x in leaves]
    parts.append(np.zeros(1))
    return mnp.max(mnp.concatenate(parts))


def _leaf_dot(x, y, where=()):
    sx, sy = leaf_shape(x), leaf_shape(y)
    if sx != sy and sx != () and sy != ():
        raise ValueError(f"dot: leaves at {where!r} have shapes {sx} and {sy}")
    if sx == () and sy == ():
        return x * y
    # an array beside an array of its shape, or a scalar beside an array (broadcast, as in the sum and ==)
    if is_concrete_leaf(x) and is_concrete_leaf(y):
        return float(np.sum(x * y))
    return _mnp().sum(x * y)


def dot(a: VValue, b: VValue):
    """Inner product sum_p <a[p], b[p]> over common leaf paths (0.0 when none).

    Source: anhinga/julia-flux-drafts@6527aa0 arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:156-162 (dot_product_dicts:
    sum_k d1_k d2_k over flat dicts, a key missing from d2 counts 0); jsa-aerial/DMM@5339079 src/dmm/core.clj:268-270 (for
    compatible shapes, rec-map-lin-comb is the scalar product); minidsn choice: recursive over nested V-values (a
    number beside a map read as {NUMBER: x}), array leaves summed entrywise, and no clip: the clip to [-4, 4]
    (dmm-lite.jl:163-165) belongs to the DMM-Lite dot neuron (minidsn/models/dmm/neurons.py), not to this product.
    """
    if not isinstance(a, VValue) or not isinstance(b, VValue):
        raise TypeError(f"dot needs two VValues, got {type(a).__name__} and {type(b).__name__}")
    return _dot(a, b, ())


def _dot(a: VValue, b: VValue, where: tuple):
    terms = []
    for k, x in a._d.items():
        if k not in b._d:
            continue
        y = b._d[k]
        xv, yv = isinstance(x, VValue), isinstance(y, VValue)
        if xv and yv:
            t = _dot(x, y, where + (k,))
        elif xv:
            t = _dot(x, _promote(y), where + (k,))
        elif yv:
            t = _dot(_promote(x), y, where + (k,))
        else:
            t = _leaf_dot(x, y, where + (k,))
        terms.append(t)
    if not terms:
        return 0.0
    return functools.reduce(operator.add, terms)


def _vector_paths(v: VValue) -> dict:
    """Leaf paths with a leaf x at p read as {NUMBER: x} at p, so both spellings of one vector agree.

    Applied repeatedly, the rule makes {NUMBER: {NUMBER: x}} the same component as {NUMBER: x} (as the sum treats
    them), so every trailing run of NUMBER labels is read as one."""
    out = {}
    for p, x in v.paths():
        n = len(p)
        while n and p[n - 1] == NUMBER:
            n -= 1
        q = p[:n] + (NUMBER,)
        out[q] = out[q] + x if q in out else x
    return out


def allclose(a: VValue, b: VValue, rtol=1e-9, atol=0.0) -> bool:
    """Equality as vectors within tolerance (missing = 0); concrete leaves only.  NaN equals nothing (IEEE).

    Source: none (comparison helper; the vector-space reading of notes/dmm.md "V-values": a missing key is 0).
    """
    if not isinstance(a, VValue) or not isinstance(b, VValue):
        raise TypeError(f"allclose needs two VValues, got {type(a).__name__} and {type(b).__name__}")
    da, db = _vector_paths(a), _vector_paths(b)
    for p in set(da) | set(db):
        x, y = da.get(p, 0.0), db.get(p, 0.0)
        if not (is_concrete_leaf(x) and is_concrete_leaf(y)):
            raise TypeError("V-value comparison needs concrete leaves (use stop_gradient first)")
        if np.shape(x) != np.shape(y) and np.shape(x) != () and np.shape(y) != ():
            return False
        if not np.allclose(x, y, rtol=rtol, atol=atol):
            return False
    return True


# --- operators of VValue, installed here so that core.py need not import this module ---------------------------
def _v_add(self, other):
    if not isinstance(other, VValue):
        return NotImplemented
    return add(self, other)


def _v_sub(self, other):
    if not isinstance(other, VValue):
        return NotImplemented
    return add(self, scale(-1.0, other))


def _v_neg(self):
    return scale(-1.0, self)


def _v_pos(self):
    return self


def _v_mul(self, c):
    if isinstance(c, VValue):
        return NotImplemented
    return scale(c, self)


def _v_truediv(self, c):
    if isinstance(c, VValue):
        return NotImplemented
    return scale(1.0 / c, self)


def _v_eq(self, other):
    """Equality as vectors (a missing key equals zero); defined for concrete leaves only."""
    if not isinstance(other, VValue):
        return NotImplemented
    return allclose(self, other, rtol=0.0, atol=0.0)


VValue.__add__ = _v_add
VValue.__sub__ = _v_sub
VValue.__neg__ = _v_neg
VValue.__pos__ = _v_pos
VValue.__mul__ = _v_mul
VValue.__rmul__ = _v_mul
VValue.__truediv__ = _v_truediv
VValue.__eq__ = _v_eq
VValue.__hash__ = None  # leaves may be arrays; equality is by value

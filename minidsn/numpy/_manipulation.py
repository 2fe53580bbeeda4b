"""Array manipulation of minidsn.numpy, composed from the table's primitives (indexing, reshape, transpose,
concatenate, ...), so each is differentiable to any order with no rule of its own.

Every function returns what NumPy's function of the same name returns (values, shape, dtype); on plain arrays most
simply call NumPy. Index arrays are computed with NumPy on the shape alone (never from traced values), so the
gradient is the adjoint gather/scatter of the primitive `getitem` (repeated indices add up).
"""

from __future__ import annotations

import builtins

import numpy as np

from minidsn.engine.core import Traced
from minidsn.numpy import _table as t

__all__ = [
    "atleast_1d", "atleast_2d", "atleast_3d", "vstack", "row_stack", "hstack", "dstack", "column_stack", "tile",
    "repeat", "append", "diff", "roll", "pad", "split", "array_split", "hsplit", "vsplit", "dsplit", "sort", "flip",
    "fliplr", "flipud", "rot90", "moveaxis", "rollaxis", "diagonal", "diag", "trace", "tril", "triu",
]


def _is_traced_tree(x) -> bool:
    if isinstance(x, Traced):
        return True
    if isinstance(x, (list, tuple)):
        return builtins.any(_is_traced_tree(v) for v in x)
    return False


def _ndim(x) -> int:
    return x.ndim if isinstance(x, Traced) else np.ndim(x)


def _shape(x) -> tuple:
    return x.shape if isinstance(x, Traced) else np.shape(x)


def _axis(axis: int, ndim: int, name: str = "axis") -> int:
    if not -ndim <= axis < ndim:
        raise np.exceptions.AxisError(f"{name} {axis} is out of bounds for array of dimension {ndim}")
    return axis % ndim


def _take(a, idx, axis):
    """a[..., idx, ...] with the index array on `axis` (a gather; its adjoint adds repeated indices)."""
    return t.getitem(a, (slice(None),) * axis + (idx,))


def _slice_axis(a, axis, sl):
    return t.getitem(a, (slice(None),) * axis + (sl,))


# ------------------------------------------------------------------------------------------------ dimensions


def _atleast(arys, fn):
    res = [fn(a) for a in arys]
    return res[0] if len(res) == 1 else res


def atleast_1d(*arys):
    return _atleast(arys, lambda a: t.reshape(a, (1,)) if _ndim(a) == 0 else a)


def atleast_2d(*arys):
    def one(a):
        nd = _ndim(a)
        return t.reshape(a, (1, 1)) if nd == 0 else t.reshape(a, (1,) + _shape(a)) if nd == 1 else a

    return _atleast(arys, one)


def atleast_3d(*arys):
    def one(a):
        nd, s = _ndim(a), _shape(a)
        if nd == 0:
            return t.reshape(a, (1, 1, 1))
        if nd == 1:
            return t.reshape(a, (1,) + s + (1,))
        if nd == 2:
            return t.reshape(a, s + (1,))
        return a

    return _atleast(arys, one)


def _as_list(tup):
    arrays = list(tup)
    if not arrays:
        raise ValueError("need at least one array to concatenate")
    return arrays


def vstack(tup):
    return t.concatenate([atleast_2d(a) for a in _as_list(tup)], axis=0)


row_stack = vstack


def hstack(tup):
    arrs = [atleast_1d(a) for a in _as_list(tup)]
    return t.concatenate(arrs, axis=0 if _ndim(arrs[0]) == 1 else 1)


def dstack(tup):
    return t.concatenate([atleast_3d(a) for a in _as_list(tup)], axis=2)


def column_stack(tup):
    arrs = []
    for a in _as_list(tup):
        nd = _ndim(a)
        arrs.append(t.reshape(a, (-1, 1)) if nd < 2 else a)
    return t.concatenate(arrs, axis=1)


def tile(A, reps):
    """np.tile: A broadcast against the repetitions, axes interleaved, then merged."""
    reps = (reps,) if isinstance(reps, (int, np.integer)) else tuple(reps)
    s = _shape(A)
    d = builtins.max(len(reps), len(s))
    s = (1,) * (d - len(s)) + tuple(s)
    reps = (1,) * (d - len(reps)) + reps
    a = t.reshape(A, tuple(x for dim in s for x in (1, dim)))
    a = t.broadcast_to(a, tuple(x for r, dim in zip(reps, s) for x in (r, dim)))
    return t.reshape(a, tuple(r * dim for r, dim in zip(reps, s)))


def repeat(a, repeats, axis=None):
    if axis is None:
        a, axis = t.ravel(a), 0
    axis = _axis(axis, _ndim(a))
    idx = np.repeat(np.arange(_shape(a)[axis]), repeats)
    return _take(a, idx, axis)


def append(arr, values, axis=None):
    if axis is None:
        return t.concatenate([t.ravel(arr), t.ravel(values)], axis=0)
    return t.concatenate([arr, values], axis=axis)


def diff(a, n=1, axis=-1, prepend=np._NoValue, append=np._NoValue):  # noqa: A002 - numpy's names
    """n-th forward difference along axis (a[1:] - a[:-1], n times), with NumPy's prepend/append."""
    if n < 0:
        raise ValueError(f"order must be non-negative but got {n}")
    nd = _ndim(a)
    if nd == 0:
        raise ValueError("diff requires input that is at least one dimensional")
    axis = _axis(axis, nd)
    parts = []
    for extra in (prepend, None, append):
        if extra is None:
            parts.append(a)
        elif extra is not np._NoValue:
            if _ndim(extra) == 0:
                shp = list(_shape(a))
                shp[axis] = 1
                extra = t.broadcast_to(extra, tuple(shp))
            parts.append(extra)
    if len(parts) > 1:
        a = t.concatenate(parts, axis=axis)
    for _ in range(n):
        a = t.subtract(_slice_axis(a, axis, slice(1, None)), _slice_axis(a, axis, slice(None, -1)))
    return a


def roll(a, shift, axis=None):
    if axis is None:
        return t.reshape(roll(t.ravel(a), shift, 0), _shape(a))
    shifts = np.broadcast_to(np.asarray(shift), np.broadcast_shapes(np.shape(shift), np.shape(axis)))
    axes = np.broadcast_to(np.asarray(axis), shifts.shape)
    for sh, ax in zip(np.ravel(shifts), np.ravel(axes)):
        ax = _axis(int(ax), _ndim(a))
        a = _take(a, np.roll(np.arange(_shape(a)[ax]), int(sh)), ax)
    return a


def pad(array, pad_width, mode="constant", **kwargs):
    """np.pad for modes constant (constant_values), edge, reflect, symmetric and wrap. The non-constant modes are
    gathers (index arrays made by np.pad of a range), the constant mode a concatenation with constant blocks."""
    nd = _ndim(array)
    widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64).reshape(-1, 2) if np.ndim(pad_width) == 2
                             else np.asarray(pad_width, dtype=np.int64), (nd, 2))
    if mode == "constant":
        consts = kwargs.pop("constant_values", 0)
        if _is_traced_tree(consts):
            raise TypeError("minidsn.numpy.pad: constant_values must be constants (not traced values)")
        consts = np.broadcast_to(np.asarray(consts, dtype=np.result_type(array.dtype if isinstance(array, Traced)
                                                                           else np.asarray(array).dtype)), (nd, 2))
        if kwargs:
            raise TypeError(f"minidsn.numpy.pad: unsupported arguments {sorted(kwargs)}")
        out = array
        dtype = out.dtype if isinstance(out, Traced) else np.asarray(out).dtype
        for ax in range(nd):
            before, after = int(widths[ax, 0]), int(widths[ax, 1])
            if before == 0 and after == 0:
                continue
            parts = []
            shp = list(_shape(out))
            if before:
                shp[ax] = before
                parts.append(np.full(tuple(shp), consts[ax, 0], dtype=dtype))
            parts.append(out)
            if after:
                shp[ax] = after
                parts.append(np.full(tuple(shp), consts[ax, 1], dtype=dtype))
            out = t.concatenate(parts, axis=ax)
        return out
    if mode not in ("edge", "reflect", "symmetric", "wrap"):
        raise NotImplementedError(
            f"minidsn.numpy.pad: mode {mode!r} is not supported (constant, edge, reflect, symmetric, wrap)")
    out = array
    for ax in range(nd):
        before, after = int(widths[ax, 0]), int(widths[ax, 1])
        if before == 0 and after == 0:
            continue
        idx = np.pad(np.arange(_shape(out)[ax]), (before, after), mode=mode, **kwargs)
        out = _take(out, idx, ax)
    return out


def _split_bounds(n, indices_or_sections, even):
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError("number sections must be larger than 0.")
        if even and n % sections:
            raise ValueError("array split does not result in an equal division")
        each, extras = divmod(n, sections)
        sizes = [each + 1] * extras + [each] * (sections - extras)
        return np.concatenate([[0], np.cumsum(sizes)]).tolist()
    return [0] + [int(i) for i in indices_or_sections] + [n]


def array_split(ary, indices_or_sections, axis=0):
    axis = _axis(axis, _ndim(ary))
    n = _shape(ary)[axis]
    bounds = _split_bounds(n, indices_or_sections, even=False)
    return [_slice_axis(ary, axis, slice(lo, hi)) for lo, hi in zip(bounds[:-1], bounds[1:])]


def split(ary, indices_or_sections, axis=0):
    axis = _axis(axis, _ndim(ary))
    try:
        _split_bounds(_shape(ary)[axis], indices_or_sections, even=True)  # NumPy's error for an unequal division
    except ValueError as err:
        raise ValueError(f"split: {err} (array shape {_shape(ary)}, axis {axis}, sections {indices_or_sections!r})"
                         ) from err
    return array_split(ary, indices_or_sections, axis)


def hsplit(ary, indices_or_sections):
    if _ndim(ary) == 0:
        raise ValueError("hsplit only works on arrays of 1 or more dimensions")
    return split(ary, indices_or_sections, 1 if _ndim(ary) > 1 else 0)


def vsplit(ary, indices_or_sections):
    if _ndim(ary) < 2:
        raise ValueError("vsplit only works on arrays of 2 or more dimensions")
    return split(ary, indices_or_sections, 0)


def dsplit(ary, indices_or_sections):
    if _ndim(ary) < 3:
        raise ValueError("dsplit only works on arrays of 3 or more dimensions")
    return split(ary, indices_or_sections, 2)


def sort(a, axis=-1, kind=None, order=None):
    """np.sort; the gradient goes through the sorting permutation (a stable argsort: tied entries keep their order,
    so each receives the gradient of the position it lands in)."""
    if order is not None:
        raise NotImplementedError("minidsn.numpy.sort: structured `order` is not supported")
    if axis is None:
        a, axis = t.ravel(a), -1
    idx = np.argsort(t.stop_gradient(a), axis=axis, kind="stable")
    return t.take_along_axis(a, idx, axis)


# ------------------------------------------------------------------------------------------------ axes


def flip(m, axis=None):
    nd = _ndim(m)
    axes = range(nd) if axis is None else [axis] if isinstance(axis, (int, np.integer)) else axis
    axes = {_axis(int(a), nd) for a in axes}
    return t.getitem(m, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(nd)))


def fliplr(m):
    if _ndim(m) < 2:
        raise ValueError("Input must be >= 2-d.")
    return flip(m, 1)


def flipud(m):
    if _ndim(m) < 1:
        raise ValueError("Input must be >= 1-d.")
    return flip(m, 0)


def rot90(m, k=1, axes=(0, 1)):
    """np.rot90, with NumPy's own composition of flips and a transpose."""
    nd = _ndim(m)
    axes = tuple(axes)
    if len(axes) != 2:
        raise ValueError("len(axes) must be 2.")
    a0, a1 = _axis(axes[0], nd), _axis(axes[1], nd)
    if a0 == a1:
        raise ValueError("Axes must be different.")
    k %= 4
    if k == 0:
        return t.getitem(m, (slice(None),))
    if k == 2:
        return flip(flip(m, a0), a1)
    perm = list(range(nd))
    perm[a0], perm[a1] = perm[a1], perm[a0]
    if k == 1:
        return t.transpose(flip(m, a1), tuple(perm))
    return flip(t.transpose(m, tuple(perm)), a1)


def moveaxis(a, source, destination):
    nd = _ndim(a)
    src = [source] if isinstance(source, (int, np.integer)) else list(source)
    dst = [destination] if isinstance(destination, (int, np.integer)) else list(destination)
    if len(src) != len(dst):
        raise ValueError("`source` and `destination` arguments must have the same number of elements")
    src = [_axis(int(s), nd, "source") for s in src]
    dst = [_axis(int(d), nd, "destination") for d in dst]
    order = [n for n in range(nd) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return t.transpose(a, tuple(order))


def rollaxis(a, axis, start=0):
    n = _ndim(a)
    axis = _axis(axis, n)
    if not -n <= start <= n:
        raise np.exceptions.AxisError(f"start {start} is out of bounds for array of dimension {n}")
    start = start % n if start < 0 else start
    if axis < start:
        start -= 1
    if axis == start:
        return t.getitem(a, (slice(None),))
    axes = list(range(n))
    axes.remove(axis)
    axes.insert(start, axis)
    return t.transpose(a, tuple(axes))


# ------------------------------------------------------------------------------------------------ diagonals, triangles


def _diag_indices(n1, n2, offset):
    n = builtins.max(0, builtins.min(n1, n2 - offset) if offset >= 0 else builtins.min(n1 + offset, n2))
    i = np.arange(n)
    return (i, i + offset) if offset >= 0 else (i - offset, i)


def diagonal(a, offset=0, axis1=0, axis2=1):
    """np.diagonal: the two axes moved last, then a gather of (i, i + offset); the diagonal is the last axis."""
    nd = _ndim(a)
    if nd < 2:
        raise ValueError("diag requires an array of at least two dimensions")
    a1, a2 = _axis(axis1, nd, "axis1"), _axis(axis2, nd, "axis2")
    if a1 == a2:
        raise ValueError("axis1 and axis2 cannot be the same")
    perm = [i for i in range(nd) if i not in (a1, a2)] + [a1, a2]
    at = t.transpose(a, tuple(perm))
    s = _shape(at)
    rows, cols = _diag_indices(s[-2], s[-1], offset)
    return t.getitem(at, (Ellipsis, rows, cols))


def trace(a, offset=0, axis1=0, axis2=1):
    return t.sum(diagonal(a, offset, axis1, axis2), axis=-1)


def diag(v, k=0):
    """np.diag: the k-th diagonal of a 2-d array, or a square matrix with v on its k-th diagonal (a scatter, whose
    adjoint is the gather of that diagonal)."""
    nd = _ndim(v)
    if nd == 2:
        return diagonal(v, k)
    if nd != 1:
        raise ValueError("Input must be 1- or 2-d.")
    n = _shape(v)[0] + builtins.abs(k)
    rows, cols = _diag_indices(n, n, k)
    dtype = v.dtype if isinstance(v, Traced) else np.asarray(v).dtype
    return t._untake(v, (rows, cols), (n, n), dtype)


def _triangle(m, k, lower):
    s = _shape(m)
    if len(s) < 1:
        raise ValueError("tril/triu need an array of at least one dimension")
    mask = np.tri(*s[-2:], k=k if lower else k - 1, dtype=bool) if len(s) >= 2 else np.tri(s[0], s[0], k if lower
                                                                                            else k - 1, dtype=bool)
    if not lower:
        mask = ~mask
    dtype = m.dtype if isinstance(m, Traced) else np.asarray(m).dtype
    return t.where(mask, m, np.zeros((), dtype=dtype))


def tril(m, k=0):
    """np.tril: entries above the k-th diagonal set to 0 (linear in m: the gradient is tril of the cotangent)."""
    return _triangle(m, k, lower=True)


def triu(m, k=0):
    """np.triu: entries below the k-th diagonal set to 0 (linear in m: the gradient is triu of the cotangent)."""
    return _triangle(m, k, lower=False)

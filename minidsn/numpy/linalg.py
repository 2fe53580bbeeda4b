"""minidsn.numpy.linalg: differentiable norm, det, slogdet, inv, solve, cholesky, eigh, eigvalsh, svd.

The primitives and their rules are in _linalg_table.py (formulas and limits there); this module gives them NumPy's
signatures. Functions returning several arrays (slogdet, eigh, svd) return NumPy's named tuples of the same fields.
"""

from __future__ import annotations

from collections import namedtuple as _namedtuple

import numpy as _np

from minidsn.engine.core import Traced as _Traced
from minidsn.engine.core import stop_gradient as _stop_gradient
from minidsn.numpy import _linalg_table as _lt
from minidsn.numpy import _table as _t

__all__ = ["norm", "det", "slogdet", "inv", "solve", "cholesky", "eigh", "eigvalsh", "svd", "LinAlgError"]

LinAlgError = _np.linalg.LinAlgError
SlogdetResult = _namedtuple("SlogdetResult", "sign logabsdet")
EighResult = _namedtuple("EighResult", "eigenvalues eigenvectors")
SVDResult = _namedtuple("SVDResult", "U S Vh")

inv = _lt.inv
det = _lt.det
solve = _lt.solve
cholesky = _lt.cholesky
eigvalsh = _lt.eigh_values


def _traced(*xs) -> bool:
    return any(isinstance(x, _Traced) for x in xs)


def slogdet(a):
    """(sign, log|det a|): the sign has no gradient (it is piecewise constant), log|det| has A^-T."""
    if not _traced(a):
        return _np.linalg.slogdet(a)
    return SlogdetResult(_np.linalg.slogdet(_stop_gradient(a))[0], _lt.logabsdet(a))


def eigh(a, UPLO="L"):
    if UPLO != "L":
        raise NotImplementedError("minidsn.numpy.linalg.eigh: UPLO='L' only")
    if not _traced(a):
        return _np.linalg.eigh(a)
    return EighResult(_lt.eigh_values(a), _lt.eigh_vectors(a))


def svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    """np.linalg.svd. On traced values: compute_uv=False, or the thin factors (full_matrices=False; for a square
    matrix both are the same); the completed basis of a full SVD of a non-square matrix has no unique derivative."""
    if not _traced(a):
        return _np.linalg.svd(a, full_matrices=full_matrices, compute_uv=compute_uv, hermitian=hermitian)
    if hermitian:
        raise NotImplementedError("minidsn.numpy.linalg.svd: hermitian=True is not supported on traced values")
    if not compute_uv:
        return _lt.svd_s(a)
    m, n = a.shape[-2:]
    if full_matrices and m != n:
        raise NotImplementedError(
            "minidsn.numpy.linalg.svd: full_matrices=True of a non-square traced matrix has no unique derivative "
            "(the completed basis is arbitrary); pass full_matrices=False")
    return SVDResult(_lt.svd_u(a), _lt.svd_s(a), _lt.svd_vh(a))


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - numpy's name
    """numpy.linalg.norm for every vector order (None/2, 1, inf, -inf, 0, any p) and matrix order (None/'fro',
    'nuc', 1, -1, 2, -2, inf, -inf). At x = 0 the 2-norm (and Frobenius norm) has gradient 0, not nan (a cone:
    0 is the choice abs makes at 0); the matrix 2 / nuc norms go through the singular values."""
    if not _traced(x):
        return _np.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)
    nd = x.ndim
    if axis is None:
        if ord is None:
            return _t.norm2(x, None, keepdims)
        axis = tuple(range(nd))
        if nd not in (1, 2):
            raise ValueError("Improper number of dimensions to norm.")
    if isinstance(axis, (int, _np.integer)):
        axis = (int(axis),)
    axis = tuple(a % nd for a in axis)
    if len(axis) == 1:
        return _vector_norm(x, ord, axis[0], keepdims)
    if len(axis) == 2:
        return _matrix_norm(x, ord, axis, keepdims)
    raise ValueError("Improper number of dimensions to norm.")


def _vector_norm(x, ord, axis, keepdims):  # noqa: A002
    if ord is None or ord == 2:
        return _t.norm2(x, axis, keepdims)
    if ord == _np.inf:
        return _t.max(_t.abs(x), axis=axis, keepdims=keepdims)
    if ord == -_np.inf:
        return _t.min(_t.abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:  # the number of non-zero entries: piecewise constant, no gradient
        return _np.sum(_stop_gradient(x) != 0, axis=axis, keepdims=keepdims).astype(x.dtype)
    if ord == 1:
        return _t.sum(_t.abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"Invalid norm order '{ord}' for vectors")
    p = float(ord)
    s = _t.sum(_t.power(_t.abs(x), p), axis=axis, keepdims=keepdims)
    pos = _stop_gradient(s) > 0  # at x = 0 the norm is 0 with gradient 0 (no 0 ** (1/p - 1) = inf)
    return _t.where(pos, _t.power(_t.where(pos, s, 1.0), 1.0 / p), 0.0)


def _matrix_norm(x, ord, axis, keepdims):  # noqa: A002
    r, c = axis
    if ord is None or ord == "fro":
        out = _t.norm2(x, axis, keepdims)
        return out
    if ord in (2, -2, "nuc"):
        xm = _t.transpose(x, tuple(i for i in range(x.ndim) if i not in axis) + (r, c))
        s = _lt.svd_s(xm)
        out = _t.max(s, axis=-1) if ord == 2 else _t.min(s, axis=-1) if ord == -2 else _t.sum(s, axis=-1)
    elif ord in (1, -1, _np.inf, -_np.inf):
        sum_axis, red_axis = (r, c) if ord in (1, -1) else (c, r)
        col = _t.sum(_t.abs(x), axis=sum_axis, keepdims=True)
        out = _t.max(col, axis=red_axis, keepdims=True) if ord in (1, _np.inf) else _t.min(col, axis=red_axis,
                                                                                             keepdims=True)
        out = _t.reshape(out, tuple(s for i, s in enumerate(x.shape) if i not in axis))
    else:
        raise ValueError("Invalid norm order for matrices.")
    if keepdims:
        shape = list(x.shape)
        shape[r] = shape[c] = 1
        out = _t.reshape(out, tuple(shape))
    return out


for _name in __all__:  # np.linalg.f(traced) dispatches here (Traced.__array_function__)
    _fn = globals()[_name]
    if callable(_fn) and not isinstance(_fn, type):
        _fn._mirrors_numpy = True

"""minidsn.numpy.linalg: the differentiable part of numpy.linalg that the models need."""

from __future__ import annotations

import numpy as _np

from minidsn.numpy import _table as _t

__all__ = ["norm"]


def norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - numpy's name
    """Euclidean / Frobenius norm sqrt(sum x^2) over `axis` (numpy.linalg.norm with ord None or 2 on vectors, 'fro'
    on matrices). Its gradient x / |x| is nan at x = 0, as sqrt's is; isotropic-activation code guards that point
    itself (docs/models/isotropic.md)."""
    nd = _np.ndim(x)
    if ord not in (None, "fro") and not (ord == 2 and (nd == 1 or isinstance(axis, int))):
        raise NotImplementedError(f"minidsn.numpy.linalg.norm: ord={ord!r} is not supported (None, 2 on vectors, 'fro')")
    return _t.sqrt(_t.sum(_t.square(x), axis=axis, keepdims=keepdims))

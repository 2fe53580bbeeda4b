"""A differentiable, NumPy-shaped namespace:  import minidsn.numpy as mnp.

Names and signatures mirror NumPy for what is implemented, so model code reads like NumPy (and like the paper).
On plain arrays every function returns exactly what NumPy returns; on traced values it also records the operation.
Functions without a gradient (comparisons, sign, argmax, ...) accept traced values and treat them as constants.
A NumPy name that minidsn does not implement raises AttributeError saying so, instead of running untraced.
"""

from __future__ import annotations

import numpy as _np

from minidsn.engine.core import Traced as _Traced
from minidsn.engine.core import nondifferentiable as _nondiff
from minidsn.engine.core import stop_gradient as _stop_gradient
from minidsn.numpy import _table, linalg  # noqa: F401 - mnp.linalg.norm
from minidsn.numpy._table import (  # noqa: F401 - re-exported
    abs,
    add,
    arctan,
    astype,
    broadcast_to,
    clip,
    concatenate,
    cos,
    cosh,
    divide,
    einsum,
    exp,
    expand_dims,
    expm1,
    log,
    log1p,
    matmul,
    max,
    mean,
    maximum,
    min,
    minimum,
    multiply,
    negative,
    power,
    prod,
    ravel,
    reshape,
    sin,
    sinh,
    sqrt,
    square,
    squeeze,
    stack,
    subtract,
    sum,
    swapaxes,
    take_along_axis,
    tanh,
    transpose,
    where,
)

_getitem = _table.getitem
absolute = abs
true_divide = divide
amax = max
amin = min

# ---------------------------------------------------------------------------------------------- composites


def var(a, axis=None, keepdims=False, ddof=0):
    """Variance mean(|a - mean a|^2) with NumPy's ddof."""
    m = mean(a, axis=axis, keepdims=True)
    n = _table._mean_count(_stop_gradient(a), axis)
    return divide(sum(square(subtract(a, m)), axis=axis, keepdims=keepdims), n - ddof)


def std(a, axis=None, keepdims=False, ddof=0):
    return sqrt(var(a, axis=axis, keepdims=keepdims, ddof=ddof))


def dot(a, b):
    """np.dot for scalars, vectors and matrices (N-d dot is not supported: use matmul or einsum)."""
    if _np.ndim(a) == 0 or _np.ndim(b) == 0:
        return multiply(a, b)
    if _np.ndim(a) > 2 or _np.ndim(b) > 2:
        raise NotImplementedError("minidsn.numpy.dot supports up to 2-d operands; use matmul or einsum")
    return matmul(a, b)


def vdot(a, b):
    return sum(multiply(ravel(a), ravel(b)))


def inner(a, b):
    if _np.ndim(a) == 0 or _np.ndim(b) == 0:
        return multiply(a, b)
    return _inner(a, b)


def _inner(a, b):
    if _np.ndim(a) != 1 or _np.ndim(b) != 1:
        raise NotImplementedError("minidsn.numpy.inner supports 1-d operands")
    return sum(multiply(a, b))


def outer(a, b):
    """np.outer: a.ravel()[:, None] * b.ravel()[None, :]."""
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def asarray(a, dtype=None):
    """A traced value is returned as it is; a (nested) list holding traced values is stacked; else np.asarray."""
    if isinstance(a, _Traced):
        return a if dtype is None else astype(a, dtype)
    if isinstance(a, (list, tuple)) and _contains_traced(a):
        return stack([asarray(x, dtype) for x in a])
    return _np.asarray(a, dtype=dtype)


array = asarray


def _contains_traced(x):
    if isinstance(x, _Traced):
        return True
    if isinstance(x, (list, tuple)):
        return any(_contains_traced(v) for v in x)
    return False


# ---------------------------------------------------------------------------------------------- no gradient

sign = _nondiff(_np.sign)
floor = _nondiff(_np.floor)
ceil = _nondiff(_np.ceil)
round = _nondiff(_np.round)  # noqa: A001
rint = _nondiff(_np.rint)
isfinite = _nondiff(_np.isfinite)
isnan = _nondiff(_np.isnan)
isinf = _nondiff(_np.isinf)
isneginf = _nondiff(_np.isneginf)
isposinf = _nondiff(_np.isposinf)
argmax = _nondiff(_np.argmax)
argmin = _nondiff(_np.argmin)
argsort = _nondiff(_np.argsort)
greater = _nondiff(_np.greater)
greater_equal = _nondiff(_np.greater_equal)
less = _nondiff(_np.less)
less_equal = _nondiff(_np.less_equal)
equal = _nondiff(_np.equal)
not_equal = _nondiff(_np.not_equal)
logical_and = _nondiff(_np.logical_and)
logical_or = _nondiff(_np.logical_or)
logical_not = _nondiff(_np.logical_not)
any = _nondiff(_np.any)  # noqa: A001
all = _nondiff(_np.all)  # noqa: A001
allclose = _nondiff(_np.allclose)
count_nonzero = _nondiff(_np.count_nonzero)
nonzero = _nondiff(_np.nonzero)
shape = _nondiff(_np.shape)
ndim = _nondiff(_np.ndim)
size = _nondiff(_np.size)
zeros_like = _nondiff(_np.zeros_like)
ones_like = _nondiff(_np.ones_like)
full_like = _nondiff(_np.full_like)
empty_like = _nondiff(_np.zeros_like)

zeros = _np.zeros
ones = _np.ones
full = _np.full
eye = _np.eye
identity = _np.identity
arange = _np.arange
linspace = _np.linspace
tri = _np.tri
tril = _nondiff(_np.tril)
triu = _nondiff(_np.triu)

pi = _np.pi
e = _np.e
inf = _np.inf
nan = _np.nan
newaxis = None
float64 = _np.float64
float32 = _np.float32
int64 = _np.int64
int32 = _np.int32
bool_ = _np.bool_
ndarray = _np.ndarray

# Functions that mirror NumPy's own (np.f(traced) dispatches here through __array_function__).
_MIRRORS = [
    "sum", "max", "min", "amax", "amin", "prod", "mean", "var", "std", "clip", "where", "matmul", "dot", "vdot",
    "inner", "outer", "einsum", "reshape", "transpose", "swapaxes", "expand_dims", "squeeze", "ravel",
    "broadcast_to", "concatenate", "stack", "take_along_axis", "sign", "isfinite", "isnan", "isinf", "argmax",
    "argmin", "argsort", "any", "all", "allclose", "count_nonzero", "nonzero", "shape", "ndim", "size",
    "zeros_like", "ones_like", "full_like", "round", "tril", "triu",
]
for _name in _MIRRORS:
    _fn = globals()[_name]
    try:
        _fn._mirrors_numpy = True
    except AttributeError:  # pragma: no cover - builtins cannot take attributes
        pass


import sys as _sys  # noqa: E402

from minidsn.engine.core import install_namespace as _install_namespace  # noqa: E402

_install_namespace(_sys.modules[__name__])  # this module's primitives are behind Traced's operators


def __getattr__(name):
    if hasattr(_np, name):
        raise AttributeError(
            f"minidsn.numpy.{name} is not supported (no differentiable version exists). "
            f"Compose it from supported functions, or apply numpy.{name} to stop_gradient(x) for a constant"
        )
    raise AttributeError(f"module 'minidsn.numpy' has no attribute '{name}'")

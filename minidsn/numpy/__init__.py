"""A differentiable, NumPy-shaped namespace:  import minidsn.numpy as mnp.

Names and signatures mirror NumPy for what is implemented, so model code reads like NumPy (and like the paper).
On plain arrays every function returns exactly what NumPy returns; on traced values it also records the operation.
Functions without a gradient (comparisons, sign, argmax, ...) accept traced values and treat them as constants.
A NumPy name that minidsn does not implement raises AttributeError saying so, instead of running untraced.
"""

import numpy as _np

from minidsn.engine.core import Traced as _Traced
from minidsn.engine.core import nondifferentiable as _nondiff
from minidsn.engine.core import stop_gradient as _stop_gradient
from minidsn.numpy import _table, linalg  # noqa: F401 - mnp.linalg.norm
from minidsn.numpy._contraction import cross, dot, einsum, inner, kron, outer, tensordot, vdot  # noqa: F401
from minidsn.numpy._manipulation import (  # noqa: F401 - re-exported
    append,
    array_split,
    atleast_1d,
    atleast_2d,
    atleast_3d,
    column_stack,
    diag,
    diagonal,
    diff,
    dsplit,
    dstack,
    flip,
    fliplr,
    flipud,
    hsplit,
    hstack,
    moveaxis,
    pad,
    repeat,
    roll,
    rollaxis,
    rot90,
    row_stack,
    sort,
    split,
    tile,
    trace,
    tril,
    triu,
    vsplit,
    vstack,
)
from minidsn.numpy._table import (  # noqa: F401 - re-exported
    abs,
    add,
    arccos,
    arccosh,
    arcsin,
    arcsinh,
    arctan,
    arctan2,
    arctanh,
    astype,
    broadcast_to,
    clip,
    concatenate,
    cos,
    cosh,
    cumsum,
    divide,
    exp,
    exp2,
    expand_dims,
    expm1,
    fmax,
    fmin,
    hypot,
    log,
    log1p,
    log2,
    log10,
    logaddexp,
    logaddexp2,
    matmul,
    max,
    maximum,
    min,
    minimum,
    mod,
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
    swapaxes,
    take_along_axis,
    tan,
    tanh,
    transpose,
)

_getitem = _table.getitem
absolute = abs
true_divide = divide
amax = max
amin = min
remainder = mod
concat = concatenate

# ---------------------------------------------------------------------------------------------- composites


def _contains_traced(x):
    if isinstance(x, _Traced):
        return True
    if isinstance(x, (list, tuple)):
        return any(_contains_traced(v) for v in x)
    return False


def _array_arg(a):
    """A Python list/tuple holding traced values (the mean of a list of losses) becomes one stacked array."""
    if (type(a) is list or type(a) is tuple) and _contains_traced(a):
        return asarray(a)
    return a


def sum(a, axis=None, keepdims=False):  # noqa: A001
    return _table.sum(_array_arg(a), axis=axis, keepdims=keepdims)


def mean(a, axis=None, keepdims=False):
    return _table.mean(_array_arg(a), axis=axis, keepdims=keepdims)


def var(a, axis=None, keepdims=False, ddof=0):
    """np.var with ddof (one primitive; its gradient 2 (a - mean) / (n - ddof))."""
    return _table.var(_array_arg(a), axis=axis, keepdims=keepdims, ddof=ddof)


def std(a, axis=None, keepdims=False, ddof=0):
    """np.std with ddof; the gradient is 0 where std is 0 (a group of one element, or equal entries), not nan."""
    return _table.std(_array_arg(a), axis=axis, keepdims=keepdims, ddof=ddof)


def average(a, axis=None, weights=None, returned=False, keepdims=False):
    """np.average: sum(a w) / sum(w) over axis (weights may be traced; 1-d weights lie along axis)."""
    a = _array_arg(a)
    if weights is None:
        avg = _table.mean(a, axis=axis, keepdims=keepdims)
        if not returned:
            return avg
        n = _table._mean_count(_stop_gradient(a), axis)
        return avg, _np.broadcast_to(_np.asarray(n, dtype=_np.result_type(avg.dtype if isinstance(avg, _Traced)
                                                                          else avg)), _np.shape(avg))
    w = _array_arg(weights)
    a_shape, w_shape = _np.shape(_stop_gradient(a)), _np.shape(_stop_gradient(w))
    if a_shape != w_shape:
        if axis is None:
            raise TypeError("Axis must be specified when shapes of a and weights differ.")
        if len(w_shape) != 1:
            raise TypeError("1D weights expected when shapes of a and weights differ.")
        ax = axis % len(a_shape)
        if w_shape[0] != a_shape[ax]:
            raise ValueError("Length of weights not compatible with specified axis.")
        w = reshape(w, tuple(w_shape[0] if i == ax else 1 for i in range(len(a_shape))))
    scl = _table.sum(_table.broadcast_to(w, a_shape), axis=axis, keepdims=keepdims)
    avg = divide(_table.sum(multiply(a, w), axis=axis, keepdims=keepdims), scl)
    return (avg, scl) if returned else avg


def where(condition, x=None, y=None):
    """np.where(condition, x, y) (condition has no gradient; see the table's rule), or with the condition alone
    np.nonzero(condition): indices, no gradient."""
    if x is None and y is None:
        return _np.nonzero(_stop_gradient(condition))
    if x is None or y is None:
        raise ValueError("either both or neither of x and y should be given")
    return _table.where(condition, x, y)


def select(condlist, choicelist, default=0):
    """np.select: the first true condition picks its choice (a chain of where; conditions have no gradient)."""
    if len(condlist) != len(choicelist):
        raise ValueError("list of cases must be same length as list of conditions")
    out = default
    for cond, choice in reversed(list(zip(condlist, choicelist))):
        out = _table.where(_stop_gradient(cond), choice, out)
    if not isinstance(out, _Traced):
        return _np.asarray(out)
    shape = _np.broadcast_shapes(*[_np.shape(_stop_gradient(c)) for c in condlist],
                                 *[_np.shape(_stop_gradient(c)) for c in choicelist])
    return out if out.shape == shape else _table.broadcast_to(out, shape)


def nan_to_num(x, copy=True, nan=0.0, posinf=None, neginf=None):
    """np.nan_to_num: the gradient passes where x is finite; replaced entries are constants (gradient 0)."""
    raw = _stop_gradient(x)
    fixed = _np.nan_to_num(raw, copy=True, nan=nan, posinf=posinf, neginf=neginf)
    if not isinstance(x, _Traced):
        return fixed
    return _table.where(_np.isfinite(raw), x, fixed)


def cumprod(a, axis=None):
    """np.cumprod, exact with zeros: entry j is the product of the entries up to j (the prod primitive over a
    triangular mask, whose rule divides by nothing). O(n^2) memory along the axis on traced values."""
    if not isinstance(a, _Traced):
        return _np.cumprod(a, axis=axis)
    if axis is None:
        a, axis = ravel(a), 0
    ax = axis % a.ndim
    n = a.shape[ax]
    last = moveaxis(a, ax, -1)
    rows = broadcast_to(expand_dims(last, -2), last.shape[:-1] + (n, n))
    mask = _np.tri(n, dtype=bool)  # row j keeps entries 0..j
    out = _table.prod(_table.where(mask, rows, _np.ones((), dtype=a.dtype)), axis=-1)
    return moveaxis(out, -1, ax)


def linspace(start, stop, num=50, endpoint=True, retstep=False, dtype=None, axis=0):
    """np.linspace; differentiable in start and stop: start + i (stop - start) / div, the last entry stop itself."""
    if not (isinstance(start, _Traced) or isinstance(stop, _Traced)):
        return _np.linspace(start, stop, num=num, endpoint=endpoint, retstep=retstep, dtype=dtype, axis=axis)
    num = int(num)
    if num < 0:
        raise ValueError(f"Number of samples, {num}, must be non-negative.")
    div = (num - 1) if endpoint else num
    delta = subtract(stop, start)
    nd = _np.ndim(_stop_gradient(delta))
    i = _np.arange(num, dtype=_np.float64).reshape((-1,) + (1,) * nd)
    step = divide(delta, div) if div > 0 else multiply(delta, _np.nan)
    y = add(multiply(i, step), start) if div > 0 else add(multiply(i, delta), start)
    if endpoint and num > 1:
        y = concatenate([_getitem(y, slice(None, -1)), expand_dims(add(stop, multiply(start, 0.0)), 0)], axis=0)
    if axis != 0:
        y = moveaxis(y, 0, axis)
    if dtype is not None:
        y = astype(y, dtype)
    return (y, step) if retstep else y


def full(shape, fill_value, dtype=None):
    """np.full; a traced fill_value is broadcast (its gradient is the sum of the cotangent)."""
    if not isinstance(fill_value, _Traced):
        return _np.full(shape, fill_value, dtype=dtype)
    v = fill_value if dtype is None else astype(fill_value, dtype)
    return broadcast_to(v, (shape,) if isinstance(shape, int) else tuple(shape))


def full_like(a, fill_value, dtype=None):
    """np.full_like; `a` gives only the shape and dtype (no gradient), a traced fill_value is broadcast."""
    raw = _stop_gradient(a)
    if not isinstance(fill_value, _Traced):
        return _np.full_like(raw, fill_value, dtype=dtype)
    dt = dtype if dtype is not None else _np.asarray(raw).dtype
    return broadcast_to(astype(fill_value, dt), _np.shape(raw))


def copy(a):
    """np.copy; a traced value is immutable, so its copy is itself (the graph is kept)."""
    return a if isinstance(a, _Traced) else _np.copy(a)


def asarray(a, dtype=None):
    """A traced value is returned as it is; a (nested) list holding traced values is stacked; else np.asarray."""
    if isinstance(a, _Traced):
        return a if dtype is None else astype(a, dtype)
    if isinstance(a, (list, tuple)) and _contains_traced(a):
        return stack([asarray(x, dtype) for x in a])
    return _np.asarray(a, dtype=dtype)


array = asarray


# ---------------------------------------------------------------------------------------------- no gradient
# Functions whose derivative is zero wherever it exists, or whose output is not a float (so nothing can flow through
# it): traced inputs are taken as constants. Each name's reason is listed here; docs/engine.md is generated from
# this table (tests/test_engine_names.py checks that every public name is either differentiable and checked against
# finite differences, or listed here, or a creation function / constant below).

_PIECEWISE_CONSTANT = "piecewise constant: its derivative is 0 wherever it exists"
_BOOLEAN = "boolean output: nothing to differentiate"
_INTEGER = "integer output (indices or counts): nothing to differentiate"
_METADATA = "returns the shape / size, not the values"
_LIKE = "uses only the argument's shape and dtype, never its values: constant in the argument"

NO_GRADIENT = {
    "sign": _PIECEWISE_CONSTANT,
    "floor": _PIECEWISE_CONSTANT,
    "ceil": _PIECEWISE_CONSTANT,
    "round": _PIECEWISE_CONSTANT,
    "rint": _PIECEWISE_CONSTANT,
    "trunc": _PIECEWISE_CONSTANT,
    "floor_divide": _PIECEWISE_CONSTANT,
    "heaviside": _PIECEWISE_CONSTANT,
    "isfinite": _BOOLEAN,
    "isnan": _BOOLEAN,
    "isinf": _BOOLEAN,
    "isneginf": _BOOLEAN,
    "isposinf": _BOOLEAN,
    "signbit": _BOOLEAN,
    "greater": _BOOLEAN,
    "greater_equal": _BOOLEAN,
    "less": _BOOLEAN,
    "less_equal": _BOOLEAN,
    "equal": _BOOLEAN,
    "not_equal": _BOOLEAN,
    "logical_and": _BOOLEAN,
    "logical_or": _BOOLEAN,
    "logical_not": _BOOLEAN,
    "logical_xor": _BOOLEAN,
    "any": _BOOLEAN,
    "all": _BOOLEAN,
    "allclose": _BOOLEAN,
    "isclose": _BOOLEAN,
    "array_equal": _BOOLEAN,
    "argmax": _INTEGER,
    "argmin": _INTEGER,
    "argsort": _INTEGER,
    "argwhere": _INTEGER,
    "nonzero": _INTEGER,
    "flatnonzero": _INTEGER,
    "count_nonzero": _INTEGER,
    "searchsorted": _INTEGER,
    "shape": _METADATA,
    "ndim": _METADATA,
    "size": _METADATA,
    "zeros_like": _LIKE,
    "ones_like": _LIKE,
    "empty_like": _LIKE,
}
for _name in NO_GRADIENT:
    globals()[_name] = _nondiff(getattr(_np, _name))
empty_like = _nondiff(_np.zeros_like)  # zeros, not garbage: a reference implementation is deterministic

# Creation from shapes and numbers: no array argument to differentiate (a traced argument is refused by NumPy's
# conversion, with TracedConversionError). linspace and full, differentiable in their values, are above.
CREATION = {name: getattr(_np, name) for name in ("zeros", "ones", "empty", "eye", "identity", "arange", "tri",
                                                   "indices", "meshgrid")}
globals().update(CREATION)
empty = _np.zeros  # as empty_like

# Constants, types and modules (not functions of arrays).
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
CONSTANTS = ("pi", "e", "inf", "nan", "newaxis", "float64", "float32", "int64", "int32", "bool_", "ndarray", "linalg",
             "NO_GRADIENT", "CREATION", "CONSTANTS")

# Functions that mirror NumPy's own: np.f(traced) dispatches here through __array_function__ / __array_ufunc__.
for _name, _fn in list(globals().items()):
    if (not _name.startswith("_") and callable(_fn) and not isinstance(_fn, type) and _name not in CREATION
            and hasattr(_np, _name)):
        try:
            _fn._mirrors_numpy = True
        except AttributeError:  # primitives and wrappers take attributes; NumPy's own builtins do not
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

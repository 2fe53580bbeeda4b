"""The primitive table: every differentiable NumPy-shaped operation of minidsn and its VJP rule, one line per rule.

A rule is `lambda g, ans, *args, **kwargs: gradient for that argument`. Rules are written with these same primitives,
so every rule is itself differentiable (grad of grad). They need not reduce a broadcast result back to the argument's
shape: the engine does that once for all (minidsn/engine/broadcast.py: unbroadcast).

The forward functions are NumPy's own (or a few lines around them); the chain rules are the textbook ones. Where a
rule makes a choice at a kink it says so: max/maximum/min/minimum split the gradient evenly between ties; abs has
gradient 0 at 0 (sign); clip passes the gradient on the closed interval [a_min, a_max].
"""

from __future__ import annotations

import numpy as np

from minidsn.engine.core import Primitive, defvjp, defvjp_raw, defvjp_stacked, primitive, stop_gradient

# ------------------------------------------------------------------------------------------------ helpers


def _normalize_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        return tuple(sorted(a % ndim if ndim else 0 for a in axis))
    return ((axis % ndim) if ndim else 0,)


def _expand_reduced(g, shape, axis, keepdims):
    """Re-insert the axes a reduction removed, so that g broadcasts against the input of shape `shape`."""
    if keepdims:
        return g
    axes = _normalize_axis(axis, len(shape))
    new_shape = list(shape)
    for a in axes:
        new_shape[a] = 1
    return reshape(g, tuple(new_shape))


def _shape_error(name, err, arrays, **extra):
    """NumPy's ValueError for mismatched operands, with every operand's shape (and the other arguments) named: some
    of NumPy's messages name none (stack: 'all input arrays must have the same shape'), some only sizes. An AxisError
    (which names the axis and the number of dimensions) is returned as it is."""
    if isinstance(err, np.exceptions.AxisError) or not isinstance(err, ValueError):
        return err
    shapes = ", ".join(str(np.shape(a)) for a in arrays)
    more = "".join(f", {k} {v!r}" for k, v in extra.items())
    return ValueError(f"{name}: {err} (operand shape{'s' if len(arrays) != 1 else ''} {shapes}{more})")


def _count(shape, axis):
    axes = _normalize_axis(axis, len(shape))
    n = 1
    for a in axes:
        n *= shape[a]
    return n


# ------------------------------------------------------------------------------------------------ arithmetic

add = primitive(np.add)
subtract = primitive(np.subtract)
multiply = primitive(np.multiply)
divide = primitive(np.divide)
negative = primitive(np.negative)
power = primitive(np.power)
square = primitive(np.square)

defvjp(add, lambda g, ans, x, y: g, lambda g, ans, x, y: g)
defvjp(subtract, lambda g, ans, x, y: g, lambda g, ans, x, y: negative(g))
defvjp(multiply, lambda g, ans, x, y: multiply(g, y), lambda g, ans, x, y: multiply(g, x))
defvjp(divide, lambda g, ans, x, y: divide(g, y), lambda g, ans, x, y: negative(divide(multiply(g, ans), y)))
defvjp(negative, lambda g, ans, x: negative(g))
defvjp(square, lambda g, ans, x: multiply(g, multiply(2.0, x)))


def _power_vjp_base(g, ans, x, y):
    # d/dx x**y = y x**(y-1); written as a power (not ans/x) so x = 0 with y >= 1 stays finite. Where y = 0, x**0 is
    # the constant 1 and the derivative 0 (not 0 * 0**-1 = nan at x = 0): x is replaced by 1 there, which keeps
    # every higher derivative finite too.
    yv = stop_gradient(y)
    if np.any(yv == 0):
        x = where(yv == 0, 1.0, x)
    return multiply(g, multiply(y, power(x, subtract(y, 1.0))))


def _power_vjp_exponent(g, ans, x, y):
    # d/dy x**y = x**y ln x; at x = 0 the product is taken as 0 (the limit for y > 0), not 0 * -inf = nan.
    safe_x = where(stop_gradient(x) == 0, 1.0, x)
    return multiply(g, multiply(ans, log(safe_x)))


defvjp(power, _power_vjp_base, _power_vjp_exponent)

# ------------------------------------------------------------------------------------------------ elementwise functions

exp = primitive(np.exp)
expm1 = primitive(np.expm1)
log = primitive(np.log)
log1p = primitive(np.log1p)
sqrt = primitive(np.sqrt)
tanh = primitive(np.tanh)
sinh = primitive(np.sinh)
cosh = primitive(np.cosh)
sin = primitive(np.sin)
cos = primitive(np.cos)
arctan = primitive(np.arctan)
abs = primitive(np.abs)  # noqa: A001 - mirrors numpy's name

defvjp(exp, lambda g, ans, x: multiply(g, ans))
defvjp(expm1, lambda g, ans, x: multiply(g, add(ans, 1.0)))
defvjp(log, lambda g, ans, x: divide(g, x))
defvjp(log1p, lambda g, ans, x: divide(g, add(x, 1.0)))
defvjp(sqrt, lambda g, ans, x: divide(multiply(g, 0.5), ans))
defvjp(tanh, lambda g, ans, x: multiply(g, subtract(1.0, square(ans))))
defvjp(sinh, lambda g, ans, x: multiply(g, cosh(x)))
defvjp(cosh, lambda g, ans, x: multiply(g, sinh(x)))
defvjp(sin, lambda g, ans, x: multiply(g, cos(x)))
defvjp(cos, lambda g, ans, x: negative(multiply(g, sin(x))))
defvjp(arctan, lambda g, ans, x: divide(g, add(1.0, square(x))))
defvjp(abs, lambda g, ans, x: multiply(g, np.sign(stop_gradient(x))))

_LN2 = float(np.log(2.0))
_LN10 = float(np.log(10.0))

tan = primitive(np.tan)
arcsin = primitive(np.arcsin)
arccos = primitive(np.arccos)
arcsinh = primitive(np.arcsinh)
arccosh = primitive(np.arccosh)
arctanh = primitive(np.arctanh)
exp2 = primitive(np.exp2)
log2 = primitive(np.log2)
log10 = primitive(np.log10)

defvjp(tan, lambda g, ans, x: multiply(g, add(1.0, square(ans))))
defvjp(arcsin, lambda g, ans, x: divide(g, sqrt(subtract(1.0, square(x)))))
defvjp(arccos, lambda g, ans, x: negative(divide(g, sqrt(subtract(1.0, square(x))))))
defvjp(arcsinh, lambda g, ans, x: divide(g, sqrt(add(square(x), 1.0))))
defvjp(arccosh, lambda g, ans, x: divide(g, sqrt(subtract(square(x), 1.0))))
defvjp(arctanh, lambda g, ans, x: divide(g, subtract(1.0, square(x))))
defvjp(exp2, lambda g, ans, x: multiply(g, multiply(ans, _LN2)))
defvjp(log2, lambda g, ans, x: divide(g, multiply(x, _LN2)))
defvjp(log10, lambda g, ans, x: divide(g, multiply(x, _LN10)))

arctan2 = primitive(np.arctan2)


def _arctan2_r2(y, x):
    return add(square(x), square(y))


defvjp(
    arctan2,
    lambda g, ans, y, x: divide(multiply(g, x), _arctan2_r2(y, x)),
    lambda g, ans, y, x: negative(divide(multiply(g, y), _arctan2_r2(y, x))),
)


def _safe_divisor(d):
    """(mask d != 0, d with its zeros replaced by 1): for rules whose true limit at d = 0 is 0 (hypot, norms, std)."""
    pos = stop_gradient(d) != 0
    return pos, where(pos, d, 1.0)


hypot = primitive(np.hypot)


def _hypot_rule(which):
    def rule(g, ans, x, y):
        # d hypot / dx = x / hypot; at x = y = 0 hypot is a cone (no derivative): 0 is taken, as abs takes at 0
        pos, safe = _safe_divisor(ans)
        return where(pos, divide(multiply(g, (x, y)[which]), safe), 0.0)

    return rule


defvjp(hypot, _hypot_rule(0), _hypot_rule(1))

logaddexp = primitive(np.logaddexp)
logaddexp2 = primitive(np.logaddexp2)


def _logaddexp_rule(which, base2):
    def rule(g, ans, x, y):
        # d/dx log(e^x + e^y) = e^(x - ans); where ans = -inf (both -inf) the weight is 0, not nan. Only that
        # case is guarded: a nan propagates, and at ans = +inf the weight is e^(x - inf) (nan for the inf operand,
        # 0 for a finite one), as logsumexp's
        low = np.isneginf(stop_gradient(ans))
        ans_safe = where(low, 0.0, ans)
        d = subtract((x, y)[which], ans_safe)
        w = exp2(d) if base2 else exp(d)
        return where(low, 0.0, multiply(g, w))

    return rule


defvjp(logaddexp, _logaddexp_rule(0, False), _logaddexp_rule(1, False))
defvjp(logaddexp2, _logaddexp_rule(0, True), _logaddexp_rule(1, True))

mod = primitive(np.mod)
# x mod y = x - floor(x / y) y: slope 1 in x and -floor(x / y) in y between the jumps (which have no derivative)
defvjp(
    mod,
    lambda g, ans, x, y: g,
    lambda g, ans, x, y: multiply(g, negative(np.floor_divide(stop_gradient(x), stop_gradient(y)))),
)

# ------------------------------------------------------------------------------------------------ selection


def _tie_share(x, y, strict_wins, nan_loses=False):
    """Weight of x in maximum/minimum: 1 where x wins, 0.5 on ties, 0 where y wins (a constant mask). The operand
    NumPy returns wins: maximum/minimum return a nan operand, so x also wins where only x is nan; with nan_loses
    (fmax/fmin, which return the other operand) x wins where only y is nan. Two nans tie, as equal values do."""
    xv, yv = stop_gradient(x), stop_gradient(y)
    wins = strict_wins(xv, yv)
    xnan, ynan = np.isnan(xv), np.isnan(yv)
    wins = wins | ((ynan & ~xnan) if nan_loses else (xnan & ~ynan))
    return wins + 0.5 * ((xv == yv) | (xnan & ynan))


def _defvjp_selection(prim, strict_wins, nan_loses=False):
    """maximum, minimum, fmax, fmin: the gradient goes to the operand selected, split evenly on ties."""
    defvjp(
        prim,
        lambda g, ans, x, y: multiply(g, _tie_share(x, y, strict_wins, nan_loses)),
        lambda g, ans, x, y: multiply(g, _tie_share(y, x, strict_wins, nan_loses)),
    )


maximum = primitive(np.maximum)
minimum = primitive(np.minimum)
fmax = primitive(np.fmax)
fmin = primitive(np.fmin)
_defvjp_selection(maximum, np.greater)
_defvjp_selection(minimum, np.less)
_defvjp_selection(fmax, np.greater, nan_loses=True)
_defvjp_selection(fmin, np.less, nan_loses=True)


@primitive
def clip(a, a_min=None, a_max=None):
    """np.clip; the gradient passes where a_min <= a <= a_max (closed interval), else 0."""
    return np.clip(a, a_min, a_max)


def _clip_mask(a, a_min, a_max):
    av = stop_gradient(a)
    mask = np.ones(np.shape(av), dtype=bool)
    # written as "not below a_min" / "not above a_max" so that a nan entry (which np.clip returns as it is) passes
    if a_min is not None:
        mask &= ~(av < stop_gradient(a_min))
    if a_max is not None:
        mask &= ~(av > stop_gradient(a_max))
    return mask


defvjp(
    clip,
    lambda g, ans, a, a_min=None, a_max=None: where(_clip_mask(a, a_min, a_max), g, 0.0),
    lambda g, ans, a, a_min=None, a_max=None: where(stop_gradient(a) < stop_gradient(a_min), g, 0.0),
    lambda g, ans, a, a_min=None, a_max=None: where(stop_gradient(a) > stop_gradient(a_max), g, 0.0),
)


@primitive
def where(condition, x, y):
    """np.where(condition, x, y); condition has no gradient. The gradient of the unselected branch is exactly 0
    (a `where` on g, not a multiplication), so an inf/nan there does not leak. Note: a nan can still come from the
    unselected branch's OWN VJP (e.g. log at 0); the safe pattern is log(where(x > 0, x, 1.0))."""
    return np.where(condition, x, y)


defvjp(
    where,
    None,
    lambda g, ans, c, x, y: where(stop_gradient(c), g, 0.0),
    lambda g, ans, c, x, y: where(stop_gradient(c), 0.0, g),
)



# ------------------------------------------------------------------------------------------------ reductions


@primitive
def sum(a, axis=None, keepdims=False):  # noqa: A001
    if type(a) is np.ndarray:
        return np.add.reduce(a, axis=axis, keepdims=keepdims)  # np.sum without its Python wrapper
    return np.sum(a, axis=axis, keepdims=keepdims)


def _mean_count(a, axis) -> float:
    """The number of entries a mean over ``axis`` divides by (1 for a scalar)."""
    return float(_count(np.shape(a), axis)) if np.ndim(a) else 1.0


@primitive
def mean(a, axis=None, keepdims=False):
    """Arithmetic mean, computed as sum / count (exactly what the composite sum(a) / n gave: one node instead of
    two on the tape)."""
    if type(a) is np.ndarray:
        return np.add.reduce(a, axis=axis, keepdims=keepdims) / _mean_count(a, axis)
    return np.sum(a, axis=axis, keepdims=keepdims) / _mean_count(a, axis)


@primitive
def max(a, axis=None, keepdims=False):  # noqa: A001
    return np.max(a, axis=axis, keepdims=keepdims)


@primitive
def min(a, axis=None, keepdims=False):  # noqa: A001
    return np.min(a, axis=axis, keepdims=keepdims)


@primitive
def prod(a, axis=None, keepdims=False):
    return np.prod(a, axis=axis, keepdims=keepdims)


def _sum_vjp(g, ans, a, axis=None, keepdims=False):
    return broadcast_to(_expand_reduced(g, np.shape(a), axis, keepdims), np.shape(a))


def _extremum_vjp(g, ans, a, axis=None, keepdims=False):
    """The gradient goes to the arg-extremum; k tied entries get 1/k each."""
    shape = np.shape(a)
    av = stop_gradient(a)
    ansv = np.asarray(stop_gradient(ans))
    ans_e = _expand_reduced_raw(ansv, shape, axis, keepdims)
    hit = av == ans_e
    if np.isnan(ansv).any():  # np.max / np.min return the nan of a group holding one: the nan entries are selected
        hit = hit | (np.isnan(av) & np.isnan(ans_e))
    share = hit / np.sum(hit, axis=_normalize_axis(axis, len(shape)), keepdims=True)
    return multiply(broadcast_to(_expand_reduced(g, shape, axis, keepdims), shape), share)


def _expand_reduced_raw(x, shape, axis, keepdims):
    if keepdims:
        return x
    new_shape = list(shape)
    for ax in _normalize_axis(axis, len(shape)):
        new_shape[ax] = 1
    return np.reshape(x, new_shape)


def _prod_vjp(g, ans, a, axis=None, keepdims=False):
    """d prod / d a_i = product of the other entries, computed without dividing (exact when some a_j = 0).

    The reduced axes are moved last and flattened to n entries; an (..., n, n) array holds, in row i, the entries with
    a_i replaced by 1; its product over the last axis is the exclusive product. O(n^2) memory per reduced group.
    """
    shape = np.shape(a)
    nd = len(shape)
    axes = _normalize_axis(axis, nd)
    keep = tuple(i for i in range(nd) if i not in axes)
    perm = keep + axes
    at = transpose(a, perm) if nd else reshape(a, (1,))
    kept_shape = tuple(shape[i] for i in keep)
    n = _count(shape, axis) if nd else 1
    flat = reshape(at, kept_shape + (n,))
    rows = broadcast_to(expand_dims(flat, -2), kept_shape + (n, n))
    excl = prod(where(np.eye(n, dtype=bool), 1.0, rows), axis=-1)  # kept_shape + (n,)
    gk = reshape(g, kept_shape + (1,))
    grad_t = reshape(multiply(gk, excl), tuple(shape[i] for i in perm))
    return transpose(grad_t, tuple(np.argsort(perm))) if nd else reshape(grad_t, ())


defvjp(sum, _sum_vjp)
defvjp(mean, lambda g, ans, a, axis=None, keepdims=False: _sum_vjp(divide(g, _mean_count(a, axis)), ans, a, axis,
                                                                    keepdims))
defvjp(max, _extremum_vjp)
defvjp(min, _extremum_vjp)
defvjp(prod, _prod_vjp)



@primitive
def var(a, axis=None, keepdims=False, ddof=0):
    """np.var: mean |a - mean a|^2 with NumPy's ddof (the sum divided by n - ddof)."""
    return np.var(a, axis=axis, keepdims=keepdims, ddof=ddof)


def _var_vjp(g, ans, a, axis=None, keepdims=False, ddof=0):
    # d var / d a_i = 2 (a_i - m) / (n - ddof) (the mean's own derivative drops out: sum (a - m) = 0)
    shape = np.shape(a)
    d = subtract(a, mean(a, axis=axis, keepdims=True))
    scale = 2.0 / (_mean_count(stop_gradient(a), axis) - ddof)
    return multiply(_expand_reduced(g, shape, axis, keepdims), multiply(d, scale))


@primitive
def std(a, axis=None, keepdims=False, ddof=0):
    """np.std = sqrt(var)."""
    return np.std(a, axis=axis, keepdims=keepdims, ddof=ddof)


def _std_vjp(g, ans, a, axis=None, keepdims=False, ddof=0):
    """d std / d a_i = (a_i - m) / ((n - ddof) std). Where std = 0 (a group of one element, or all entries equal)
    the gradient is 0: for one element std is identically 0; for equal entries std is a cone (no derivative) and 0
    is the choice, as abs makes at 0. Never 0/0 = nan."""
    shape = np.shape(a)
    pos, safe = _safe_divisor(_expand_reduced(ans, shape, axis, keepdims))
    d = subtract(a, mean(a, axis=axis, keepdims=True))
    n = _mean_count(stop_gradient(a), axis) - ddof
    return where(pos, divide(multiply(_expand_reduced(g, shape, axis, keepdims), d), multiply(safe, n)), 0.0)


defvjp(var, _var_vjp)
defvjp(std, _std_vjp)


@primitive
def norm2(x, axis=None, keepdims=False):
    """The Euclidean / Frobenius norm sqrt(sum x^2) over axis (np.linalg.norm with ord None)."""
    return np.linalg.norm(x, axis=axis, keepdims=keepdims)


def _norm2_vjp(g, ans, x, axis=None, keepdims=False):
    """x / |x|; at x = 0 (a cone, no derivative) 0, as abs at 0: never 0/0 = nan."""
    shape = np.shape(x)
    pos, safe = _safe_divisor(_expand_reduced(ans, shape, axis, keepdims))
    return where(pos, divide(multiply(_expand_reduced(g, shape, axis, keepdims), x), safe), 0.0)


defvjp(norm2, _norm2_vjp)


@primitive
def cumsum(a, axis=None):
    """np.cumsum (axis None: over the flattened array)."""
    return np.cumsum(a, axis=axis)


def _cumsum_vjp(g, ans, a, axis=None):
    # the adjoint of a running sum is the running sum from the end: flip, cumsum, flip
    if axis is None:
        rev = (slice(None, None, -1),)
        return reshape(_getitem(cumsum(_getitem(g, rev)), rev), np.shape(a))
    ax = axis % np.ndim(a)
    rev = (slice(None),) * ax + (slice(None, None, -1),)
    return _getitem(cumsum(_getitem(g, rev), axis=ax), rev)


defvjp(cumsum, _cumsum_vjp)

# ------------------------------------------------------------------------------------------------ linear algebra


@primitive
def matmul(a, b):
    try:
        return np.matmul(a, b)
    except ValueError as err:
        raise _shape_error("matmul", err, (a, b)) from err


def _matmul_vjp_a(g, ans, a, b):
    """d(a @ b)/da with NumPy's 1-D promotion rules (batch dimensions are summed by the engine's unbroadcast)."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if b_nd == 1:
        if a_nd == 1:
            return multiply(g, b)  # <a, b>: g is a scalar
        return multiply(reshape(g, np.shape(g) + (1,)), b)  # (..., m) x (n,) -> (..., m, n)
    if a_nd == 1:
        return matmul(b, g) if np.ndim(g) == 1 else matmul(reshape(g, np.shape(g)[:-1] + (1, np.shape(g)[-1])),
                                                             swapaxes(b, -1, -2))
    return matmul(g, swapaxes(b, -1, -2))


def _matmul_vjp_b(g, ans, a, b):
    """d(a @ b)/db with NumPy's 1-D promotion rules."""
    a_nd, b_nd = np.ndim(a), np.ndim(b)
    if a_nd == 1:
        if b_nd == 1:
            return multiply(g, a)
        return multiply(reshape(a, np.shape(a) + (1,)), reshape(g, np.shape(g)[:-1] + (1, np.shape(g)[-1])))
    if b_nd == 1:
        if a_nd == 2:
            return matmul(g, a)  # a^T g written as g @ a
        gb = matmul(swapaxes(a, -1, -2), reshape(g, np.shape(g) + (1,)))  # (..., n, 1)
        return reshape(gb, np.shape(gb)[:-1])
    return matmul(swapaxes(a, -1, -2), g)


defvjp(matmul, _matmul_vjp_a, _matmul_vjp_b)


@primitive
def _einsum(subscripts, *operands):
    try:
        return np.einsum(subscripts, *operands)
    except ValueError as err:
        raise _shape_error("einsum", err, operands, subscripts=subscripts) from err


def _einsum_vjp_for(argnum):
    def rule(g, ans, subscripts, *operands):
        ins, out = subscripts.split("->")
        in_list = ins.split(",")
        k = argnum - 1  # argument 0 is the subscripts string
        target = in_list[k]
        others = [(s, op) for i, (s, op) in enumerate(zip(in_list, operands)) if i != k]
        avail = set(out).union(*[set(s) for s, _ in others]) if others else set(out)
        present = "".join(c for c in target if c in avail)
        expr = ",".join([out] + [s for s, _ in others]) + "->" + present
        res = _einsum(expr, g, *[op for _, op in others])
        if present != target:  # letters summed within this operand only: broadcast back
            shape = np.shape(operands[k])
            res = reshape(res, tuple(shape[i] if c in avail else 1 for i, c in enumerate(target)))
            res = broadcast_to(res, shape)
        return res

    return rule


def einsum(subscripts, *operands):
    """np.einsum for explicit or implicit subscripts without ellipsis or repeated indices inside one operand."""
    if not isinstance(subscripts, str):
        raise NotImplementedError("minidsn.numpy.einsum takes the subscripts-string form only")
    s = subscripts.replace(" ", "")
    if "." in s:
        raise NotImplementedError("minidsn.numpy.einsum: ellipsis '...' is not supported; write the axes out")
    if "->" not in s:
        letters = s.replace(",", "")
        s = s + "->" + "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    ins = s.split("->")[0].split(",")
    if len(ins) != len(operands):
        raise ValueError(f"einsum: {len(ins)} subscript groups for {len(operands)} operands")
    for t in ins:
        if len(set(t)) != len(t):
            raise NotImplementedError(f"minidsn.numpy.einsum: repeated index within one operand ('{t}') is not supported")
    _ensure_seq_rules(_einsum, _einsum_vjp_for, len(ins))
    return _einsum(s, *operands)


defvjp(_einsum, None, *[_einsum_vjp_for(i) for i in range(1, 9)])

# ------------------------------------------------------------------------------------------------ shapes


@primitive
def reshape(a, newshape, order="C"):
    try:
        return np.reshape(a, newshape, order=order)
    except ValueError as err:
        raise _shape_error("reshape", err, (a,), newshape=newshape) from err


defvjp(reshape, lambda g, ans, a, newshape, order="C": reshape(g, np.shape(a), order=order))


@primitive
def transpose(a, axes=None):
    try:
        return np.transpose(a, axes)
    except ValueError as err:
        raise _shape_error("transpose", err, (a,), axes=axes) from err


defvjp(
    transpose,
    lambda g, ans, a, axes=None: transpose(g, None if axes is None else tuple(np.argsort(axes))),
)


@primitive
def swapaxes(a, axis1, axis2):
    return np.swapaxes(a, axis1, axis2)


defvjp(swapaxes, lambda g, ans, a, axis1, axis2: swapaxes(g, axis1, axis2))


@primitive
def expand_dims(a, axis):
    """np.expand_dims, by a reshape (NumPy's own is slow for small arrays)."""
    shape = list(np.shape(a))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    nd = len(shape) + len(axes)
    for ax in sorted(x % nd for x in axes):
        shape.insert(ax, 1)
    return np.reshape(a, shape)


@primitive
def squeeze(a, axis=None):
    try:
        return np.squeeze(a, axis=axis)
    except ValueError as err:
        raise _shape_error("squeeze", err, (a,), axis=axis) from err


@primitive
def ravel(a):
    return np.ravel(a)


defvjp(expand_dims, lambda g, ans, a, axis: reshape(g, np.shape(a)))
defvjp(squeeze, lambda g, ans, a, axis=None: reshape(g, np.shape(a)))
defvjp(ravel, lambda g, ans, a: reshape(g, np.shape(a)))


@primitive
def broadcast_to(a, shape):
    try:
        return np.broadcast_to(a, shape)
    except ValueError as err:
        raise _shape_error("broadcast_to", err, (a,), shape=shape) from err


# The engine sums the gradient back to a's shape (unbroadcast); the rule itself is the identity.
defvjp(broadcast_to, lambda g, ans, a, shape: g)


@primitive
def astype(a, dtype):
    return np.asarray(a).astype(dtype)


defvjp(astype, lambda g, ans, a, dtype: astype(g, np.result_type(stop_gradient(a))))


@primitive
def _concatenate(axis, *arrays):
    try:
        return np.concatenate(arrays, axis=axis)
    except ValueError as err:
        raise _shape_error("concatenate", err, arrays, axis=axis) from err


def _concat_vjp_for(argnum):
    def rule(g, ans, axis, *arrays):
        k = argnum - 1
        ax = axis % np.ndim(ans)
        start = int(np.sum([np.shape(a)[ax] for a in arrays[:k]], dtype=int))
        stop = start + np.shape(arrays[k])[ax]
        idx = tuple([slice(None)] * ax + [slice(start, stop)])
        return _getitem(g, idx)

    return rule


@primitive
def _stack(axis, *arrays):
    try:
        return np.stack(arrays, axis=axis)
    except ValueError as err:
        raise _shape_error("stack", err, arrays, axis=axis) from err


def _stack_vjp_for(argnum):
    def rule(g, ans, axis, *arrays):
        ax = axis % np.ndim(ans)
        idx = tuple([slice(None)] * ax + [argnum - 1])
        return _getitem(g, idx)

    return rule


_MAX_SEQ_ARGS = 4096  # rules are made for this many arrays; more are added on demand


def _ensure_seq_rules(prim, maker, n):
    if len(prim.vjps) < n + 1:
        defvjp(prim, None, *[maker(i) for i in range(1, n + 1)])


def concatenate(arrays, axis=0):
    arrays = list(arrays)
    _ensure_seq_rules(_concatenate, _concat_vjp_for, len(arrays))
    return _concatenate(axis, *arrays)


def stack(arrays, axis=0):
    arrays = list(arrays)
    _ensure_seq_rules(_stack, _stack_vjp_for, len(arrays))
    return _stack(axis, *arrays)


# ------------------------------------------------------------------------------------------------ indexing


def _check_index(idx):
    items = idx if isinstance(idx, tuple) else (idx,)
    for it in items:
        if hasattr(it, "_trace"):
            raise TypeError("an index may not be a traced value (indices have no gradient): use stop_gradient")


@primitive
def _getitem(a, idx):
    return a[idx]


def _is_basic_index(idx):
    """Ints, slices, None and Ellipsis only: such an index never selects an element twice."""
    items = idx if isinstance(idx, tuple) else (idx,)
    return all(isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items)


@primitive
def _untake(g, idx, shape, dtype):
    """Scatter-add g into zeros of `shape` at `idx` (repeated indices add): the adjoint of a[idx]."""
    out = np.zeros(shape, dtype=dtype)
    if _is_basic_index(idx):
        out[idx] = g  # no repeats possible: plain assignment is exact and much faster than add.at
    else:
        np.add.at(out, idx, g)
    return out


defvjp(_getitem, lambda g, ans, a, idx: _untake(g, idx, np.shape(a), np.result_type(stop_gradient(a))))
defvjp(_untake, lambda g, ans, gg, idx, shape, dtype: _getitem(g, idx))


def getitem(a, idx):
    _check_index(idx)
    return _getitem(a, idx)


@primitive
def take_along_axis(arr, indices, axis):
    return np.take_along_axis(arr, indices, axis)


def _full_index(indices, axis, shape):
    """The tuple index equivalent to take_along_axis(·, indices, axis) on an array of `shape`."""
    nd = len(shape)
    axis = axis % nd
    idx = []
    for d in range(nd):
        if d == axis:
            idx.append(indices)
        else:
            sh = [1] * nd
            sh[d] = shape[d]
            idx.append(np.arange(shape[d]).reshape(sh))
    return tuple(np.broadcast_arrays(*idx))


defvjp(
    take_along_axis,
    lambda g, ans, arr, indices, axis: _untake(
        g, _full_index(indices, axis, np.shape(arr)), np.shape(arr), np.result_type(stop_gradient(arr))
    ),
    None,
)

# ------------------------------------------------------------------------------------------------ stable fused functions


@primitive
def expit(x):
    """Logistic sigmoid 1/(1+e^-x), two-branch so that neither branch overflows (finite at +-1000)."""
    x = np.asarray(x)
    z = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + z), z / (1.0 + z)).astype(np.result_type(z))


defvjp(expit, lambda g, ans, x: multiply(g, multiply(ans, subtract(1.0, ans))))


@primitive
def softplus(x):
    """log(1 + e^x) = max(x, 0) + log1p(e^-|x|): finite and exact at +-1000."""
    x = np.asarray(x)
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


defvjp(softplus, lambda g, ans, x: multiply(g, expit(x)))


def _stable_max(x, axis):
    """Max over axis (keepdims) with -inf rows replaced by 0 so that x - m never forms inf - inf."""
    m = np.max(x, axis=axis, keepdims=True)
    return np.where(np.isfinite(m), m, 0.0)


@primitive
def logsumexp(a, axis=None, keepdims=False):
    """log sum exp a, shifted by the max; all -inf gives -inf (not nan), +inf gives +inf."""
    a = np.asarray(a)
    m = _stable_max(a, axis)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


def _logsumexp_vjp(g, ans, a, axis=None, keepdims=False):
    """d lse / d a = exp(a - lse a) = softmax(a); a group that is all -inf gets gradient 0 (it has no mass to move).
    Only that group is guarded: where lse is nan the gradient is nan, where it is +inf exp(a - inf) (nan for the inf
    entries, 0 for the finite ones)."""
    shape = np.shape(a)
    ans_e = _expand_reduced(ans, shape, axis, keepdims)
    ans_safe = where(np.isneginf(stop_gradient(ans_e)), 0.0, ans_e)
    weights = exp(subtract(a, ans_safe))
    return multiply(broadcast_to(_expand_reduced(g, shape, axis, keepdims), shape), weights)


defvjp(logsumexp, _logsumexp_vjp)


@primitive
def softmax(x, axis=-1):
    """exp(x - logsumexp x) along axis; a group that is all -inf gives zeros (not nan). A group holding a nan or a
    +inf gives nan, as scipy.special.softmax."""
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isneginf(m), 0.0, m)  # only an all -inf group is shifted by 0: its exp is 0, its result 0
    e = np.exp(x - m)
    s = np.sum(e, axis=axis, keepdims=True)
    return np.divide(e, s, out=np.zeros_like(e), where=s != 0)


defvjp(
    softmax,
    lambda g, ans, x, axis=-1: multiply(ans, subtract(g, sum(multiply(g, ans), axis=axis, keepdims=True))),
)


@primitive
def log_softmax(x, axis=-1):
    """x - logsumexp(x) along axis; a group that is all -inf gives -inf (not nan). A group holding a nan gives nan,
    one holding +inf gives x - inf (nan at the inf entries, -inf elsewhere), as scipy.special.log_softmax."""
    x = np.asarray(x)
    m = np.maximum.reduce(x, axis=axis, keepdims=True)
    if np.isfinite(m).all():  # the common case: no guard needed
        shifted = x - m
        return shifted - np.log(np.add.reduce(np.exp(shifted), axis=axis, keepdims=True))
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):
        lse = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    low = np.isneginf(lse)
    out = x - np.where(low, 0.0, lse)
    return np.where(low, -np.inf, out)


# exp(ans) is the softmax; in an all -inf group it is exp(-inf) = 0, so the rule stays finite there.
defvjp(log_softmax, lambda g, ans, x, axis=-1: subtract(g, multiply(exp(ans), sum(g, axis=axis, keepdims=True))))


@primitive
def relu(x):
    """max(x, 0); gradient 1 for x > 0, 0 otherwise (0 at the kink); a nan (returned as it is) passes it."""
    return np.maximum(x, 0)


defvjp(relu, lambda g, ans, x: multiply(g, np.logical_not(stop_gradient(x) <= 0)))


@primitive
def leaky_relu(x, negative_slope=0.01):
    """x for x > 0, negative_slope * x otherwise; gradient negative_slope at the kink."""
    return np.where(x > 0, x, negative_slope * x)


defvjp(leaky_relu, lambda g, ans, x, negative_slope=0.01: multiply(g, np.where(stop_gradient(x) > 0, 1.0, negative_slope)))


# ------------------------------------------------------------------------------------------------ first-order rules
# Plain-NumPy twins of the hottest rules above, used when nothing differentiates the backward pass itself (the
# engine decides; see core.backward). Each computes exactly what its differentiable rule computes; the test
# tests/test_engine_core.py::test_raw_rules_equal_differentiable_rules checks every one.


def _raw_matmul_a(g, ans, a, b):
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2:
        return g @ b.T
    return _matmul_vjp_a(g, ans, a, b)


def _raw_matmul_b(g, ans, a, b):
    if type(a) is np.ndarray and type(b) is np.ndarray and a.ndim == 2 and b.ndim == 2:
        return a.T @ g
    return _matmul_vjp_b(g, ans, a, b)


def _raw_sum(g, ans, a, axis=None, keepdims=False):
    # the engine's unbroadcast is the identity here; a fresh array (not a broadcast view) is as cheap at these sizes
    shape = np.shape(a)
    out = np.empty(shape, dtype=np.result_type(g))
    out[...] = _expand_reduced_raw(g, shape, axis, keepdims)
    return out


defvjp_raw(add, lambda g, ans, x, y: g, lambda g, ans, x, y: g)
defvjp_raw(subtract, lambda g, ans, x, y: g, lambda g, ans, x, y: -g)
defvjp_raw(multiply, lambda g, ans, x, y: g * y, lambda g, ans, x, y: g * x)
defvjp_raw(divide, lambda g, ans, x, y: g / y, lambda g, ans, x, y: -((g * ans) / y))
defvjp_raw(negative, lambda g, ans, x: -g)
defvjp_raw(square, lambda g, ans, x: g * (2.0 * x))
defvjp_raw(exp, lambda g, ans, x: g * ans)
defvjp_raw(log, lambda g, ans, x: g / x)
defvjp_raw(sqrt, lambda g, ans, x: (g * 0.5) / ans)
defvjp_raw(tanh, lambda g, ans, x: g * (1.0 - np.square(ans)))
defvjp_raw(matmul, _raw_matmul_a, _raw_matmul_b)
defvjp_raw(sum, _raw_sum)
defvjp_raw(mean, lambda g, ans, a, axis=None, keepdims=False: _raw_sum(g / _mean_count(a, axis), ans, a, axis,
                                                                        keepdims))
defvjp_raw(reshape, lambda g, ans, a, newshape, order="C": np.reshape(g, np.shape(a), order=order))
defvjp_raw(transpose, lambda g, ans, a, axes=None: np.transpose(g, None if axes is None else tuple(np.argsort(axes))))
defvjp_raw(broadcast_to, lambda g, ans, a, shape: g)
defvjp_raw(_getitem, lambda g, ans, a, idx: _untake.fun(g, idx, np.shape(a), np.result_type(a)))
defvjp_raw(where, None, lambda g, ans, c, x, y: np.where(c, g, 0.0), lambda g, ans, c, x, y: np.where(c, 0.0, g))
defvjp_raw(expit, lambda g, ans, x: g * (ans * (1.0 - ans)))
defvjp_raw(relu, lambda g, ans, x: g * np.logical_not(x <= 0))
defvjp_raw(
    leaky_relu,
    lambda g, ans, x, negative_slope=0.01: g * np.where(x > 0, 1.0, negative_slope),
)
defvjp_raw(log_softmax, lambda g, ans, x, axis=-1: g - np.exp(ans) * np.add.reduce(g, axis=axis, keepdims=True))
defvjp_raw(softmax, lambda g, ans, x, axis=-1: ans * (g - np.sum(g * ans, axis=axis, keepdims=True)))


# ------------------------------------------------------------------------------------------- stacked first-order rules
# Gradients of a value used many times (a weight or bias shared by the steps of an unrolled recurrence) summed in one
# operation when the value's gradient is needed, instead of one small product or reduction and one addition per use
# (core.defvjp_stacked). With one use each gives exactly the ordinary rule's value; tests/test_engine_core.py checks
# them against the ordinary rules.


def _stack_matmul_b(g, ans, a, b):
    # item (a, g) for 2-D operands; other shapes use the ordinary rule
    if type(a) is np.ndarray and type(g) is np.ndarray and a.ndim == 2 and g.ndim == 2:
        return a, g
    return None


def _sum_matmul_b(items, shape, dtype):
    """sum_i a_i^T g_i as one product of the row-stacked a_i and g_i."""
    if len(items) == 1:
        a, g = items[0]
        return a.T @ g
    return np.concatenate([a for a, _ in items]).T @ np.concatenate([g for _, g in items])


def _stack_broadcast_x(g, ans, x, y):
    # the item is g itself when x was broadcast against the other operand (its reduction is the deferred work)
    return g if type(g) is np.ndarray and np.shape(x) != g.shape else None


def _stack_broadcast_y(g, ans, x, y):
    return g if type(g) is np.ndarray and np.shape(y) != g.shape else None


def _sum_broadcast(items, shape, dtype):
    """The sum of gradients that each reduce to `shape` (the engine's broadcasting rule does the reduction): items
    of one shape are added in one reduction over a stacked axis, then reduced once."""
    if len(items) == 1:
        return items[0]
    from minidsn.engine.broadcast import unbroadcast_raw

    by_shape: dict = {}
    for it in items:
        by_shape.setdefault(it.shape, []).append(it)
    total = None
    for group in by_shape.values():
        part = unbroadcast_raw(np.add.reduce(np.stack(group), axis=0), shape, dtype, "add", -1)
        total = part if total is None else total + part
    return total


defvjp_stacked(matmul, 1, _stack_matmul_b, _sum_matmul_b)
defvjp_stacked(add, 0, _stack_broadcast_x, _sum_broadcast)
defvjp_stacked(add, 1, _stack_broadcast_y, _sum_broadcast)


def all_primitives() -> dict[str, Primitive]:
    """Every primitive of this table by name (used by selfcheck and the primitive tests)."""
    return {k: v for k, v in globals().items() if isinstance(v, Primitive)}

"""Hostile inputs: the engine checked the way an outside implementation or an adversarial caller would check it.

Each test below names the probe it comes from. Properties hold over generated shapes / axes where one exists (the
gradient of every reduction against central differences); the defects found by the audit each have a test that
failed before its fix (softmax / log_softmax with nan or +inf, logsumexp / logaddexp gradients at +inf and nan,
nan through maximum / minimum / max / min / relu / clip, x ** 0 at 0, duplicate argnums, namedtuples as pytrees,
shape errors that name the shapes, leaked traced values).
"""

import collections
import warnings

import numpy as np
import pytest
import scipy.special as sps
from hypothesis import given, settings
from hypothesis import strategies as st

import minidsn.numpy as mnp
from minidsn.engine import (
    EngineError,
    TracedConversionError,
    grad,
    hessian,
    jacobian,
    stop_gradient,
    value_and_grad,
    vjp,
)
from minidsn.nn import relu
from minidsn.scipy.special import log_softmax, logsumexp, softmax

NAN, INF = np.nan, np.inf


def _fd(f, x, eps=1e-6):
    """Central differences of scalar f at x (float64), entry by entry."""
    x = np.array(x, dtype=np.float64)
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += eps
        xm[i] -= eps
        g[i] = (float(stop_gradient(f(xp))) - float(stop_gradient(f(xm)))) / (2 * eps)
    return g


# ---------------------------------------------------------------------------------------------- reductions, axes


def _axis_strategy(ndim):
    single = st.integers(-ndim, ndim - 1)
    tup = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes])
    )
    return st.one_of(st.none(), single, tup)


_REDUCTIONS = {
    "sum": mnp.sum,
    "mean": mnp.mean,
    "max": mnp.max,
    "min": mnp.min,
    "prod": mnp.prod,
    "var": mnp.var,
    "std": mnp.std,
    "logsumexp": logsumexp,
    "norm": lambda a, axis, keepdims: mnp.linalg.norm(a, axis=axis, keepdims=keepdims)
    if axis is None or isinstance(axis, int) or len(axis) <= 2 else mnp.sqrt(mnp.sum(a * a, axis=axis,
                                                                                      keepdims=keepdims)),
}


@given(
    shape=st.lists(st.integers(1, 3), min_size=0, max_size=3).map(tuple),
    name=st.sampled_from(sorted(_REDUCTIONS)),
    keepdims=st.booleans(),
    data=st.data(),
)
@settings(max_examples=60, deadline=None)
def test_reduction_gradients_equal_central_differences(shape, name, keepdims, data):
    """Probe: every reduction over generated shapes (0-d, size-1 axes), axes (None, negative, tuples) and keepdims
    against central differences, with a random cotangent so that each output entry is checked."""
    axis = data.draw(_axis_strategy(len(shape))) if shape else None
    seed = data.draw(st.integers(0, 2**31 - 1))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) + 0.1 * np.arange(int(np.prod(shape))).reshape(shape)  # no ties
    fn = _REDUCTIONS[name]
    w = rng.standard_normal(np.shape(np.sum(x, axis=axis, keepdims=keepdims)))

    def f(a):
        return mnp.sum(fn(a, axis=axis, keepdims=keepdims) * w)

    g = grad(f)(x)
    assert g.shape == x.shape and g.dtype == x.dtype
    np.testing.assert_allclose(g, _fd(f, x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(stop_gradient(fn(x, axis=axis, keepdims=keepdims)),
                               np.sum(x, axis=axis, keepdims=keepdims) * 0 + stop_gradient(fn(x, axis=axis,
                                                                                              keepdims=keepdims)))


def test_duplicate_and_out_of_range_axes_are_numpy_errors():
    """Probe: duplicate axes and out-of-range axes raise NumPy's own error (before anything is recorded)."""
    x = np.ones((2, 3))
    with pytest.raises(ValueError, match="duplicate"):
        grad(lambda a: mnp.sum(a, axis=(1, -1)))(x)
    with pytest.raises(np.exceptions.AxisError):
        grad(lambda a: mnp.sum(mnp.mean(a, axis=2)))(x)


def test_size_zero_arrays():
    """Probe: size-0 arrays give size-0 gradients of the right shape; a reduction NumPy refuses is refused."""
    z = np.zeros((0, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for f in (mnp.sum, lambda a: mnp.sum(mnp.max(a, axis=1)), lambda a: mnp.sum(softmax(a, axis=1)),
                  lambda a: mnp.sum(a @ np.ones((3, 2))), mnp.prod, lambda a: mnp.sum(mnp.cumsum(a))):
            g = grad(f)(z)
            assert g.shape == z.shape and g.dtype == z.dtype
    with pytest.raises(ValueError, match="zero-size"):
        grad(mnp.max)(z)
    assert jacobian(lambda a: a * 2)(np.zeros(0)).shape == (0, 0)


# ---------------------------------------------------------------------------------------------- dtypes


def test_integer_bool_complex_inputs_refused_float32_kept():
    """Probe: int / bool inputs are refused with a message saying to convert (as jax.grad); float32 and float16 keep
    their dtype; complex is refused naming the dtype."""
    with pytest.raises(TypeError, match="int64"):
        grad(lambda a: mnp.sum(a * a))(np.arange(3))
    with pytest.raises(TypeError, match="integer"):
        grad(lambda a: a * a)(3)
    with pytest.raises(TypeError, match="bool"):
        grad(lambda a: mnp.sum(a * 1.0))(np.array([True]))
    for dt in (np.float32, np.float16):
        g = grad(lambda a: mnp.sum(a * np.ones(3)))(np.ones(3, dt))  # a float64 constant does not promote it
        assert g.dtype == dt
    from minidsn.engine import ComplexNotSupportedError

    with pytest.raises(ComplexNotSupportedError, match="complex128"):
        grad(lambda a: mnp.sum(a))(np.ones(2, complex))


# ---------------------------------------------------------------------------------------------- kinks


def test_kinks_documented_choices():
    """Probe: the documented choices at non-differentiable points (docs/engine.md, "Choices at kinks")."""
    assert grad(lambda a: mnp.sum(mnp.abs(a)))(np.array([0.0, -0.0])).tolist() == [0.0, 0.0]
    assert grad(mnp.max)(np.array([1.0, 1.0, 0.0])).tolist() == [0.5, 0.5, 0.0]
    assert grad(lambda a: mnp.sum(relu(a)))(np.array([0.0])).tolist() == [0.0]
    with np.errstate(divide="ignore"):
        assert grad(lambda a: mnp.sum(mnp.sqrt(a)))(np.array([0.0])).tolist() == [INF]
        assert grad(lambda a: mnp.sum(mnp.log(a)))(np.array([0.0])).tolist() == [INF]
    assert grad(lambda a: mnp.linalg.norm(a))(np.zeros(3)).tolist() == [0.0, 0.0, 0.0]
    assert grad(lambda a: mnp.sum(mnp.sort(a) * np.arange(3.0)))(np.array([1.0, 1.0, 0.0])).tolist() == [1, 2, 0]


def test_power_with_zero_exponent_at_zero_has_zero_gradient():
    """Defect: d/dx x**0 at x = 0 was 0 * 0**-1 = nan; x**0 is the constant 1, so the derivative is 0 (to every
    order). x**y at other points is unchanged."""
    assert grad(lambda a: mnp.sum(a**0.0))(np.array([0.0, 2.0])).tolist() == [0.0, 0.0]
    assert grad(lambda a: mnp.sum(mnp.power(a, np.array([0.0, 2.0]))))(np.array([0.0, 0.0])).tolist() == [0.0, 0.0]
    assert hessian(lambda a: mnp.sum(a**0.0))(np.array([0.0])).tolist() == [[0.0]]
    assert grad(lambda a: mnp.sum(a**2.0))(np.array([0.0, 3.0])).tolist() == [0.0, 6.0]
    assert hessian(lambda a: mnp.sum(a**2))(np.array([0.0])).tolist() == [[2.0]]


# ---------------------------------------------------------------------------------------------- stable fused primitives


@pytest.mark.parametrize("x", [
    [NAN, 0.0], [0.0, NAN], [INF, 0.0], [INF, INF], [-INF, 0.0], [-INF, -INF], [1000.0, -1000.0], [NAN, -INF],
    [INF, -INF], [INF, NAN],
])
def test_softmax_log_softmax_logsumexp_forward_equal_scipy(x):
    """Defect: softmax([nan, 0]) was [0, 0] and log_softmax([nan, 0]) [nan, 0], log_softmax([inf, 0]) [inf, 0]
    (silently wrong numbers); they now equal scipy's, except the documented all -inf group (softmax zeros,
    log_softmax -inf, where scipy gives nan)."""
    x = np.array(x)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np.testing.assert_array_equal(logsumexp(x), sps.logsumexp(x))
        if not np.all(np.isneginf(x)):
            np.testing.assert_array_equal(log_softmax(x), sps.log_softmax(x))
            np.testing.assert_array_equal(softmax(x), sps.softmax(x))
            np.testing.assert_array_equal(softmax(x[None], axis=1), sps.softmax(x[None], axis=1))
            np.testing.assert_array_equal(log_softmax(x[None], axis=1), sps.log_softmax(x[None], axis=1))
        else:
            np.testing.assert_array_equal(softmax(x), np.zeros(2))
            np.testing.assert_array_equal(log_softmax(x), np.full(2, -INF))


def test_logsumexp_gradient_is_the_softmax_also_at_inf_and_nan():
    """Defect: the gradient of logsumexp at [inf, 0] was [inf, 1] and at [nan, 0] [nan, 1] (a finite weight on an
    entry that has none). It is now exp(a - logsumexp(a)) = exp(log_softmax(a)) there as everywhere: [nan, 0] and
    [nan, nan]. The all -inf group keeps its documented gradient 0."""
    with np.errstate(all="ignore"):
        for x in ([INF, 0.0], [NAN, 0.0], [-INF, -INF], [-INF, 0.0], [3.0, 1.0], [INF, -INF]):
            x = np.array(x)
            g = grad(logsumexp)(x)
            expect = np.exp(log_softmax(x)) if not np.all(np.isneginf(x)) else np.zeros(2)
            np.testing.assert_array_equal(g, expect)
            g2 = grad(lambda a: mnp.sum(logsumexp(a[None, :], axis=1)))(x)
            np.testing.assert_array_equal(g2, expect)
        assert grad(logsumexp)(np.array([INF, 0.0])).tolist()[1] == 0.0


def test_logaddexp_gradient_at_inf_and_nan():
    """Defect: logaddexp(nan, 0) had gradient (0, 0) (a silent zero) and logaddexp(inf, 0) (0, 0); both -inf keeps
    its documented 0. Now nan propagates, and at +inf the weights are exp(x - ans) as everywhere: (nan, 0)."""
    with np.errstate(all="ignore"):
        gx, gy = grad(mnp.logaddexp, argnums=(0, 1))(NAN, 0.0)
        assert np.isnan(gx) and np.isnan(gy)
        gx, gy = grad(mnp.logaddexp, argnums=(0, 1))(INF, 0.0)
        assert np.isnan(gx) and gy == 0.0
        assert grad(mnp.logaddexp, argnums=(0, 1))(-INF, -INF) == (0.0, 0.0)
        assert grad(mnp.logaddexp2, argnums=(0, 1))(-INF, -INF) == (0.0, 0.0)
        gx, gy = grad(mnp.logaddexp2, argnums=(0, 1))(NAN, 1.0)
        assert np.isnan(gx) and np.isnan(gy)


@pytest.mark.parametrize("name", ["expit", "softplus", "logsumexp", "softmax", "log_softmax", "logaddexp"])
def test_fused_primitives_stable_at_large_magnitude(name):
    """Probe: overflow stability at +-1000 and +-1e308: values equal the exact limits (rounded), gradients finite."""
    from minidsn.nn import softplus
    from minidsn.scipy.special import expit

    fns = {"expit": expit, "softplus": softplus, "logsumexp": lambda a: logsumexp(a, axis=-1, keepdims=True),
           "softmax": softmax, "log_softmax": log_softmax, "logaddexp": lambda a: mnp.logaddexp(a, 0.0)}
    f = fns[name]
    for big in (1000.0, 1e308):
        x = np.array([-big, big, 0.0])
        with np.errstate(over="ignore"):  # x - max overflows to -inf at 1e308, harmlessly (exp gives 0)
            y, f_vjp = vjp(f, x)
            (g,) = f_vjp(np.ones_like(y) * np.arange(1.0, 1.0 + y.size).reshape(y.shape))
        expect = {"expit": [0.0, 1.0, 0.5], "softplus": [0.0, big, np.log(2.0)], "logsumexp": [big],
                  "softmax": [0.0, 1.0, 0.0], "log_softmax": [-2 * big, 0.0, -big],
                  "logaddexp": [0.0, big, np.log(2.0)]}[name]
        np.testing.assert_allclose(y, expect, rtol=1e-15)
        assert np.all(np.isfinite(g)), g


# ---------------------------------------------------------------------------------------------- nan propagation


def test_nan_in_selection_primitives_is_not_a_silent_zero():
    """Defect: maximum(nan, 0), relu(nan), clip(nan) returned nan but gave the nan entry gradient 0, and a max over
    a group holding a nan gave nan to every entry. The gradient now follows the selection NumPy makes: maximum /
    minimum / max / min return the nan, so the nan operand (or entry) gets the gradient; relu and clip pass it
    (their value is the nan itself). Two nans tie (half each), as equal values do."""
    x = np.array([NAN, 1.0, -1.0])
    assert grad(lambda a: mnp.sum(mnp.maximum(a, 0.0)))(x).tolist() == [1.0, 1.0, 0.0]
    assert grad(lambda a: mnp.sum(mnp.minimum(a, 0.0)))(x).tolist() == [1.0, 0.0, 1.0]
    assert grad(lambda a: mnp.sum(mnp.maximum(0.0, a)))(x).tolist() == [1.0, 1.0, 0.0]
    assert grad(lambda a: mnp.maximum(a, a))(NAN) == 1.0
    assert grad(lambda a: mnp.sum(relu(a)))(x).tolist() == [1.0, 1.0, 0.0]
    assert grad(lambda a: mnp.sum(mnp.clip(a, 0.0, 0.5)))(x).tolist() == [1.0, 0.0, 0.0]
    assert grad(lambda a: mnp.sum(mnp.clip(a, None, 0.5)))(x).tolist() == [1.0, 0.0, 1.0]
    assert grad(mnp.max)(x).tolist() == [1.0, 0.0, 0.0]
    assert grad(mnp.min)(x).tolist() == [1.0, 0.0, 0.0]
    assert grad(mnp.max)(np.array([NAN, 1.0, NAN])).tolist() == [0.5, 0.0, 0.5]
    g = grad(lambda a: mnp.sum(mnp.max(a, axis=0)))(np.array([[NAN, 1.0], [0.0, 2.0]]))
    assert g.tolist() == [[1.0, 0.0], [0.0, 1.0]]
    # fmax / fmin return the non-nan operand: it keeps the gradient; two nans split it
    assert grad(lambda a: mnp.sum(mnp.fmax(a, 0.0)))(x).tolist() == [0.0, 1.0, 0.0]
    assert grad(mnp.fmax, argnums=(0, 1))(NAN, NAN) == (0.5, 0.5)
    # ordinary values: bit-for-bit the old shares
    y = np.array([2.0, 1.0, 1.0])
    assert grad(lambda a: mnp.sum(mnp.maximum(a, np.array([1.0, 1.0, 3.0]))))(y).tolist() == [1.0, 0.5, 0.0]


@pytest.mark.parametrize("fn", [
    lambda a: a * a, mnp.exp, mnp.log, mnp.sqrt, mnp.tanh, mnp.abs, lambda a: mnp.linalg.norm(a, axis=-1),
    lambda a: mnp.std(a, axis=-1), lambda a: (a @ np.ones((2, 2))) ** 2, lambda a: softmax(a) * np.array([1.0, 2.0]),
    lambda a: log_softmax(a), lambda a: logsumexp(a, axis=-1), lambda a: mnp.prod(a, axis=-1),
])
def test_nan_input_gives_nan_gradient(fn):
    """Probe: a nan in the input reaches the gradient (nothing turns it into a silent 0)."""
    with np.errstate(all="ignore"):
        g = grad(lambda a: mnp.sum(fn(a)))(np.array([NAN, 0.5]))
    assert np.isnan(g).any()


# ---------------------------------------------------------------------------------------------- indexing


@given(st.lists(st.integers(-5, 4), min_size=0, max_size=8), st.integers(0, 2**31 - 1))
@settings(max_examples=30, deadline=None)
def test_repeated_negative_indices_accumulate(idx, seed):
    """Probe: an integer-array index with repeats and negative entries: gradient = counts (scatter-add)."""
    x = np.random.default_rng(seed).standard_normal(5)
    w = np.random.default_rng(seed + 1).standard_normal(len(idx))
    g = grad(lambda a: mnp.sum(a[np.array(idx, dtype=int)] * w))(x)
    expect = np.zeros(5)
    np.add.at(expect, np.array(idx, dtype=int), w)
    np.testing.assert_allclose(g, expect, rtol=1e-15, atol=0)


def test_indexing_forms():
    """Probe: boolean masks, stepped slices, Ellipsis / None, 2-d fancy repeats; out-of-range and float indices are
    NumPy's IndexError; traced indices and in-place assignment are refused."""
    x = np.arange(1.0, 7.0)
    X = np.arange(12.0).reshape(3, 4)
    assert grad(lambda a: mnp.sum(a[a > 3]))(x).tolist() == [0, 0, 0, 1, 1, 1]
    assert grad(lambda a: mnp.sum(a[::-2] * np.arange(3.0)))(x).tolist() == [0, 2, 0, 1, 0, 0]
    assert grad(lambda a: mnp.sum(a[..., None, 1:3]))(X).sum() == 6
    assert grad(lambda a: mnp.sum(a[np.array([0, 0]), np.array([1, 1])]))(X)[0, 1] == 2
    assert grad(lambda a: a[()])(np.array(2.0)) == 1.0
    with pytest.raises(IndexError, match="out of bounds"):
        grad(lambda a: a[10])(x)
    with pytest.raises(IndexError, match="out of bounds"):
        grad(lambda a: mnp.sum(a[np.array([0, 10])]))(x)
    with pytest.raises(IndexError):
        grad(lambda a: a[1.0])(x)
    with pytest.raises(TypeError, match="traced"):
        grad(lambda a: mnp.sum(a[a]))(x)

    def assign(a):
        a[0] = 1.0
        return mnp.sum(a)

    with pytest.raises(TracedConversionError, match="in-place"):
        grad(assign)(x)


# ---------------------------------------------------------------------------------------------- shape errors


@pytest.mark.parametrize("call, shapes", [
    (lambda a: mnp.reshape(a, (4, 2)), ["(6,)", "(4, 2)"]),
    (lambda a: mnp.concatenate([a, np.ones((2, 3))]), ["(6,)", "(2, 3)"]),
    (lambda a: mnp.concatenate([mnp.reshape(a, (2, 3)), np.ones((2, 2))]), ["(2, 3)", "(2, 2)"]),
    (lambda a: mnp.stack([a, a[:3]]), ["(6,)", "(3,)"]),
    (lambda a: mnp.matmul(mnp.reshape(a, (2, 3)), np.ones(2)), ["(2, 3)", "(2,)"]),
    (lambda a: mnp.matmul(mnp.reshape(a, (2, 3)), 2.0), ["(2, 3)", "()"]),
    (lambda a: mnp.transpose(mnp.reshape(a, (2, 3)), (0, 0)), ["(2, 3)", "(0, 0)"]),
    (lambda a: mnp.split(a, 4), ["(6,)"]),
    (lambda a: mnp.squeeze(mnp.reshape(a, (2, 3)), 0), ["(2, 3)"]),
    (lambda a: mnp.einsum("ij,jk->ik", mnp.reshape(a, (2, 3)), np.ones((2, 2))), ["(2, 3)", "(2, 2)"]),
    (lambda a: mnp.broadcast_to(a, (2, 5)), ["(6,)", "(2, 5)"]),
    (lambda a: a + np.ones(4), ["(6,)", "(4,)"]),
])
@pytest.mark.parametrize("traced", [True, False])
def test_shape_errors_name_the_shapes(call, shapes, traced):
    """Defect (messages): NumPy's own errors for stack, concatenate, matmul, transpose, split and squeeze do not
    always name the operands' shapes; minidsn's do (traced or not), still as ValueError."""
    x = np.arange(6.0)
    with pytest.raises(ValueError) as info:
        if traced:
            grad(lambda a: mnp.sum(call(a)))(x)
        else:
            call(x)
    msg = str(info.value).replace("np.float64", "")
    for s in shapes:
        assert s in msg, f"{s} not in {msg!r}"


# ---------------------------------------------------------------------------------------------- transforms


def test_vjp_cotangent_and_grad_output_errors():
    """Probe: a wrong-shaped or wrongly structured cotangent, a non-scalar output, an integer output: clear errors."""
    x = np.arange(1.0, 4.0)
    _, f_vjp = vjp(lambda a: a**2, x)
    with pytest.raises(ValueError, match=r"shape \(4,\).*shape \(3,\)"):
        f_vjp(np.ones(4))
    with pytest.raises(ValueError, match=r"shape \(1,\)"):
        f_vjp(np.ones(1))  # no silent broadcasting of the cotangent
    with pytest.raises(ValueError, match="structure"):
        vjp(lambda a: (a, a), x)[1](np.ones(3))
    with pytest.raises(TypeError, match=r"scalar, got shape \(3,\)"):
        grad(lambda a: a**2)(x)
    with pytest.raises(TypeError, match="int"):
        grad(lambda a: 3)(x)


def test_constant_function_gives_zeros_of_input_shape_and_dtype():
    """Probe: f that ignores its input: zero gradient of the input's shape and dtype, per leaf of a pytree."""
    g = grad(lambda p: 3.0)({"a": np.ones((2, 3), np.float32), "b": [np.ones(2), None], "c": {}, "d": ()})
    assert g["a"].dtype == np.float32 and g["a"].shape == (2, 3) and not g["a"].any()
    assert g["b"][0].tolist() == [0.0, 0.0] and g["b"][1] is None and g["c"] == {} and g["d"] == ()
    assert grad(lambda a: mnp.sum(stop_gradient(a)))(np.ones(3)).tolist() == [0, 0, 0]


def test_duplicate_argnums_refused():
    """Defect: grad(f, argnums=(0, 0)) boxed argument 0 twice and gave the first copy a gradient of 0 (silently
    wrong). Now a clear ValueError (jax fails here too, with an unrelated TypeError)."""
    with pytest.raises(ValueError, match="argnums.*repeat"):
        grad(lambda a, b: a * b, argnums=(0, 0))(2.0, 3.0)
    with pytest.raises(ValueError, match="argnums.*repeat"):
        grad(lambda a, b: a * b, argnums=(1, -1))(2.0, 3.0)
    assert grad(lambda a, b: a * b, argnums=(0, 1))(2.0, 3.0) == (3.0, 2.0)
    assert grad(lambda a, b: a * b, argnums=-1)(2.0, 3.0) == 2.0


def test_namedtuple_is_a_pytree():
    """Defect: a namedtuple argument was taken as one leaf (np.asarray of it: a float vector), so f saw an array
    without its fields and the gradient came back as an array. It is now a container, as in JAX: the gradient is
    the same namedtuple type with a gradient per field."""
    P = collections.namedtuple("P", "a b")
    g = grad(lambda p: p.a * p.b)(P(2.0, 3.0))
    assert type(g) is P and g.a == 3.0 and g.b == 2.0
    from minidsn.engine.pytree import tree_paths

    assert [path for path, _ in tree_paths(P(1.0, [2.0]))] == [("a",), ("b", 0)]
    g = grad(lambda p: mnp.sum(p[0]["w"] * p[1].b))([{"w": np.ones(2)}, P(None, np.full(2, 2.0))])
    assert g[0]["w"].tolist() == [2.0, 2.0] and type(g[1]) is P and g[1].a is None


def test_leaked_traced_value_is_a_clear_error():
    """Defect: a traced value kept after its differentiation ended (stored from inside f) silently produced new
    traced values of that dead trace, and used in another grad a misleading 'np.asarray' error. Now any operation
    on it raises EngineError naming the leak and the way out."""
    store = []
    grad(lambda a: (store.append(a), a * 2.0)[1])(2.0)
    with pytest.raises(EngineError, match="leaked"):
        store[0] * 2.0
    with pytest.raises(EngineError, match="leaked"):
        grad(lambda b: store[0] * b)(3.0)
    assert stop_gradient(store[0]) == 2.0  # the raw value is still readable


def test_closures_over_traced_values_and_higher_order():
    """Probe: an inner grad closing over an outer traced value; grad of grad; hessian at 0; a 100,000-node chain
    under grad of grad (iterative traversal, no RecursionError; 20x the recursion limit, the first-order 100,000-node
    chain is tests/test_engine_core.py's)."""
    x = np.arange(1.0, 4.0)
    assert grad(lambda a: grad(lambda b: mnp.sum(a * b * b))(x)[0])(2.0) == 2.0
    assert grad(lambda a: mnp.sum(grad(lambda b: mnp.sum(a * b))(x)))(x).tolist() == [1.0, 1.0, 1.0]
    assert grad(grad(lambda a: a**3))(2.0) == 12.0

    def chain(a):
        for _ in range(20_000):
            a = a * 1.0
        return a * a

    assert grad(grad(chain))(2.0) == 2.0


def test_value_and_grad_nan_inf_inputs_propagate():
    """Probe: nan / inf inputs give NumPy's values (no exception, no silent replacement)."""
    x = np.array([NAN, INF, -INF, 1.0])
    with np.errstate(all="ignore"):
        v, g = value_and_grad(lambda a: mnp.sum(a * 2.0))(x)
        assert np.isnan(v) and g.tolist() == [2.0, 2.0, 2.0, 2.0]
        v, g = value_and_grad(lambda a: mnp.sum(mnp.exp(a)))(x)
    assert np.isnan(v) and np.isnan(g[0]) and g[1] == INF and g[2] == 0.0


def test_vjp_keeps_its_own_copies_of_primals_and_output():
    """Defect: vjp returned the very array its graph holds as the output, and kept the caller's primal arrays, so
    the common residual pattern `out, f_vjp = vjp(f, x); out -= target; f_vjp(out)` (or changing x in place before
    calling f_vjp) silently changed the gradient (exp's rule reads its output, multiply's its operands). vjp now
    copies both; values are unchanged."""
    x = np.array([1.0, 2.0])
    out, f_vjp = vjp(mnp.exp, x)
    (clean,) = f_vjp(np.ones(2))
    out -= 1.0
    (after,) = f_vjp(np.ones(2))
    np.testing.assert_array_equal(after, clean)
    np.testing.assert_array_equal(clean, np.exp(x))
    x2 = np.array([1.0, 2.0])
    _, f_vjp = vjp(lambda a: a * a, x2)
    x2 *= 10.0
    assert f_vjp(np.ones(2))[0].tolist() == [2.0, 4.0]
    from minidsn.engine import linearize

    y, f_jvp = linearize(lambda a: a * a, np.array([1.0, 2.0]))
    y[:] = 0.0
    assert f_jvp(np.ones(2)).tolist() == [2.0, 4.0]
    def f_aux(a):
        e = mnp.exp(a)
        return mnp.sum(e), e

    _, f_vjp, aux = vjp(f_aux, x, has_aux=True)
    aux *= 0.0  # the auxiliary output is the graph's exp(a): a copy comes back
    np.testing.assert_array_equal(f_vjp(1.0)[0], np.exp(x))

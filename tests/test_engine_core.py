"""Engine invariants: the bugs small autodiff engines are known for (../shared/notes/autodiff.md), each tested."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidsn.numpy as mnp
from minidsn.engine import (
    EngineError,
    NotSupportedError,
    TracedConversionError,
    defvjp,
    grad,
    hvp,
    jvp,
    primitive,
    stop_gradient,
    value_and_grad,
    vjp,
)
from minidsn.nn import softplus
from minidsn.scipy.special import expit, log_softmax, logsumexp, softmax
from minidsn.testing import GradientCheckError, check_grads


def test_reused_intermediate():
    # y = x*x used twice: d/dx (y + y*y) = 2x + 4x^3
    def f(x):
        y = x * x
        return y + y * y

    for x in (0.3, -1.7, 2.0):
        assert grad(f)(x) == pytest.approx(2 * x + 4 * x**3, rel=1e-14)


def test_same_value_as_both_arguments():
    assert grad(lambda x: x * x)(3.0) == pytest.approx(6.0)
    assert grad(lambda x: x - x)(3.0) == 0.0
    assert grad(lambda x: mnp.sum(mnp.maximum(x, x)))(np.array([1.0, 2.0])).tolist() == [1.0, 1.0]


def test_deep_chain_100k_nodes():
    def f(x):
        for _ in range(100_000):
            x = x * 1.0000001
        return x

    g = grad(f)(1.0)
    assert g == pytest.approx(1.0000001**100_000, rel=1e-9)


def test_backward_twice_identical_and_vjp_reusable():
    x = np.random.default_rng(0).standard_normal((4, 3))
    out, vjp_fun = vjp(lambda x: mnp.tanh(x) @ x.T, x)
    ct = np.random.default_rng(1).standard_normal(out.shape)
    (g1,) = vjp_fun(ct)
    (g2,) = vjp_fun(ct)
    np.testing.assert_array_equal(g1, g2)
    (z,) = vjp_fun(np.zeros_like(ct))
    np.testing.assert_array_equal(z, np.zeros_like(x))


def test_no_aliasing_between_accumulated_gradients():
    # identity-like VJPs (add) route the same cotangent object to both parents; accumulation must not mutate it.
    def f(p):
        a = p["a"] + p["b"]
        return mnp.sum(a + a * 2.0) + mnp.sum(p["a"])

    g = grad(f)({"a": np.ones(3), "b": np.ones(3)})
    np.testing.assert_array_equal(g["a"], 4.0 * np.ones(3))
    np.testing.assert_array_equal(g["b"], 3.0 * np.ones(3))


@given(st.integers(0, 2**31 - 1), st.sampled_from([np.float64, np.float32]))
@settings(max_examples=10)
def test_gradient_shape_and_dtype_equal_input(seed, dtype):
    rng = np.random.default_rng(seed)
    params = {"W": rng.standard_normal((3, 2)).astype(dtype), "b": [rng.standard_normal(2).astype(dtype), dtype(0.5)]}

    def f(p):
        return mnp.sum(mnp.tanh(np.ones((4, 3)) @ p["W"] + p["b"][0]) * p["b"][1])

    g = grad(f)(params)
    assert set(g) == {"W", "b"} and isinstance(g["b"], list) and len(g["b"]) == 2
    for got, ref in ((g["W"], params["W"]), (g["b"][0], params["b"][0]), (g["b"][1], params["b"][1])):
        assert np.shape(got) == np.shape(ref)
        assert np.result_type(got) == np.result_type(ref)


def test_float32_not_promoted_by_float64_constant():
    x = np.ones(3, dtype=np.float32)
    g = grad(lambda x: mnp.sum(x * np.float64(2.0)))(x)
    assert g.dtype == np.float32


def test_integer_argument_is_refused():
    with pytest.raises(TypeError, match="integer"):
        grad(lambda x: x * 2.0)(3)
    with pytest.raises(TypeError, match="int64"):
        grad(lambda x: mnp.sum(x))(np.arange(3))


def test_argnums_tuple_and_has_aux():
    f = lambda a, b, c: (mnp.sum(a * b) + c, "aux")  # noqa: E731
    (val, aux), (ga, gc) = value_and_grad(f, argnums=(0, 2), has_aux=True)(np.ones(2), np.array([2.0, 3.0]), 1.5)
    assert aux == "aux" and val == pytest.approx(6.5)
    np.testing.assert_array_equal(ga, [2.0, 3.0])
    assert gc == 1.0


def test_output_independent_of_input_gives_zero_gradient():
    g = grad(lambda x, y: mnp.sum(y * 2.0), argnums=0)(np.ones(3), np.ones(3))
    np.testing.assert_array_equal(g, np.zeros(3))


def test_nonscalar_output_is_refused():
    with pytest.raises(TypeError, match="scalar"):
        grad(lambda x: x * 2.0)(np.ones(3))


def test_grad_of_grad_and_hvp_and_jvp():
    f = lambda x: mnp.sum(mnp.sin(x) * x**3)  # noqa: E731
    x = np.array([0.3, -1.2, 0.8])
    v = np.array([1.0, -2.0, 0.5])
    d2 = 6 * x * np.sin(x) + 6 * x**2 * np.cos(x) - x**3 * np.sin(x)  # diagonal Hessian
    np.testing.assert_allclose(hvp(f, x, v), d2 * v, rtol=1e-12)
    out, t = jvp(lambda x: mnp.sin(x) * x**3, (x,), (v,))
    np.testing.assert_allclose(t, (np.cos(x) * x**3 + 3 * x**2 * np.sin(x)) * v, rtol=1e-12)
    third = grad(grad(grad(lambda x: x**4)))(1.5)
    assert third == pytest.approx(24 * 1.5, rel=1e-12)


# --- clear errors ---------------------------------------------------------------------------------------------------


def test_conversions_that_cut_the_graph_raise():
    with pytest.raises(TracedConversionError, match="np.asarray"):
        grad(lambda x: mnp.sum(np.asarray(x)))(np.ones(2))
    with pytest.raises(TracedConversionError, match="float"):
        grad(lambda x: float(mnp.sum(x)))(np.ones(2))
    with pytest.raises(TracedConversionError, match="in-place"):

        def f(x):
            x[0] = 1.0
            return mnp.sum(x)

        grad(f)(np.ones(2))
    with pytest.raises(TracedConversionError, match="truth value"):
        grad(lambda x: x if mnp.sum(x) else x)(np.ones(1))


def test_unsupported_numpy_function_raises_not_runs_untraced():
    with pytest.raises(NotSupportedError, match="np.unwrap"):
        grad(lambda x: mnp.sum(np.unwrap(x)))(np.ones(3))
    with pytest.raises(NotSupportedError, match="np.fmod"):
        grad(lambda x: mnp.sum(np.fmod(x, 2.0)))(np.ones(3))
    with pytest.raises(AttributeError, match="minidsn.numpy.unwrap is not supported"):
        mnp.unwrap  # noqa: B018


def test_numpy_functions_with_a_minidsn_version_dispatch():
    x = np.array([0.5, 1.5])
    g = grad(lambda x: np.sum(np.tanh(x) * 2.0))(x)
    np.testing.assert_allclose(g, 2 * (1 - np.tanh(x) ** 2))
    # ndarray on the left of an operator
    g = grad(lambda x: mnp.sum(np.array([1.0, 2.0]) * x))(x)
    np.testing.assert_array_equal(g, [1.0, 2.0])


def test_stop_gradient_is_a_constant():
    g = grad(lambda x: mnp.sum(x * stop_gradient(x)))(np.array([3.0]))
    np.testing.assert_array_equal(g, [3.0])


def test_second_order_through_first_order_only_primitive_is_refused():
    @primitive
    def cube(x):
        return x**3

    from minidsn.engine import defvjp_joint

    defvjp_joint(cube, lambda g, ans, x: (g * 3 * np.asarray(x) ** 2,))
    assert grad(lambda x: mnp.sum(cube(x)))(np.array([2.0]))[0] == pytest.approx(12.0)
    with pytest.raises(EngineError, match="second derivative"):
        grad(grad(lambda x: cube(x)))(2.0)


def test_joint_vjp_told_which_arguments_need_gradients():
    from minidsn.engine import defvjp_joint

    seen = []

    @primitive
    def axpy(a, x, y):
        return a * x + y

    def rule(g, ans, a, x, y, wanted):
        seen.append(wanted)
        return (np.sum(g * x) if 0 in wanted else None, g * a if 1 in wanted else None, g if 2 in wanted else None)

    defvjp_joint(axpy, rule, wants=True)
    x, y = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    assert grad(lambda a: mnp.sum(axpy(a, x, y)))(2.0) == pytest.approx(3.0)
    np.testing.assert_array_equal(grad(lambda x, y: mnp.sum(axpy(2.0, x, y)), argnums=(0, 1))(x, y)[0], [2.0, 2.0])
    assert seen == [frozenset({0}), frozenset({1, 2})]

    def lazy(g, ans, a, x, y, wanted):  # returns None for an argument the engine does need
        return (None, g * a, g)

    defvjp_joint(axpy, lazy, wants=True)
    with pytest.raises(EngineError, match="not differentiable in argument 0"):
        grad(lambda a: mnp.sum(axpy(a, x, y)))(2.0)


def test_wrong_shape_vjp_is_reported():
    @primitive
    def bad(x):
        return x * 2

    defvjp(bad, lambda g, ans, x: np.ones(7))
    with pytest.raises(EngineError, match="bad"):
        grad(lambda x: mnp.sum(bad(x)))(np.ones(3))


# --- kinks, ties, stability ------------------------------------------------------------------------------------------


def test_max_and_maximum_split_ties():
    np.testing.assert_array_equal(grad(lambda x: mnp.max(x))(np.array([1.0, 3.0, 3.0])), [0.0, 0.5, 0.5])
    ga, gb = grad(lambda a, b: mnp.maximum(a, b), argnums=(0, 1))(2.0, 2.0)
    assert ga == 0.5 and gb == 0.5
    np.testing.assert_array_equal(grad(lambda x: mnp.sum(mnp.max(x, axis=1)))(np.array([[1.0, 1.0], [0.0, 2.0]])),
                                  [[0.5, 0.5], [0.0, 1.0]])


def test_where_safe_pattern_has_no_nan():
    x = np.array([-1.0, 0.0, 2.0])

    def safe_log(x):
        pos = x > 0
        return mnp.sum(mnp.where(pos, mnp.log(mnp.where(pos, x, 1.0)), 0.0))

    g = grad(safe_log)(x)
    assert np.all(np.isfinite(g))
    np.testing.assert_allclose(g, [0.0, 0.0, 0.5])
    # The documented limit: the unselected branch's OWN VJP still runs (exp's 0 * inf = nan); the safe pattern
    # (a `where` on the branch's input) avoids it.
    x = np.array([1.0, 2.0])
    with np.errstate(over="ignore", invalid="ignore"):
        g_unsafe = grad(lambda x: mnp.sum(mnp.where(x > 0, x, mnp.exp(x * 1000.0))))(x)
    assert np.all(np.isnan(g_unsafe))
    g = grad(lambda x: mnp.sum(mnp.where(x > 0, x, mnp.exp(mnp.where(x > 0, 0.0, x) * 1000.0))))(x)
    np.testing.assert_array_equal(g, [1.0, 1.0])


@pytest.mark.parametrize("v", [1000.0, -1000.0])
def test_sigmoid_softplus_logsumexp_finite_at_extremes(v):
    x = np.array([v, -v, 0.0])
    for fn in (expit, softplus, lambda x: logsumexp(x), lambda x: log_softmax(x), lambda x: softmax(x)):
        val, g = value_and_grad(lambda x: mnp.sum(fn(x)))(x)
        assert np.isfinite(val) and np.all(np.isfinite(g))
    assert softplus(np.array(1000.0)) == 1000.0
    assert expit(np.array(-1000.0)) == 0.0


def test_logsumexp_softmax_all_minus_inf():
    x = np.full(3, -np.inf)
    assert logsumexp(x) == -np.inf
    g = grad(lambda x: logsumexp(x))(x)
    np.testing.assert_array_equal(g, np.zeros(3))
    np.testing.assert_array_equal(softmax(x), np.zeros(3))
    assert np.all(np.isneginf(log_softmax(x)))
    rows = np.array([[-np.inf, -np.inf], [0.0, 1.0]])
    np.testing.assert_allclose(logsumexp(rows, axis=1), [-np.inf, np.log(1 + np.e)])
    g = grad(lambda r: mnp.sum(mnp.where(np.isfinite(logsumexp(r, axis=1)), logsumexp(r, axis=1), 0.0)))(rows)
    assert np.all(np.isfinite(g))


def test_prod_gradient_exact_with_zeros():
    g = grad(lambda x: mnp.prod(x))(np.array([2.0, 0.0, 3.0]))
    np.testing.assert_array_equal(g, [0.0, 6.0, 0.0])


# --- the checker itself ----------------------------------------------------------------------------------------------


def _scaled_tanh(scale):
    @primitive
    def t(x):
        return np.tanh(x)

    defvjp(t, lambda g, ans, x: g * (1 - ans**2) * scale)
    return t


def test_check_grads_catches_a_vjp_wrong_by_0_05_percent():
    x = np.random.default_rng(0).standard_normal(5)
    check_grads(_scaled_tanh(1.0), [x])  # the right rule passes
    with pytest.raises(GradientCheckError, match="analytic"):
        check_grads(_scaled_tanh(1.0005), [x])


def test_check_grads_refuses_float32():
    with pytest.raises(TypeError, match="float64"):
        check_grads(mnp.tanh, [np.ones(3, dtype=np.float32)])
    check_grads(mnp.tanh, [np.ones(3, dtype=np.float32)], allow_float32=True, rtol=1e-2, atol=1e-3, eps=1e-3)


def test_check_grads_second_order_catches_wrong_second_derivative():
    # first derivative right, but the rule is not written with primitives in a way that differentiates correctly:
    @primitive
    def sq(x):
        return x**2

    defvjp(sq, lambda g, ans, x: g * 2 * stop_gradient(x))  # stop_gradient kills the second derivative
    check_grads(sq, [np.array([0.7, -0.3])], order=1)
    with pytest.raises(GradientCheckError):
        check_grads(sq, [np.array([0.7, -0.3])], order=2)


def test_graph_is_freed_after_use():
    import gc
    import weakref

    made = []

    def f(x):
        y = mnp.tanh(x) * 2.0
        made.append(weakref.ref(y._node))
        return mnp.sum(y)

    grad(f)(np.ones(3))
    gc.collect()
    assert made and made[0]() is None, "the recorded graph outlived the gradient computation"


def test_raw_rules_equal_differentiable_rules():
    """The plain-NumPy first-order rules (defvjp_raw) give exactly the gradients of the differentiable rules."""
    from minidsn.engine import core, stacked_rules_off
    from minidsn.testing.primitive_cases import CASES, values

    checked = 0
    for case in CASES:
        rng = np.random.default_rng(1)
        if case.kind == "unary":
            args, fn = [values(rng, (3, 2), case.domains[0])], case.fn
        elif case.kind == "binary":
            args, fn = [values(rng, (3, 2), case.domains[0]), values(rng, (1, 2), case.domains[1])], case.fn
        elif case.kind == "reduce":
            args, fn = [values(rng, (3, 4), case.domains[0])], (lambda x, c=case: c.fn(x, 0, False))
        elif case.kind == "axis":
            args, fn = [values(rng, (3, 4), case.domains[0])], (lambda x, c=case: c.fn(x, 0))
        else:
            args, fn = case.make(rng), case.fn
        out, vjp_fun = vjp(fn, *args)
        ct = np.random.default_rng(2).standard_normal(np.shape(out))
        with stacked_rules_off():  # the stacked rules sum in another order (tested against these on their own)
            fast = vjp_fun(ct)
        core.FORCE_DIFFERENTIABLE_RULES = True
        try:
            slow = vjp_fun(ct)
        finally:
            core.FORCE_DIFFERENTIABLE_RULES = False
        for a, b in zip(fast, slow):
            np.testing.assert_allclose(a, b, rtol=1e-15, atol=1e-300, err_msg=case.name)
        checked += 1
    assert checked == len(CASES)


def test_closure_over_an_outer_trace_keeps_second_derivative():
    """An inner grad whose function closes over an outer traced value must keep its backward differentiable."""
    def outer(x):
        return grad(lambda y: mnp.sum(mnp.tanh(x * y) * x))(np.ones(2)).sum()

    x = np.array([0.3, -0.7])
    check_grads(outer, [x], order=1)


def test_linalg_norm_matches_numpy_and_differentiates():
    x = np.random.default_rng(0).standard_normal((3, 4))
    np.testing.assert_allclose(mnp.linalg.norm(x), np.linalg.norm(x))
    np.testing.assert_allclose(mnp.linalg.norm(x, axis=1, keepdims=True), np.linalg.norm(x, axis=1, keepdims=True))
    check_grads(lambda x: mnp.linalg.norm(x, axis=0), [x], order=2)
    with pytest.raises(ValueError, match="Invalid norm order"):
        grad(lambda x: mnp.linalg.norm(x, ord="bad"))(x)


@given(st.lists(st.integers(1, 3), min_size=0, max_size=3), st.integers(0, 2), st.data())
@settings(max_examples=60, deadline=None)
def test_first_order_unbroadcast_equals_the_engine_rule(shape, extra_dims, data):
    """The NumPy-form unbroadcast of first-order passes sums exactly the axes the engine's rule sums, and casts."""
    import minidsn.numpy as mnp
    from minidsn.engine.broadcast import unbroadcast, unbroadcast_raw

    shape = tuple(shape)
    # a broadcast of `shape`: leading axes added, size-1 axes stretched
    stretched = tuple(data.draw(st.integers(1, 3)) if s == 1 else s for s in shape)
    gshape = tuple(data.draw(st.integers(1, 3)) for _ in range(extra_dims)) + stretched
    g = np.random.default_rng(len(gshape)).standard_normal(gshape)
    for dtype in (np.dtype(np.float64), np.dtype(np.float32)):
        a = unbroadcast(g, shape, dtype, "t", 0, mnp)
        b = unbroadcast_raw(g, shape, dtype, "t", 0)
        assert np.shape(b) == shape and b.dtype == dtype
        np.testing.assert_array_equal(np.asarray(a), b)


def test_first_order_unbroadcast_names_a_bad_vjp():
    from minidsn.engine import EngineError
    from minidsn.engine.broadcast import unbroadcast_raw

    with pytest.raises(EngineError, match="VJP of 'bad' for argument 1 has shape \\(2, 3\\)"):
        unbroadcast_raw(np.ones((2, 3)), (3, 2), np.dtype(np.float64), "bad", 1)


def test_first_order_pass_over_the_tape_equals_the_sorted_graph_walk():
    """The first-order pass walks the trace's tape (creation order) instead of sorting the graph: same gradients,
    bit for bit, with dead branches, reused intermediates and nodes recorded after the output (has_aux)."""
    from minidsn.engine import core, transforms

    def f(p, x):
        h = mnp.tanh(x @ p["W"] + p["b"])
        dead = mnp.exp(h) * 3.0  # recorded, not on a path to the output
        out = mnp.sum(h * h) + mnp.sum(log_softmax(h, axis=-1)) * 0.5
        after = out * 2.0 + mnp.sum(dead)  # recorded after the output
        return out, after

    rng = np.random.default_rng(0)
    p = {"W": rng.standard_normal((4, 3)), "b": rng.standard_normal(3)}
    x = rng.standard_normal((5, 4))
    (v1, _), g1 = value_and_grad(f, has_aux=True)(p, x)
    real = core.backward
    transforms.backward = lambda end, g, leaves, trace=None, tape=None: real(end, g, leaves, trace, None)
    try:
        (v0, _), g0 = value_and_grad(f, has_aux=True)(p, x)
    finally:
        transforms.backward = real
    assert v1 == v0
    for k in p:
        np.testing.assert_array_equal(g1[k], g0[k])
    assert not core._TAPES, "a tape outlived its trace"


# --- stacked first-order rules (defvjp_stacked) ------------------------------------------------------------------


def _unrolled(p, xs, mix):
    """A recurrence that uses W, U, b at every step; b is also added against operands of other shapes (`mix`), and
    V = 2 W is a non-leaf weight used at every step."""
    V = p["W"] * 2.0
    h = mnp.zeros((xs[0].shape[0], p["W"].shape[0]))
    total = 0.0
    for t, x in enumerate(xs):
        h = mnp.tanh(x @ p["U"] + h @ p["W"] + p["b"])
        total = total + mnp.sum((h @ V) ** 2)
        if mix and t % 2:
            total = total + mnp.sum(mnp.tanh(p["b"] + h[:1] * 0.5)) + mnp.sum(p["b"] * 0.1 + 1.0)
    return total


def _grads(f, *args, stacked=True, tape=True, combined=None):
    """value_and_grad(f)(*args) with or without the stacked rules, on the tape walk or the sorted graph walk;
    `combined` (a list) receives the number of items of every stacked combination of matmul and add."""
    import contextlib

    from minidsn.engine import core, stacked_rules_off, transforms
    from minidsn.numpy import _table

    saved = {prim: prim.stacked_rules for prim in (_table.matmul, _table.add)}
    real = core.backward
    try:
        if combined is not None:
            for prim, rules in saved.items():
                prim.stacked_rules = {
                    a: (pack, lambda items, shape, dtype, c=comb: combined.append(len(items)) or c(items, shape, dtype))
                    for a, (pack, comb) in rules.items()}
        if not tape:
            transforms.backward = lambda end, g, leaves, trace=None, tp=None: real(end, g, leaves, trace, None)
        with stacked_rules_off() if not stacked else contextlib.nullcontext():
            return value_and_grad(f)(*args)
    finally:
        for prim, rules in saved.items():
            prim.stacked_rules = rules
        transforms.backward = real


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.integers(1, 12), batch=st.integers(1, 4), width=st.integers(1, 5),
       mix=st.booleans(), tape=st.booleans())
def test_stacked_rules_equal_ordinary_rules(seed, steps, batch, width, mix, tape):
    """Gradients of values used at every step of an unrolled recurrence (leaf and non-leaf weights, a bias
    broadcast against operands of several shapes) are the same with the stacked rules as with the ordinary ones, up
    to summation order; on the tape walk and on the sorted graph walk."""
    rng = np.random.default_rng(seed)
    p = {"W": rng.standard_normal((width, width)) * 0.5, "U": rng.standard_normal((3, width)),
         "b": rng.standard_normal(width)}
    xs = [rng.standard_normal((batch, 3)) for _ in range(steps)]
    combined = []
    v1, g1 = _grads(_unrolled, p, xs, mix, tape=tape, combined=combined)
    v0, g0 = _grads(_unrolled, p, xs, mix, stacked=False, tape=tape)
    assert v1 == v0
    # W, V, U and b each: every use after the first is stacked
    assert (sorted(combined) == [steps - 1] * 4) if steps > 1 and not mix else (steps == 1) == (not combined)
    for k in p:
        assert g1[k].shape == p[k].shape and g1[k].dtype == p[k].dtype
        np.testing.assert_allclose(g1[k], g0[k], rtol=1e-12, atol=1e-12 * (1 + np.abs(g0[k]).max()))


def test_stacked_rules_change_nothing_for_values_used_once():
    rng = np.random.default_rng(1)
    p = {"W1": rng.standard_normal((6, 5)), "b1": rng.standard_normal(5), "W2": rng.standard_normal((5, 2))}
    x = rng.standard_normal((4, 6))

    def mlp(p, x):
        return mnp.sum(mnp.tanh(x @ p["W1"] + p["b1"]) @ p["W2"])

    _, g1 = _grads(mlp, p, x)
    _, g0 = _grads(mlp, p, x, stacked=False)
    for k in p:
        np.testing.assert_array_equal(g1[k], g0[k])


def test_stacked_rules_are_used_and_checked():
    """A stacked rule whose combined result has the wrong shape is reported like any rule; one registered for an
    argument without an ordinary rule is refused."""
    from minidsn.engine import EngineError, defvjp_stacked

    @primitive
    def scale(x, w):
        return x * w

    defvjp(scale, lambda g, ans, x, w: g * w, lambda g, ans, x, w: g * x)
    calls = []

    def pack(g, ans, x, w):
        calls.append(1)
        return g * x

    defvjp_stacked(scale, 1, pack, lambda items, shape, dtype: np.add.reduce(np.stack(items), axis=0))
    x = np.array([1.0, 2.0])
    g = grad(lambda w: mnp.sum(scale(x, w)) + mnp.sum(scale(x * 3.0, w)) + mnp.sum(scale(x, w)))(np.ones(2))
    np.testing.assert_allclose(g, [5.0, 10.0])
    assert len(calls) == 2  # the first use met takes the ordinary rule

    defvjp_stacked(scale, 1, pack, lambda items, shape, dtype: np.ones(7))
    with pytest.raises(EngineError, match="does not reduce"):
        grad(lambda w: mnp.sum(scale(x, w)) + mnp.sum(scale(x, w)))(np.ones(2))
    with pytest.raises(ValueError, match="no ordinary VJP for argument 2"):
        defvjp_stacked(scale, 2, pack, lambda items, shape, dtype: items[0])


def test_unbroadcast_without_a_namespace_reduces_with_numpy():
    """unbroadcast(..., ns=None) undoes broadcasting with NumPy's reductions (it raised AttributeError on None.sum)
    and still names a VJP whose result cannot be reduced."""
    from minidsn.engine import EngineError
    from minidsn.engine.broadcast import unbroadcast

    g = np.arange(12.0).reshape(2, 3, 2)
    np.testing.assert_array_equal(unbroadcast(g, (3, 1), np.dtype(np.float64)), g.sum(axis=(0, 2))[:, None])
    assert unbroadcast(np.ones(3), (), np.dtype(np.float32)).dtype == np.float32
    with pytest.raises(EngineError, match="bad"):
        unbroadcast(np.ones((2, 3)), (3, 2), np.dtype(np.float64), "bad", 1)

"""Issue #15: no silent wrong gradient (linear "no gradient" names, limits at 0, complex, copies, bad outputs) and
the transform set (nested forward mode, pytree outputs, Jacobians, Hessian, elementwise_grad, has_aux, top-level
exports, third order)."""

import copy
import pickle
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidsn.numpy as mnp
from minidsn.engine import (
    ComplexNotSupportedError,
    TracedConversionError,
    elementwise_grad,
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    linearize,
    value_and_grad,
    vjp,
)
from minidsn.engine.core import Traced
from minidsn.testing import check_grads

RNG = np.random.default_rng(0)


def numeric_jacobian(f, x, eps=1e-6):
    """Central differences, column by column: shape f(x).shape + x.shape."""
    y0 = np.asarray(f(x))
    cols = []
    for i in range(x.size):
        d = np.zeros(x.size)
        d[i] = eps
        d = d.reshape(x.shape)
        cols.append((np.asarray(f(x + d)) - np.asarray(f(x - d))) / (2 * eps))
    return np.stack(cols, axis=-1).reshape(y0.shape + x.shape)


# ------------------------------------------------------------------------------------------------ silent zeros


def test_tril_triu_have_their_linear_gradient():
    x = RNG.standard_normal((3, 4))
    w = RNG.standard_normal((3, 4))
    np.testing.assert_array_equal(grad(lambda x: mnp.sum(mnp.tril(x, -1) * w))(x), np.tril(w, -1))
    np.testing.assert_array_equal(grad(lambda x: mnp.sum(mnp.triu(x, 1) * w))(x), np.triu(w, 1))
    # np.tril on a traced value dispatches to the differentiable version
    np.testing.assert_array_equal(grad(lambda x: mnp.sum(np.tril(x) * w))(x), np.tril(w))


def test_full_and_full_like_differentiate_a_traced_fill_value():
    assert grad(lambda v: mnp.sum(mnp.full((2, 3), v)))(1.5) == 6.0
    assert grad(lambda v: mnp.sum(mnp.full_like(np.ones(4), v) * 2.0))(1.5) == 8.0


@pytest.mark.parametrize("shape,axis", [((), None), ((1,), None), ((3, 1), 1), ((1, 4), 0), ((2, 1, 3), 1)])
def test_std_var_norm_over_one_element_have_gradient_zero_not_nan(shape, axis):
    x = RNG.standard_normal(shape)
    for fn in (lambda x: mnp.std(x, axis=axis), lambda x: mnp.var(x, axis=axis)):
        g = grad(lambda x: mnp.sum(fn(x)))(x)
        np.testing.assert_array_equal(g, np.zeros(shape))
    # the second derivative too
    np.testing.assert_array_equal(hvp(lambda x: mnp.sum(mnp.std(x, axis=axis)), x, np.ones(shape)), np.zeros(shape))


def test_limits_at_zero_are_finite():
    z = np.zeros((2, 3))
    for fn in (mnp.std, lambda x: mnp.linalg.norm(x), lambda x: mnp.linalg.norm(x, axis=1),
               lambda x: mnp.linalg.norm(x, 3.0, axis=0), lambda x: mnp.hypot(x, 0.0 * x)):
        g = grad(lambda x: mnp.sum(fn(x)))(z)
        assert np.all(np.isfinite(g)), fn
        np.testing.assert_array_equal(g, z)
    g = grad(lambda x: mnp.std(x))(np.full(4, 2.5))  # equal entries: std is a cone there, 0 is the choice
    np.testing.assert_array_equal(g, np.zeros(4))
    with np.errstate(divide="ignore"):
        assert np.isinf(grad(mnp.sqrt)(0.0))  # sqrt itself: the true derivative at 0 is +inf, and it says so


def test_std_matches_finite_differences_away_from_zero():
    x = RNG.standard_normal((4, 3))
    check_grads(lambda x: mnp.std(x, axis=0, ddof=1), [x], order=2, modes=("rev", "fwd"))


# ------------------------------------------------------------------------------------------------ complex refused


def test_complex_inputs_tangents_cotangents_outputs_are_refused_naming_the_dtype():
    z = np.array([1.0 + 2.0j, 0.5 - 1.0j])
    with pytest.raises(ComplexNotSupportedError, match="complex128.*real floating values only"):
        grad(lambda x: mnp.sum(mnp.abs(x)))(z)
    with pytest.raises(ComplexNotSupportedError, match="complex"):
        grad(lambda x: mnp.sum(x * 1j).real)(np.ones(2))  # a complex value inside: refused where it is made
    with pytest.raises(ComplexNotSupportedError, match="complex"):
        vjp(lambda x: x * (1.0 + 1j), np.ones(2))
    with pytest.raises(ComplexNotSupportedError, match="tangent"):
        jvp(lambda x: x * 2.0, (np.ones(2),), (z,))
    _, f_vjp = vjp(lambda x: x * 2.0, np.ones(2))
    with pytest.raises(ComplexNotSupportedError, match="cotangent"):
        f_vjp(z)
    with pytest.raises(ComplexNotSupportedError, match="complex64"):
        grad(lambda x: mnp.sum(x))(z.astype(np.complex64))


def test_plain_complex_values_are_numpys():
    z = np.array([1.0 + 2.0j, 0.5 - 1.0j, -2.0j])
    np.testing.assert_allclose(mnp.var(z), np.var(z))
    np.testing.assert_allclose(mnp.std(z), np.std(z))


# ------------------------------------------------------------------------------------------------ copies, pickling


def test_copy_and_deepcopy_inside_keep_the_graph():
    p = {"w": np.array([1.0, -2.0, 3.0]), "b": np.array(0.5)}

    def loss(p, how):
        q = how(p)
        return mnp.sum(q["w"] ** 2) + q["b"] * 3.0 + mnp.sum(mnp.copy(p["w"])) + mnp.sum(p["w"].copy())

    for how in (copy.deepcopy, copy.copy, lambda p: {k: copy.deepcopy(v) for k, v in p.items()}):
        g = grad(loss)(p, how)
        np.testing.assert_array_equal(g["w"], 2 * p["w"] + 2.0)
        assert g["b"] == 3.0


def test_pickling_a_traced_value_is_a_clear_error():
    with pytest.raises(TracedConversionError, match="pickling a traced value"):
        grad(lambda x: mnp.sum(pickle.loads(pickle.dumps(x))))(np.ones(2))


# ------------------------------------------------------------------------------------------------ bad outputs


@pytest.mark.parametrize("out,match", [(None, "None"), ("loss", "string"), (3, "int"), (True, "bool"),
                                       (np.arange(1), "int64"), (object(), "not an array of floats")])
def test_grad_of_a_function_returning_a_non_float_is_a_clear_error(out, match):
    with pytest.raises(TypeError, match=match):
        grad(lambda x: out)(np.ones(2))


def test_vjp_of_a_function_returning_none_or_a_string_is_a_clear_error():
    with pytest.raises(TypeError, match="None"):
        vjp(lambda x: None, np.ones(2))
    with pytest.raises(TypeError, match="string"):
        vjp(lambda x: (x, "label"), np.ones(2))
    with pytest.raises(TypeError, match="has_aux"):
        vjp(lambda x: (x * 2.0, np.arange(3)), np.ones(2))


def test_has_aux_returns_plain_arrays():
    def f(x):
        h = mnp.tanh(x)
        return mnp.sum(h), {"h": h, "n": 3, "parts": [h * 2.0]}

    (v, aux), g = value_and_grad(f, has_aux=True)(np.array([0.1, 0.2]))
    assert type(aux["h"]) is np.ndarray and type(aux["parts"][0]) is np.ndarray and aux["n"] == 3
    np.testing.assert_allclose(aux["h"], np.tanh([0.1, 0.2]))
    g2, aux2 = grad(f, has_aux=True)(np.array([0.1, 0.2]))
    assert type(aux2["h"]) is np.ndarray
    out, _, aux3 = vjp(lambda x: (x * 2.0, x), np.ones(2), has_aux=True)
    assert type(aux3) is np.ndarray
    jac, aux4 = jacrev(lambda x: (x * 2.0, mnp.sum(x)), has_aux=True)(np.ones(2))
    assert type(aux4) is not Traced
    jac, aux5 = jacfwd(lambda x: (x * 2.0, mnp.sum(x)), has_aux=True)(np.ones(2))
    assert type(aux5) is not Traced and float(aux5) == 2.0


# ------------------------------------------------------------------------------------------------ transforms


def f_tree(p):
    """A function of a dict returning a tuple of a dict and a list (pytree out)."""
    a = mnp.tanh(p["w"] @ p["x"])
    return {"a": a, "s": mnp.sum(a * p["x"][:2])}, [p["w"] * 2.0, mnp.sin(p["x"])]


def _tree_params():
    rng = np.random.default_rng(1)
    return {"w": rng.standard_normal((2, 3)), "x": rng.standard_normal(3)}


def _flat(f, p):
    """f as a function of one flat vector (for numeric Jacobians)."""
    from minidsn.engine import tree_flatten, tree_unflatten

    leaves, td = tree_flatten(p)
    sizes = [leaf.size for leaf in leaves]

    def g(v):
        parts, pos = [], 0
        for leaf, n in zip(leaves, sizes):
            parts.append(v[pos:pos + n].reshape(leaf.shape))
            pos += n
        out_leaves = tree_flatten(f(tree_unflatten(td, parts)))[0]
        return np.concatenate([np.ravel(o) for o in out_leaves])

    return g, np.concatenate([np.ravel(leaf) for leaf in leaves])


def test_vjp_and_jvp_of_pytree_outputs_agree_with_finite_differences():
    p = _tree_params()
    g, v0 = _flat(f_tree, p)
    J = numeric_jacobian(g, v0)
    out, f_vjp = vjp(f_tree, p)
    assert isinstance(out, tuple) and isinstance(out[0], dict) and isinstance(out[1], list)
    ct = ({"a": np.array([1.0, -2.0]), "s": np.array(0.5)}, [np.ones((2, 3)), np.array([0.3, 0.1, -1.0])])
    (gp,) = f_vjp(ct)
    ct_flat = np.concatenate([np.ravel(c) for c in (ct[0]["a"], ct[0]["s"], ct[1][0], ct[1][1])])
    np.testing.assert_allclose(np.concatenate([gp["w"].ravel(), gp["x"]]), ct_flat @ J, rtol=1e-6, atol=1e-8)
    t = {"w": RNG.standard_normal((2, 3)), "x": RNG.standard_normal(3)}
    out2, tan = jvp(f_tree, (p,), (t,))
    t_flat = np.concatenate([t["w"].ravel(), t["x"]])
    got = np.concatenate([np.ravel(x) for x in (tan[0]["a"], tan[0]["s"], tan[1][0], tan[1][1])])
    np.testing.assert_allclose(got, J @ t_flat, rtol=1e-6, atol=1e-8)
    with pytest.raises(ValueError, match="structure"):
        f_vjp([np.ones(2)])


def test_jacrev_and_jacfwd_agree_with_finite_differences_and_each_other():
    def f(x, y):
        return {"u": mnp.sin(x) * y[0], "v": mnp.outer(x, y)}

    x, y = RNG.standard_normal(3), RNG.standard_normal(2)
    for jac in (jacrev, jacfwd, jacobian):
        J = jac(f, argnums=(0, 1))(x, y)
        np.testing.assert_allclose(J["u"][0], numeric_jacobian(lambda x: f(x, y)["u"], x), rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(J["v"][1], numeric_jacobian(lambda y: f(x, y)["v"], y), rtol=1e-6, atol=1e-8)
        assert J["v"][0].shape == (3, 2, 3)
    Jr, Jf = jacrev(f)(x, y), jacfwd(f)(x, y)
    np.testing.assert_allclose(Jr["v"], Jf["v"], rtol=1e-12, atol=1e-14)


def test_hessian_and_third_order():
    def f(x):
        return mnp.sum(mnp.sin(x) * x ** 3) + x[0] * x[1] ** 2

    x = np.array([0.3, -1.2, 0.8])
    H = hessian(f)(x)
    d2 = np.diag(6 * x * np.sin(x) + 6 * x**2 * np.cos(x) - x**3 * np.sin(x))
    d2[1, 1] += 2 * x[0]
    d2[0, 1] += 2 * x[1]
    d2[1, 0] += 2 * x[1]
    np.testing.assert_allclose(H, d2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(jacrev(jacrev(f))(x), d2, rtol=1e-10, atol=1e-12)
    # third order: d/dx of the Hessian, three ways
    T1 = jacfwd(hessian(f))(x)
    T2 = jacrev(jacrev(jacrev(f)))(x)
    T_num = numeric_jacobian(lambda x: hessian(f)(x), x)
    np.testing.assert_allclose(T1, T_num, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(T2, T1, rtol=1e-10, atol=1e-12)
    assert grad(grad(grad(mnp.tanh)))(0.4) == pytest.approx(
        float((-2 + 6 * np.tanh(0.4) ** 2) * (1 - np.tanh(0.4) ** 2)), rel=1e-12)


def test_nested_forward_mode():
    f = lambda x: mnp.sum(mnp.exp(x) * mnp.sin(x[::-1]))  # noqa: E731
    x, v, u = RNG.standard_normal(3), RNG.standard_normal(3), RNG.standard_normal(3)
    H = hessian(f)(x)
    # jvp of grad: forward-over-reverse Hessian-vector product
    _, hv = jvp(grad(f), (x,), (v,))
    np.testing.assert_allclose(hv, H @ v, rtol=1e-10)
    np.testing.assert_allclose(hvp(f, x, v), H @ v, rtol=1e-10)
    # jvp of jvp: u^T H v
    def dir_deriv(x):
        return jvp(f, (x,), (v,))[1]

    _, uhv = jvp(dir_deriv, (x,), (u,))
    assert float(uhv) == pytest.approx(u @ H @ v, rel=1e-10)
    # jvp of vjp, grad of jvp
    _, jv = jvp(lambda x: vjp(f, x)[1](1.0)[0], (x,), (v,))
    np.testing.assert_allclose(jv, H @ v, rtol=1e-10)
    np.testing.assert_allclose(grad(dir_deriv)(x), H @ v, rtol=1e-10)
    # linearize: one trace, several tangents
    out, f_jvp = linearize(mnp.tanh, x)
    np.testing.assert_allclose(f_jvp(v), (1 - np.tanh(x) ** 2) * v, rtol=1e-12)


def test_elementwise_grad():
    x = np.linspace(-2, 2, 7)
    np.testing.assert_allclose(elementwise_grad(mnp.tanh)(x), 1 - np.tanh(x) ** 2, rtol=1e-14)
    with pytest.raises(TypeError, match="single array"):
        elementwise_grad(lambda x: (x, x))(x)


@given(st.integers(0, 2**31 - 1))
@settings(max_examples=5, deadline=None)
def test_jacobians_of_random_compositions(seed):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((3, 4))
    x = rng.standard_normal(4)

    def f(x):
        return mnp.tanh(A @ x) * mnp.exp(-mnp.sum(x ** 2) / 4)

    np.testing.assert_allclose(jacrev(f)(x), numeric_jacobian(f, x), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(jacfwd(f)(x), jacrev(f)(x), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------------------------------ exports


def test_top_level_exports():
    import minidsn
    from minidsn import elementwise_grad as eg
    from minidsn import grad as g
    from minidsn import hessian as h
    from minidsn import jacobian as j
    from minidsn import jvp as fj
    from minidsn import value_and_grad as vg
    from minidsn import vjp as rv

    assert (g, vg, rv, fj, j, h, eg) == (grad, value_and_grad, vjp, jvp, jacobian, hessian, elementwise_grad)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        minidsn.nope  # noqa: B018


def test_import_minidsn_and_cli_do_not_import_numpy():
    code = ("import sys; import minidsn, minidsn.cli; "
            "print('numpy' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_floor_division_and_modulo_operators():
    x = np.array([1.0, 2.0, -0.7])
    # x // y is piecewise constant (gradient 0), x % y = x - (x // y) y has slope 1 in x
    np.testing.assert_array_equal(grad(lambda x: mnp.sum(x // 0.3 + x % 0.3))(x), np.ones(3))
    np.testing.assert_allclose(grad(lambda y: mnp.sum(x % y))(0.3), -np.sum(np.floor(x / 0.3)))

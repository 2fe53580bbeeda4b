"""Gradients through V-values: the engine differentiates every V-value operation and returns V-value gradients."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import minidsn.numpy as mnp
from minidsn.engine import grad, is_traced, tree_paths, value_and_grad
from minidsn.testing import check_grads
from minidsn.vvalue import NUMBER, VValue, dot, lincomb, max_norm, scale, vsum

LABELS = st.sampled_from(["a", "b", "c", NUMBER])
# Leaves away from 0 and from each other in magnitude would be needed for max-norm kinks; use distinct draws and
# let check_grads judge smooth functions; max_norm is tested separately on separated values.
FLOATS = st.floats(-2.0, 2.0, allow_nan=False).filter(lambda x: abs(x) > 0.05)


def trees():
    return st.recursive(FLOATS, lambda kids: st.dictionaries(LABELS, kids, min_size=1, max_size=3), max_leaves=6).map(
        lambda t: VValue(t if isinstance(t, dict) else {"a": t})
    )


M = VValue({"a": {"x": 1.0, "y": -2.0}, "b": {"c": {"x": 0.5}, NUMBER: 3.0}, "c": 1.5})


@given(trees(), trees())
@settings(max_examples=15)
def test_check_grads_through_vvalue_ops(a, b):
    def f(v, w):
        s = (2.0 * v + w) - scale(0.5, w)
        r = lincomb(v, M) + lincomb(w, M)
        return dot(s, s) + dot(r, v) * 0.1 + dot(r, r)

    check_grads(f, (a, b), rtol=1e-5, atol=1e-7)


@given(trees())
@settings(max_examples=15)
def test_gradient_is_vvalue_of_same_structure(a):
    val, g = value_and_grad(lambda v: dot(v, v))(a)
    assert isinstance(g, VValue)
    assert [p for p, _ in g.paths()] == [p for p, _ in a.paths()]
    for (_, x), (_, gx) in zip(a.paths(), g.paths()):
        np.testing.assert_allclose(gx, 2 * x)
    assert [p for p, _ in tree_paths(g)] == [p for p, _ in tree_paths(a)]


def test_max_norm_gradient_and_ties():
    v = VValue({"a": 1.0, "b": {"c": -3.0, "d": 2.0}})
    g = grad(max_norm)(v)
    assert g.get(("b", "c")) == -1.0 and g["a"] == 0.0 and g.get(("b", "d")) == 0.0
    # ties split evenly (the engine's rule for max), sign of the entry carried through |.|
    t = grad(max_norm)(VValue({"a": 2.0, "b": -2.0}))
    assert t["a"] == 0.5 and t["b"] == -0.5
    check_grads(max_norm, (v,))


def test_traced_zero_leaves_are_kept():
    # v * 0 is a traced zero: it must stay in the tree so the gradient with respect to v is defined (and zero-valued
    # here only through the multiplier), and scaling by a traced c = 0 must keep the gradient with respect to c.
    v = VValue({"a": 1.0, "b": 2.0})

    def f(c, v):
        w = scale(c, v)
        assert all(is_traced(x) for x in w.leaves()) and len(w.leaves()) == 2
        return dot(w, VValue({"a": 3.0, "b": 4.0}))

    gc, gv = grad(f, argnums=(0, 1))(0.0, v)
    assert float(gc) == 11.0
    assert gv["a"] == 0.0 and gv["b"] == 0.0 and len(gv) == 2


def test_grad_with_respect_to_mask_weights():
    w = VValue({"a": 0.3, "b": {"c": -0.2}})
    val, g = value_and_grad(lambda w: max_norm(lincomb(w, M)) + dot(lincomb(w, M), lincomb(w, M)))(w)
    check_grads(lambda w: dot(lincomb(w, M), lincomb(w, M)), (w,))
    assert isinstance(g, VValue)


def test_array_leaves_gradients():
    v = VValue({"w": np.array([1.0, -2.0, 0.5]), "s": 0.7})
    check_grads(lambda v: dot(v, v) * v["s"] + mnp.sum(v["w"] * 3.0), (v,))


def test_vsum_of_traced():
    v = VValue({"a": 1.0})
    g = grad(lambda v: dot(vsum([v, v, scale(2.0, v)]), VValue({"a": 1.0})))(v)
    assert g["a"] == 4.0

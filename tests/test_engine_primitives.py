"""Every differentiable primitive against finite differences, first and second order, over broadcasting shapes."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, mutually_broadcastable_shapes

from minidsn.testing import check_grads
from minidsn.testing.primitive_cases import ADDED_CASES, CASES, values

UNARY = [c for c in CASES if c.kind == "unary"]
BINARY = [c for c in CASES if c.kind == "binary"]
REDUCE = [c for c in CASES if c.kind == "reduce"]
ALONG_AXIS = [c for c in CASES if c.kind == "axis"]
CUSTOM = [c for c in CASES if c.kind == "custom" and c not in ADDED_CASES]
CUSTOM_ADDED = [c for c in CASES if c.kind == "custom" and c in ADDED_CASES]

small_shapes = array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)


@pytest.mark.parametrize("case", UNARY, ids=lambda c: c.name)
@given(shape=small_shapes, seed=st.integers(0, 2**31 - 1))
@settings(max_examples=8)
def test_unary(case, shape, seed):
    rng = np.random.default_rng(seed)
    x = values(rng, shape, case.domains[0])
    check_grads(case.fn, [x], order=2, modes=("rev", "fwd"))


@pytest.mark.parametrize("case", BINARY, ids=lambda c: c.name)
@given(shapes=mutually_broadcastable_shapes(num_shapes=2, max_dims=3, max_side=3), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=10)
def test_binary_broadcasting(case, shapes, seed):
    rng = np.random.default_rng(seed)
    x = values(rng, shapes.input_shapes[0], case.domains[0])
    y = values(rng, shapes.input_shapes[1], case.domains[1])
    check_grads(case.fn, [x, y], order=2)


@st.composite
def shape_and_axis(draw):
    shape = draw(array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4))
    nd = len(shape)
    choice = draw(st.sampled_from(["none", "int", "neg", "tuple"]))
    if choice == "none":
        axis = None
    elif choice == "int":
        axis = draw(st.integers(0, nd - 1))
    elif choice == "neg":
        axis = draw(st.integers(-nd, -1))
    else:
        axis = tuple(sorted(draw(st.sets(st.integers(0, nd - 1), min_size=1, max_size=nd))))
    return shape, axis, draw(st.booleans())


@pytest.mark.parametrize("case", REDUCE, ids=lambda c: c.name)
@given(sak=shape_and_axis(), seed=st.integers(0, 2**31 - 1))
@settings(max_examples=10)
def test_reduction_axis_keepdims(case, sak, seed):
    shape, axis, keepdims = sak
    rng = np.random.default_rng(seed)
    x = values(rng, shape, case.domains[0])
    out = case.fn(x, axis, keepdims)
    ref_shape = np.sum(x, axis=axis, keepdims=keepdims).shape
    assert np.shape(out) == ref_shape
    check_grads(lambda x: case.fn(x, axis, keepdims), [x], order=2)


@pytest.mark.parametrize("case", ALONG_AXIS, ids=lambda c: c.name)
@given(shape=array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3), data=st.data(),
       seed=st.integers(0, 2**31 - 1))
@settings(max_examples=6, deadline=None)
def test_along_axis(case, shape, data, seed):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = values(np.random.default_rng(seed), shape, case.domains[0])
    check_grads(lambda x: case.fn(x, axis), [x], order=2, modes=("rev", "fwd"))


@pytest.mark.parametrize("case", CUSTOM, ids=lambda c: c.name)
@given(seed=st.integers(0, 2**31 - 1))
@settings(max_examples=5)
def test_custom(case, seed):
    rng = np.random.default_rng(seed)
    args = case.make(rng)
    check_grads(case.fn, args, order=2 if case.second_order else 1, modes=("rev", "fwd"))


@pytest.mark.parametrize("case", CUSTOM_ADDED, ids=lambda c: c.name)
@given(seed=st.integers(0, 2**31 - 1))
@settings(max_examples=2, deadline=None)
def test_custom_added(case, seed):
    """The functions added with issue #15, at fixed shapes and random values (selfcheck runs them at seed 0)."""
    rng = np.random.default_rng(seed)
    args = case.make(rng)
    check_grads(case.fn, args, order=2 if case.second_order else 1, modes=("rev", "fwd"))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_values_equal_numpy_on_plain_arrays(case):
    """On plain arrays a minidsn function returns a plain ndarray/scalar, not a traced value."""
    rng = np.random.default_rng(0)
    if case.kind == "unary":
        args = [values(rng, (2, 3), case.domains[0])]
        out = case.fn(*args)
    elif case.kind == "binary":
        args = [values(rng, (2, 3), case.domains[0]), values(rng, (3,), case.domains[1])]
        out = case.fn(*args)
    elif case.kind == "reduce":
        out = case.fn(values(rng, (2, 3), case.domains[0]), 1, False)
    elif case.kind == "axis":
        out = case.fn(values(rng, (2, 3), case.domains[0]), 1)
    else:
        out = case.fn(*case.make(rng))
    assert isinstance(out, (np.ndarray, np.generic))

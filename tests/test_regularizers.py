"""Shared regularisers (seed 002 eqs. 5, 8, 9): values, gradients (check_grads) and grid-symmetry invariance."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn.engine import grad
from minidsn.nn.regularizers import (
    grid_positions,
    grid_symmetry_permutation,
    l1_activations,
    l1_weights,
    synaptic_length,
    synaptic_length_weights,
    uplifted_distance_matrix,
)
from minidsn.testing import check_grads

seeds = st.integers(0, 2**31)


@settings(max_examples=10)
@given(seed=seeds, n=st.integers(1, 6), m=st.integers(1, 6))
def test_l1_weights_value_and_gradient(seed, n, m):
    W = np.random.default_rng(seed).normal(size=(n, m))
    assert np.isclose(l1_weights(W), np.abs(W).sum())
    np.testing.assert_allclose(grad(l1_weights)(W), np.sign(W))
    check_grads(l1_weights, [W])


@settings(max_examples=10)
@given(seed=seeds, B=st.integers(1, 4), S=st.integers(1, 6), L=st.integers(1, 3),
       reduction=st.sampled_from(["mean", "sum"]))
def test_l1_activations_value_and_gradient(seed, B, S, L, reduction):
    acts = [np.random.default_rng(seed + k).normal(size=(B, S)) for k in range(L)]
    expect = sum(np.abs(a).sum() for a in acts) / (B if reduction == "mean" else 1)
    assert np.isclose(l1_activations(acts, reduction), expect)
    check_grads(lambda *a: l1_activations(list(a), reduction), acts)


def _brute_distances(P, beta):
    S = P.shape[0]
    D = np.zeros((S, S))
    for i in range(S):
        for j in range(S):
            dx = P[i, :-1] - P[j, :-1]
            dz = P[i, -1] - P[j, -1]
            D[i, j] = np.sqrt(dx @ dx + beta * dz * dz)
    return D


@settings(max_examples=10)
@given(seed=seeds, gx=st.integers(1, 3), gy=st.integers(1, 3), depth=st.integers(1, 3),
       beta=st.floats(0.0, 4.0), gamma=st.floats(0.25, 3.0), pairs=st.sampled_from(["all", "upper"]))
def test_synaptic_length_value_and_gradient(seed, gx, gy, depth, beta, gamma, pairs):
    P = grid_positions((gx, gy), depth)
    S = gx * gy * depth
    assert P.shape == (S, 3)
    np.testing.assert_array_equal(P[: gx * gy, 2], 0.0)  # input plane first (eq. 2 embedding)
    D = uplifted_distance_matrix(P, beta)
    np.testing.assert_allclose(D, _brute_distances(P, beta), atol=1e-12)
    Lw = synaptic_length_weights(D, gamma, pairs)
    W = np.random.default_rng(seed).normal(size=(S, S))
    expect = sum(abs(W[i, j]) * D[i, j] ** gamma for i in range(S) for j in range(S) if pairs == "all" or i < j)
    assert np.isclose(synaptic_length(W, Lw), expect)
    check_grads(lambda w: synaptic_length(w, Lw), [W])


@settings(max_examples=15)
@given(seed=seeds, n=st.integers(2, 4), depth=st.integers(1, 3), beta=st.floats(0.1, 4.0),
       gamma=st.floats(0.5, 2.5), k_rot=st.integers(0, 3), flip=st.booleans())
def test_synaptic_length_invariant_under_grid_symmetries(seed, n, depth, beta, gamma, k_rot, flip):
    """Seed 002 Sec. 3: the synaptic term keeps the unbroken symmetries, e.g. discrete 90-degree rotations (and
    reflections) of the input grid, acting on every z plane alike: syn(P W P^T) = syn(W)."""
    P = grid_positions((n, n), depth)
    D = uplifted_distance_matrix(P, beta)
    perm = grid_symmetry_permutation((n, n), depth, k_rot, flip)
    np.testing.assert_allclose(D[np.ix_(perm, perm)], D, atol=1e-12)
    Lw = synaptic_length_weights(D, gamma, "all")
    W = np.random.default_rng(seed).normal(size=D.shape)
    Wp = W[np.ix_(perm, perm)]
    assert np.isclose(synaptic_length(Wp, Lw), synaptic_length(W, Lw), rtol=1e-12)
    # gradients transform alike (equivariance)
    g = grad(lambda w: synaptic_length(w, Lw))
    np.testing.assert_allclose(g(Wp), g(W)[np.ix_(perm, perm)], atol=1e-12)


def test_upper_variant_is_not_rotation_invariant():
    # the literal i < j of eq. 9 breaks the symmetry (why "all" is the default reading)
    P = grid_positions((3, 3), 2)
    D = uplifted_distance_matrix(P, 1.0)
    perm = grid_symmetry_permutation((3, 3), 2, k_rot=1)
    Lw = synaptic_length_weights(D, 1.0, "upper")
    W = np.tril(np.ones(D.shape), -1)  # only synapses j -> i with j < i
    assert synaptic_length(W, Lw) == 0.0
    assert synaptic_length(W[np.ix_(perm, perm)], Lw) > 0.0


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="gamma"):
        synaptic_length_weights(np.zeros((2, 2)), 0.0)
    with pytest.raises(ValueError, match="pairs"):
        synaptic_length_weights(np.zeros((2, 2)), 1.0, "lower")
    with pytest.raises(ValueError, match="beta"):
        uplifted_distance_matrix(grid_positions((2,), 2), -1.0)
    with pytest.raises(ValueError, match="NaN"):
        uplifted_distance_matrix(np.array([[np.nan, 0.0]]), 1.0)
    with pytest.raises(ValueError, match="shape"):
        synaptic_length(np.ones((2, 2)), np.ones((3, 3)))
    with pytest.raises(ValueError, match="reduction"):
        l1_activations([np.ones((2, 2))], "max")
    with pytest.raises(ValueError, match="square"):
        grid_symmetry_permutation((2, 3), 1, k_rot=1)

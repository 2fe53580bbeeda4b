"""Isotropic structural operations: invariances the note states (shared/notes/isotropic.md), measured in JAX.

Diagonalisation and neurogenesis leave the function unchanged to rounding; neurodegeneration is exact when the
removed direction has sigma_min = 0 and the removed pre-activation is the constant b* (o and psi compensate); a
rotated first moment equals the gradient at the rotated parameters (first moments rotate exactly).
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn_jax.isotropic import ops
from minidsn_jax.isotropic.net import forward, loss_terms

CFG = {"o_mode": "trainable", "psi_mode": "trainable", "eps": 1e-3, "guard": "series"}


def random_net(rng, sizes, o=0.05):
    H = len(sizes) - 2
    W = [np.linalg.qr(rng.standard_normal((max(a, b), max(a, b))))[0][:b, :a] * rng.uniform(0.5, 2)
         for a, b in zip(sizes[:-1], sizes[1:])]
    return {"W": W, "b": [0.3 * rng.standard_normal(b) for b in sizes[1:]],
            "psi": [0.3 * rng.standard_normal(b) for b in sizes[2:]], "log_o": [np.log(o)] * H}


def logits(net, x, cfg=CFG):
    return np.asarray(forward(jax.tree_util.tree_map(jnp.asarray, net), jnp.asarray(x), cfg)[0])


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 10_000), depth=st.integers(2, 4), width=st.integers(2, 7))
def test_diagonalisation_and_neurogenesis_are_invariant(seed, depth, width):
    rng = np.random.default_rng(seed)
    sizes = [5] + [int(w) for w in rng.integers(2, width + 1, depth)] + [3]
    net, x = random_net(rng, sizes), rng.standard_normal((4, 5))
    y = logits(net, x)
    scale = 1 + np.max(np.abs(y))
    for k in range(depth):
        left, _, _ = ops.left_partial_diagonalise(net, k)
        assert np.max(np.abs(logits(left, x) - y)) <= 1e-12 * scale
        grown, _, _ = ops.neurogenesis(net, k, 0.01 * rng.standard_normal((sizes[k + 2], 2)))
        assert grown["W"][k].shape[0] == sizes[k + 1] + 2
        assert np.max(np.abs(logits(grown, x) - y)) <= 1e-12 * scale
    for k in range(1, depth):
        full, _, _ = ops.full_diagonalise(net, k)
        off = np.array(full["W"][k])
        np.fill_diagonal(off, 0.0)
        assert np.max(np.abs(off)) <= 1e-12 * (1 + np.max(np.abs(net["W"][k])))
        assert np.max(np.abs(logits(full, x) - y)) <= 1e-12 * scale


def test_neurodegeneration_exact_when_sigma_min_is_zero():
    rng = np.random.default_rng(3)
    net = random_net(rng, [5, 4, 4, 3])
    k = 0
    U, s, Vt = np.linalg.svd(net["W"][k])
    s[-1] = 0.0
    net["W"][k] = U @ np.diag(s) @ Vt[: len(s)]
    x = rng.standard_normal((6, 5))
    y = logits(net, x)
    small, _, info = ops.neurodegeneration(net, k, "trainable", "trainable")
    assert info["sigma_min"] < 1e-12
    assert small["W"][k].shape == (3, 5) and small["W"][k + 1].shape == (4, 3)
    assert np.max(np.abs(logits(small, x) - y)) <= 1e-12


@pytest.mark.parametrize("sigma", [1e-1, 1e-2, 1e-3])
def test_neurodegeneration_error_scales_with_sigma_min(sigma):
    rng = np.random.default_rng(4)
    net = random_net(rng, [5, 4, 4, 3])
    U, s, Vt = np.linalg.svd(net["W"][0])
    s[-1] = sigma
    net["W"][0] = U @ np.diag(s) @ Vt[: len(s)]
    x = rng.standard_normal((50, 5))
    err = np.mean(np.abs(logits(ops.neurodegeneration(net, 0, "trainable", "trainable")[0], x) - logits(net, x)))
    assert 0.02 * sigma < err < 5 * sigma


def test_first_moments_rotate_like_gradients():
    """m = the gradient at the old parameters; after a rotation, m must equal the gradient at the new ones."""
    rng = np.random.default_rng(5)
    net = random_net(rng, [5, 4, 4, 3])
    x, labels = rng.standard_normal((7, 5)), rng.integers(0, 3, 7)

    def grad(n):
        p = jax.tree_util.tree_map(jnp.asarray, n)
        g = jax.grad(lambda p: loss_terms(p, {}, jnp.asarray(x), jnp.asarray(labels), CFG)[0])(p)
        return jax.tree_util.tree_map(np.asarray, g)

    g = grad(net)
    for op, k in ((ops.left_partial_diagonalise, 0), (ops.left_partial_diagonalise, 1), (ops.full_diagonalise, 1)):
        new, opt, _ = op(net, k, {"m": g, "v": jax.tree_util.tree_map(lambda a: a * a, g)})
        g_new = grad(new)
        for key in ("W", "b", "psi"):
            for a, b in zip(opt["m"][key], g_new[key]):
                np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-13)

"""Isotropic activation and isotropic MLP: equivariance, guard, modes, gradients (note isotropic.md)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.models.isotropic.activation import (
    elementwise_tanh,
    isotropic_from_norm,
    isotropic_tanh,
    isotropic_tanh_scale,
)
from minidsn.models.isotropic.net import (
    O_MODES,
    PSI_MODES,
    forward,
    init_network,
    loss_fn,
    net_config,
    orthogonal,
)

mnp = pytest.importorskip("minidsn.numpy")
engine = pytest.importorskip("minidsn.engine")
from minidsn.testing import check_grads  # noqa: E402


def _haar(rng, n):
    return orthogonal(rng, n, n)


# ---------------------------------------------------------------- equivariance f(Qh) = Q f(h)
@settings(max_examples=30)
@given(n=st.integers(1, 12), batch=st.integers(1, 6), log_o=st.floats(-8, 1), seed=st.integers(0, 2**31),
       scale=st.sampled_from([1e-5, 1e-2, 1.0, 10.0]), guard=st.sampled_from(["series", "code"]))
def test_isotropic_tanh_commutes_with_rotations(n, batch, log_o, seed, scale, guard):
    rng = np.random.default_rng(seed)
    Q = _haar(rng, n)
    h = scale * rng.standard_normal((batch, n))
    o = 10.0 ** log_o
    lhs = isotropic_tanh(h @ Q.T, o, guard=guard, xp=np)  # rows are samples: Q h  ==  h Q^T
    rhs = isotropic_tanh(h, o, guard=guard, xp=np) @ Q.T
    assert np.max(np.abs(lhs - rhs)) <= 1e-14 * max(1.0, np.max(np.abs(rhs)))


@settings(max_examples=15)
@given(n=st.integers(2, 12), seed=st.integers(0, 2**31))
def test_elementwise_tanh_is_not_rotation_equivariant(n, seed):
    rng = np.random.default_rng(seed)
    Q = _haar(rng, n)
    h = 2.0 * rng.standard_normal((4, n))
    diff = np.max(np.abs(elementwise_tanh(h @ Q.T, xp=np) - elementwise_tanh(h, xp=np) @ Q.T))
    iso = np.max(np.abs(isotropic_tanh(h @ Q.T, xp=np) - isotropic_tanh(h, xp=np) @ Q.T))
    assert iso < 1e-14
    assert diff > 1e-3, f"elementwise tanh difference {diff:.3g} should be O(1) under a random rotation"


def test_generic_norm_form_equivariant_and_matches_tanh():
    rng = np.random.default_rng(1)
    h = rng.standard_normal((5, 7))
    Q = _haar(rng, 7)
    soft = lambda r: r / (1.0 + r)  # noqa: E731  sigma(r) = r/(1+r): sigma(0) = 0, sigma'(0) = 1
    f = lambda v: isotropic_from_norm(v, soft, 1.0, 0.3, xp=np)  # noqa: E731
    assert np.allclose(f(h @ Q.T), f(h) @ Q.T, rtol=0, atol=1e-14)
    g = isotropic_from_norm(h, np.tanh, 1.0, 0.3, xp=np)
    assert np.allclose(g, isotropic_tanh(h, 0.3, xp=np), rtol=1e-15, atol=0)


# ---------------------------------------------------------------- guard near r = 0
def test_guard_limit_and_continuity():
    # value at h = 0 with o = 0 is the limit tanh(r)/r -> 1; r = 0 gives no NaN
    assert isotropic_tanh_scale(np.zeros((1, 3)), 0.0, xp=np)[0, 0] == 1.0
    eps = 1e-3
    for r in [0.5 * eps, 0.999 * eps, 1.001 * eps, 2 * eps]:
        h = np.array([[r, 0.0]])
        s = isotropic_tanh_scale(h, 0.0, eps=eps, xp=np)[0, 0]
        assert abs(s - np.tanh(r) / r) < 2e-16, (r, s)
    # the series branch equals tanh(r)/r inside the ball (evaluated where the direct formula is still accurate)
    for r in np.geomspace(1e-5, 1e-3, 7):
        s = isotropic_tanh_scale(np.array([[r]]), 0.0, eps=2e-3, xp=np)[0, 0]
        assert abs(s - np.tanh(r) / r) < 2e-16
    # the author's variant: constant tanh(sqrt|o|)/sqrt|o| inside the ball when |o| > 0.01
    s = isotropic_tanh_scale(np.zeros((1, 2)), -0.04, guard="code", xp=np)[0, 0]
    assert abs(s - np.tanh(0.2) / 0.2) < 1e-15


@given(r=st.floats(0.0, 1.5e-3), o=st.sampled_from([0.0, 1e-7, 1e-6]))
@settings(max_examples=60, deadline=None)
def test_guards_differ_by_at_most_eps_squared_over_3(r, o):
    """series vs code: equal outside the ball r > eps; inside, code's constant 1 against tanh(r)/r, which is below
    1 by up to eps^2/3 (docs/models/isotropic.md, "Guard near r = 0")."""
    eps = 1e-3
    h = np.array([[np.sqrt(max(r * r - o, 0.0)), 0.0]])
    u = abs(o + np.sum(h * h))  # r^2, computed as the activation does
    a = isotropic_tanh_scale(h, o, eps=eps, guard="series", xp=np).item()
    b = isotropic_tanh_scale(h, o, eps=eps, guard="code", xp=np).item()
    if u > eps * eps:
        assert a == b
    else:
        assert b == 1.0
        assert 0.0 <= b - a <= eps * eps / 3 * (1 + 1e-9)
        assert abs((b - a) - u / 3) <= 1e-12


@pytest.mark.parametrize("guard", ["series", "code"])
def test_gradient_at_zero_is_identity_and_finite(guard):
    # f(h) = h (1 - |h|^2/3 + ...) near 0: the Jacobian at h = 0 is the identity; no NaN from the unselected branch
    c = np.array([0.3, -1.2, 2.0])
    g = engine.grad(lambda h: mnp.sum(isotropic_tanh(h, 0.0, guard=guard, xp=mnp) * c))(np.zeros((1, 3)))
    assert np.all(np.isfinite(g))
    assert np.allclose(g[0], c, rtol=0, atol=1e-15)
    # gradient wrt o at h = 0 is finite too
    go = engine.grad(lambda o: mnp.sum(isotropic_tanh(np.ones((1, 2)) * 1e-5, o, guard=guard, xp=mnp)))(
        np.array(1e-9))
    assert np.isfinite(go)


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31), scale=st.sampled_from([3e-4, 1e-3, 0.1, 2.0]), log_o=st.floats(-9, 0))
def test_activation_gradients_match_finite_differences(seed, scale, log_o):
    rng = np.random.default_rng(seed)
    h = scale * rng.standard_normal((3, 4))
    o = np.array(10.0 ** log_o)
    # gradient wrt h at any o (0 included); the series guard is smooth, so differences straddling r = eps agree
    check_grads(lambda h_: isotropic_tanh(h_, o, xp=mnp), (h,), rtol=1e-5, atol=1e-8)
    check_grads(lambda h_: isotropic_tanh(h_, 0.0, xp=mnp), (h,), rtol=1e-5, atol=1e-8)
    # jointly with o only where the finite-difference step (1e-6) cannot push o + |h|^2 across the kink of |.| at 0
    if o >= 1e-4:
        check_grads(lambda h_, o_: isotropic_tanh(h_, o_, xp=mnp), (h, o), rtol=1e-5, atol=1e-8)


# ---------------------------------------------------------------- the network
def _randomise(net, rng, scale=0.5):
    for group in ("params", "buffers"):
        for key in ("b", "psi"):
            if key in net[group]:
                net[group][key] = [scale * rng.standard_normal(v.shape) for v in net[group][key]]
    if "log_o" in net["params"]:
        net["params"]["log_o"] = [np.array(rng.uniform(np.log(1e-3), 0.0)) for _ in net["params"]["log_o"]]
    if "o" in net["params"]:
        net["params"]["o"] = [np.array(rng.uniform(1e-3, 1.0)) for _ in net["params"]["o"]]
    return net


@settings(max_examples=20)
@given(o_mode=st.sampled_from(O_MODES), psi_mode=st.sampled_from(PSI_MODES), o_positive=st.booleans(),
       hidden=st.lists(st.integers(1, 5), min_size=1, max_size=3), batch=st.integers(1, 4),
       seed=st.integers(0, 2**31))
def test_model_gradients_pass_check_grads(o_mode, psi_mode, o_positive, hidden, batch, seed):
    rng = np.random.default_rng(seed)
    cfg = net_config(o_mode=o_mode, psi_mode=psi_mode, o_positive=o_positive, o_init=0.01)
    sizes = [4] + hidden + [3]
    net = _randomise(init_network(sizes, cfg, rng), rng)
    x = rng.standard_normal((batch, 4))
    y = rng.integers(0, 3, batch)
    check_grads(lambda p: loss_fn(p, net["buffers"], x, y, cfg, xp=mnp), (net["params"],), rtol=1e-5, atol=1e-8)


def test_elementwise_control_has_same_interface():
    rng = np.random.default_rng(0)
    cfg = net_config(activation="elementwise", o_mode="none", psi_mode="none")
    net = init_network([5, 4, 4, 2], cfg, rng)
    x = rng.standard_normal((3, 5))
    y = np.array([0, 1, 1])
    h = x @ net["params"]["W"][0].T
    a = np.tanh(np.tanh(h) @ net["params"]["W"][1].T)
    assert np.allclose(forward(net["params"], net["buffers"], x, cfg, xp=np), a @ net["params"]["W"][2].T)
    check_grads(lambda p: loss_fn(p, net["buffers"], x, y, cfg, xp=mnp), (net["params"],), rtol=1e-5, atol=1e-8)


def test_psi_modes_none_zeros_expectation_agree_at_init_and_v1_has_no_psi():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6))
    outs = []
    for pm in ("none", "zeros", "expectation", "trainable"):
        cfg = net_config(o_mode="constant", psi_mode=pm)
        net = init_network([6, 5, 5, 3], cfg, np.random.default_rng(7))
        outs.append(forward(net["params"], net["buffers"], x, cfg, xp=np))
        if pm in ("none", "expectation"):
            assert "psi" not in net["params"] and "psi" not in net["buffers"]
    for o in outs[1:]:
        assert np.array_equal(o, outs[0])


def test_psi_enters_as_psi_times_previous_scale():
    rng = np.random.default_rng(4)
    cfg = net_config(o_mode="constant", o_init=0.2, psi_mode="trainable")
    net = _randomise(init_network([3, 4, 2], cfg, rng), rng)
    P = net["params"]
    x = rng.standard_normal((2, 3))
    h0 = x @ P["W"][0].T + P["b"][0]
    r = np.sqrt(0.2 + np.sum(h0 ** 2, axis=1, keepdims=True))
    s0 = np.tanh(r) / r
    y = (s0 * h0) @ P["W"][1].T + P["b"][1] + s0 * P["psi"][0]
    assert np.allclose(forward(P, net["buffers"], x, cfg, xp=np), y, rtol=1e-14, atol=1e-15)


def test_orthogonal_init_and_bad_config_errors():
    rng = np.random.default_rng(0)
    for shape in [(3, 7), (7, 3), (5, 5)]:
        W = orthogonal(rng, *shape)
        k = min(shape)
        G = W @ W.T if shape[0] <= shape[1] else W.T @ W
        assert np.allclose(G, np.eye(k), atol=1e-14)
    with pytest.raises(ValueError, match="o_mode"):
        net_config(o_mode="sometimes")
    with pytest.raises(ValueError, match="psi_mode"):
        net_config(psi_mode="maybe")
    with pytest.raises(ValueError, match="elementwise"):
        net_config(activation="elementwise")
    with pytest.raises(ValueError, match="guard"):
        isotropic_tanh_scale(np.ones((1, 2)), guard="clamp", xp=np)
    with pytest.raises(ValueError, match="sizes"):
        init_network([3], net_config(), rng)

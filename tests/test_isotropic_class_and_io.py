"""Isotropic networks, the rest of the author's operations and the functional class (issue 18):

every member of the isotropic class (tanh, arctan, isru) keeps the exact invariances (left / right / full
diagonalisation, neurogenesis, neurodegeneration at sigma_min = 0); the right-partial diagonalisation; growth and
shrinkage of input and output coordinates with their optimiser moments.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.models.isotropic.activation import ISOTROPIC_FUNCTIONS, isotropic_scale, isotropic_tanh_scale
from minidsn.models.isotropic.net import O_MODES, PSI_MODES, forward, net_config
from minidsn.models.isotropic.ops import (
    full_diagonalise,
    grow_inputs,
    grow_outputs,
    left_partial_diagonalise,
    neurodegeneration,
    neurogenesis,
    right_partial_diagonalise,
    shrink_inputs,
    shrink_outputs,
)

from tests.test_isotropic_ops import TOL, _degeneration_case, _grads, _out, _random_net, _rel

SIGMA = {"tanh": np.tanh, "arctan": np.arctan, "isru": lambda r: r / np.sqrt(1.0 + r * r)}

cases = st.fixed_dictionaries({
    "fn": st.sampled_from(ISOTROPIC_FUNCTIONS),
    "o_mode": st.sampled_from(O_MODES),
    "psi_mode": st.sampled_from(PSI_MODES),
    "guard": st.sampled_from(["series", "code"]),
    "d_in": st.integers(1, 6),
    "hidden": st.lists(st.integers(1, 6), min_size=2, max_size=4),
    "d_out": st.integers(1, 4),
    "seed": st.integers(0, 2**31),
})


def _make(c):
    rng = np.random.default_rng(c["seed"])
    cfg = net_config(o_mode=c["o_mode"], psi_mode=c["psi_mode"], guard=c["guard"], isotropic_fn=c["fn"])
    net = _random_net(rng, [c["d_in"]] + c["hidden"] + [c["d_out"]], cfg)
    x = rng.standard_normal((5, c["d_in"]))
    return rng, cfg, net, x


# ---------------------------------------------------------------- the functional class
@pytest.mark.parametrize("fn", ISOTROPIC_FUNCTIONS)
def test_scale_is_sigma_of_the_norm_over_the_norm(fn):
    rng = np.random.default_rng(0)
    h = rng.standard_normal((50, 4)) * rng.uniform(0.01, 5.0, (50, 1))
    o = 0.3
    r = np.sqrt(o + np.sum(h * h, axis=1, keepdims=True))
    np.testing.assert_allclose(isotropic_scale(h, o, fn=fn, xp=np), SIGMA[fn](r) / r, rtol=1e-14)


@pytest.mark.parametrize("fn", ISOTROPIC_FUNCTIONS)
def test_series_guard_is_continuous_across_the_ball(fn):
    """Just inside and just outside r = eps the two branches agree to rounding (the series is exact to O(eps^8))."""
    eps = 1e-3
    for side in (1 - 1e-9, 1 + 1e-9):
        h = np.array([[eps * side, 0.0]])
        r = eps * side
        assert abs(isotropic_scale(h, 0.0, fn=fn, eps=eps, xp=np)[0, 0] - SIGMA[fn](r) / r) < 1e-15


def test_tanh_member_is_the_papers_isotropic_tanh_bit_for_bit():
    h = np.random.default_rng(1).standard_normal((30, 3)) * 1e-2
    for guard in ("series", "code"):
        assert np.array_equal(isotropic_scale(h, 1e-6, fn="tanh", guard=guard, xp=np),
                              isotropic_tanh_scale(h, 1e-6, guard=guard, xp=np))


@pytest.mark.parametrize("fn", ISOTROPIC_FUNCTIONS)
def test_each_member_is_rotation_equivariant_and_differentiable_at_zero(fn):
    from minidsn.engine import grad
    import minidsn.numpy as mnp
    from minidsn.testing import check_grads

    rng = np.random.default_rng(2)
    h = rng.standard_normal((4, 5))
    Q, _ = np.linalg.qr(rng.standard_normal((5, 5)))
    f = lambda v: isotropic_scale(v, 0.2, fn=fn, xp=np) * v  # noqa: E731
    np.testing.assert_allclose(f(h @ Q.T), f(h) @ Q.T, rtol=1e-13, atol=1e-15)
    check_grads(lambda v: isotropic_scale(v, 0.2, fn=fn, xp=mnp) * v, [h], order=2)
    g = grad(lambda v: mnp.sum(isotropic_scale(v, 0.0, fn=fn, xp=mnp) * v))(np.zeros((1, 3)))
    assert np.all(np.isfinite(g)) and np.allclose(g, 1.0)  # f'(0) = sigma'(0) I = I for every member


def test_unknown_member_is_a_clear_error():
    with pytest.raises(ValueError, match="isotropic function must be one of"):
        isotropic_scale(np.ones((1, 2)), fn="relu", xp=np)
    with pytest.raises(ValueError, match="isotropic_fn"):
        net_config(isotropic_fn="softsign")


# ---------------------------------------------------------------- exact invariances for every member
@settings(max_examples=40, deadline=None)
@given(c=cases, data=st.data())
def test_every_member_keeps_diagonalisation_and_neurogenesis_exact(c, data):
    rng, cfg, net, x = _make(c)
    y0 = _out(net, cfg, x)
    H = len(c["hidden"])
    k = data.draw(st.integers(0, H - 1), label="layer")
    for new in (left_partial_diagonalise(net, cfg, k)[0],
                neurogenesis(net, cfg, k, data.draw(st.integers(1, 3)), rng)[0],
                right_partial_diagonalise(net, cfg, data.draw(st.integers(1, H), label="right layer"))[0],
                full_diagonalise(net, cfg, data.draw(st.integers(1, H - 1), label="full layer"))[0]):
        assert _rel(_out(new, cfg, x), y0) <= TOL


@pytest.mark.parametrize("fn", ISOTROPIC_FUNCTIONS)
@pytest.mark.parametrize("o_mode,psi_mode", [("constant", "trainable"), ("trainable", "zeros")])
def test_every_member_keeps_neurodegeneration_exact_at_sigma_min_zero(fn, o_mode, psi_mode):
    for seed in range(3):
        cfg, net, x = _degeneration_case(seed, 0.0, o_mode, psi_mode, 1)
        cfg = dict(cfg, isotropic_fn=fn)
        y0 = _out(net, cfg, x)
        new, _, info = neurodegeneration(net, cfg, 1, 1)
        assert abs(info["b_star"][0]) > 0
        assert _rel(_out(new, cfg, x), y0) <= TOL


# ---------------------------------------------------------------- right-partial diagonalisation
@settings(max_examples=25, deadline=None)
@given(c=cases, data=st.data())
def test_right_partial_diagonalisation_form_and_moments(c, data):
    rng, cfg, net, x = _make(c)
    H = len(c["hidden"])
    k = data.draw(st.integers(1, H), label="layer")
    y = rng.integers(0, c["d_out"], x.shape[0])
    g = _grads(net, cfg, x, y)
    state = {"step": 2, "m": g, "v": {key: [v * v for v in leaves] for key, leaves in g.items()}}
    new, st_new, info = right_partial_diagonalise(net, cfg, k, state)
    R, L, QT = info["R"], info["L"], info["QT"]
    np.testing.assert_allclose(new["params"]["W"][k], R @ L, rtol=0, atol=1e-12 * max(1.0, np.abs(L).max()))
    assert _rel(_out(new, cfg, x), _out(net, cfg, x)) <= TOL
    g_new = _grads(new, cfg, x, y)
    for key in g:  # first moments transform exactly like the gradient under the change of basis
        for a, b in zip(st_new["m"][key], g_new[key]):
            np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    Q = QT.T
    np.testing.assert_allclose(st_new["v"]["W"][k], state["v"]["W"][k] @ (Q * Q), rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(st_new["v"]["W"][k - 1], (QT * QT) @ state["v"]["W"][k - 1], rtol=1e-12,
                               atol=1e-300)


def test_right_partial_diagonalisation_bounds_and_activation():
    rng = np.random.default_rng(3)
    cfg = net_config()
    net = _random_net(rng, [3, 4, 4, 2], cfg)
    for bad in (0, 3):
        with pytest.raises(ValueError, match="layer must be in"):
            right_partial_diagonalise(net, cfg, bad)
    ecfg = net_config(activation="elementwise", o_mode="none", psi_mode="none")
    with pytest.raises(ValueError, match="needs isotropic"):
        right_partial_diagonalise(_random_net(rng, [3, 4, 4, 2], ecfg), ecfg, 1)


# ---------------------------------------------------------------- input / output coordinates
@settings(max_examples=30, deadline=None)
@given(c=cases, n=st.integers(1, 3))
def test_grown_inputs_ignore_the_new_coordinates_and_shrinking_them_back_is_exact(c, n):
    rng, cfg, net, x = _make(c)
    y0 = _out(net, cfg, x)
    g = {"W": [np.ones_like(w) for w in net["params"]["W"]]}
    state = {"step": 1, "m": g, "v": g}
    big, st_big, info = grow_inputs(net, cfg, n, state)
    assert info["d_in"] == c["d_in"] + n
    assert st_big["m"]["W"][0].shape == big["params"]["W"][0].shape and not st_big["m"]["W"][0][:, -n:].any()
    x_big = np.hstack([x, rng.standard_normal((x.shape[0], n)) * 100])
    assert _rel(_out(big, cfg, x_big), y0) <= TOL  # exact up to BLAS summation order (a longer inner product)
    back, st_back, info = shrink_inputs(big, cfg, n, st_big)
    assert info["removed_norm"] == 0.0 and _rel(_out(back, cfg, x), y0) <= TOL
    assert st_back["v"]["W"][0].shape == net["params"]["W"][0].shape


@settings(max_examples=30, deadline=None)
@given(c=cases, n=st.integers(1, 3))
def test_grown_outputs_start_at_zero_and_shrinking_keeps_the_rest(c, n):
    rng, cfg, net, x = _make(c)
    y0 = _out(net, cfg, x)
    big, _, info = grow_outputs(net, cfg, n)
    yb = _out(big, cfg, x)
    assert info["d_out"] == c["d_out"] + n
    assert _rel(yb[:, :c["d_out"]], y0) <= TOL and not yb[:, c["d_out"]:].any()
    if c["d_out"] > 1:
        m = c["d_out"] - 1
        small, _, info = shrink_outputs(net, cfg, m)
        assert info["d_out"] == 1 and _rel(_out(small, cfg, x), y0[:, :1]) <= TOL


def test_shrinking_inputs_reports_what_was_lost():
    rng = np.random.default_rng(4)
    cfg = net_config()
    net = _random_net(rng, [4, 3, 3, 2], cfg)
    _, _, info = shrink_inputs(net, cfg, 1)
    assert info["removed_norm"] == pytest.approx(np.linalg.norm(net["params"]["W"][0][:, -1]))
    with pytest.raises(ValueError, match="cannot remove 4 of the 4"):
        shrink_inputs(net, cfg, 4)
    with pytest.raises(ValueError, match="cannot remove 2 of the 2 outputs"):
        shrink_outputs(net, cfg, 2)
    with pytest.raises(ValueError, match="n must be an int >= 1"):
        grow_outputs(net, cfg, 0)

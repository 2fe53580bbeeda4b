"""Structural edits of params + optimiser state: delete_entries, insert_entries, change_basis."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidsn.optim as optim

ELEMENTWISE = [
    optim.SGD(0.1, momentum=0.9),
    optim.Adam(lr=0.05),
    optim.AdamW(lr=0.05, weight_decay=0.1),
    optim.Adagrad(lr=0.1),
    optim.RMSProp(lr=0.01, max_step=0.02),
]
IDS = [type(o).__name__ for o in ELEMENTWISE]


def small_net(rng, n=4, m=3):
    return {"W": rng.normal(size=(n, m)), "layers": [{"b": rng.normal(size=n)}], "c": rng.normal(size=())}


# --- hand-checked examples -----------------------------------------------------------------------------------------

def test_delete_by_hand_every_slot():
    W = np.arange(12.0).reshape(3, 4)
    params = {"W": W, "b": np.ones(3)}
    state = {"step": 7, "m": {"W": W + 100, "b": np.zeros(3)}, "v": {"W": W + 200, "b": np.zeros(3)}}
    snap = copy.deepcopy((params, state))
    p, s = optim.delete_entries(params, state, ("W",), 1, [0, 2])
    np.testing.assert_array_equal(p["W"], [[1, 3], [5, 7], [9, 11]])
    np.testing.assert_array_equal(s["m"]["W"], [[101, 103], [105, 107], [109, 111]])
    np.testing.assert_array_equal(s["v"]["W"], [[201, 203], [205, 207], [209, 211]])
    assert s["step"] == 7 and p["b"] is params["b"]
    # inputs untouched
    np.testing.assert_array_equal(params["W"], snap[0]["W"])
    np.testing.assert_array_equal(state["m"]["W"], snap[1]["m"]["W"])
    # negative index, single int, rows
    p, s = optim.delete_entries(params, state, "W", 0, -1)
    np.testing.assert_array_equal(p["W"], W[:2])
    np.testing.assert_array_equal(s["v"]["W"], W[:2] + 200)


def test_delete_neuron_like_diffrnn():
    """Deleting hidden unit j of a DiffRNN-shaped net: its row of Wxh and bh, row and column of Whh, column of Why,
    in params and in the Adagrad memory alike."""
    rng = np.random.default_rng(1)
    H, V = 5, 4
    params = {"Wxh": rng.normal(size=(H, V)), "Whh": rng.normal(size=(H, H)), "Why": rng.normal(size=(V, H)),
              "bh": rng.normal(size=H), "by": rng.normal(size=V)}
    opt = optim.Adagrad()
    params, state = opt.update(params, opt.init(params), params)
    old_p, old_M = params, state["sum_sq"]
    j, keep = 2, [0, 1, 3, 4]
    for path, axis in [("Wxh", 0), ("bh", 0), ("Whh", 0), ("Whh", 1), ("Why", 1)]:
        params, state = optim.delete_entries(params, state, (path,), axis, [j])
    for tree, old in [(params, old_p), (state["sum_sq"], old_M)]:
        np.testing.assert_array_equal(tree["Whh"], old["Whh"][np.ix_(keep, keep)])
        np.testing.assert_array_equal(tree["Wxh"], old["Wxh"][keep])
        np.testing.assert_array_equal(tree["Why"], old["Why"][:, keep])
        np.testing.assert_array_equal(tree["bh"], old["bh"][keep])
        np.testing.assert_array_equal(tree["by"], old["by"])


def test_insert_by_hand():
    W = np.arange(6.0).reshape(2, 3)
    params = {"W": W}
    state = {"step": 3, "velocity": {"W": W + 10}}
    p, s = optim.insert_entries(params, state, ("W",), 0, 1, [7.0, 8.0, 9.0])  # one row, given as (3,)
    np.testing.assert_array_equal(p["W"], [[0, 1, 2], [7, 8, 9], [3, 4, 5]])
    np.testing.assert_array_equal(s["velocity"]["W"], [[10, 11, 12], [0, 0, 0], [13, 14, 15]])
    p, s = optim.insert_entries(params, state, ("W",), 1, 3, np.full((2, 2), -1.0))  # two columns appended
    np.testing.assert_array_equal(p["W"], [[0, 1, 2, -1, -1], [3, 4, 5, -1, -1]])
    np.testing.assert_array_equal(s["velocity"]["W"], [[10, 11, 12, 0, 0], [13, 14, 15, 0, 0]])
    p, s = optim.insert_entries(params, state, ("W",), 1, 0, 0.0)  # scalar: one zero column in front
    np.testing.assert_array_equal(p["W"], [[0, 0, 1, 2], [0, 3, 4, 5]])
    assert s["step"] == 3


def test_insert_slot_values_g3_style():
    params = {"b": np.zeros(2)}
    state = optim.RMSProp().init(params)
    p, s = optim.insert_entries(params, state, ("b",), 0, 2, 0.0, slot_values={"mean_sq": 0.01})
    np.testing.assert_array_equal(s["mean_sq"]["b"], [0, 0, 0.01])
    with pytest.raises(ValueError, match=">= 0"):
        optim.insert_entries(params, state, ("b",), 0, 2, 0.0, slot_values={"mean_sq": -1.0})
    with pytest.raises(KeyError, match="does not have"):
        optim.insert_entries(params, state, ("b",), 0, 2, 0.0, slot_values={"m": 0.0})


def test_change_basis_by_hand_axes():
    rng = np.random.default_rng(3)
    Q = np.linalg.qr(rng.normal(size=(3, 3)))[0]
    W0 = rng.normal(size=(3, 5))
    W1 = rng.normal(size=(5, 3))
    T = rng.normal(size=(2, 3, 4))
    params = {"W0": W0, "W1": W1, "T": T}
    state = optim.Adam().init(params)
    state = {**state, "m": {"W0": W0 + 1, "W1": W1 + 1, "T": T + 1}, "v": {"W0": W0**2, "W1": W1**2, "T": T**2}}
    p, s = optim.change_basis(params, state, ("W0",), 0, Q)
    np.testing.assert_allclose(p["W0"], Q.T @ W0, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(s["m"]["W0"], Q.T @ (W0 + 1), rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(s["v"]["W0"], (Q**2).T @ W0**2, rtol=1e-14, atol=1e-14)
    p, s = optim.change_basis(params, state, ("W1",), -1, Q)
    np.testing.assert_allclose(p["W1"], W1 @ Q, rtol=1e-14, atol=1e-14)
    np.testing.assert_allclose(s["v"]["W1"], W1**2 @ Q**2, rtol=1e-14, atol=1e-14)
    p, s = optim.change_basis(params, state, ("T",), 1, Q)
    np.testing.assert_allclose(p["T"], np.einsum("aib,ij->ajb", T, Q), rtol=1e-14, atol=1e-14)
    assert (s["v"]["T"] >= 0).all()


def test_edits_without_state():
    params = {"W": np.ones((2, 2))}
    p, s = optim.delete_entries(params, None, ("W",), 0, [0])
    assert s is None and p["W"].shape == (1, 2)


# --- clear errors --------------------------------------------------------------------------------------------------

def test_bad_path_axis_index_errors():
    rng = np.random.default_rng(0)
    params = small_net(rng)
    state = optim.Adam().init(params)
    with pytest.raises(KeyError, match="not found"):
        optim.delete_entries(params, state, ("Wx",), 0, [0])
    with pytest.raises(KeyError, match="subtree"):
        optim.delete_entries(params, state, ("layers",), 0, [0])
    with pytest.raises(KeyError, match="not found"):
        optim.delete_entries(params, state, ("layers", 3, "b"), 0, [0])
    with pytest.raises(ValueError, match="axis 2 is out of range"):
        optim.delete_entries(params, state, ("W",), 2, [0])
    with pytest.raises(TypeError, match="axis must be an int"):
        optim.delete_entries(params, state, ("W",), 0.5, [0])
    with pytest.raises(IndexError, match="out of range"):
        optim.delete_entries(params, state, ("W",), 0, [4])
    with pytest.raises(ValueError, match="repeat"):
        optim.delete_entries(params, state, ("W",), 0, [1, -3])
    with pytest.raises(TypeError, match="indices"):
        optim.delete_entries(params, state, ("W",), 0, [0.5])
    with pytest.raises(ValueError, match="0-d"):
        optim.delete_entries(params, state, ("c",), 0, [0])
    with pytest.raises(IndexError, match="allowed 0..4"):
        optim.insert_entries(params, state, ("W",), 0, 5, 0.0)
    with pytest.raises(ValueError, match="must have shape"):
        optim.insert_entries(params, state, ("W",), 0, 0, np.zeros(4))
    with pytest.raises(ValueError, match="NaN"):
        optim.insert_entries(params, state, ("W",), 0, 0, np.full(3, np.nan))
    with pytest.raises(ValueError, match="Q must be 3 x 3"):
        optim.change_basis(params, state, ("W",), 1, np.eye(4))
    with pytest.raises(ValueError, match="not orthogonal"):
        optim.change_basis(params, state, ("W",), 1, 2 * np.eye(3))
    p, _ = optim.change_basis(params, state, ("W",), 1, 2 * np.eye(3), check_orthogonal=False)
    np.testing.assert_allclose(p["W"], 2 * params["W"])
    with pytest.raises(KeyError, match="moment order"):
        optim.change_basis(params, {"step": 0, "mine": params}, ("W",), 1, np.eye(3))
    p, s = optim.change_basis(params, {"step": 0, "mine": params}, ("W",), 1, np.eye(3), slot_moments={"mine": 1})
    with pytest.raises(ValueError, match=r"state\['m'\] at W has shape"):
        optim.delete_entries(params, {**state, "m": {**state["m"], "W": np.zeros((2, 2))}}, ("W",), 0, [0])
    with pytest.raises(TypeError, match="state must be"):
        optim.delete_entries(params, {"m": state["m"]}, ("W",), 0, [0])


# --- properties ----------------------------------------------------------------------------------------------------

def _grads_like(params, rng):
    return {"W": rng.normal(size=params["W"].shape), "layers": [{"b": rng.normal(size=params["layers"][0]["b"].shape)}],
            "c": rng.normal(size=())}


def _delete_tree(tree, axis, idx):
    """The tree of a network that never had entries idx along `axis` of W (and of b when axis == 0)."""
    out = {"W": np.delete(tree["W"], idx, axis), "layers": [{"b": tree["layers"][0]["b"]}], "c": tree["c"]}
    if axis == 0:
        out["layers"][0]["b"] = np.delete(tree["layers"][0]["b"], idx, 0)
    return out


@pytest.mark.parametrize("opt", ELEMENTWISE, ids=IDS)
@settings(max_examples=15)
@given(seed=st.integers(0, 2**31), axis=st.sampled_from([0, 1]), k_before=st.integers(0, 4),
       k_after=st.integers(1, 3), data=st.data())
def test_delete_then_update_equals_never_had_it(opt, seed, axis, k_before, k_after, data):
    rng = np.random.default_rng(seed)
    params = small_net(rng, n=4, m=3)
    n = params["W"].shape[axis]
    idx = data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=n - 1, unique=True))
    gs = [_grads_like(params, rng) for _ in range(k_before + k_after)]

    # full network: k_before steps, delete idx, k_after steps with the small network's gradients
    p, s = params, opt.init(params)
    for g in gs[:k_before]:
        p, s = opt.update(g, s, p)
    p, s = optim.delete_entries(p, s, ("W",), axis, idx)
    if axis == 0:
        p, s = optim.delete_entries(p, s, ("layers", 0, "b"), 0, idx)
    for g in gs[k_before:]:
        p, s = opt.update(_delete_tree(g, axis, idx), s, p)

    # a network that never had idx
    q = _delete_tree(params, axis, idx)
    t = opt.init(q)
    for g in gs:
        q, t = opt.update(_delete_tree(g, axis, idx), t, q)

    for a, b in [(p, q)] + [(s[n_], t[n_]) for n_ in opt.slot_names()]:
        np.testing.assert_array_equal(a["W"], b["W"])
        np.testing.assert_array_equal(a["layers"][0]["b"], b["layers"][0]["b"])
        np.testing.assert_array_equal(a["c"], b["c"])
    assert s["step"] == t["step"]


@pytest.mark.parametrize("opt", ELEMENTWISE, ids=IDS)
@settings(max_examples=15)
@given(seed=st.integers(0, 2**31), axis=st.sampled_from([0, 1]), k_before=st.integers(0, 3),
       k_after=st.integers(1, 3), index=st.integers(0, 3), k=st.integers(1, 2))
def test_insert_then_update_then_delete_is_identity_on_the_rest(opt, seed, axis, k_before, k_after, index, k):
    rng = np.random.default_rng(seed)
    params = small_net(rng, n=3, m=3)
    p, s = params, opt.init(params)
    small_p, small_s = params, opt.init(params)
    for _ in range(k_before):
        g = _grads_like(params, rng)
        p, s = opt.update(g, s, p)
        small_p, small_s = opt.update(g, small_s, small_p)
    shape = list(p["W"].shape)
    shape[axis] = k
    vals = rng.normal(size=shape)
    p, s = optim.insert_entries(p, s, ("W",), axis, index, vals)
    new = list(range(index, index + k))
    np.testing.assert_array_equal(np.take(p["W"], new, axis), vals)
    for name in opt.slot_names():
        np.testing.assert_array_equal(np.take(s[name]["W"], new, axis), 0.0)
    for _ in range(k_after):
        g = _grads_like(p, rng)
        p, s = opt.update(g, s, p)
        g_small = {**g, "W": np.delete(g["W"], new, axis)}
        small_p, small_s = opt.update(g_small, small_s, small_p)
    p, s = optim.delete_entries(p, s, ("W",), axis, new)
    np.testing.assert_array_equal(p["W"], small_p["W"])
    for name in opt.slot_names():
        np.testing.assert_array_equal(s[name]["W"], small_s[name]["W"])


def _orthogonal(rng, n):
    q, r = np.linalg.qr(rng.normal(size=(n, n)))
    return q * np.sign(np.diag(r))


@settings(max_examples=20)
@given(seed=st.integers(0, 2**31), axis=st.sampled_from([0, 1]), k_before=st.integers(1, 4),
       k_after=st.integers(1, 4))
def test_change_basis_sgd_momentum_trajectory_is_exact(seed, axis, k_before, k_after):
    """SGD with momentum is linear in (p, v, g): rotating p and v mid-run and continuing on the rotated problem
    L'(W') = L(rotate back W') gives exactly the rotation of the unrotated run (first moments rotate exactly)."""
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(4, 5))
    B = rng.normal(size=(4, 3))
    Q = _orthogonal(rng, 4 if axis == 0 else 3)

    def grad_W(W):  # gradient of L(W) = sum(tanh(A^T W B^T)**2)/2, a nonlinear loss
        Z = np.tanh(A.T @ W @ B.T)
        return A @ (Z * (1 - Z**2)) @ B

    def rot(W):
        return Q.T @ W if axis == 0 else W @ Q

    def unrot(W):
        return Q @ W if axis == 0 else W @ Q.T

    opt = optim.SGD(0.05, momentum=0.9)
    p = {"W": rng.normal(size=(4, 3))}
    s = opt.init(p)
    for _ in range(k_before):
        p, s = opt.update({"W": grad_W(p["W"])}, s, p)
    ref_p, ref_s = p, s
    for _ in range(k_after):
        ref_p, ref_s = opt.update({"W": grad_W(ref_p["W"])}, ref_s, ref_p)

    p, s = optim.change_basis(p, s, ("W",), axis, Q)
    for _ in range(k_after):
        g = rot(grad_W(unrot(p["W"])))  # gradient of L'(W') = L(unrot(W')) by the chain rule
        p, s = opt.update({"W": g}, s, p)
    np.testing.assert_allclose(p["W"], rot(ref_p["W"]), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(s["velocity"]["W"], rot(ref_s["velocity"]["W"]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("opt", [optim.Adam(lr=0.05), optim.AdamW(lr=0.05)], ids=["Adam", "AdamW"])
@settings(max_examples=15)
@given(seed=st.integers(0, 2**31), axis=st.sampled_from([0, 1]), k_before=st.integers(1, 4),
       k_after=st.integers(0, 4))
def test_change_basis_adam_first_moment_is_exact(opt, seed, axis, k_before, k_after):
    """Adam's m is an average of gradients: after change_basis, continuing with rotated gradients keeps m equal to
    the rotation of the unrotated run's m. The second moment gets the Q**2 rule (approximate, stays >= 0)."""
    rng = np.random.default_rng(seed)
    n = 4 if axis == 0 else 3
    Q = _orthogonal(rng, n)
    rot = (lambda W: Q.T @ W) if axis == 0 else (lambda W: W @ Q)
    rot2 = (lambda W: (Q**2).T @ W) if axis == 0 else (lambda W: W @ Q**2)
    gs = [rng.normal(size=(4, 3)) for _ in range(k_before + k_after)]
    p = {"W": rng.normal(size=(4, 3))}
    s = opt.init(p)
    for g in gs[:k_before]:
        p, s = opt.update({"W": g}, s, p)
    ref_s = s
    for g in gs[k_before:]:
        _, ref_s = opt.update({"W": g}, ref_s, p)
    v_before = s["v"]["W"]
    p, s = optim.change_basis(p, s, ("W",), axis, Q)
    np.testing.assert_allclose(s["v"]["W"], rot2(v_before), rtol=1e-13, atol=1e-15)
    assert (s["v"]["W"] >= 0).all()
    for g in gs[k_before:]:
        p, s = opt.update({"W": rot(g)}, s, p)
    np.testing.assert_allclose(s["m"]["W"], rot(ref_s["m"]["W"]), rtol=1e-11, atol=1e-13)


@pytest.mark.parametrize("opt", ELEMENTWISE, ids=IDS)
@settings(max_examples=10)
@given(seed=st.integers(0, 2**31), axis=st.sampled_from([0, 1]), k_before=st.integers(1, 3),
       k_after=st.integers(1, 3))
def test_change_basis_by_signed_permutation_is_exact_for_whole_trajectory(opt, seed, axis, k_before, k_after):
    """For a signed permutation Q (Q**2 a permutation) every slot transforms exactly, so every elementwise optimiser's
    whole trajectory is equivariant (AdamW included: its decay is linear in p)."""
    rng = np.random.default_rng(seed)
    n = 4 if axis == 0 else 3
    Q = np.eye(n)[rng.permutation(n)] * rng.choice([-1.0, 1.0], size=n)
    rot = (lambda W: Q.T @ W) if axis == 0 else (lambda W: W @ Q)
    gs = [rng.normal(size=(4, 3)) for _ in range(k_before + k_after)]
    p = {"W": rng.normal(size=(4, 3))}
    s = opt.init(p)
    for g in gs[:k_before]:
        p, s = opt.update({"W": g}, s, p)
    ref_p, ref_s = p, s
    for g in gs[k_before:]:
        ref_p, ref_s = opt.update({"W": g}, ref_s, ref_p)
    p, s = optim.change_basis(p, s, ("W",), axis, Q)
    for g in gs[k_before:]:
        p, s = opt.update({"W": rot(g)}, s, p)
    np.testing.assert_allclose(p["W"], rot(ref_p["W"]), rtol=1e-14, atol=1e-15)
    for name in opt.slot_names():
        moment = optim.SLOT_MOMENTS[name]
        want = rot(ref_s[name]["W"]) if moment == 1 else np.abs(rot(ref_s[name]["W"]))
        np.testing.assert_allclose(s[name]["W"], want, rtol=1e-14, atol=1e-15)

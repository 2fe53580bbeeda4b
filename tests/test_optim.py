"""Optimisers: hand-computed steps, pytree structure, purity, input checks."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minidsn.optim as optim
from minidsn.optim._tree import tree_flatten, tree_paths

ALL_OPTS = [
    optim.SGD(0.1),
    optim.SGD(0.1, momentum=0.9),
    optim.Adam(lr=0.01),
    optim.Adam(lr=0.01, eps_form="efficient"),
    optim.AdamW(lr=0.01, weight_decay=0.1),
    optim.Adagrad(lr=0.1),
    optim.RMSProp(lr=0.01),
    optim.RMSProp(lr=0.01, eps_placement="outside", max_step=0.005),
]
OPT_IDS = [repr(o) for o in ALL_OPTS]


def run(opt, p0, grads):
    """Apply opt to the scalar-valued (0-d or 1-d) parameter p0 with the given gradient sequence."""
    params = {"p": np.asarray(p0, dtype=np.float64)}
    state = opt.init(params)
    out = []
    for g in grads:
        params, state = opt.update({"p": np.asarray(g, dtype=np.float64)}, state, params)
        out.append(params["p"].copy())
    return out, state


# --- hand-computed steps -------------------------------------------------------------------------------------------

def test_sgd_plain_by_hand():
    # p = 1 - 0.1*2 = 0.8;  p = 0.8 - 0.1*(-1) = 0.9
    (p1, p2), state = run(optim.SGD(0.1), 1.0, [2.0, -1.0])
    assert p1 == pytest.approx(0.8, abs=1e-15) and p2 == pytest.approx(0.9, abs=1e-15)
    assert state == {"step": 2}


def test_sgd_momentum_by_hand():
    # v1 = 1              p1 = 1 - 0.1*1 = 0.9
    # v2 = 0.9*1 + 2 = 2.9     p2 = 0.9 - 0.29 = 0.61
    # v3 = 0.9*2.9 - 1 = 1.61  p3 = 0.61 - 0.161 = 0.449
    (p1, p2, p3), state = run(optim.SGD(0.1, momentum=0.9), 1.0, [1.0, 2.0, -1.0])
    assert (p1, p2, p3) == pytest.approx((0.9, 0.61, 0.449), abs=1e-14)
    assert state["velocity"]["p"] == pytest.approx(1.61, abs=1e-14)
    assert state["step"] == 3


def test_adam_by_hand():
    # step 1, g = 0.5:  m = 0.1*0.5 = 0.05, v = 0.001*0.25 = 0.00025
    #   mhat = 0.05/(1-0.9) = 0.5, vhat = 0.00025/(1-0.999) = 0.25  ->  p1 = 1 - 0.1*0.5/(0.5 + 1e-8)
    # step 2, g = -1:   m = 0.9*0.05 - 0.1 = -0.055, v = 0.999*0.00025 + 0.001 = 0.00124975
    #   1-0.9^2 = 0.19, 1-0.999^2 = 0.001999  ->  p2 = p1 - 0.1*(-0.055/0.19)/(sqrt(0.00124975/0.001999) + 1e-8)
    # step 3, g = 0:    m = -0.0495, v = 0.00124850025; 1-0.9^3 = 0.271, 1-0.999^3 = 0.002997001
    (p1, p2, p3), state = run(optim.Adam(lr=0.1), 1.0, [0.5, -1.0, 0.0])
    e1 = 1 - 0.1 * 0.5 / (0.5 + 1e-8)
    e2 = e1 - 0.1 * (-0.055 / 0.19) / (math.sqrt(0.00124975 / 0.001999) + 1e-8)
    e3 = e2 - 0.1 * (-0.0495 / 0.271) / (math.sqrt(0.00124850025 / 0.002997001) + 1e-8)
    assert (p1, p2, p3) == pytest.approx((e1, e2, e3), rel=1e-13)
    assert state["m"]["p"] == pytest.approx(-0.0495, rel=1e-13)
    assert state["v"]["p"] == pytest.approx(0.00124850025, rel=1e-13)
    assert state["step"] == 3


def test_adam_efficient_form_by_hand():
    # Kingma & Ba Sec. 2 / TF1: lr_t = lr sqrt(1 - beta2^t)/(1 - beta1^t);  p -= lr_t m/(sqrt(v) + eps)
    # step 1, g = 0.5: lr_t = 0.1*sqrt(0.001)/0.1 = sqrt(0.001); m = 0.05; sqrt(v) = sqrt(0.00025)
    # step 2, g = -1:  lr_t = 0.1*sqrt(0.001999)/0.19; m = -0.055; v = 0.00124975
    (p1, p2), _ = run(optim.Adam(lr=0.1, eps_form="efficient"), 1.0, [0.5, -1.0])
    e1 = 1 - math.sqrt(0.001) * 0.05 / (math.sqrt(0.00025) + 1e-8)
    e2 = e1 - (0.1 * math.sqrt(0.001999) / 0.19) * (-0.055) / (math.sqrt(0.00124975) + 1e-8)
    assert (p1, p2) == pytest.approx((e1, e2), rel=1e-13)


def test_adamw_by_hand():
    # lr 0.1, wd 0.5: p1 = 1 - 0.1*0.5*1 - 0.1*0.5/(0.5 + 1e-8)            (decay uses p before the step)
    #                 p2 = p1 - 0.05*p1 - 0.1*(-0.055/0.19)/(sqrt(0.00124975/0.001999) + 1e-8)
    (p1, p2), state = run(optim.AdamW(lr=0.1, weight_decay=0.5), 1.0, [0.5, -1.0])
    e1 = 1 - 0.05 - 0.1 * 0.5 / (0.5 + 1e-8)
    e2 = e1 - 0.05 * e1 - 0.1 * (-0.055 / 0.19) / (math.sqrt(0.00124975 / 0.001999) + 1e-8)
    assert (p1, p2) == pytest.approx((e1, e2), rel=1e-13)
    # the decay never enters the moments
    assert state["m"]["p"] == pytest.approx(-0.055, rel=1e-13)


def test_adagrad_min_char_rnn_by_hand():
    # M = 4:  p1 = 1 - 0.1*2/sqrt(4 + 1e-8);   M = 5:  p2 = p1 + 0.1*1/sqrt(5 + 1e-8);   M = 5.25: g = 0.5
    (p1, p2, p3), state = run(optim.Adagrad(lr=0.1), 1.0, [2.0, -1.0, 0.5])
    e1 = 1 - 0.2 / math.sqrt(4 + 1e-8)
    e2 = e1 + 0.1 / math.sqrt(5 + 1e-8)
    e3 = e2 - 0.05 / math.sqrt(5.25 + 1e-8)
    assert (p1, p2, p3) == pytest.approx((e1, e2, e3), rel=1e-14)
    assert state["sum_sq"]["p"] == 5.25


def test_rmsprop_g3_by_hand():
    # DiffRNN G3: M += 0.01 (g^2 - M); step = -0.01 g / sqrt(M + 1e-8), clipped to +-0.01.
    # entry 0, g = 2 then -1e-3:  M = 0.04, step = -0.02/sqrt(0.04 + 1e-8) ~ -0.1 -> clipped to -0.01
    #                             M = 0.04 + 0.01*(1e-6 - 0.04) = 0.03960001, step = 1e-5/sqrt(0.03960002) (no clip)
    # entry 1, g = 0.1 then 0:    M = 0.0001, step = -0.001/sqrt(0.0001 + 1e-8) ~ -0.1 -> -0.01; M = 0.000099, step 0
    opt = optim.RMSProp(lr=0.01, rho=0.01, max_step=0.01)
    (p1, p2), state = run(opt, [1.0, 1.0], [[2.0, 0.1], [-1e-3, 0.0]])
    np.testing.assert_allclose(p1, [0.99, 0.99], rtol=0, atol=1e-15)
    np.testing.assert_allclose(p2, [0.99 + 1e-5 / math.sqrt(0.03960001 + 1e-8), 0.99], rtol=1e-13, atol=0)
    np.testing.assert_allclose(state["mean_sq"]["p"], [0.03960001, 0.000099], rtol=1e-13)


def test_rmsprop_outside_eps_no_clip_by_hand():
    # torch form: step = -lr g / (sqrt(M) + eps); lr 0.01, rho 0.1: M = 0.1*4 = 0.4, then M = 0.4 + 0.1*(1 - 0.4) = 0.46
    (p1, p2), _ = run(optim.RMSProp(lr=0.01, rho=0.1, eps_placement="outside"), 1.0, [2.0, 1.0])
    e1 = 1 - 0.02 / (math.sqrt(0.4) + 1e-8)
    e2 = e1 - 0.01 / (math.sqrt(0.46) + 1e-8)
    assert (p1, p2) == pytest.approx((e1, e2), rel=1e-14)


def test_rmsprop_initial_mean_sq():
    opt = optim.RMSProp(initial_mean_sq=0.01)
    st_ = opt.init({"w": np.zeros(3)})
    np.testing.assert_array_equal(st_["mean_sq"]["w"], 0.01)


def test_clip_elementwise():
    g = {"a": np.array([-7.0, -5.0, 0.3, 5.0, 9.0]), "b": [np.array([[1e9]])]}
    c = optim.clip_elementwise(g, 5.0)
    np.testing.assert_array_equal(c["a"], [-5.0, -5.0, 0.3, 5.0, 5.0])
    np.testing.assert_array_equal(c["b"][0], [[5.0]])
    assert g["a"][0] == -7.0  # input untouched
    with pytest.raises(ValueError, match="max_abs"):
        optim.clip_elementwise(g, 0.0)
    with pytest.raises(TypeError, match="not a float array"):
        optim.clip_elementwise({"x": np.arange(3)}, 1.0)


# --- pytrees, purity -----------------------------------------------------------------------------------------------

def _array(dtype):
    return hnp.arrays(dtype, hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
                      elements=st.floats(-3, 3, width=32 if dtype == np.float32 else 64))


def pytrees(dtype=np.float64):
    return st.recursive(
        _array(dtype),
        lambda kids: st.one_of(
            st.dictionaries(st.sampled_from("abcdWxyz"), kids, min_size=1, max_size=3),
            st.lists(kids, min_size=1, max_size=3),
            st.lists(kids, min_size=1, max_size=3).map(tuple),
        ),
        max_leaves=6,
    )


def _same_structure(a, b):
    la, da = tree_flatten(a)
    lb, db = tree_flatten(b)
    assert da == db
    for x, y in zip(la, lb):
        assert isinstance(y, np.ndarray) and x.shape == y.shape and x.dtype == y.dtype


@pytest.mark.parametrize("opt", ALL_OPTS, ids=OPT_IDS)
@settings(max_examples=10)
@given(data=st.data())
def test_pytree_structure_preserved_and_inputs_untouched(opt, data):
    dtype = data.draw(st.sampled_from([np.float64, np.float32]))
    params = data.draw(pytrees(dtype))
    leaves, treedef = tree_flatten(params)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**31)))
    from minidsn.optim._tree import tree_unflatten

    grads = tree_unflatten(treedef, [rng.normal(size=x.shape).astype(dtype) for x in leaves])
    state = opt.init(params)
    for name in opt.slot_names():
        _same_structure(params, state[name])
    snap = copy.deepcopy((params, grads, state))
    new_params, new_state = opt.update(grads, state, params)
    new_params, new_state = opt.update(grads, new_state, new_params)
    _same_structure(params, new_params)
    assert set(new_state) == set(state) and new_state["step"] == 2
    for name in opt.slot_names():
        _same_structure(params, new_state[name])
    # inputs untouched, outputs are fresh arrays
    for (x, y) in zip(tree_flatten(snap)[0], tree_flatten((params, grads, state))[0]):
        if isinstance(x, np.ndarray):
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y
    old_arrays = [x for x in tree_flatten((params, grads, state))[0] if isinstance(x, np.ndarray)]
    for y in tree_flatten((new_params, new_state))[0]:
        if isinstance(y, np.ndarray):
            assert not any(np.shares_memory(y, x) for x in old_arrays)


@pytest.mark.parametrize("opt", ALL_OPTS, ids=OPT_IDS)
@settings(max_examples=10)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 5))
def test_update_is_leafwise(opt, seed, n):
    """An update of a tree equals the updates of its leaves taken one at a time (and of their entries one at a time:
    all five optimisers are elementwise)."""
    rng = np.random.default_rng(seed)
    params = {"a": rng.normal(size=(n, 2)), "b": [rng.normal(size=n)]}
    grads = {"a": rng.normal(size=(n, 2)), "b": [rng.normal(size=n)]}
    p, s = opt.update(grads, opt.init(params), params)
    for path, leaf in tree_paths(params):
        g = grads[path[0]] if len(path) == 1 else grads[path[0]][path[1]]
        want = p[path[0]] if len(path) == 1 else p[path[0]][path[1]]
        for idx in np.ndindex(leaf.shape):
            q, _ = opt.update(np.array(g[idx]), opt.init(np.array(leaf[idx])), np.array(leaf[idx]))
            assert q == want[idx]


def test_float_scalar_leaf_and_none():
    opt = optim.Adam()
    params = {"c": 0.5, "nothing": None}
    state = opt.init(params)
    p, s = opt.update({"c": np.float64(1.0), "nothing": None}, state, params)
    assert isinstance(p["c"], np.ndarray) and p["c"].shape == () and p["nothing"] is None


def test_hyperparams_inspectable_and_frozen():
    opt = optim.AdamW(lr=1e-3, weight_decay=1e-3)
    hp = opt.hyperparams()
    assert hp["lr"] == 1e-3 and hp["weight_decay"] == 1e-3 and hp["beta1"] == 0.9 and hp["beta2"] == 0.999
    assert hp["eps"] == 1e-8
    with pytest.raises(AttributeError):
        opt.lr = 1.0


# --- input checks --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "make, match",
    [
        (lambda: optim.SGD(0.0), "lr"),
        (lambda: optim.SGD(-1.0), "lr"),
        (lambda: optim.SGD(float("nan")), "lr"),
        (lambda: optim.SGD(0.1, momentum=1.0), "momentum"),
        (lambda: optim.Adam(beta1=1.0), "beta1"),
        (lambda: optim.Adam(beta2=-0.1), "beta2"),
        (lambda: optim.Adam(eps=0.0), "eps"),
        (lambda: optim.Adam(eps_form="tf"), "eps_form"),
        (lambda: optim.AdamW(weight_decay=-1.0), "weight_decay"),
        (lambda: optim.Adagrad(lr=float("inf")), "lr"),
        (lambda: optim.RMSProp(rho=0.0), "rho"),
        (lambda: optim.RMSProp(rho=1.5), "rho"),
        (lambda: optim.RMSProp(max_step=0.0), "max_step"),
        (lambda: optim.RMSProp(eps_placement="middle"), "eps_placement"),
        (lambda: optim.SGD("0.1"), "lr"),
    ],
)
def test_bad_hyperparameters(make, match):
    with pytest.raises((ValueError, TypeError), match=match):
        make()


def test_bad_inputs_named():
    opt = optim.Adam()
    params = {"W": np.ones((2, 3)), "b": np.zeros(3)}
    state = opt.init(params)
    with pytest.raises(ValueError, match="tree structure"):
        opt.update({"W": np.ones((2, 3))}, state, params)
    with pytest.raises(ValueError, match=r"grads at W has shape \(3, 2\)"):
        opt.update({"W": np.ones((3, 2)), "b": np.zeros(3)}, state, params)
    with pytest.raises(TypeError, match="grads at b has dtype float32"):
        opt.update({"W": np.ones((2, 3)), "b": np.zeros(3, np.float32)}, state, params)
    bad = np.ones((2, 3))
    bad[1, 2] = np.nan
    with pytest.raises(FloatingPointError, match="grads at W has 1 NaN/inf"):
        opt.update({"W": bad, "b": np.zeros(3)}, state, params)
    p, _ = optim.Adam(check_finite=False).update({"W": bad, "b": np.zeros(3)}, state, params)
    assert np.isnan(p["W"][1, 2])
    with pytest.raises(KeyError, match="missing"):
        opt.update(params, {"step": 0, "m": state["m"]}, params)
    with pytest.raises(ValueError, match="step"):
        opt.update(params, {**state, "step": -1}, params)
    with pytest.raises(TypeError, match="dtype int64"):
        opt.init({"W": np.arange(3)})
    with pytest.raises(TypeError, match="state must be"):
        opt.update(params, [state], params)
    with pytest.raises(ValueError, match=r"state\['v'\] at b has shape"):
        opt.update(params, {**state, "v": {"W": np.ones((2, 3)), "b": np.zeros(4)}}, params)


# --- against PyTorch, where installed ------------------------------------------------------------------------------

def test_matches_torch_where_installed():
    try:
        import torch
    except Exception as err:  # not installed, or a broken install: skip cleanly either way
        pytest.skip(f"torch unavailable: {type(err).__name__}: {err}")
    rng = np.random.default_rng(0)
    p0 = rng.normal(size=(3, 4))
    gs = [rng.normal(size=(3, 4)) for _ in range(5)]
    cases = [
        (optim.SGD(0.1, momentum=0.9), lambda w: torch.optim.SGD([w], lr=0.1, momentum=0.9)),
        (optim.Adam(lr=0.01), lambda w: torch.optim.Adam([w], lr=0.01)),
        (optim.AdamW(lr=0.01, weight_decay=0.1), lambda w: torch.optim.AdamW([w], lr=0.01, weight_decay=0.1)),
        (optim.RMSProp(lr=0.01, rho=0.01, eps_placement="outside"),
         lambda w: torch.optim.RMSprop([w], lr=0.01, alpha=0.99, eps=1e-8)),
    ]
    for ours, make in cases:
        w = torch.tensor(p0.copy(), dtype=torch.float64, requires_grad=True)
        topt = make(w)
        params, state = {"w": p0.copy()}, ours.init({"w": p0})
        for g in gs:
            w.grad = torch.tensor(g, dtype=torch.float64)
            topt.step()
            params, state = ours.update({"w": g}, state, params)
        np.testing.assert_allclose(params["w"], w.detach().numpy(), rtol=1e-12, atol=1e-14, err_msg=repr(ours))

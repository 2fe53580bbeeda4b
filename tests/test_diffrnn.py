"""DiffRNN model tests: kernel primitive == engine reference (values, gradients), gradient checks, the L1 term,
the fused training path == the engine-optimiser path, structural edits, task schedule, registration."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidsn.optim as optim
from minidsn.engine import grad, value_and_grad
from minidsn.models.diffrnn.adagrad_kernel import clip_adagrad, clip_adagrad_ref
from minidsn.models.diffrnn import cycle as cyc
from minidsn.models.diffrnn import structure
from minidsn.models.diffrnn.model import DiffRNNModel
from minidsn.models.diffrnn.loss import loss_and_grads, objective, window_ce_engine
from minidsn.testing import check_grads

NAMES = ("Wxh", "Whh", "m", "Wiy", "bh", "by")


def make_params(seed, H, V=4, T=40, scale=0.5, with_m=True):
    rng = np.random.default_rng(seed)
    params = {
        "Wxh": scale * rng.standard_normal((H, V)),
        "Whh": scale * rng.standard_normal((H, H)),
        "Wiy": scale * rng.standard_normal((V, H)),
        "bh": 0.1 * rng.standard_normal(H),
        "by": 0.1 * rng.standard_normal(V),
    }
    if with_m:
        params["m"] = rng.uniform(0.03, 1.5, H)
    s0 = np.tanh(rng.standard_normal(H))
    inputs = rng.integers(0, V, T)
    targets = rng.integers(0, V, T)
    return params, s0, inputs, targets


def assert_rel(a, b, rtol=1e-12):
    a, b = np.asarray(a), np.asarray(b)
    scale = max(float(np.max(np.abs(b))), 1e-300)
    err = float(np.max(np.abs(a - b))) / scale
    assert err <= rtol, err


# ---- kernel primitive == engine reference ------------------------------------------------------------------------


@given(seed=st.integers(0, 10**6), H=st.sampled_from([1, 1, 2, 3, 5, 8]), T=st.integers(1, 40),
       gate=st.booleans(), l1=st.sampled_from([0.0, 3e-5, 0.01]), with_m=st.booleans())
@settings(max_examples=12)
def test_kernel_primitive_equals_engine_reference(seed, H, T, gate, l1, with_m):
    params, s0, inputs, targets = make_params(seed, H, T=T, with_m=with_m)
    ce_e, s_e, g_e = loss_and_grads(params, s0, inputs, targets, l1=l1, path="engine", gate=gate)
    ce_k, s_k, g_k = loss_and_grads(params, s0, inputs, targets, l1=l1, path="kernel", gate=gate)
    assert_rel(ce_k, ce_e)
    assert_rel(s_k, s_e)
    assert set(g_k) == set(g_e) == set(params)
    for k in params:
        assert g_k[k].shape == params[k].shape and g_k[k].dtype == np.float64
        assert_rel(g_k[k], g_e[k])


def test_kernel_primitive_state_cotangent_equals_engine():
    """The primitive's second output (the carried state) is differentiable too: d(sum w * s_last)."""
    from minidsn.models.diffrnn.window_primitive import rnn_window

    params, s0, inputs, targets = make_params(4, 3, T=6)
    w = np.array([0.3, -1.2, 0.7])
    args = [params[k] for k in NAMES] + [s0]

    def f_kernel(*a):
        out = rnn_window(*a, inputs=inputs, targets=targets, gate=False)
        return 0.5 * out[0] + (out[1:] * w).sum()

    def f_engine(Wxh, Whh, m, Wiy, bh, by, s0_):
        p = {"Wxh": Wxh, "Whh": Whh, "m": m, "Wiy": Wiy, "bh": bh, "by": by}
        ce, s = window_ce_engine(p, s0_, inputs, targets, False)
        return 0.5 * ce + (s * w).sum()

    argnums = tuple(range(7))
    gk = grad(f_kernel, argnums=argnums)(*args)
    ge = grad(f_engine, argnums=argnums)(*args)
    for a, b in zip(gk, ge):
        assert_rel(a, b)


@pytest.mark.parametrize("gate", [False, True])
@pytest.mark.parametrize("H", [1, 3])
def test_check_grads_engine_path(gate, H):
    params, s0, inputs, targets = make_params(7 + H, H, T=6)

    def f(p):
        return objective(p, s0, inputs, targets, l1=0.01, path="engine", gate=gate)[0]

    check_grads(f, (params,), order=1)


def test_check_grads_kernel_path():
    params, s0, inputs, targets = make_params(2, 4, T=8)

    def f(p):
        return objective(p, s0, inputs, targets, l1=0.01, path="kernel")[0]

    check_grads(f, (params,), order=1)


def test_l1_gradient_is_T_times_A_sign_m():
    """The note's dm accumulates dq*h + A sign(m) at each of the T steps: the L1 part of dm is T A sign(m)."""
    params, s0, inputs, targets = make_params(3, 4, T=40)
    _, _, g0 = loss_and_grads(params, s0, inputs, targets, l1=0.0, path="kernel")
    _, _, g1 = loss_and_grads(params, s0, inputs, targets, l1=3e-5, path="kernel")
    assert np.allclose(g1["m"] - g0["m"], 40 * 3e-5 * np.sign(params["m"]), rtol=0, atol=1e-15)
    for k in ("Wxh", "Whh", "Wiy", "bh", "by"):
        assert np.array_equal(g1[k], g0[k])


def test_reported_loss_is_cross_entropy_only():
    params, s0, inputs, targets = make_params(5, 3, T=10)
    ce0, _, _ = loss_and_grads(params, s0, inputs, targets, l1=0.0, path="kernel")
    ce1, _, _ = loss_and_grads(params, s0, inputs, targets, l1=1.0, path="kernel")
    assert ce0 == ce1
    (total, _), _ = value_and_grad(lambda p: objective(p, s0, inputs, targets, l1=1.0), has_aux=True)(params)
    assert total == pytest.approx(ce0 + 10 * np.abs(params["m"]).sum(), rel=1e-14)


def test_primitive_rejects_bad_input():
    params, s0, inputs, targets = make_params(0, 3, T=5)
    with pytest.raises(ValueError, match="carried state"):
        loss_and_grads(params, s0[:2], inputs, targets)
    bad = dict(params, Whh=params["Whh"].copy())
    bad["Whh"][0, 0] = np.nan
    with pytest.raises(ValueError, match="Whh contains NaN"):
        loss_and_grads(bad, s0, inputs, targets, path="kernel")
    with pytest.raises(ValueError, match="path"):
        loss_and_grads(params, s0, inputs, targets, path="gpu")


# ---- fused update == minidsn.optim -------------------------------------------------------------------------------


@given(seed=st.integers(0, 10**6), shape=st.sampled_from([(1,), (3,), (2, 5), (4, 1)]), clip=st.sampled_from([0.0, 5.0]))
@settings(max_examples=20)
def test_clip_adagrad_equals_optim(seed, shape, clip):
    rng = np.random.default_rng(seed)
    p = {"w": rng.standard_normal(shape)}
    g = {"w": 8 * rng.standard_normal(shape)}
    opt = optim.Adagrad(lr=0.1, eps=1e-8)
    state = opt.init(p)
    state["sum_sq"] = {"w": np.abs(rng.standard_normal(shape))}
    gg = optim.clip_elementwise(g, clip) if clip > 0 else g
    p2, s2 = opt.update(gg, state, p)
    a, b = clip_adagrad(p["w"], g["w"], state["sum_sq"]["w"], 0.1, 1e-8, clip)
    ar, br = clip_adagrad_ref(p["w"], g["w"], state["sum_sq"]["w"], 0.1, 1e-8, clip)
    assert np.array_equal(a, p2["w"]) and np.array_equal(b, s2["sum_sq"]["w"])
    assert np.array_equal(ar, a) and np.array_equal(br, b)


@pytest.mark.parametrize("order", ["C", "F"])
def test_clip_adagrad_any_memory_layout(order):
    """Fortran-ordered (or non-contiguous) inputs give the same result as C-ordered ones."""
    rng = np.random.default_rng(1)
    p = np.asarray(rng.standard_normal((5, 3)), order=order)
    g = np.asarray(8 * rng.standard_normal((5, 3)), order=order)
    M = np.asarray(np.abs(rng.standard_normal((5, 3))), order=order)
    a, b = clip_adagrad(p, g, M, 0.1, 1e-8, 5.0)
    ar, br = clip_adagrad_ref(p, g, M, 0.1, 1e-8, 5.0)
    assert np.array_equal(a, ar) and np.array_equal(b, br)
    a2, b2 = clip_adagrad(p[:, ::2], g[:, ::2], M[:, ::2], 0.1, 1e-8, 5.0)
    ar2, br2 = clip_adagrad_ref(p[:, ::2], g[:, ::2], M[:, ::2], 0.1, 1e-8, 5.0)
    assert np.array_equal(a2, ar2) and np.array_equal(b2, br2)


def _run(cfg_over, n, seed=0):
    model = DiffRNNModel()
    cfg = model.validate_config(cfg_over)
    rng = np.random.default_rng(seed)
    state = model.init(cfg, rng, None)
    mets = []
    for i in range(n):
        state, met = model.step(state, cfg, rng, i)
        mets.append(met)
    return state, mets, cfg


@pytest.mark.parametrize("variant", ["g2", "altern", "fixed"])
def test_fused_and_kernel_backends_follow_the_same_trajectory(variant):
    """Same seed -> same structural events and (to rounding) the same numbers through the engine optimiser path."""
    over = {"variant": variant, "task": "hard", "p_add": 0.5, "p_del": 0.5, "l1": 3e-3}
    if variant == "fixed":
        over["hidden_size"] = 5
    sf, mf, _ = _run(dict(over, backend="fused"), 60)
    sk, mk, _ = _run(dict(over, backend="kernel"), 60)
    assert [m["hidden_size"] for m in mf] == [m["hidden_size"] for m in mk]
    if variant != "fixed":
        assert sf["n_added"] >= 3  # the comparison covers structural events
    for a, b in zip(mf, mk):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-10)
    for k in sf["params"]:
        assert np.allclose(sf["params"][k], sk["params"][k], rtol=1e-9, atol=1e-12)
        assert np.allclose(sf["opt"]["sum_sq"][k], sk["opt"]["sum_sq"][k], rtol=1e-9, atol=1e-12)


def test_engine_backend_matches_kernel_backend_few_cycles():
    sk, mk, _ = _run({"backend": "kernel", "p_add": 0.5, "seq_length": 12}, 6)
    se, me, _ = _run({"backend": "engine", "p_add": 0.5, "seq_length": 12}, 6)
    for a, b in zip(mk, me):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-12)
        assert a["hidden_size"] == b["hidden_size"]
    for k in sk["params"]:
        assert np.allclose(sk["params"][k], se["params"][k], rtol=1e-11, atol=1e-14)


def test_g3_runs_and_changes_size():
    state, mets, cfg = _run({"variant": "g3", "p_add": 0.5, "p_del": 0.5}, 80)
    H = state["carried"].shape[0]
    assert state["params"]["Whh"].shape == (H, H) and state["opt"]["mean_sq"]["Whh"].shape == (H, H)
    assert "m" not in state["params"]
    assert max(m["hidden_size"] for m in mets) > 1
    assert all(math.isfinite(m["loss"]) for m in mets)


# ---- structural edits --------------------------------------------------------------------------------------------


def _outputs(params, s0, inputs, gate=False):
    """Softmax outputs of every step and the final state, plain NumPy (independent of the kernel)."""
    m = params.get("m", np.ones(s0.shape[0]))
    s, outs = s0, []
    for x in inputs:
        h = np.tanh(params["Wxh"][:, x] + params["Whh"] @ s + params["bh"])
        y = params["Wiy"] @ (m * h) + params["by"]
        e = np.exp(y - y.max())
        outs.append(e / e.sum())
        s = m * h if gate else h
    return np.array(outs), s


@given(seed=st.integers(0, 10**6), H=st.integers(2, 7), data=st.data())
@settings(max_examples=20)
def test_deletion_equals_removing_contributions(seed, H, data):
    """After deleting neuron j, the network computes what the old one computes with j's contributions removed
    (its outgoing weights Whh[:, j], Wiy[:, j] set to 0): same outputs, same states of the other neurons."""
    j = data.draw(st.integers(0, H - 1))
    params, s0, inputs, _ = make_params(seed, H, T=15)
    opt = optim.Adagrad()
    state = opt.init(params)
    state["sum_sq"] = {k: np.abs(v) + 1.0 for k, v in params.items()}
    newp, news, new_s0 = structure.delete_neurons(params, state, s0, [j])
    assert newp["Whh"].shape == (H - 1, H - 1) and newp["Wiy"].shape == (4, H - 1)
    assert newp["Wxh"].shape == (H - 1, 4) and newp["m"].shape == (H - 1,) and newp["bh"].shape == (H - 1,)
    keep = [i for i in range(H) if i != j]
    for k in params:
        assert news["sum_sq"][k].shape == newp[k].shape
    assert np.array_equal(news["sum_sq"]["Whh"], state["sum_sq"]["Whh"][np.ix_(keep, keep)])
    assert np.array_equal(news["sum_sq"]["Wiy"], state["sum_sq"]["Wiy"][:, keep])
    assert np.array_equal(new_s0, s0[keep])
    masked = {k: v.copy() for k, v in params.items()}
    masked["Whh"][:, j] = 0.0
    masked["Wiy"][:, j] = 0.0
    out_old, s_old = _outputs(masked, s0 * (np.arange(H) != j), inputs)
    out_new, s_new = _outputs(newp, new_s0, inputs)
    assert np.allclose(out_new, out_old, rtol=1e-13, atol=1e-15)
    assert np.allclose(s_new, s_old[keep], rtol=1e-13, atol=1e-15)


@given(seed=st.integers(0, 10**6), H=st.integers(1, 6), gate=st.booleans())
@settings(max_examples=20)
def test_added_neuron_with_zero_outgoing_weights_changes_nothing(seed, H, gate):
    params, s0, inputs, _ = make_params(seed, H, T=15)
    opt = optim.Adagrad()
    state = opt.init(params)
    rng = np.random.default_rng(seed)
    newp, news, new_s0 = structure.add_neuron_g2(params, state, s0, rng, 0.05)
    assert newp["Whh"].shape == (H + 1, H + 1) and newp["m"][-1] == 0.05 and newp["bh"][-1] == 0.0
    assert new_s0[-1] == 0.0 and np.array_equal(new_s0[:-1], s0)
    for k in newp:
        assert news["sum_sq"][k].shape == newp[k].shape
        assert not news["sum_sq"][k].any()
    for k in ("Wxh", "Whh", "Wiy"):
        sl = tuple(slice(0, n) for n in params[k].shape)
        assert np.array_equal(newp[k][sl], params[k])
    zero = {k: v.copy() for k, v in newp.items()}
    zero["Whh"][:, -1] = 0.0
    zero["Wiy"][:, -1] = 0.0
    out_old, s_old = _outputs(params, s0, inputs, gate)
    out_new, s_new = _outputs(zero, new_s0, inputs, gate)
    # equal up to summation order (the extra term is an exact 0, but matmul may sum in a different order)
    assert np.allclose(out_new, out_old, rtol=1e-14, atol=1e-16)
    assert np.allclose(s_new[:-1], s_old, rtol=1e-14, atol=1e-16)


def test_add_neuron_draw_order():
    """Whh row (1 x H), Whh column ((H+1) x 1), Wxh row, Wiy column, each 0.01 N(0,1), in that order."""
    params, s0, _, _ = make_params(1, 3)
    state = optim.Adagrad().init(params)
    newp, _, _ = structure.add_neuron_g2(params, state, s0, np.random.default_rng(9), 0.05)
    z = 0.01 * np.random.default_rng(9).standard_normal(3 + 4 + 4 + 4)
    assert np.array_equal(newp["Whh"][3, :3], z[:3])
    assert np.array_equal(newp["Whh"][:, 3], z[3:7])
    assert np.array_equal(newp["Wxh"][3], z[7:11])
    assert np.array_equal(newp["Wiy"][:, 3], z[11:15])


def test_choose_deletions_rule():
    rng = np.random.default_rng(0)
    m = np.array([0.5, 0.025, 0.9, 0.03, 0.05, 0.04])  # 4 sub-threshold (0.05 is not > 0.05)
    seen = np.zeros(6)
    for _ in range(4000):
        idx = structure.choose_deletions(m, 0.05, 1, 0.25, rng)
        assert set(idx.tolist()) <= {1, 3, 4, 5} and idx.size <= 3
        seen[idx] += 1
    # each sub-threshold neuron: kept in reserve w.p. 1/4, else deleted w.p. 0.25 -> 0.75 * 0.25 = 0.1875
    assert np.allclose(seen[[1, 3, 4, 5]] / 4000, 0.1875, atol=0.025)
    assert seen[0] == seen[2] == 0
    # no deletion (and no draws) when at most k neurons are sub-threshold
    r = np.random.default_rng(1)
    st0 = r.bit_generator.state
    assert structure.choose_deletions(np.array([0.5, 0.01, 0.9]), 0.05, 1, 1.0, r).size == 0
    assert r.bit_generator.state == st0


def test_addition_rule_draws_two_numbers_always():
    r = np.random.default_rng(3)
    ref = np.random.default_rng(3)
    for m in (np.array([0.5, 0.6]), np.array([0.5, 0.01]), np.array([0.01])):
        structure.addition_wanted(m, 0.05, 1, 0.05, r)
        ref.random(2)
        assert r.bit_generator.state == ref.bit_generator.state
    # reserve empty (all above threshold) and P_add = 1: always add; reserve present: only spontaneous
    assert structure.addition_wanted(np.array([0.5, 0.6]), 0.05, 1, 1.0, r)
    assert not structure.addition_wanted(np.array([0.5, 0.01]), 0.05, 1, 1.0, r, p_spontaneous=0.0)
    assert not structure.addition_wanted(np.ones(99), 0.05, 1, 1.0, r)


def test_cycle_floor_threshold_and_new_neuron_in_reserve():
    state, mets, cfg = _run({"p_add": 1.0, "p_del": 0.0}, 30)
    m = state["params"]["m"]
    assert m.min() >= cfg["m_min"]
    # with P_add = 1 a neuron is added whenever the reserve is empty; new ones start at T_D (sub-threshold)
    assert state["carried"].shape[0] == m.shape[0] > 1
    for k, v in state["params"].items():
        assert state["opt"]["sum_sq"][k].shape == v.shape


def test_floor_applies_without_structure():
    """structure = false keeps the size fixed but still floors m at M_min (the L1 term assumes m > 0)."""
    model = DiffRNNModel()
    for variant in ("g2", "altern"):
        cfg = model.validate_config({"variant": variant, "structure": False, "hidden_size": 5})
        rng = np.random.default_rng(0)
        state = model.init(cfg, rng, None)
        # one Adagrad step moves an entry by at most lr = 0.1: without the floor these stay near -1
        state["params"]["m"] = np.array([-1.0, 0.0, 0.01, 0.5, 1.0])
        state, _ = model.step(state, cfg, rng, 0)
        m = state["params"]["m"]
        assert m.shape == (5,)
        assert m.min() >= cfg["m_min"]
        assert np.all(m[:3] == cfg["m_min"])


# ---- data pointer, task schedule -------------------------------------------------------------------------------


def test_data_pointer_and_task_switch_keep_state():
    model = DiffRNNModel()
    cfg = model.validate_config({"task": "easy-hard-easy", "switch_at": (3, 5), "hidden_size": 4,
                                 "structure": False})
    rng = np.random.default_rng(0)
    state = model.init(cfg, rng, None)
    phases = []
    for i in range(7):
        before = state
        state, met = model.step(state, cfg, rng, i)
        phases.append(met["phase"])
        if i == 2:  # switch after cycle n = 3: pointer reset, state carried on
            assert state["p"] == 0 and state["phase"] == 1 and np.any(state["carried"] != 0)
        elif i not in (4,):
            assert state["p"] == before["p"] + 40
    assert phases == [0, 0, 1, 1, 2, 2, 2]


def test_bad_config_is_named():
    model = DiffRNNModel()
    from minidsn.models.api import ConfigError

    with pytest.raises(ConfigError, match="p_del"):
        model.validate_config({"p_del": 1.5})
    with pytest.raises(ConfigError, match="variant"):
        model.validate_config({"variant": "g4"})
    # combinations are refused when the config is validated, before any run starts ...
    with pytest.raises(ConfigError, match="m_min"):
        model.validate_config({"m_min": 0.06})
    with pytest.raises(ConfigError, match="switch_at"):
        model.validate_config({"task": "easy-hard-easy", "switch_at": (10,)})
    # ... and by init too, for a config that was never validated
    good = model.validate_config({})
    with pytest.raises(ConfigError, match="m_min"):
        model.init({**good, "m_min": 0.06}, np.random.default_rng(0), None)
    with pytest.raises(ConfigError, match="switch_at"):
        model.init({**good, "task": "easy-hard-easy", "switch_at": (10,)}, np.random.default_rng(0), None)


def test_registered():
    from minidsn.models.api import get_model

    assert get_model("diffrnn") is DiffRNNModel


def test_oracle_case():
    model = DiffRNNModel()
    cfg = model.validate_config({"hidden_size": 3, "seq_length": 12, "l1": 0.01})
    case = model.oracle_case(cfg, np.random.default_rng(0), None)
    assert set(case) == {"params", "inputs", "outputs", "losses", "grads"}
    assert set(case["grads"]) == set(case["params"])
    params = case["params"]
    s0 = case["inputs"]["s0"]
    inputs = case["inputs"]["inputs"].astype(np.int64)
    targets = case["inputs"]["targets"].astype(np.int64)
    ce, s_last, g = loss_and_grads(params, s0, inputs, targets, l1=0.01, path="kernel")
    assert ce == pytest.approx(float(case["losses"]["ce"]), rel=1e-12)
    assert case["losses"]["objective"] == pytest.approx(ce + 0.01 * 12 * params["m"].sum(), rel=1e-12)
    probs = case["outputs"]["probs"]
    assert probs.shape == (12, 4) and np.allclose(probs.sum(axis=1), 1.0)
    assert ce == pytest.approx(-np.log(probs[np.arange(12), targets]).sum(), rel=1e-12)
    for k in params:
        assert_rel(g[k], case["grads"][k])
    assert np.all(np.abs(case["grads"]["m"]) > 0)


def test_clip_adagrad_propagates_nan_like_numpy():
    g = np.array([np.nan, 7.0, -7.0])
    a, b = clip_adagrad(np.zeros(3), g, np.zeros(3), 0.1, 1e-8, 5.0)
    ar, br = clip_adagrad_ref(np.zeros(3), g, np.zeros(3), 0.1, 1e-8, 5.0)
    assert np.isnan(a[0]) and np.isnan(b[0])
    assert np.array_equal(a[1:], ar[1:]) and np.array_equal(b[1:], br[1:])

"""The URN's open readings as options (issue 18): how L1 acts (subgradient / prox / prox_adam), where eps enters
Adam, logits before or after phi, plain or truncated He normal. Defaults reproduce the recorded runs (the default
path is unchanged bit for bit: tests/test_urn_model.py and the reference runs)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn.engine import value_and_grad
from minidsn.models.api import ConfigError
from minidsn.models.urn.adam_kernel import adam_l1_update, adam_l1_update_reference
from minidsn.models.urn.model import URNModel, build_spec
from minidsn.models.urn.net import (TRUNCATED_STD_CORRECTION, UrnSpec, forward_logits, grid_length_weights,
                                    init_params, last_output_nodes, loss_terms, states)
from minidsn.optim import Adam
from minidsn.testing import check_grads


def _cfg(**kw):
    return URNModel.validate_config(kw)


def _moments(seed, n):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, n)) * 0.05
    W[rng.random((n, n)) < 0.2] = 0.0
    return W, rng.normal(size=(n, n)), rng.normal(size=(n, n)) * 0.1, rng.random((n, n)) * 0.01, rng.random((n, n))


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 7), t=st.integers(1, 40), with_L=st.booleans(),
       mode=st.sampled_from(["subgradient", "prox", "prox_adam"]), form=st.sampled_from(["algorithm1", "efficient"]))
def test_every_l1_mode_and_eps_form_compiled_equals_reference(seed, n, t, with_L, mode, form):
    W, G, m, v, L = _moments(seed, n)
    L = L * 3 if with_L else None
    args = (W, G, m, v, L, 0.05, 0.02 if with_L else 0.0, t, 1e-2, 0.9, 0.999, 1e-8)
    ref = adam_l1_update_reference(*args, l1_mode=mode, eps_form=form)
    for jit in (True, False):
        out = adam_l1_update(*args, jit=jit, l1_mode=mode, eps_form=form)
        for a, b in zip(out[:3], ref[:3]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out[3:], ref[3:], rtol=1e-12)


@settings(max_examples=10)
@given(seed=st.integers(0, 2**31), t=st.integers(1, 40), mode=st.sampled_from(["prox", "prox_adam"]),
       form=st.sampled_from(["algorithm1", "efficient"]))
def test_prox_is_adam_on_the_data_gradient_then_the_soft_threshold(seed, t, mode, form):
    """W' = argmin_w (w - u)^2 / 2 + tau |w| with u the Adam step on G alone (optimality conditions: w' = 0 where
    |u| <= tau, else w' = u - tau sign(u)); m and v see G only."""
    W, G, m, v, L = _moments(seed, 6)
    lr, c_w, c_syn = 1e-2, 0.3, 0.2
    W2, m2, v2, _, _ = adam_l1_update(W, G, m, v, L, c_w, c_syn, t, lr, 0.9, 0.999, 1e-8, l1_mode=mode,
                                      eps_form=form)
    opt = Adam(lr=lr, eps=1e-8, eps_form=form)
    p, s = opt.update({"W": G}, {"step": t - 1, "m": {"W": m}, "v": {"W": v}}, {"W": W})
    u = p["W"]
    np.testing.assert_allclose(m2, s["m"]["W"], rtol=1e-12)
    np.testing.assert_allclose(v2, s["v"]["W"], rtol=1e-12)
    coef = c_w + c_syn * L
    if mode == "prox":
        tau = lr * coef
    else:  # lr coef / (sqrt(vhat) + eps), with eps where the form puts it
        c2 = 1 - 0.999**t
        vhat_root = np.sqrt(s["v"]["W"] / c2)
        tau = lr * coef / (vhat_root + (1e-8 if form == "algorithm1" else 1e-8 / np.sqrt(c2)))
    zero = np.abs(u) <= tau
    assert np.all(W2[zero] == 0.0)
    np.testing.assert_allclose(W2[~zero], (u - tau * np.sign(u))[~zero], rtol=1e-10, atol=1e-15)


def test_efficient_eps_form_is_minidsn_optim_adam_efficient():
    W, G, m, v, _ = _moments(4, 5)
    out = adam_l1_update(W, G, m, v, None, 0.05, 0.0, 7, 1e-2, 0.9, 0.999, 1e-3, eps_form="efficient")
    g = G + 0.05 * np.sign(W)
    p, s = Adam(lr=1e-2, eps=1e-3, eps_form="efficient").update({"W": g}, {"step": 6, "m": {"W": m},
                                                                           "v": {"W": v}}, {"W": W})
    np.testing.assert_allclose(out[0], p["W"], rtol=1e-12)
    with pytest.raises(ValueError, match="l1_mode"):
        adam_l1_update(W, G, m, v, None, 0.05, 0.0, 7, 1e-2, 0.9, 0.999, 1e-3, l1_mode="lasso")


def _train(cfg, steps=25, seed=3):
    m = URNModel()
    rng = np.random.default_rng(seed)
    state = m.init(cfg, rng, None)
    for s in range(steps):
        state, met = m.step(state, cfg, rng, s)
    return m, state, met


def test_prox_modes_make_weights_exactly_zero_and_subgradient_does_not():
    base = dict(n_neurons=60, n_train=64, n_test=32, c_w=2e-3, c_n=1e-3, lr=1e-2)
    zeros = {}
    for mode in ("subgradient", "prox", "prox_adam"):
        _, state, met = _train(_cfg(l1_mode=mode, **base))
        assert np.isfinite(met["loss"])
        zeros[mode] = int(np.sum(state["params"]["W"] == 0.0))
    assert zeros["subgradient"] == 0
    assert zeros["prox_adam"] > 0.5 * 60 * 60  # most weights never get a data gradient: cut to 0 at once
    assert zeros["prox"] > 0


def test_prox_needs_the_fused_update():
    with pytest.raises(ConfigError, match="l1_mode"):
        build_spec(_cfg(l1_mode="prox", fused_update=False), 10, 2)


def test_efficient_eps_form_fused_equals_engine_path():
    base = dict(n_neurons=50, n_train=64, n_test=32, c_w=1e-2, c_n=1e-2, lr=1e-2, adam_eps_form="efficient",
                adam_eps=1e-4)
    (_, sa, ma), (_, sb, mb) = (_train(_cfg(fused_update=f, **base), steps=4) for f in (True, False))
    np.testing.assert_allclose(sa["params"]["W"], sb["params"]["W"], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sa["params"]["b"], sb["params"]["b"], rtol=1e-9, atol=1e-12)
    assert np.isclose(ma["loss"], mb["loss"], rtol=1e-9)
    _, sc, _ = _train(_cfg(**{**base, "adam_eps_form": "algorithm1"}), steps=4)
    assert not np.array_equal(sa["params"]["W"], sc["params"]["W"])


def _small_spec(logits, res_out, phi="relu"):
    S = 12
    return UrnSpec(n_neurons=S, n_iter=3, d_in=3, output_idx=last_output_nodes(S, 2), phi=phi, residual_out=res_out,
                   c_w=0.01, c_n=0.02, c_syn=0.03, length_weights=grid_length_weights((3,), 4, 2.0, 1.5),
                   logits=logits)


@settings(max_examples=8)
@given(seed=st.integers(0, 2**31), res_out=st.booleans())
def test_logits_before_phi_are_the_last_pre_activation(seed, res_out):
    spec = _small_spec("before_phi", res_out)
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng, init_std=0.6)
    params["b"] = rng.normal(0, 0.5, 12)
    x = rng.normal(size=(5, 3))
    hs = states(params, x, spec)
    out = spec.output_idx
    want = hs[-2] @ params["W"][out].T + params["b"][out] + (hs[-2][:, out] if res_out else 0.0)
    logits, _ = forward_logits(params, x, spec)
    np.testing.assert_allclose(logits, want, rtol=1e-13, atol=1e-15)
    after = forward_logits(params, x, _small_spec("after_phi", res_out))[0]
    if res_out:
        np.testing.assert_allclose(after, hs[-2][:, out] + np.maximum(want - hs[-2][:, out], 0.0), atol=1e-14)
    else:
        np.testing.assert_allclose(after, np.maximum(want, 0.0), atol=1e-14)


@settings(max_examples=5)
@given(seed=st.integers(0, 2**31), res_out=st.booleans())
def test_logits_before_phi_gradients(seed, res_out):
    spec = _small_spec("before_phi", res_out, phi="softplus")
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng, init_std=0.6)
    x = rng.normal(size=(4, 3))
    y = np.eye(2)[rng.integers(0, 2, 4)]
    check_grads(lambda p: loss_terms(p, x, y, spec)[0], [params], rtol=1e-5, atol=1e-7)
    vk, gk = value_and_grad(lambda p: loss_terms(p, x, y, spec, "kernel")[0])(params)
    vr, gr = value_and_grad(lambda p: loss_terms(p, x, y, spec, "reference")[0])(params)
    assert np.isclose(vk, vr, rtol=1e-12)
    np.testing.assert_allclose(gk["W"], gr["W"], rtol=1e-9, atol=1e-12)


def test_model_with_logits_before_phi_learns_and_reports():
    m, state, met = _train(_cfg(n_neurons=60, n_train=128, n_test=64, logits="before_phi", lr=1e-2), steps=30)
    ev = m.evaluate(state, m._last_cfg, np.random.default_rng(0), None)
    assert np.isfinite(met["loss"]) and 0 <= ev["test_acc"] <= 1


def test_truncated_he_normal():
    spec = _small_spec("after_phi", False)
    spec400 = UrnSpec(n_neurons=400, n_iter=2, d_in=3, output_idx=last_output_nodes(400, 2))
    W = init_params(spec400, np.random.default_rng(0), dist="truncated_normal")["W"]
    std = np.sqrt(2 / 400)
    assert np.max(np.abs(W)) <= 2 * std / TRUNCATED_STD_CORRECTION
    assert abs(W.std() / std - 1) < 0.01  # 160,000 draws: the corrected std keeps the He variance
    W2 = init_params(spec400, np.random.default_rng(0), dist="truncated_normal")["W"]
    np.testing.assert_array_equal(W, W2)  # deterministic under the seed
    # the default is the plain normal, drawn exactly as before
    np.testing.assert_array_equal(init_params(spec, np.random.default_rng(5))["W"],
                                  np.random.default_rng(5).normal(0.0, np.sqrt(2 / 12), (12, 12)))
    with pytest.raises(ValueError, match="dist"):
        init_params(spec, np.random.default_rng(0), dist="uniform")
    cfg = _cfg(n_neurons=40, n_train=32, n_test=16, init_dist="truncated_normal")
    state = URNModel().init(cfg, np.random.default_rng(1), None)
    assert np.max(np.abs(state["params"]["W"])) <= 2 * np.sqrt(2 / 40) / TRUNCATED_STD_CORRECTION

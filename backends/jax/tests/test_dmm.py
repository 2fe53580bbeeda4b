"""DMM in JAX: V-value pytrees, the hand-crafted detector's timings, the dense compiled episode against the V-value
engine (values and gradients), minidsn's version-1 case, the training step with pruning, and self-modification."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from minidsn.oracle import export_case
from minidsn_jax.dmm.handcrafted import handcrafted_targets
from minidsn_jax.dmm.lite import run_episode
from minidsn_jax.dmm.self_modifying import run_self_modifying
from minidsn_jax.dmm.synthesis import init_state, magnitude_drop, prune, train_step
from minidsn_jax.dmm.trainable import as_network, episode_loss, episode_outputs, loss_and_grad, make_plan
from minidsn_jax.dmm.vvalue import NUMBER, dot, lincomb, max_norm, vadd, vequal, vscale


def test_vvalue_operations():
    a = {"x": 1.0, "y": {"z": 2.0}}
    b = vadd(vscale(2.0, a), {"y": 3.0})
    assert vequal(b, {"x": 2.0, "y": {NUMBER: 3.0, "z": 4.0}})
    assert vequal(lincomb({"y": 2.0}, b), {NUMBER: 6.0, "z": 8.0})
    assert float(max_norm(b)) == 4.0 and float(dot(a, b)) == 10.0
    # gradients come back shaped like the V-value, and |x| has slope 0 at 0 in max_norm
    g = jax.grad(lambda v: max_norm(v))({"p": 0.0, "q": {"r": -3.0}})
    assert g == {"p": 0.0, "q": {"r": -1.0}}
    g = jax.grad(lambda v: max_norm(v))({"p": 2.0, "q": -2.0})  # a tie shares the gradient
    assert g == {"p": 0.5, "q": -0.5}


def test_handcrafted_detector_timings():
    y = np.asarray(handcrafted_targets("test string.", 140))
    steps = [(c, tuple(y[c - 1])) for c in range(2, 141) if (y[c - 1] != y[c - 2]).any()]
    assert steps == [(35, (1.0, 0.0)), (65, (2.0, 0.0)), (114, (2.0, 1.0)), (124, (2.0, 2.0)), (134, (2.0, 3.0))]


def test_dense_episode_equals_the_vvalue_engine():
    """Value and gradient of the compiled episode against jax.grad through the V-value engine (small net; the
    reference is traced once under jit: the timer stays a Python number, so the input neuron still reads it)."""
    plan = make_plan("aa.", 25, n_layers=1, n_per_layer=1)
    rng = np.random.default_rng(0)
    gates = 0.7 * rng.standard_normal(len(plan.links))
    targets = np.asarray(handcrafted_targets("aa.", 25))

    def reference(g):
        net = as_network(plan, g)
        ys = run_episode(net, net.matrix, plan.n_cycles, plan.string)
        return jnp.sum((ys - targets) ** 2) + 0.01 * jnp.sum(g * jnp.sign(g)), ys

    (ref, ys_ref), g_ref = jax.jit(jax.value_and_grad(reference, has_aux=True))(jnp.asarray(gates))
    total, data, l1, ys, g = loss_and_grad(gates, plan.link_in, plan.link_out, targets, 0.01, plan)
    np.testing.assert_allclose(np.asarray(ys), np.asarray(ys_ref), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(float(total), float(ref), rtol=1e-12)
    np.testing.assert_allclose(np.asarray(g), np.asarray(g_ref), rtol=1e-9, atol=1e-12)
    assert np.count_nonzero(np.asarray(g)) > len(gates) // 2  # the check covers most links


def test_gradient_matches_central_differences():
    plan = make_plan("test string.", 30, n_layers=2, n_per_layer=1)
    rng = np.random.default_rng(1)
    gates = 0.7 * rng.standard_normal(len(plan.links))
    targets = np.asarray(handcrafted_targets("test string.", 30))
    _, _, _, _, g = loss_and_grad(gates, plan.link_in, plan.link_out, targets, 0.0, plan)
    f = jax.jit(lambda w: episode_loss(w, plan.link_in, plan.link_out, targets, 0.0, plan)[0])
    for i in rng.choice(len(gates), 12, replace=False):
        e = np.zeros_like(gates)
        e[i] = 1e-6
        num = (float(f(gates + e)) - float(f(gates - e))) / 2e-6
        assert abs(num - float(g[i])) <= 1e-6 * max(1.0, abs(num)), (i, num, float(g[i]))


def test_version1_oracle_case(tmp_path):
    """minidsn's version-1 case (1,486 gates at init, one episode): same link order, values and gradient."""
    path, _, meta = export_case("dmm", tmp_path / "d.npz", seed=2)
    z = dict(np.load(path, allow_pickle=False))
    cfg = meta["config"]
    plan = make_plan(cfg["string"], cfg["n_cycles"], cfg["n_layers"], cfg["n_per_layer"])
    total, data, l1, ys, g = loss_and_grad(z["params/gates"], plan.link_in, plan.link_out, z["inputs/targets"],
                                           cfg["lam_base"], plan)
    for k, v in [("losses/total", total), ("losses/data", data), ("losses/l1", l1), ("outputs/y", ys),
                 ("grads/gates", g)]:
        np.testing.assert_allclose(np.asarray(v), z[k], rtol=1e-7, atol=1e-12, err_msg=k)


def test_train_step_adam_and_pruning():
    plan = make_plan("test string.", 30, n_layers=2, n_per_layer=1)
    st = init_state(plan, np.random.default_rng(3), 0.3)
    targets = np.asarray(handcrafted_targets("test string.", 30))
    inputs = {"targets": targets, "lam": 0.01, "lr": 1e-2, "drop": np.zeros(0, dtype=np.int64)}
    s1, losses, grads, events = train_step(st, inputs, plan)
    g = grads["gates"]
    m = 0.1 * g
    v = 0.001 * g * g
    expect = st["params"]["gates"] - 1e-2 * (m / 0.1) / (np.sqrt(v / 0.001) + 1e-8)
    np.testing.assert_allclose(s1["params"]["gates"], expect, rtol=1e-12)
    assert s1["opt"]["step"] == 1 and events == []
    drop = magnitude_drop(s1["params"]["gates"], 0.2)
    assert drop.size > 0
    s2, _, _, events = train_step(s1, {**inputs, "drop": drop}, plan)
    n = len(plan.links) - drop.size
    assert events[0]["kind"] == "prune" and events[0]["n_links"] == n and list(events[0]["positions"]) == list(drop)
    assert s2["params"]["gates"].shape == s2["opt"]["m"]["gates"].shape == s2["opt"]["v"]["gates"].shape == (n,)
    assert not np.isin(events[0]["link_ids"], s2["link_ids"]).any()
    # a pruned network computes what the full one computes with those gates at zero
    zeroed = np.zeros(len(plan.links))
    zeroed[s2["link_ids"]] = s2["params"]["gates"]
    ys_p = episode_outputs(s2["params"]["gates"], plan.link_in[s2["link_ids"]], plan.link_out[s2["link_ids"]], plan)
    ys_z = episode_outputs(zeroed, plan.link_in, plan.link_out, plan)
    np.testing.assert_allclose(np.asarray(ys_p), np.asarray(ys_z), rtol=1e-13, atol=1e-15)
    assert prune(s2, np.zeros(0, dtype=np.int64))["link_ids"].shape == (n,)


def _pulse(x, ctx):
    """Emits, in the up movement of cycle 4, an update: +0.5 on sink.x <- const_1, -1 on sink.y <- const_1."""
    if ctx["cycle"] != 4:
        return {"out": {}}
    return {"out": {"sink": {"x": {"const_1": {"const_1": 0.5}}, "y": {"const_1": {"const_1": -1.0}}}}}


def test_self_modification_timing_and_gradient():
    n = 12

    def reads(w):
        W0 = {"self": {"accum": {"self": {"single": 1.0}}, "delta": {"pulse": {"out": w}}},
              "sink": {"x": {"const_1": {"const_1": 1.0}}, "y": {"const_1": {"const_1": 1.0}}}}
        r, used = run_self_modifying({"const_1": "const_1", "pulse": "pulse", "sink": "output"}, W0, n, {},
                                     ("sink", "x"), {"pulse": _pulse})
        return r, used

    r, used = reads(1.0)
    # const_1 emits from cycle 1's up movement: reads 0 at cycle 1, then 1 until the rewritten matrix is used
    np.testing.assert_array_equal(np.asarray(r), [0, 1, 1, 1, 1] + [1.5] * (n - 5))
    link_x = [float(m["sink"]["x"]["const_1"]["const_1"]) for m in used]
    link_y = [float(m["sink"]["y"]["const_1"]["const_1"]) for m in used]
    assert link_x[:5] == [1.0] * 5 and link_x[5] == 1.5           # down movement of cycle 6 uses the new matrix
    assert link_y[:5] == [1.0] * 5 and link_y[5:] == [0.0] * (n - 5)  # a link removed by self-modification
    g = jax.grad(lambda w: jnp.sum(reads(w)[0]))(1.0)
    assert abs(float(g) - 0.5 * (n - 5)) < 1e-12

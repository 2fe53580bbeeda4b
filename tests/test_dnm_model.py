"""The `dnm` model: registration, config resolution, determinism, guards, kernel paths agree, oracle case."""

import numpy as np
import pytest

from minidsn.engine import value_and_grad
from minidsn.models.dnm import dag_kernels as dag
from minidsn.models.dnm import guards
from minidsn.models.dnm.model import DNMGuardError, DNMModel, resolve
from minidsn.models.dnm.closeness import init_params
from minidsn.models.dnm.data import toy_batch, toy_floor_mse
from minidsn.models.dnm.net import Layout, LossSpec, network_loss
from minidsn.models.api import ConfigError, get_model


def test_registered_and_defaults_resolve_by_variant():
    cls = get_model("dnm")
    assert cls is DNMModel
    cfg = cls.validate_config({})
    rc = resolve(cfg)
    assert rc["square_outputs"] is True and rc["sparsity"] == "count" and rc["objective"] == "mse"
    rc = resolve(cls.validate_config({"variant": "text"}))
    assert rc["square_outputs"] is False and rc["sparsity"] == "smooth_count"
    # an individual switch overrides its variant
    rc = resolve(cls.validate_config({"variant": "text", "square_outputs": True}))
    assert rc["square_outputs"] is True and rc["sparsity"] == "smooth_count"
    with pytest.raises(ConfigError, match="variant"):
        cls.validate_config({"variant": "paper"})
    with pytest.raises(ValueError, match="5 inputs and 4 outputs"):
        resolve(cls.validate_config({"n_inputs": 6}))


def test_toy_floor_is_1_25():
    assert toy_floor_mse() == 1.25
    x, t = toy_batch(np.random.default_rng(0), 200_000)
    assert np.mean(np.minimum(t, 0) ** 2) == pytest.approx(1.25, rel=0.02)


@pytest.mark.parametrize("variant", ["faithful", "text"])
def test_steps_are_deterministic(variant):
    m = DNMModel()
    cfg = m.validate_config({"variant": variant, "test_every": 5})
    runs = []
    for _ in range(2):
        rng = np.random.default_rng(7)
        st = m.init(cfg, rng, None)
        hist = []
        for k in range(10):
            st, met = m.step(st, cfg, rng, k)
            hist.append(met)
        runs.append((st, hist))
    (s1, h1), (s2, h2) = runs
    assert h1 == h2
    for k in s1["params"]:
        assert np.array_equal(s1["params"][k], s2["params"][k])
    assert {"loss", "objective", "flow", "pct", "cutoff", "outputs_reachable", "test_mse"} <= set(h1[-1])


@pytest.mark.parametrize("variant", ["faithful", "text"])
def test_training_lowers_the_objective(variant):
    m = DNMModel()
    cfg = m.validate_config({"variant": variant, "lr": 0.01, "test_every": 1000})
    rng = np.random.default_rng(1)
    st = m.init(cfg, rng, None)
    obj = []
    for k in range(200):
        st, met = m.step(st, cfg, rng, k)
        obj.append(met["objective"])
    assert np.mean(obj[-20:]) < 0.7 * np.mean(obj[:20])


def test_kernel_and_engine_paths_give_the_same_loss_and_gradients():
    lay = Layout(25, 5, 4, 5.0)
    rng = np.random.default_rng(4)
    p = init_params(rng, 25, 5, 4, "toy")
    x, t = toy_batch(rng, 20)
    res = {}
    for impl in ("dense", "sparse", "engine"):
        (val, aux), g = value_and_grad(network_loss, has_aux=True)(p, x, t, lay, LossSpec(dag_impl=impl))
        res[impl] = (val, g)
    for impl in ("dense", "sparse"):
        assert res[impl][0] == pytest.approx(res["engine"][0], rel=1e-12)
        for k in p:
            np.testing.assert_allclose(res[impl][1][k], res["engine"][1][k], rtol=1e-10, atol=1e-10 * 1e4)


def test_exponent_guard_raises_or_records():
    m = DNMModel()
    rng = np.random.default_rng(0)
    cfg = m.validate_config({})
    st = m.init(cfg, rng, None)
    st["params"]["beta"][7] = -1.5  # beta + 1 = -0.5 at neuron 7
    with pytest.raises(DNMGuardError, match=r"beta\+1 <= 0 .*neuron 7"):
        m.step(st, cfg, rng, 0)
    cfg_rec = m.validate_config({"on_guard": "record"})
    _, met = m.step(st, cfg_rec, rng, 0)
    assert met["guard_exponent"] == 1.0


def test_cut_off_guard():
    m = DNMModel()
    rng = np.random.default_rng(0)
    cfg = m.validate_config({})
    st = m.init(cfg, rng, None)
    st["params"]["kappa"] = np.array(20.0)  # cutoff ~1: every closeness value dies
    with pytest.raises(DNMGuardError, match="cut off from its outputs"):
        m.step(st, cfg, rng, 0)
    _, met = m.step(st, m.validate_config({"on_guard": "record"}), rng, 0)
    assert met["guard_cut_off"] == 1.0 and met["outputs_reachable"] == 0.0


def test_reachability_follows_live_paths():
    # N=6, n_in=2, n_out=2: comp neurons 2, 3; outputs 4, 5. d rows: comp 2, comp 3, out 4, out 5
    d = np.zeros((4, 4))
    d[0, 0] = 0.5  # input 0 -> comp 2
    d[2, 2] = 0.5  # comp 2 -> out 4
    d[3, 3] = 0.5  # comp 3 (unreached) -> out 5
    ip, ix = dag.live_structure(d, 2, 2)
    assert guards.reachable_outputs(ip, ix, 2, 4).tolist() == [True, False]
    d[2, 2] = 0.0
    ip, ix = dag.live_structure(d, 2, 2)
    assert guards.check_connected(guards.reachable_outputs(ip, ix, 2, 4)) is not None


def test_oracle_case_has_the_contract_keys():
    m = DNMModel()
    case = m.oracle_case(m.validate_config({}), np.random.default_rng(0), None)
    assert set(case) == {"params", "inputs", "outputs", "losses", "grads"}
    assert set(case["grads"]) == set(case["params"])
    for k, v in case["grads"].items():
        assert v.shape == case["params"][k].shape and v.dtype == np.float64


def test_evaluate_toy_reports_floor_and_pct():
    m = DNMModel()
    cfg = m.validate_config({})
    rng = np.random.default_rng(0)
    st = m.init(cfg, rng, None)
    ev = m.evaluate(st, cfg, rng, None)
    assert ev["floor_mse_squared_outputs"] == 1.25 and 0 < ev["pct"] < 1 and ev["test_mse_100k"] > 1.25

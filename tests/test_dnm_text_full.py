"""DNM as its seed text describes it: the `text_full` variant (sigmoid neurons, unsigned closeness in [0, 1]) and the
process-time term. Each option equals the existing path where the two coincide and differs where it should."""

import numpy as np
import pytest

from minidsn.engine import grad, value_and_grad
from minidsn.models.api import ConfigError
from minidsn.models.dnm.closeness import closeness, engine_ops, init_params
from minidsn.models.dnm.model import VARIANTS, DNMModel, resolve
from minidsn.models.dnm.net import Layout, LossSpec, closeness_of, network_loss, process_time_term
from minidsn.oracle.export import make_case
from minidsn.testing import check_grads


def _run(cfg_over, steps=6, seed=11):
    m = DNMModel()
    cfg = m.validate_config({"test_every": 2, **cfg_over})
    rng = np.random.default_rng(seed)
    st = m.init(cfg, rng, None)
    hist = []
    for k in range(steps):
        st, met = m.step(st, cfg, rng, k)
        hist.append(met)
    return st, hist


def test_text_full_resolves_to_the_seed_text_switches():
    cls = DNMModel
    rc = resolve(cls.validate_config({"variant": "text_full"}))
    assert (rc["activation"], rc["closeness_range"], rc["square_outputs"], rc["sparsity"]) == (
        "sigmoid", "unsigned", False, "smooth_count")
    for v in ("faithful", "text"):
        rc = resolve(cls.validate_config({"variant": v}))
        assert (rc["activation"], rc["closeness_range"]) == ("leaky_relu", "signed")
    # text_full differs from text only in the two switches of the seed's neuron and closeness
    diff = {k for k in VARIANTS["text"] if VARIANTS["text"][k] != VARIANTS["text_full"][k]}
    assert diff == {"activation", "closeness_range"}
    with pytest.raises(ConfigError, match="activation"):
        cls.validate_config({"activation": "tanh"})
    with pytest.raises(ConfigError, match="closeness_range"):
        cls.validate_config({"closeness_range": "positive"})


@pytest.mark.parametrize("impl", [{"closeness_impl": "kernel", "dag_impl": "sparse"}, {"dag_impl": "engine"}])
def test_text_full_with_the_code_neuron_and_closeness_is_text_bit_for_bit(impl):
    st1, h1 = _run({"variant": "text", **impl})
    st2, h2 = _run({"variant": "text_full", "activation": "leaky_relu", "closeness_range": "signed", **impl})
    assert h1 == h2
    for k in st1["params"]:
        assert np.array_equal(st1["params"][k], st2["params"][k]), k


def _toy_problem(seed):
    """The toy layout, initial parameters and a random batch of 20 (inputs and targets)."""
    rng = np.random.default_rng(seed)
    p = init_params(rng, 25, 5, 4, "toy")
    return Layout(25, 5, 4, 5.0), p, rng.normal(size=(20, 5)), rng.normal(size=(20, 4))


def test_each_switch_changes_the_function_where_it_should():
    lay, p, x, t = _toy_problem(4)
    res = {}
    for act in ("leaky_relu", "sigmoid"):
        for rng_ in ("signed", "unsigned"):
            spec = LossSpec(square_outputs=False, sparsity="smooth_count", activation=act, closeness_range=rng_,
                            dag_impl="sparse")
            res[act, rng_] = value_and_grad(network_loss, has_aux=True)(p, x, t, lay, spec)
    d_s, _, _ = closeness_of(p, lay)
    d_u, _, _ = closeness_of(p, lay, closeness_range="unsigned")
    assert (d_s < 0).sum() > 10 and np.all(d_u >= 0) and np.array_equal(d_u, np.abs(d_s))
    keys = list(res)
    for i, a in enumerate(keys):
        for b in keys[i + 1:]:
            assert res[a][0][1]["objective"] != res[b][0][1]["objective"], (a, b)
    # flow, pct and the smooth count read |d| and |v| only: the closeness range leaves them unchanged
    for act in ("leaky_relu", "sigmoid"):
        a, b = res[act, "signed"][0][1], res[act, "unsigned"][0][1]
        assert (a["flow"], a["pct"], a["sparsity"]) == (b["flow"], b["pct"], b["sparsity"])


@pytest.mark.parametrize("dag_impl", ["sparse", "dense", "engine"])
def test_text_full_network_gradient_matches_finite_differences(dag_impl):
    N, ni, no = 12, 3, 2
    lay = Layout(N, ni, no, 3.0)
    rng = np.random.default_rng(6)
    p = init_params(rng, N, ni, no, "toy")
    x, t = rng.normal(size=(7, ni)), rng.normal(size=(7, no))
    _, v, c = closeness(p, lay.P, lay.mask, ni, 3.0)
    assert np.min(np.abs(np.abs(v[lay.mask]) - c)) > 1e-4  # central differences stay on one side of the cutoff
    assert (np.abs(v[lay.mask]) > c).sum() > 10
    spec = LossSpec(square_outputs=False, sparsity="smooth_count", activation="sigmoid",
                    closeness_range="unsigned", dag_impl=dag_impl, closeness_impl="kernel", c_obj=1.0)
    check_grads(lambda q: network_loss(q, x, t, lay, spec)[0], [p], rtol=1e-5, atol=1e-7)


def test_unsigned_cutoff_derivative_by_formula():
    N, ni, no = 12, 3, 2
    rng = np.random.default_rng(1)
    p = init_params(rng, N, ni, no, "toy")
    lay = Layout(N, ni, no, 5.0)
    wts = rng.normal(size=lay.P.shape)
    ops = engine_ops()
    g = grad(lambda q: (closeness(q, lay.P, lay.mask, ni, 5.0, ops, "unsigned")[0] * wts).sum())(p)
    _, v, c = closeness(p, lay.P, lay.mask, ni, 5.0)
    live = (np.abs(v) > c) & lay.mask
    # d = (|v| - c)/(1 - c): dd/dc = (|v| - 1)/(1 - c)^2, dc/dkappa = c(1 - c)
    want = np.sum(wts[live] * (np.abs(v[live]) - 1) / (1 - c) ** 2 * c * (1 - c))
    assert float(g["kappa"]) == pytest.approx(want, rel=1e-10)


def test_text_full_kernel_and_engine_paths_agree():
    lay, p, x, t = _toy_problem(8)
    res = {}
    for dag_impl, cl in (("engine", "engine"), ("dense", "kernel"), ("sparse", "kernel")):
        spec = LossSpec(square_outputs=False, sparsity="smooth_count", activation="sigmoid",
                        closeness_range="unsigned", dag_impl=dag_impl, closeness_impl=cl)
        res[dag_impl] = value_and_grad(network_loss, has_aux=True)(p, x, t, lay, spec)
    (ref, _), rg = res["engine"]
    for k in ("dense", "sparse"):
        (val, _), g = res[k]
        assert val == pytest.approx(ref, rel=1e-12)
        for name in p:
            np.testing.assert_allclose(g[name], rg[name], rtol=1e-10, atol=1e-10 * 1e4, err_msg=name)


def test_process_time_term_changes_the_loss_value_never_the_trajectory():
    st0, h0 = _run({"variant": "text_full"}, steps=5)
    st1, h1 = _run({"variant": "text_full", "c_time": 1e3, "time_pow": 1.0}, steps=5)
    for k in st0["params"]:
        assert np.array_equal(st0["params"][k], st1["params"][k]), k  # no gradient: the same Adam steps
    assert h1[0]["process_time"] == 0.0  # the first step of a process has no earlier reading
    for a, b in zip(h0, h1):
        assert "process_time" not in a and b["process_time"] >= 0
        assert b["time_term"] == pytest.approx(1e3 * b["process_time"])
        assert b["loss"] == pytest.approx(a["loss"] + b["time_term"], rel=1e-12)
        assert {k: v for k, v in a.items() if k != "loss"} == {
            k: v for k, v in b.items() if k not in ("loss", "process_time", "time_term")}
    assert sum(b["process_time"] for b in h1) > 0  # the clock moves


def test_process_time_term_value_and_errors():
    assert process_time_term(0.25, 2.0, 1.0) == 0.5
    assert process_time_term(0.5, 1.0, 2.0) == 0.25
    with pytest.raises(ValueError, match="process time"):
        process_time_term(-1.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="process time"):
        process_time_term(float("nan"), 1.0, 1.0)
    m = DNMModel()
    with pytest.raises(ConfigError, match="time_pow"):
        m.validate_config({"time_pow": 0.0})
    cfg = m.validate_config({"c_time": 1.0})
    with pytest.raises(ConfigError, match="process-time"):
        m.oracle_case(cfg, np.random.default_rng(0), None)
    with pytest.raises(ConfigError, match="process-time"):
        m.trajectory(cfg, np.random.default_rng(0), None, 2)


def test_text_full_oracle_case_is_deterministic_and_unsigned():
    arrays, meta = make_case("dnm", seed=3, config={"variant": "text_full"})
    again, _ = make_case("dnm", seed=3, config={"variant": "text_full"})
    assert set(arrays) == set(again) and all(np.array_equal(arrays[k], again[k]) for k in arrays)
    assert meta["config"]["variant"] == "text_full"
    assert np.all(arrays["outputs/closeness"] >= 0) and np.any(arrays["outputs/closeness"] > 0)
    text, _ = make_case("dnm", seed=3, config={"variant": "text"})
    assert np.array_equal(arrays["params/alpha"], text["params/alpha"])  # same draws ...
    assert not np.array_equal(arrays["outputs/y_hat"], text["outputs/y_hat"])  # ... another function

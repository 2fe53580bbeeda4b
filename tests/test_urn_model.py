"""The registered `urn` model: config checks, oracle case, a grid run with every term, the small reference run."""

import json

import numpy as np
import pytest

from minidsn.engine import value_and_grad
from minidsn.models.urn.model import URNModel, build_spec
from minidsn.models.urn.net import loss_terms
from minidsn.models.api import ConfigError, get_model
from minidsn.runs.config import REFERENCE_DIR, load_run_file, resolve_run_spec
from minidsn.runs.loop import run


def _cfg(**kw):
    return URNModel.validate_config(kw)


def test_registered_with_seed_defaults():
    assert get_model("urn") is URNModel
    cfg = _cfg()
    assert (cfg["n_neurons"], cfg["n_iter"], cfg["lr"], cfg["c_w"], cfg["c_n"], cfg["n_train"]) == \
        (5000, 4, 7e-4, 5e-7, 2e-5, 4000)


def test_config_errors_name_the_key():
    with pytest.raises(ConfigError, match="c_syn"):
        build_spec(_cfg(c_syn=1.0), 10, 2)
    with pytest.raises(ConfigError, match="n_neurons"):
        build_spec(_cfg(geometry="grid", n_neurons=105), 10, 2)
    with pytest.raises(ConfigError, match="plane"):
        build_spec(_cfg(geometry="grid", plane=[3, 3]), 10, 2)
    with pytest.raises(ConfigError, match="shells"):
        _cfg(shells=[[2.0, 1.0], [3.0, 4.0]])
    with pytest.raises(ConfigError, match="phi"):
        _cfg(phi="gelu")


def test_oracle_case_every_regulariser_on():
    m = URNModel()
    cfg = _cfg(n_neurons=40, n_iter=3, residual_out=True, residual_in=True)
    case = m.oracle_case(cfg, np.random.default_rng(0), None)
    assert set(case) == {"params", "inputs", "outputs", "losses", "grads"}
    assert set(case["losses"]) == {"total", "ce", "l1_w", "l1_n", "syn"}
    assert all(v > 0 for v in case["losses"].values())
    # the same numbers from the engine reference path
    spec = build_spec({**cfg, "geometry": "grid", "c_syn": 1e-3}, 10, 2)
    x, y1 = case["inputs"]["x"], case["inputs"]["y_onehot"]
    v, g = value_and_grad(lambda p: loss_terms(p, x, y1, spec, "reference")[0])(case["params"])
    assert np.isclose(v, case["losses"]["total"], rtol=1e-12)
    for k in ("W", "b"):
        np.testing.assert_allclose(case["grads"][k], g[k], rtol=1e-9, atol=1e-14)


def test_grid_model_with_synaptic_term_steps_and_reports_locality():
    m = URNModel()
    cfg = _cfg(n_neurons=50, n_train=64, n_test=32, geometry="grid", c_syn=1e-3, gamma=2.0, beta=0.5,
               residual_out=True)
    rng = np.random.default_rng(1)
    state = m.init(cfg, rng, None)
    for s in range(5):
        state, met = m.step(state, cfg, rng, s)
    assert {"loss", "ce", "acc", "l1_w", "l1_n", "syn"} <= set(met)
    ev = m.evaluate(state, cfg, rng, None)
    for k in ("syn_forward_fraction", "syn_backward_fraction", "syn_same_z_fraction", "test_acc",
              "prune_used_max_abs_change_train"):
        assert k in ev
    assert np.isclose(ev["syn_forward_fraction"] + ev["syn_backward_fraction"] + ev["syn_same_z_fraction"], 1.0)


def _run_small(tmp_path, steps=None):
    raw = load_run_file(REFERENCE_DIR / "urn-spheres-small.toml")
    spec = resolve_run_spec(raw, "urn-spheres-small", steps=steps)
    res = run(spec, tmp_path / "run", progress=False, plots=False)
    assert res.status == "completed"
    return json.loads((tmp_path / "run" / "summary.json").read_text())["final"]


def test_reference_run_urn_spheres_small_first_epochs(tmp_path):
    """urn-spheres-small for its first 800 steps (25 epochs): it learns, and pruning to the active neurons
    leaves the outputs on the read-out data unchanged."""
    final = _run_small(tmp_path, steps=800)
    assert final["test_acc"] >= 0.95
    assert final["prune_active_max_abs_change_train"] <= 1e-9


@pytest.mark.slow
def test_reference_run_urn_spheres_small(tmp_path):
    """The whole urn-spheres-small run: a sparse structure emerges that can be pruned."""
    final = _run_small(tmp_path)
    assert final["test_acc"] >= 0.95
    assert final["n_active"] <= 0.8 * 120  # most neurons switched off by the L1 terms
    assert final["prune_active_max_abs_change_train"] <= 1e-9
    assert final["prune_used_max_abs_change_train"] <= 1e-6


def test_fused_step_equals_engine_step():
    """fused_update = true (compiled penalties + Adam) gives the engine + minidsn.optim.Adam step."""
    m = URNModel()
    base = dict(n_neurons=50, n_train=64, n_test=32, geometry="grid", c_syn=1e-2, c_w=1e-2, c_n=1e-2,
                residual_in=True, lr=1e-2)
    out = {}
    for fused in (True, False):
        cfg = _cfg(fused_update=fused, **base)
        rng = np.random.default_rng(3)
        state = m.init(cfg, rng, None)
        for s in range(4):
            state, met = m.step(state, cfg, rng, s)
        out[fused] = (state, met)
    (sa, ma), (sb, mb) = out[True], out[False]
    for k in ("W", "b"):
        np.testing.assert_allclose(sa["params"][k], sb["params"][k], rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(sa["opt"]["m"][k], sb["opt"]["m"][k], rtol=1e-9, atol=1e-12)
    for k in ("loss", "l1_w", "syn", "l1_n", "ce"):
        assert np.isclose(ma[k], mb[k], rtol=1e-9), k


def test_fused_step_reuses_memory_without_changing_results_or_old_states():
    """The fused step writes into the arrays of the state before last only when nobody holds them: the results are
    bit-identical whether or not that happens, and a state the caller kept is never overwritten."""
    import weakref

    cfg = _cfg(n_neurons=60, n_train=64, n_test=32, c_w=1e-2, c_n=1e-2, lr=1e-2)
    finals = {}
    for keep in (False, True):
        m = URNModel()
        rng = np.random.default_rng(5)
        state = m.init(cfg, rng, None)
        kept, refs = [], []
        for s in range(6):
            if keep:
                kept.append((state, {k: state["params"][k].copy() for k in ("W", "b")},
                             state["opt"]["m"]["W"].copy(), state["opt"]["v"]["W"].copy()))
            state, _ = m.step(state, cfg, rng, s)
            refs.append(weakref.ref(state["params"]["W"]))
        finals[keep] = state
        if keep:
            for old, params, mW, vW in kept:
                for k in ("W", "b"):
                    np.testing.assert_array_equal(old["params"][k], params[k])
                np.testing.assert_array_equal(old["opt"]["m"]["W"], mW)
                np.testing.assert_array_equal(old["opt"]["v"]["W"], vW)
        else:  # double buffering: step 6 wrote into the array step 4 returned
            assert refs[-3]() is state["params"]["W"]
    for k in ("W", "b"):
        np.testing.assert_array_equal(finals[True]["params"][k], finals[False]["params"][k])
        np.testing.assert_array_equal(finals[True]["opt"]["m"][k], finals[False]["opt"]["m"][k])
        np.testing.assert_array_equal(finals[True]["opt"]["v"][k], finals[False]["opt"]["v"][k])


def test_activity_profile_of_a_finished_run(tmp_path, capsys):
    """urn_report reads the run's checkpoint: at threshold 0 it counts what the run's own evaluation counted, and
    the counts fall as the threshold rises."""
    from minidsn.cli import main as cli_main, urn_activity_profile

    final = _run_small(tmp_path, steps=150)
    assert cli_main(["report", "urn", str(tmp_path / "run"), "--thresholds", "0", "0.01", "1e9"]) == 0
    rep = json.loads((tmp_path / "run" / "activity_profile.json").read_text())
    n = [r["n_active"] for r in rep["rows"]]
    assert n[0] == final["n_active"] and n[0] >= n[1] >= n[2] == 0
    assert rep["rows"][0]["hidden_layer_sizes"] == [final[f"hidden_layer_sizes_{l}"] for l in range(1, 5)]
    assert rep["step"] == 150 and "active" in capsys.readouterr().out
    with pytest.raises(ValueError, match="thresholds"):
        urn_activity_profile(tmp_path / "run", [-1.0])

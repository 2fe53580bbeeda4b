"""The registered `isotropic` model: init / step / evaluate / oracle_case on synthetic data (no files needed)."""

import numpy as np
import pytest

from minidsn.models.api import ConfigError, get_model

pytest.importorskip("minidsn.engine")


def _model(**over):
    M = get_model("isotropic")
    cfg = {"dataset": "synthetic", "hidden": [6, 6], "train_limit": 96, "test_limit": 64, "batch_size": 32}
    cfg.update(over)
    return M(), M.validate_config(cfg)


def _shapes_match(params, opt):
    for slot in ("m", "v"):
        for key, leaves in params.items():
            assert [np.shape(a) for a in leaves] == [np.shape(b) for b in opt[slot][key]], (slot, key)


def test_train_steps_and_width_schedule_follow_the_epochs():
    m, cfg = _model(width_target=9, pretrain_epochs=1, schedule_epochs=2, experiment="invariance",
                    invariance_counts=[1, 2])
    rng = np.random.default_rng(0)
    state = m.init(cfg, rng, None)
    assert m.steps_per_epoch(cfg) == 3
    widths = []
    for i in range(3 * 4):
        state, metrics = m.step(state, cfg, rng, i)
        assert np.isfinite(metrics["loss"])
        widths.append(metrics["width"])
        _shapes_match(state["net"]["params"], state["opt"])
    # epochs 1..4 end at steps 3, 6, 9, 12: width 6 (pretraining), then 7.5 -> 8 per layer, then 9
    assert widths[2] == 12 and widths[5] == 16 and widths[8] == 18 and widths[11] == 18
    ev = m.evaluate(state, cfg, rng, None)
    assert ev["width_0"] == 9 and 0 <= ev["test_acc"] <= 1
    assert ev["inv/add_2/mean_abs_logit_change"] < 1e-12
    assert ev["inv/diag_mean_abs_logit_change"] < 1e-12


def test_elementwise_control_shrinks_and_sparsify_figures():
    m, cfg = _model(activation="elementwise", o_mode="none", psi_mode="none", width_target=4, pretrain_epochs=0,
                    schedule_epochs=1)
    rng = np.random.default_rng(1)
    state = m.init(cfg, rng, None)
    for i in range(3):
        state, metrics = m.step(state, cfg, rng, i)
    assert metrics["width"] == 8
    m2, cfg2 = _model(hidden=[5, 5, 5, 5], experiment="sparsify")
    st2 = m2.init(cfg2, rng, None)
    ev = m2.evaluate(st2, cfg2, rng, None)
    assert ev["sparse/diagonalised_layers"] == 2
    assert ev["sparse/max_rel_logit_change"] < 1e-12
    # rotations can lift entries of the other layers above the threshold, so the prediction is not a bound
    assert abs(ev["sparse/params_nonzero_after"] - ev["sparse/params_nonzero_predicted"]) <= 0.01 * ev["sparse/params_total"]


def test_auto_adapt_runs_once_per_epoch():
    m, cfg = _model(auto_adapt=True, tau=0.5, K=2)
    rng = np.random.default_rng(2)
    state = m.init(cfg, rng, None)
    for i in range(3):
        state, _ = m.step(state, cfg, rng, i)
    # orthogonal init has all singular values 1 > tau: two scaffold neurons were added to each layer
    assert [w.shape[0] for w in state["net"]["params"]["W"][:2]] == [8, 8]
    _shapes_match(state["net"]["params"], state["opt"])


def test_oracle_case_covers_all_modes_and_neurogenesis_is_invariant():
    m, cfg = _model()
    case = m.oracle_case(cfg, np.random.default_rng(3), None)
    assert set(case) == {"params", "inputs", "outputs", "losses", "grads"}
    assert len([k for k in case["outputs"] if k.startswith("o_")]) == 15
    before, after = case["outputs"]["genesis_before"], case["outputs"]["genesis_after"]
    assert np.max(np.abs(after - before)) <= 1e-12 * np.max(np.abs(before))
    assert np.allclose(case["losses"]["genesis_before"], case["losses"]["genesis_after"], rtol=1e-12)


def test_bad_config_is_reported():
    M = get_model("isotropic")
    with pytest.raises(ConfigError, match="psi_mode"):
        M.validate_config({"psi_mode": "sometimes"})
    with pytest.raises(ConfigError, match="hidden"):
        M.validate_config({"hidden": [0, 3]})
    with pytest.raises(ValueError, match="elementwise"):
        m, cfg = _model(activation="elementwise")
        m.init(cfg, np.random.default_rng(0), None)

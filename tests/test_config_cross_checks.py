"""Checks between config keys (Model.check_config): an impossible combination is refused when the config is
validated, with a ConfigError naming the key, before a run folder is made or data are read; never later (at the
first step, or after training at the final evaluation) and never as an "unexpected" error."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn.cli import main
from minidsn.models.api import ConfigError, get_model, list_models

# (model, config, the key the message must name); each of these passed validation before check_config existed and
# failed later: at init (after the data were read), at the first step, or at the end of training
CASES = [
    ("dnm", {"n_neurons": 8}, "n_neurons"),
    ("dnm", {"n_inputs": 6}, "n_inputs"),
    ("dnm", {"dataset": "mnist"}, "n_inputs"),
    ("diffrnn", {"m_min": 0.1}, "m_min"),
    ("diffrnn", {"task": "hard", "switch_at": [5]}, "switch_at"),
    ("diffrnn", {"task": "easy-hard-easy", "switch_at": [9, 5]}, "switch_at"),
    ("diffrnn", {"variant": "fixed", "age_bias": "delete_old"}, "age_bias"),
    ("diffrnn-ff", {"m_min": 0.1}, "m_min"),
    ("diffrnn-ff", {"batch_size": 2000}, "batch_size"),
    ("urn", {"geometry": "grid", "n_neurons": 5001}, "n_neurons"),
    ("urn", {"c_syn": 1.0}, "c_syn"),
    ("urn", {"l1_mode": "prox", "fused_update": False}, "l1_mode"),
    ("urn", {"n_neurons": 5}, "n_neurons"),
    ("urn", {"dataset": "mnist"}, "plane"),
    ("urn", {"dataset": "mnist", "plane": [14, 14], "n_neurons": 1000, "geometry": "grid"}, "n_neurons"),
    ("isotropic", {"dataset": "synthetic", "activation": "elementwise"}, "o_mode"),
    ("isotropic", {"dataset": "synthetic", "activation": "elementwise", "o_mode": "none", "psi_mode": "none",
                   "auto_adapt": True}, "auto_adapt"),
    ("isotropic", {"dataset": "synthetic", "activation": "elementwise", "o_mode": "none", "psi_mode": "none",
                   "experiment": "sparsify"}, "experiment"),
    ("isotropic", {"dataset": "synthetic", "experiment": "invariance", "invariance_layer": 2}, "invariance_layer"),
    ("isotropic", {"dataset": "synthetic", "experiment": "invariance", "invariance_counts": [1, 0]},
     "invariance_counts"),
    ("isotropic", {"dataset": "synthetic", "o_init": 0.0}, "o_init"),
    ("mlp", {"dataset": "spirals", "n_features": 3}, "n_features"),
    ("mlp", {"dataset": "blobs", "noise": 0.0}, "noise"),
    ("diffrnn-ff", {"dataset": "blobs", "noise": 0.0}, "noise"),
    ("diffrnn", {"data_seed": -1}, "data_seed"),
]


@pytest.mark.parametrize("name,cfg", [("mlp", {"dataset": "spirals", "noise": 0.0}),
                                      ("diffrnn-ff", {"dataset": "spirals", "noise": 0.0})])
def test_noiseless_spirals_are_accepted_and_train(name, cfg):
    """noise = 0 is refused for blobs only: noiseless spirals are a valid (if easy) data set."""
    cls = get_model(name)
    full = cls.validate_config(cfg)
    m = cls()
    rng = np.random.default_rng(0)
    state = m.init(full, rng, None)
    state, metrics = m.step(state, full, rng, 0)
    assert all(np.isfinite(v) for v in metrics.values())


@pytest.mark.parametrize("name,cfg,key", CASES, ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_validate_refuses_the_combination(name, cfg, key):
    with pytest.raises(ConfigError, match=f"'{key}'"):
        get_model(name).validate_config(cfg)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(v)


@pytest.mark.parametrize("name,cfg,key", CASES, ids=[f"{c[0]}-{c[2]}-{i}" for i, c in enumerate(CASES)])
def test_run_stops_with_one_line_and_no_folder(tmp_path, capsys, monkeypatch, name, cfg, key):
    monkeypatch.delenv("MINIDSN_DATA", raising=False)
    body = "\n".join(f"{k} = {_toml_value(v)}" for k, v in cfg.items())
    (tmp_path / "bad.toml").write_text(f'model = "{name}"\nsteps = 2\n[config]\n{body}\n')
    out = tmp_path / "out"
    assert main(["run", str(tmp_path / "bad.toml"), "--out", str(out), "--data-dir", str(tmp_path / "nodata")]) == 1
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert f"'{key}'" in lines[0] and "unexpected" not in lines[0], lines[0]
    assert not out.exists()


def test_every_model_default_passes_its_own_checks():
    for info in list_models():
        get_model(info.name).validate_config({})


def test_init_repeats_the_checks_for_an_unvalidated_config():
    """A caller that skips validate_config (the Python API) meets the same error at init, not a later one."""
    for name, cfg, key in [("diffrnn", {"m_min": 0.1}, "m_min"), ("isotropic", {"auto_adapt": True,
                           "activation": "elementwise", "o_mode": "none", "psi_mode": "none"}, "auto_adapt")]:
        cls = get_model(name)
        bad = {**cls.validate_config({"dataset": "synthetic"} if name == "isotropic" else {}), **cfg}
        with pytest.raises(ConfigError, match=key):
            cls().init(bad, np.random.default_rng(0), None)


@settings(max_examples=40, deadline=None)
@given(n_neurons=st.integers(1, 60), n_inputs=st.integers(1, 8), n_outputs=st.integers(1, 6),
       dataset=st.sampled_from(["toy", "mnist"]))
def test_dnm_sizes_accepted_exactly_when_they_fit(n_neurons, n_inputs, n_outputs, dataset):
    cfg = {"n_neurons": n_neurons, "n_inputs": n_inputs, "n_outputs": n_outputs, "dataset": dataset}
    fits = (dataset == "toy" and (n_inputs, n_outputs) == (5, 4) and n_neurons >= 9)
    if not fits:
        with pytest.raises(ConfigError):
            get_model("dnm").validate_config(cfg)
        return
    model = get_model("dnm")
    v = model.validate_config(cfg)
    m = model()
    state = m.init(v, np.random.default_rng(0), None)
    m.step(state, v, np.random.default_rng(1), 0)


@settings(max_examples=60, deadline=None)
@given(n_neurons=st.integers(1, 90), sphere_dim=st.integers(1, 6), n_shells=st.integers(2, 4),
       geometry=st.sampled_from(["none", "grid"]), output_nodes=st.sampled_from(["last", "top_centre"]),
       plane=st.sampled_from([[], [2, 3], [6], [3, 2], [4]]), c_syn=st.sampled_from([0.0, 1e-3]))
def test_urn_check_agrees_with_the_layout_init_builds(n_neurons, sphere_dim, n_shells, geometry, output_nodes, plane,
                                                      c_syn):
    """validate_config accepts a spheres config exactly when init can build its network: a refused config fails in
    init too (URN's init does not call check_config; it builds the network), an accepted one trains."""
    cfg = {"n_neurons": n_neurons, "sphere_dim": sphere_dim, "shells": [[k, k + 0.5] for k in range(1, n_shells + 1)],
           "geometry": geometry, "output_nodes": output_nodes, "plane": plane, "c_syn": c_syn,
           "n_train": 8, "n_test": 4, "batch_size": 4}
    cls = get_model("urn")
    try:
        v = cls.validate_config(cfg)
    except ConfigError:
        unvalidated = {**cls.validate_config({}), **cfg}
        with pytest.raises(ConfigError):
            cls().init(unvalidated, np.random.default_rng(0), None)
        return
    m = cls()
    state = m.init(v, np.random.default_rng(0), None)
    spec = m._spec(v, state["data"]["x_train"], state["n_classes"])
    assert spec.output_idx.size == n_shells == state["n_classes"]
    m.step(state, v, np.random.default_rng(1), 0)


def test_urn_spheres_with_three_shells_train_and_export(tmp_path):
    """One class per shell: three shells give three output nodes (the class count was fixed at 2, so a third shell
    crashed the first step with an IndexError)."""
    cls = get_model("urn")
    cfg = cls.validate_config({"shells": [[1.0, 1.5], [2.0, 2.5], [3.0, 3.5]], "n_neurons": 60, "n_train": 60,
                               "n_test": 30, "batch_size": 10, "fused_update": False})
    m = cls()
    state = m.init(cfg, np.random.default_rng(0), None)
    assert sorted(set(state["data"]["y_train"].tolist())) == [0, 1, 2] and state["n_classes"] == 3
    for i in range(3):
        state, metrics = m.step(state, cfg, np.random.default_rng(i), i)
        assert np.isfinite(metrics["loss"])
    assert 0.0 <= m.evaluate(state, cfg, np.random.default_rng(9), None)["test_acc"] <= 1.0
    case = m.oracle_case(cfg, np.random.default_rng(0), None)
    assert case["inputs"]["y_onehot"].shape[1] == 3
    traj = m.trajectory(cfg, np.random.default_rng(0), None, 2)
    assert traj["steps"][0]["inputs"]["y_onehot"].shape[1] == 3

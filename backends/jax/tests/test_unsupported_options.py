"""Options minidsn has and this backend does not build are refused by name, not computed as something else."""

import pytest

from minidsn_jax.dmm.oracle import DMMBackend
from minidsn_jax.dnm.net import resolve


@pytest.mark.parametrize("cfg", [{"variant": "text_full"}, {"variant": "text", "activation": "sigmoid"},
                                 {"variant": "text", "closeness_range": "unsigned"}, {"c_time": 0.1}])
def test_dnm_refuses_what_it_does_not_build(cfg):
    with pytest.raises(NotImplementedError, match="not implemented"):
        resolve(cfg)


def test_dnm_accepts_its_variants():
    assert resolve({"variant": "faithful"})["square_outputs"] is True
    assert resolve({"variant": "text", "activation": "leaky_relu", "closeness_range": "signed", "c_time": 0.0})[
        "square_outputs"] is False


@pytest.mark.parametrize("network", ["compare-free", "recurrent"])
def test_dmm_refuses_other_start_networks(network):
    with pytest.raises(NotImplementedError, match=network):
        DMMBackend().setup({"config": {"network": network, "string": "test string.", "n_cycles": 140,
                                       "n_layers": 5, "n_per_layer": 2}})


@pytest.mark.parametrize("option", [{"age_bias": "delete_old"}, {"inherit_pool": 4}])
def test_diffrnn_oracle_refuses_the_lineage_options(option):
    """A case whose config sets a Sec. 5 extension is refused by name, not replayed under the paper's rule.
    (minidsn itself does not record such cases; a case written by another tool, or edited, can still say so.)"""
    from minidsn.oracle.export import make_trajectory
    from minidsn_jax.diffrnn.oracle import DiffRNNBackend

    with pytest.raises(ValueError, match="age_bias / inherit_pool"):
        make_trajectory("diffrnn", 2, seed=0, config={"variant": "g2", **option}, check_replay=False)
    _, meta = make_trajectory("diffrnn", 2, seed=0, config={"variant": "g2"}, check_replay=False)
    meta["config"].update(option)
    key = next(iter(option))
    with pytest.raises(NotImplementedError, match=key):
        DiffRNNBackend().setup(meta)


def test_diffrnn_oracle_accepts_the_options_off():
    from minidsn.oracle.export import make_trajectory
    from minidsn_jax.diffrnn.oracle import DiffRNNBackend

    _, meta = make_trajectory("diffrnn", 2, seed=0, config={"variant": "g2"}, check_replay=False)
    assert meta["config"]["age_bias"] == "none" and meta["config"]["inherit_pool"] == 0  # recorded, and off
    DiffRNNBackend().setup(meta)


def test_run_command_reports_an_unknown_option_in_one_line(tmp_path, capsys):
    """`python -m minidsn_jax.run` on a minidsn run file that sets an option this backend does not have: one
    `error:` line naming the key, exit code 1, no traceback, no run folder."""
    from minidsn_jax.run import main

    run_file = tmp_path / "ext.toml"
    run_file.write_text('model = "diffrnn"\nsteps = 10\n[config]\ntask = "easy"\nage_bias = "delete_old"\n')
    assert main([str(run_file), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: unknown config key 'age_bias' for model 'jax-diffrnn'")
    assert "Traceback" not in err and err.count("\n") == 1
    assert not (tmp_path / "out" / "config.json").exists()


def test_run_command_reports_a_missing_run_file_in_one_line(tmp_path, capsys):
    from minidsn_jax.run import main

    assert main([str(tmp_path / "nowhere.toml"), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nowhere" in err and "Traceback" not in err and err.count("\n") == 1

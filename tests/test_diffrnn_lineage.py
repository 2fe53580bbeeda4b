"""DiffRNN extensions of seed 001 Sec. 5 (minidsn.models.diffrnn.lineage): age-biased deletion and inherited
connectivity. Off by default: the recorded runs are reproduced bit for bit."""

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidsn.optim as optim
from minidsn.models.api import ConfigError
from minidsn.models.diffrnn import lineage, structure
from minidsn.models.diffrnn.model import DiffRNNModel
from minidsn.runs.config import load_run_file
from minidsn.runs.treeio import decode_tree, encode_tree
from test_diffrnn import _outputs, _run  # plain-NumPy window outputs; n cycles of the model from a seed

ROOT = Path(__file__).resolve().parents[1]


# ---- off by default: the recorded runs do not move -----------------------------------------------------------------


@pytest.mark.parametrize("explicit", [False, True])
def test_defaults_reproduce_the_recorded_hard_run(explicit):
    """diffrnn-hard seed 0 (reference_runs/, recorded before the extensions existed): the first 2000 cycles give the
    recorded metrics lines exactly, with the options left out or set to their defaults."""
    cfg = dict(load_run_file(ROOT / "reference_runs" / "diffrnn-hard.toml")["config"])
    if explicit:
        cfg.update(age_bias="none", inherit_pool=0)
    lines = (ROOT / "reference_runs" / "diffrnn-hard" / "seed-0" / "metrics.jsonl").read_text().splitlines()[:2]
    recorded = [json.loads(x) for x in lines]
    state, mets, _ = _run(cfg, 2000, seed=0)
    assert "lineage" not in state
    assert [dict(mets[i - 1], step=i) for i in (1000, 2000)] == recorded


# ---- age-biased deletion -------------------------------------------------------------------------------------------


def test_age_bias_changes_which_neuron_is_deleted():
    """Three sub-threshold neurons of ages 10, 5, 1 (and one above threshold), k = 1, P_del = 1: without the bias
    the one kept is random; delete_old always keeps the youngest (index 2), delete_young the oldest (index 0)."""
    m = np.array([0.03, 0.03, 0.03, 1.0])
    age = np.array([10, 5, 1, 7])
    kept = {"none": set(), "delete_old": set(), "delete_young": set()}
    for seed in range(40):
        for bias in kept:
            idx = structure.choose_deletions(m, 0.05, 1, 1.0, np.random.default_rng(seed), age=age, age_bias=bias)
            assert idx.size == 2
            kept[bias] |= {0, 1, 2} - set(idx.tolist())
    assert kept["none"] == {0, 1, 2}
    assert kept["delete_old"] == {2}
    assert kept["delete_young"] == {0}


@given(seed=st.integers(0, 10**6), H=st.integers(2, 12), k=st.integers(0, 3), data=st.data())
@settings(max_examples=40, deadline=None)
def test_age_bias_draws_the_same_numbers_and_keeps_the_youngest(seed, H, k, data):
    r = np.random.default_rng(seed)
    m = r.uniform(0.02, 0.1, H)
    age = data.draw(st.lists(st.integers(0, 5), min_size=H, max_size=H))
    age = np.array(age)
    r0, r1 = np.random.default_rng(seed + 1), np.random.default_rng(seed + 1)
    structure.choose_deletions(m, 0.05, k, 0.5, r0)
    idx = structure.choose_deletions(m, 0.05, k, 1.0, r1, age=age, age_bias="delete_old")
    assert r0.bit_generator.state == r1.bit_generator.state  # the bias changes the order, not the draws
    sub = np.flatnonzero(m <= 0.05)
    if sub.size > k and (m > 0.05).sum() < H - k:
        survivors = np.setdiff1d(sub, idx)
        assert survivors.size == k  # P_del = 1: exactly the reserve survives
        if k:
            assert age[survivors].max() <= age[idx].min()  # the reserve is the youngest


def test_ages_count_cycles_in_a_run():
    state, mets, _ = _run({"age_bias": "delete_old", "p_add": 1.0, "p_del": 0.5, "l1": 3e-3}, 50)
    age = state["lineage"]["age"]
    assert age.shape == state["carried"].shape and age.max() == 50  # the initial neuron, if it survived
    assert age.min() >= 0 and mets[-1]["mean_age"] == pytest.approx(age.mean())


# ---- inherited connectivity ----------------------------------------------------------------------------------------


def _params(seed, H, V=4):
    rng = np.random.default_rng(seed)
    p = {"Wxh": 0.5 * rng.standard_normal((H, V)), "Whh": 0.5 * rng.standard_normal((H, H)),
         "Wiy": 0.5 * rng.standard_normal((V, H)), "bh": 0.1 * rng.standard_normal(H),
         "by": 0.1 * rng.standard_normal(V), "m": rng.uniform(0.025, 1.5, H)}
    return p, np.tanh(rng.standard_normal(H)), rng.integers(0, V, 15)


def _delete_then_inherit(params, s0, j, gate, t_d=0.05, seed=0, with_m=True):
    """What train_window does: pool the deletion, delete, draw a fresh neuron, write the pool entry over it."""
    if not with_m:
        params = {k: v for k, v in params.items() if k != "m"}
    opt = optim.Adagrad().init(params)
    lin = lineage.init_lineage(s0.shape[0])
    lin = lineage.pool_deletions(lin, params, np.array([j]), t_d=t_d, gate=gate, capacity=3)
    p, o, s = structure.delete_neurons(params, opt, s0, [j])
    H = s.shape[0]
    blocks = structure.new_neuron_g2(H, p["Wxh"].shape[1], np.random.default_rng(seed), t_d)
    if not with_m:
        del blocks[("m", 0)]
    blocks = lineage.inherit_blocks(blocks, lin["pool"][-1])
    p, o, s = structure.insert_neuron(p, o, s, blocks)
    return p, o, s


@given(seed=st.integers(0, 10**6), H=st.integers(1, 7), gate=st.booleans(), data=st.data())
@settings(max_examples=40, deadline=None)
def test_inheriting_a_just_deleted_neuron_restores_the_network(seed, H, gate, data):
    """Delete neuron j (its multiplier m_j anywhere) and add a neuron that inherits it: the new network (m = T_D for
    the newcomer, its m_j folded into its outgoing weights) computes the old one's outputs from any state in which
    s_j = 0 (a new neuron's state), with j moved to the last index."""
    j = data.draw(st.integers(0, H - 1))
    params, s0, inputs = _params(seed, H)
    s0[j] = 0.0
    p, o, s = _delete_then_inherit(params, s0, j, gate)
    order = [i for i in range(H) if i != j] + [j]
    assert p["m"][-1] == 0.05 and np.array_equal(p["m"][:-1], params["m"][order[:-1]])
    assert np.array_equal(s, s0[order])
    for k in p:
        assert not o["sum_sq"][k].any() and o["sum_sq"][k].shape == p[k].shape
    out_old, s_old = _outputs(params, s0, inputs, gate)
    out_new, s_new = _outputs(p, s, inputs, gate)
    assert np.allclose(out_new, out_old, rtol=1e-12, atol=1e-15)
    expect = s_old[order].copy()
    if gate:  # the carried state of rnnAltern is m * h, and the newcomer's m is T_D
        expect[-1] *= 0.05 / params["m"][j]
    assert np.allclose(s_new, expect, rtol=1e-12, atol=1e-15)


def test_without_inheritance_the_restored_network_differs():
    """The property above can fail: a fresh neuron (random init, the paper) does not restore the outputs."""
    params, s0, inputs = _params(3, 5)
    s0[2] = 0.0
    p, o, s = structure.delete_neurons(params, optim.Adagrad().init(params), s0, [2])
    p, o, s = structure.add_neuron_g2(p, o, s, np.random.default_rng(0), 0.05)
    assert not np.allclose(_outputs(p, s, inputs, False)[0], _outputs(params, s0, inputs, False)[0], rtol=1e-6)


def test_g3_inherits_without_folding():
    params, s0, _ = _params(5, 4)
    p, _, _ = _delete_then_inherit(params, s0, 1, False, with_m=False)
    assert np.array_equal(p["Wiy"][:, -1], params["Wiy"][:, 1])
    assert np.array_equal(p["Whh"][:-1, -1], params["Whh"][[0, 2, 3], 1])


def test_pool_follows_later_edits_and_unknown_links_stay_fresh():
    """Delete neurons 1 and 3 together (pool: 1, then 3); add -> inherits 3 (the newest); add again -> inherits 1,
    whose link to the first newcomer was unknown at its deletion, so that one link keeps its fresh draw."""
    params, s0, _ = _params(7, 5)
    opt = optim.Adagrad().init(params)
    lin = lineage.init_lineage(5)
    lin = lineage.pool_deletions(lin, params, np.array([1, 3]), t_d=0.05, gate=False, capacity=4)
    p, o, s = structure.delete_neurons(params, opt, s0, [1, 3])
    assert len(lin["pool"]) == 2 and lin["age"].shape == (3,)
    for step, src in enumerate((3, 1)):
        rng = np.random.default_rng(step)
        fresh = structure.new_neuron_g2(s.shape[0], 4, rng, 0.05)
        entry, lin = lin["pool"][-1], dict(lin, pool=lin["pool"][:-1])
        p, o, s = structure.insert_neuron(p, o, s, lineage.inherit_blocks(fresh, entry))
        lin = lineage.pool_addition(lin, True)
        assert np.array_equal(p["Wxh"][-1], params["Wxh"][src])
        assert np.array_equal(p["Whh"][:3, -1], params["Whh"][[0, 2, 4], src])  # to the survivors
        assert np.array_equal(p["Whh"][-1, :3], params["Whh"][src, [0, 2, 4]])
        assert p["Whh"][-1, -1] == params["Whh"][src, src]
    # the second newcomer (ex-1) and the first (ex-3): their links were never known -> fresh values
    assert p["Whh"][4, 3] == fresh[("Whh", 0)][0, 3] and p["Whh"][3, 4] == fresh[("Whh", 1)][3, 0]
    assert lin["n_inherited"] == 2 and lin["pool"] == [] and lin["age"].tolist() == [0, 0, 0, 0, 0]


def test_pool_capacity_keeps_the_newest():
    params, s0, _ = _params(1, 6)
    lin = lineage.pool_deletions(lineage.init_lineage(6), params, np.array([0, 2, 5]), t_d=0.05, gate=False,
                                 capacity=2)
    assert [e["bh"] for e in lin["pool"]] == [params["bh"][2], params["bh"][5]]


def test_inheritance_in_a_run():
    """In a forced run (frequent additions and deletions) additions inherit, the counts agree, and the pool stays
    aligned with the network."""
    over = {"hidden_size": 4, "p_add": 1.0, "p_del": 0.75, "p_spontaneous": 0.7, "l1": 1e-2}
    state, mets, _ = _run(dict(over, inherit_pool=3), 40)
    lin = state["lineage"]
    assert lin["n_inherited"] >= 3 and sum(mt["inherited"] for mt in mets) == lin["n_inherited"]
    assert len(lin["pool"]) <= 3
    for e in lin["pool"]:
        assert e["Whh_in"].shape == e["Whh_out"].shape == e["known"].shape == state["carried"].shape


@pytest.mark.parametrize("variant", ["g2", "altern", "g3"])
def test_fused_and_kernel_backends_agree_with_the_extensions(variant):
    over = {"variant": variant, "hidden_size": 4, "p_add": 1.0, "p_del": 0.75, "p_spontaneous": 0.7, "l1": 1e-2,
            "age_bias": "delete_old", "inherit_pool": 4}
    sf, mf, _ = _run(dict(over, backend="fused"), 60)
    sk, mk, _ = _run(dict(over, backend="kernel"), 60)
    assert [m["hidden_size"] for m in mf] == [m["hidden_size"] for m in mk]
    assert sf["lineage"]["n_inherited"] == sk["lineage"]["n_inherited"] >= 1
    for a, b in zip(mf, mk):
        assert a["loss"] == pytest.approx(b["loss"], rel=1e-10)
    for k in sf["params"]:
        assert np.allclose(sf["params"][k], sk["params"][k], rtol=1e-9, atol=1e-12)


def test_state_with_lineage_checkpoints_losslessly():
    state, _, _ = _run({"hidden_size": 4, "p_add": 1.0, "p_del": 0.75, "l1": 1e-2, "inherit_pool": 3,
                        "age_bias": "delete_young"}, 25)
    skel, arrays = encode_tree(state)
    back = decode_tree(skel, arrays)
    assert back["lineage"]["n_inherited"] == state["lineage"]["n_inherited"]
    for a, b in zip(back["lineage"]["pool"], state["lineage"]["pool"]):
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_config_errors_are_named():
    model = DiffRNNModel()
    with pytest.raises(ConfigError, match="age_bias"):
        model.validate_config({"age_bias": "oldest"})
    with pytest.raises(ConfigError, match="inherit_pool"):
        model.validate_config({"inherit_pool": -1})
    good = model.validate_config({})
    for over in ({"variant": "fixed", "inherit_pool": 2}, {"structure": False, "age_bias": "delete_old"}):
        with pytest.raises(ConfigError, match="structure"):  # refused when validated, before any run starts
            model.validate_config(over)
        with pytest.raises(ConfigError, match="structure"):  # and at init, for a config never validated
            model.init({**good, **over}, np.random.default_rng(0))
    with pytest.raises(ValueError, match="trajectory"):
        model.trajectory(model.validate_config({"inherit_pool": 1}), np.random.default_rng(0))


def test_inherit_without_recurrent_weights_keeps_fresh_whh():
    """inherit_recurrent = false: input weights, bias and (folded) output weights are the deleted neuron's, the Whh
    row and column the fresh draws."""
    params, s0, _ = _params(11, 5)
    lin = lineage.pool_deletions(lineage.init_lineage(5), params, np.array([2]), t_d=0.05, gate=False, capacity=2)
    fresh = structure.new_neuron_g2(4, 4, np.random.default_rng(0), 0.05)
    blocks = lineage.inherit_blocks(fresh, lin["pool"][-1], recurrent=False)
    assert blocks[("Whh", 0)] is fresh[("Whh", 0)] and blocks[("Whh", 1)] is fresh[("Whh", 1)]
    assert np.array_equal(blocks[("Wxh", 0)][0], params["Wxh"][2]) and blocks[("bh", 0)][0] == params["bh"][2]
    assert np.allclose(blocks[("Wiy", 1)][:, 0], params["Wiy"][:, 2] * params["m"][2] / 0.05, rtol=1e-15)
    full = lineage.inherit_blocks(fresh, lin["pool"][-1])
    assert np.array_equal(full[("Whh", 0)][0], params["Whh"][2, [0, 1, 3, 4]])


def test_inherit_recurrent_option_reaches_the_cycle():
    over = {"hidden_size": 4, "p_add": 1.0, "p_del": 0.75, "p_spontaneous": 0.7, "l1": 1e-2, "inherit_pool": 3}
    a, _, _ = _run(dict(over, inherit_recurrent=False), 30)
    b, _, _ = _run(over, 30)
    assert a["lineage"]["n_inherited"] >= 1 and b["lineage"]["n_inherited"] >= 1
    assert not np.array_equal(a["params"]["Whh"], b["params"]["Whh"]) or a["carried"].shape != b["carried"].shape

"""diffrnn-ff: DiffRNN's rule per layer of a feed-forward net and over residual layers (seed 001 Sec. 5; ff.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidsn.optim as optim
from minidsn.engine.pytree import tree_flatten
from minidsn.models.api import ConfigError, get_model
from minidsn.models.diffrnn import ff
from minidsn.testing import check_grads


def _net(seed, widths, n_blocks, scale=0.7):
    rng = np.random.default_rng(seed)
    p = ff.init_params(rng, 2, widths, 3, n_blocks, scale)
    for layer in p["layers"]:
        layer["m"] = rng.uniform(0.025, 1.5, layer["m"].shape)
        layer["b"] = 0.1 * rng.standard_normal(layer["b"].shape)
    for blk in p["blocks"]:
        blk["mu"] = rng.uniform(0.025, 1.5, 1)
        blk["c"] = 0.1 * rng.standard_normal(blk["c"].shape)
    x = rng.standard_normal((9, 2))
    y = rng.integers(0, 3, 9)
    return p, x, y


def _plain_forward(p, x):
    """The module doc's equations in plain NumPy, independent of ff.forward."""
    a = x
    for layer in p["layers"]:
        a = layer["m"] * np.tanh(a @ layer["W"] + layer["b"])
    for blk in p["blocks"]:
        a = a + blk["mu"][0] * np.tanh(a @ blk["U"] + blk["c"])
    return a @ p["out"]["W"] + p["out"]["b"]


@given(seed=st.integers(0, 10**6), widths=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       n_blocks=st.integers(0, 2))
@settings(max_examples=25, deadline=None)
def test_forward_and_gradients(seed, widths, n_blocks):
    p, x, y = _net(seed, widths, n_blocks)
    assert np.allclose(ff.forward(p, x), _plain_forward(p, x), rtol=1e-13, atol=1e-14)
    check_grads(lambda q: ff.objective(q, x, y, 1e-2, 2e-2)[0], (p,), order=1)


def test_l1_terms_enter_the_gradient():
    p, x, y = _net(1, [3, 2], 2)
    _, g0 = ff.loss_and_grads(p, x, y, 0.0, 0.0)
    _, g1 = ff.loss_and_grads(p, x, y, 0.1, 0.2)
    assert np.allclose(g1["layers"][0]["m"] - g0["layers"][0]["m"], 0.1)  # m > 0: d|m|/dm = 1
    assert np.allclose(g1["blocks"][1]["mu"] - g0["blocks"][1]["mu"], 0.2)


@given(seed=st.integers(0, 10**6), widths=st.lists(st.integers(2, 5), min_size=1, max_size=3),
       n_blocks=st.integers(0, 2), data=st.data())
@settings(max_examples=30, deadline=None)
def test_deleting_a_neuron_equals_removing_its_outgoing_weights(seed, widths, n_blocks, data):
    """Deleting neuron j of layer l gives the function of the old net with j's output removed (its multiplier 0),
    in every layer, including the last (the residual stream); the optimiser memories follow."""
    p, x, _ = _net(seed, widths, n_blocks)
    l = data.draw(st.integers(0, len(widths) - 1))
    j = data.draw(st.integers(0, widths[l] - 1))
    opt = optim.Adagrad().init(p)
    opt["sum_sq"] = optim.clip_elementwise(p, 1e9)  # non-zero memories, shaped like params
    newp, newo = ff.delete_neurons(p, opt, l, [j])
    assert newp["layers"][l]["W"].shape[1] == widths[l] - 1
    zeroed = {**p, "layers": [dict(lay) for lay in p["layers"]]}
    zeroed["layers"][l]["m"] = p["layers"][l]["m"] * (np.arange(widths[l]) != j)
    if l == len(widths) - 1:  # the residual branches still write into stream entry j: cut what reads it
        zeroed["blocks"] = [dict(blk, U=blk["U"].copy()) for blk in p["blocks"]]
        for blk in zeroed["blocks"]:
            blk["U"][j, :] = 0.0
        zeroed["out"] = dict(p["out"], W=p["out"]["W"].copy())
        zeroed["out"]["W"][j, :] = 0.0
    assert np.allclose(_plain_forward(newp, x), _plain_forward(zeroed, x), rtol=1e-12, atol=1e-13)
    flat_p, _ = tree_flatten(newp)
    flat_o, _ = tree_flatten(newo["sum_sq"])
    assert [a.shape for a in flat_p] == [a.shape for a in flat_o]
    assert all(np.array_equal(a, b) for a, b in zip(flat_p, flat_o))  # the memories are the kept entries


@given(seed=st.integers(0, 10**6), widths=st.lists(st.integers(1, 4), min_size=1, max_size=3),
       n_blocks=st.integers(0, 2), data=st.data())
@settings(max_examples=30, deadline=None)
def test_new_neuron_enters_at_threshold_and_with_zero_outgoing_weights_changes_nothing(seed, widths, n_blocks, data):
    p, x, _ = _net(seed, widths, n_blocks)
    l = data.draw(st.integers(0, len(widths) - 1))
    opt = optim.Adagrad().init(p)
    newp, newo = ff.add_neuron(p, opt, l, np.random.default_rng(seed), 0.05, 0.1)
    H = widths[l]
    assert newp["layers"][l]["m"][H] == 0.05 and newp["layers"][l]["b"][H] == 0.0
    assert not any(a.any() for a in tree_flatten(newo["sum_sq"])[0])
    cut = {**newp, "layers": [dict(lay) for lay in newp["layers"]]}
    cut["layers"][l]["m"] = newp["layers"][l]["m"] * (np.arange(H + 1) != H)
    if l == len(widths) - 1:
        cut["out"] = dict(newp["out"], W=newp["out"]["W"].copy())
        cut["out"]["W"][H, :] = 0.0
        cut["blocks"] = [dict(blk, U=blk["U"].copy()) for blk in newp["blocks"]]
        for blk in cut["blocks"]:
            blk["U"][H, :] = 0.0
    assert np.allclose(_plain_forward(cut, x), _plain_forward(p, x), rtol=1e-12, atol=1e-13)


def test_new_residual_layer_has_low_multiplier_and_small_effect():
    """A residual layer enters with mu = T_D: the logits move by at most T_D |tanh| |W_out| (module doc), and a
    layer with mu = 0 would change nothing."""
    p, x, _ = _net(4, [3, 4], 1)
    newp, newo = ff.add_block(p, optim.Adagrad().init(p), np.random.default_rng(0), 0.05, 0.1)
    assert len(newp["blocks"]) == 2 and newp["blocks"][1]["mu"][0] == 0.05 and len(newo["sum_sq"]["blocks"]) == 2
    bound = 0.05 * np.abs(newp["out"]["W"]).sum(axis=0).max()
    assert np.abs(_plain_forward(newp, x) - _plain_forward(p, x)).max() <= bound
    off = dict(newp, blocks=[newp["blocks"][0], dict(newp["blocks"][1], mu=np.zeros(1))])
    assert np.array_equal(_plain_forward(off, x), _plain_forward(p, x))
    back, backo = ff.delete_blocks(newp, newo, [1])
    assert np.array_equal(_plain_forward(back, x), _plain_forward(p, x)) and len(backo["sum_sq"]["blocks"]) == 1


def test_rule_acts_per_layer():
    """Layer 0 has two excess sub-threshold neurons, layer 1 none: only layer 0 loses neurons (k = 1, P_del = 1);
    layer 1 (no reserve) gets one (P_add = 1)."""
    p, _, _ = _net(2, [4, 3], 0)
    p["layers"][0]["m"] = np.array([0.03, 1.0, 0.03, 0.04])
    p["layers"][1]["m"] = np.array([1.0, 0.9, 0.8])
    cfg = dict(m_min=0.025, t_d=0.05, k=1, p_del=1.0, p_add=1.0, p_spontaneous=0.0, max_width=99,
               depth_growth=False, init_scale=0.1)
    newp, _, events = ff.structural_update(p, optim.Adagrad().init(p), cfg, np.random.default_rng(0))
    assert [e["kind"] for e in events] == ["delete", "add"]
    assert events[0]["layer"] == 0 and len(events[0]["indices"]) == 2 and events[1]["layer"] == 1
    assert newp["layers"][0]["W"].shape == (2, 2) and newp["layers"][1]["W"].shape == (2, 4)
    assert newp["out"]["W"].shape == (4, 3)


def test_depth_rule_adds_and_deletes_residual_layers():
    p, _, _ = _net(3, [3], 3)
    for blk, mu in zip(p["blocks"], (0.03, 1.0, 0.02)):
        blk["mu"] = np.array([mu])
    cfg = dict(m_min=0.025, t_d=0.05, k=1, p_del=0.0, p_add=0.0, p_spontaneous=0.0, max_width=99,
               depth_growth=True, k_layers=1, p_del_layer=1.0, p_add_layer=1.0, max_blocks=20, init_scale=0.1)
    newp, _, events = ff.structural_update(p, optim.Adagrad().init(p), cfg, np.random.default_rng(0))
    assert [(e["kind"], e["layer"]) for e in events] == [("delete", "blocks")]  # one of the two kept in reserve
    mus = sorted(float(b["mu"][0]) for b in newp["blocks"])
    assert len(mus) == 2 and mus[1] == 1.0 and mus[0] in (0.03, 0.025)  # 0.02 was floored to M_min
    # no residual layer in reserve (all above T_D) -> one is added with mu = T_D
    q = dict(newp, blocks=[dict(b, mu=np.array([1.0])) for b in newp["blocks"]])
    q2, _, ev2 = ff.structural_update(q, optim.Adagrad().init(q), cfg, np.random.default_rng(1))
    assert ev2 == [{"kind": "add", "layer": "blocks"}] and q2["blocks"][-1]["mu"][0] == 0.05


def test_model_runs_and_grows():
    M = get_model("diffrnn-ff")
    m = M()
    cfg = M.validate_config({"n_train": 128, "n_test": 64, "depth_growth": True, "widths": [1, 1], "p_add": 0.5,
                             "p_add_layer": 0.5})
    rng = np.random.default_rng(0)
    state = m.init(cfg, rng)
    for i in range(60):
        state, met = m.step(state, cfg, rng, i)
    assert met["width_1"] > 1 and met["width_2"] > 1 and met["n_blocks"] >= 1
    ev = m.evaluate(state, cfg, rng)
    assert 0.0 <= ev["test_acc"] <= 1.0 and ev["n_added"] >= 2 and ev["blocks_added"] >= 1
    for path_tree in (state["params"], state["opt"]["sum_sq"]):
        assert len(path_tree["blocks"]) == met["n_blocks"]


def test_without_structure_sizes_stay_and_floors_hold():
    M = get_model("diffrnn-ff")
    m = M()
    cfg = M.validate_config({"n_train": 128, "n_test": 64, "widths": [3, 2], "n_blocks": 1, "structure": False,
                             "l1": 0.5, "l1_layer": 0.5})
    rng = np.random.default_rng(0)
    state = m.init(cfg, rng)
    for i in range(40):
        state, met = m.step(state, cfg, rng, i)
    assert (met["width_1"], met["width_2"], met["n_blocks"]) == (3, 2, 1)
    assert state["params"]["layers"][0]["m"].min() >= 0.025 and state["params"]["blocks"][0]["mu"][0] >= 0.025


def test_config_errors_are_named():
    M = get_model("diffrnn-ff")
    with pytest.raises(ConfigError, match="widths"):
        M.validate_config({"widths": []})
    with pytest.raises(ConfigError, match="m_min"):
        M().init(M.validate_config({"m_min": 0.06}), np.random.default_rng(0))
    with pytest.raises(ConfigError, match="batch_size"):
        M().init(M.validate_config({"n_train": 10, "batch_size": 64}), np.random.default_rng(0))


def test_oracle_case_is_the_objective_and_its_gradient():
    M = get_model("diffrnn-ff")
    cfg = M.validate_config({"widths": [3, 2], "n_blocks": 2, "l1": 1e-2, "l1_layer": 2e-2})
    case = M().oracle_case(cfg, np.random.default_rng(5))
    p, x, y = case["params"], case["inputs"]["x"], case["inputs"]["y"].astype(np.int64)
    total, ce = ff.objective(p, x, y, 1e-2, 2e-2)
    assert case["losses"]["total"] == pytest.approx(float(total), rel=1e-14)
    assert case["losses"]["cross_entropy"] == float(ce)
    assert np.allclose(case["outputs"]["logits"], _plain_forward(p, x), rtol=1e-13, atol=1e-14)
    assert np.allclose(case["outputs"]["probs"].sum(axis=1), 1.0)
    _, g = ff.loss_and_grads(p, x, y, 1e-2, 2e-2)
    assert all(np.array_equal(a, b) for a, b in zip(tree_flatten(g)[0], tree_flatten(case["grads"])[0]))
    assert len(p["blocks"]) == 2 and 0.025 <= p["blocks"][0]["mu"][0] <= 1.5

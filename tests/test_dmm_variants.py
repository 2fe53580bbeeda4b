"""DMM start networks (feedforward / compare-free / recurrent) and the multi-start schedule (n_starts).

Each variant equals the reference where they coincide (the compare-free net is the feed-forward one without its
compare links; the recurrent net holds the feed-forward one with the accumulators' memory links as soft gates at 1;
the first start of a multi-start run is the single-start run) and differs where it should.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.models.api import get_model
from minidsn.models.dmm.compiled import EpisodePlan
from minidsn.models.dmm.handcrafted import handcrafted_traces
from minidsn.models.dmm.synthesis import DEFAULTS, cfg_plan, new_state, synthesis_step
from minidsn.models.dmm.trainable import hard_links, network_links, recurrent_links, soft_links

S = "test string."


def _cfg(**kw):
    cfg = dict(DEFAULTS, n_layers=2, n_cycles=40, base_steps=3, round_steps=2, final_steps=2, target_links=60,
               prune_fraction=0.2, lr=1e-2)
    cfg.update(kw)
    return cfg


def _run(cfg, n, seed=0):
    rng = np.random.default_rng(seed)
    state = new_state(cfg, rng)
    out = []
    for _ in range(n):
        state, m = synthesis_step(state, cfg, rng)
        out.append(m)
    return state, out


def test_compare_free_note_network_has_942_links_and_trains():
    links, hard = network_links("compare-free", 6, 2)
    assert len(links) == len(set(links)) == 942
    assert not any("compare" in l[0] or "compare" in l[2] for l in links)
    assert len(hard) == 2 + 12  # timer links + the 12 accumulators' memory links
    model = get_model("dmm")()
    cfg = model.validate_config({"network": "compare-free", "n_layers": 6, "n_cycles": 40, "base_steps": 2,
                                 "round_steps": 2, "loss_guard": 1e9, "loss_cap": 1e9})
    rng = np.random.default_rng(0)
    state = model.init(cfg, rng, None)
    assert len(state["params"]["gates"]) == 942
    losses = []
    for i in range(4):
        state, m = model.step(state, cfg, rng, i)
        losses.append(m["data_loss"])
    assert np.all(np.isfinite(losses)) and len(state["link_ids"]) < 942  # trained and pruned


@given(st.integers(1, 4), st.integers(1, 3))
@settings(max_examples=10, deadline=None)
def test_compare_free_is_feedforward_without_compare_links(n_layers, n_per_layer):
    ff = soft_links(n_layers, n_per_layer)
    cf = network_links("compare-free", n_layers, n_per_layer)[0]
    assert cf == [l for l in ff if "compare" not in l[0] and "compare" not in l[2]]  # same links, same order


@given(st.integers(0, 10_000), st.floats(0.05, 0.8))
@settings(max_examples=4, deadline=None)
def test_compare_free_episode_equals_feedforward_with_compare_gates_zero(seed, scale):
    n_layers, n_cycles = 2, 40
    targets = handcrafted_traces(S, n_cycles)
    ff, cf = soft_links(n_layers), network_links("compare-free", n_layers)[0]
    w_cf = scale * np.random.default_rng(seed).standard_normal(len(cf))
    pos = {l: i for i, l in enumerate(cf)}
    w_ff = np.array([w_cf[pos[l]] if l in pos else 0.0 for l in ff])
    p_ff = EpisodePlan(S, ff, hard_links(n_layers), targets)
    p_cf = EpisodePlan(S, cf, hard_links(n_layers), targets)
    np.testing.assert_allclose(p_cf.outputs(w_cf), p_ff.outputs(w_ff), rtol=1e-12, atol=1e-12)
    # and it differs: a compare path switched on (const_1 -> compare -> output) changes the feed-forward episode
    w_on = w_ff.copy()
    w_on[ff.index(("compare-1-1", "dict-1", "const_1", "const_1"))] = 1.0
    w_on[ff.index(("output", "dict-1", "compare-1-1", "true"))] = 1.0
    assert not np.allclose(p_ff.outputs(w_on), p_cf.outputs(w_cf))


def test_recurrent_start_is_fully_connected_without_hard_wiring():
    links, hard = network_links("recurrent", 5, 2)
    assert len(links) == len(set(links)) == 3816  # (5 x 2 x 7 + 2) input fields x (3 + 5 x 2 x 5) outputs
    assert [h[:2] for h in hard] == [("timer", "timer"), ("input", "timer")]  # nothing hand-wired but the timer
    assert ("accum-1-1", "dict-1", "accum-1-1", "dict") in links  # the memory link is a gate
    assert ("accum-1-1", "dict-2", "dot-5-2", "dot") in links  # feedback from a later layer
    assert ("norm-3-1", "dict", "norm-3-1", "norm") in links  # self-loop
    assert set(soft_links(5, 2)) < set(links)


@given(st.integers(0, 10_000), st.floats(0.05, 0.8), st.integers(1, 3))
@settings(max_examples=4, deadline=None)
def test_recurrent_episode_holds_the_feedforward_one(seed, scale, n_layers):
    """Gates of the feed-forward net on their links, 1 on the accumulators' memory links, 0 elsewhere: the
    recurrent start computes the feed-forward episode exactly; a feedback gate switched on changes it."""
    n_cycles = 40
    targets = handcrafted_traces(S, n_cycles)
    ff, rec = soft_links(n_layers), recurrent_links(n_layers)
    w_ff = scale * np.random.default_rng(seed).standard_normal(len(ff))
    pos = {l: i for i, l in enumerate(ff)}
    memory = {(f"accum-{i}-{k}", "dict-1", f"accum-{i}-{k}", "dict") for i in range(1, n_layers + 1)
              for k in (1, 2)}
    w_rec = np.array([w_ff[pos[l]] if l in pos else (1.0 if l in memory else 0.0) for l in rec])
    p_ff = EpisodePlan(S, ff, hard_links(n_layers), targets)
    p_rec = EpisodePlan(S, rec, network_links("recurrent", n_layers)[1], targets)
    np.testing.assert_allclose(p_rec.outputs(w_rec), p_ff.outputs(w_ff), rtol=1e-12, atol=1e-12)
    j = rec.index(("accum-1-1", "dict-2", f"accum-{n_layers}-1", "dict"))  # a feedback link
    w_fb = w_rec.copy()
    w_fb[j] = 0.5
    assert not np.allclose(p_rec.outputs(w_fb), p_ff.outputs(w_ff))


def test_recurrent_start_trains_and_prunes():
    cfg = _cfg(network="recurrent", n_layers=1, target_links=10)
    state, ms = _run(cfg, 8)
    assert len(cfg_plan(cfg).links) == (2 * 7 + 2) * (3 + 2 * 5)  # input fields x outputs, one layer of 2
    assert all(np.isfinite(m["loss"]) for m in ms)
    assert len(state["link_ids"]) < len(cfg_plan(cfg).links)


def test_options_off_are_the_reference_run():
    """Defaults: no new state key, no draw; explicitly 'off' values give the default run bit for bit."""
    cfg = _cfg()
    ref_state, ref = _run(cfg, 25)
    assert not {"network_id", "start", "start_step", "best"} & set(ref_state)
    off_state, off = _run(_cfg(network="feedforward", n_starts=1, start_steps=5, start_guard=1.0,
                               lam_floor_growth=1.0), 25)
    assert off == ref
    np.testing.assert_array_equal(off_state["params"]["gates"], ref_state["params"]["gates"])
    np.testing.assert_array_equal(off_state["link_ids"], ref_state["link_ids"])


def test_multi_start_first_start_is_the_single_run_then_best_continues():
    k = 9
    cfg1 = _cfg()
    cfgm = _cfg(n_starts=3, start_steps=k, start_guard=1e9)
    single, ms1 = _run(cfg1, k)
    rng = np.random.default_rng(0)
    state = new_state(cfgm, rng)
    scores = []
    for i in range(3 * k):
        state, m = synthesis_step(state, cfgm, rng)
        if i < k:
            assert m["loss"] == ms1[i]["loss"] and m["n_links"] == ms1[i]["n_links"]  # start 0 = the single run
        if (i + 1) % k == 0:
            scores.append(state["best"]["score"].copy())
        if i == k - 1:  # a fresh start: all links, new gates
            assert state["start"] == 1 and len(state["link_ids"]) == len(cfg_plan(cfgm).links)
            assert not np.array_equal(state["params"]["gates"][:10], single["params"]["gates"][:10])
    # after the last start the best-scored one continues: fewest links (every start meets the guard here)
    assert state["start"] == 3 and state["start_step"] == 0
    assert state["best"]["score"][1] == len(state["link_ids"]) == min(s[1] for s in scores)
    state, m = synthesis_step(state, cfgm, rng)  # and the schedule goes on from it
    assert np.isfinite(m["loss"]) and m["start"] == 3.0


def test_multi_start_needs_rng():
    cfg = _cfg(n_starts=2, start_steps=2)
    state = new_state(cfg, np.random.default_rng(0))
    state, _ = synthesis_step(state, cfg)
    with pytest.raises(ValueError, match="rng"):
        synthesis_step(state, cfg)


def test_lam_floor_growth_ramps_the_controllers_floor():
    """With a data-loss target no round meets, the controller sits at its floor: lam_base without the ramp,
    lam_base * g**round with it."""
    kw = dict(prune_rule="cutoff", prune_cutoff=1e-6, lam_target=1e-9, lam_growth=1.5, lam_max=10.0, loss_guard=1e9,
              loss_cap=1e9)
    _, flat = _run(_cfg(**kw), 15)
    _, ramp = _run(_cfg(lam_floor_growth=2.0, **kw), 15)
    assert {m["lam"] for m in flat} == {DEFAULTS["lam_base"]}
    # base 3 steps, rounds of 2: round k (k >= 1) ends after step 3 + 2k and the next steps train at 0.001 * 2**k
    assert [ramp[i]["lam"] for i in (3, 5, 7, 9, 13)] == [0.001, 0.002, 0.004, 0.008, 0.032]

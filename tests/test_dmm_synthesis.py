"""Synthesis schedule: pruning trims gates and Adam moments together; reverts restore the accepted snapshot."""

import numpy as np

from minidsn.models.dmm.synthesis import DEFAULTS, link_table, new_state, synthesis_step


def _cfg(**kw):
    cfg = dict(DEFAULTS, n_layers=2, n_cycles=40, base_steps=3, round_steps=2, final_steps=2, target_links=150,
               prune_fraction=0.2, lr=1e-2)
    cfg.update(kw)
    return cfg


def test_prune_trims_moments_with_links():
    cfg = _cfg()
    st = new_state(cfg, np.random.default_rng(0))
    n0 = len(st["link_ids"])
    before = None
    for _ in range(3):
        before = st
        st, m = synthesis_step(st, cfg)
    assert m["event"] > 0 and len(st["link_ids"]) == n0 - int(m["event"])
    kept = np.isin(before["link_ids"], st["link_ids"])
    for slot in ("m", "v"):
        assert st["opt"][slot]["gates"].shape == st["params"]["gates"].shape
    # the surviving entries are the largest |w| (after the last Adam step) and their moments are carried over
    dropped = ~kept
    assert dropped.sum() == int(m["event"])
    assert len(link_table(cfg, st)) == len(st["link_ids"])


def test_runs_to_final_phase():
    cfg = _cfg()
    st = new_state(cfg, np.random.default_rng(1))
    for _ in range(40):
        st, m = synthesis_step(st, cfg)
    assert st["phase"] == "final"
    assert len(st["link_ids"]) >= cfg["target_links"]
    assert np.isfinite(m["loss"])


def test_ablation_order_removes_least_damaging_link_first():
    from minidsn.models.dmm.synthesis import _plan_for, _prune_order

    cfg = _cfg(prune_rule="ablation", ablation_links=10_000)
    st = new_state(cfg, np.random.default_rng(2))
    for _ in range(2):
        st, _ = synthesis_step(st, cfg)
    plan = _plan_for(cfg, st)
    w = st["params"]["gates"] * 30.0  # large gates: removals change the loss by clearly different amounts
    order = _prune_order(plan, w, 3, cfg)
    assert sorted(order.tolist()) == list(range(len(w)))

    def ablated(i):
        v = w.copy()
        v[i] = 0.0
        return plan.loss(v)

    losses = [ablated(i) for i in order[:5]]
    assert losses == sorted(losses)
    assert losses[0] <= min(ablated(i) for i in range(len(w)))
    assert plan.loss(w) == plan.plans[0].forward(w)[0]  # cache left at the current gates


def test_guard_ref_last_and_window_run_to_final_phase():
    cfg = _cfg(prune_rule="ablation", guard_ref="last", loss_cap=1e3, guard_window=2)
    st = new_state(cfg, np.random.default_rng(1))
    for _ in range(40):
        st, m = synthesis_step(st, cfg)
    assert st["phase"] == "final" and st["ref_data_loss"] > 0
    assert np.isfinite(m["loss"])


def test_bad_rule_names():
    import pytest

    for kw in ({"prune_rule": "random"}, {"guard_ref": "median"}):
        cfg = _cfg(**kw)
        st = new_state(cfg, np.random.default_rng(0))
        with pytest.raises(ValueError, match=next(iter(kw))):
            for _ in range(4):
                st, _ = synthesis_step(st, cfg)


def test_lam_schedule_held_per_round_and_round_lengths():
    from minidsn.models.dmm.synthesis import _round_lam, _round_steps

    cfg = _cfg(lam_schedule=(0.01, 0.01, 0.03), round_steps_schedule=(2, 2, 5), loss_guard=1e9, loss_cap=1e9,
               target_links=10)
    assert [_round_lam(cfg, k) for k in (1, 2, 3, 4, 9)] == [0.01, 0.01, 0.03, 0.03, 0.03]
    assert [_round_steps(cfg, k) for k in (0, 1, 2, 7)] == [2, 2, 5, 5]
    st = new_state(cfg, np.random.default_rng(0))
    lams, events = [], []
    for _ in range(3 + 2 + 2 + 5):
        st, m = synthesis_step(st, cfg)
        lams.append(m["lam"])
        events.append(m["event"])
    # base (3 steps at lam_base), then rounds of 2, 2, 5 steps at 0.01, 0.01, 0.03; a prune ends each
    assert lams == [cfg["lam_base"]] * 3 + [0.01] * 4 + [0.03] * 5
    assert [i for i, e in enumerate(events) if e > 0] == [2, 4, 6, 11]


def test_lam_backoff_scales_lambda_after_a_failed_round():
    cfg = _cfg(lam_schedule=(0.1,), lam_backoff=0.5, loss_guard=1e-12, guard_ratio=1e-12, loss_cap=1e-12,
               max_single_tries=100)
    st = new_state(cfg, np.random.default_rng(0))
    for _ in range(3):  # base phase: always accepted, lam -> 0.1
        st, m = synthesis_step(st, cfg)
    assert st["lam"] == 0.1
    for _ in range(2):  # the first round fails the (impossible) guard: revert, lambda halves
        st, m = synthesis_step(st, cfg)
    assert st["lam_scale"] == 0.5 and st["lam"] == 0.05


def test_cutoff_rule_removes_exactly_the_links_below_the_cutoff():
    kw = dict(prune_rule="cutoff", loss_guard=1e9, loss_cap=1e9, target_links=1)
    cfg, ref_cfg = _cfg(prune_cutoff=0.01, **kw), _cfg(prune_cutoff=0.0, **kw)
    st, ref = new_state(cfg, np.random.default_rng(3)), new_state(ref_cfg, np.random.default_rng(3))
    for _ in range(3):  # the third step ends the base phase: a prune event
        st, m = synthesis_step(st, cfg)
        ref, m_ref = synthesis_step(ref, ref_cfg)  # same updates, nothing pruned (cutoff 0)
    w = ref["params"]["gates"]
    below = np.abs(w) < 0.01
    assert m["event"] == below.sum() > 0 and m_ref["event"] == 0
    np.testing.assert_array_equal(st["link_ids"], ref["link_ids"][~below])
    np.testing.assert_array_equal(st["params"]["gates"], w[~below])


def test_cutoff_rule_prunes_nothing_when_no_link_is_small():
    cfg = _cfg(prune_rule="cutoff", prune_cutoff=1e-12, loss_guard=1e9, loss_cap=1e9, init_scale=1.0)
    st = new_state(cfg, np.random.default_rng(4))
    n0 = len(st["link_ids"])
    events = []
    for _ in range(3 + 2 * 3):
        st, m = synthesis_step(st, cfg)
        events.append(m["event"])
    assert events == [0.0] * len(events) and len(st["link_ids"]) == n0


def test_lam_target_controller_raises_lambda_while_the_target_is_met_and_lowers_it_otherwise():
    kw = dict(prune_rule="cutoff", prune_cutoff=0.0, loss_guard=1e9, loss_cap=1e9, lam_growth=2.0, lam_base=0.001,
              lam_max=0.004)
    for target, want in ((1e9, [0.002, 0.004, 0.004]), (1e-12, [0.001, 0.001, 0.001])):
        cfg = _cfg(lam_target=target, **kw)
        st = new_state(cfg, np.random.default_rng(5))
        lams = []
        for _ in range(3):
            st, _ = synthesis_step(st, cfg)
        lams.append(st["lam"])  # after the base phase
        for _ in range(2 * 2):
            st, _ = synthesis_step(st, cfg)
            if st["phase_step"] == 0:
                lams.append(st["lam"])
        assert lams == want, (target, lams)


def test_recover_steps_train_the_end_of_each_round_at_lam_final():
    cfg = _cfg(lam_schedule=(0.05,), round_steps=4, recover_steps=1, lam_final=0.0, loss_guard=1e9, loss_cap=1e9)
    st = new_state(cfg, np.random.default_rng(6))
    lams = []
    for _ in range(3 + 8):
        st, m = synthesis_step(st, cfg)
        lams.append(m["lam"])
    assert lams[3:] == [0.05, 0.05, 0.05, 0.0] * 2


def test_prune_growth_lets_a_halved_fraction_grow_back_to_its_configured_value():
    from minidsn.models.dmm.synthesis import _end_of_round

    cfg = _cfg(prune_growth=1.5, prune_fraction=0.2, loss_guard=1e9, loss_cap=1e9)
    st = new_state(cfg, np.random.default_rng(7))
    for _ in range(3):
        st, _ = synthesis_step(st, cfg)
    st = dict(st, prune_fraction=0.05)
    st = _end_of_round(st, cfg, {"event": 0.0})  # accepted: 0.05 * 1.5
    assert np.isclose(st["prune_fraction"], 0.075)
    for _ in range(5):
        st = _end_of_round(st, cfg, {"event": 0.0})
    assert st["prune_fraction"] == 0.2


def test_tail_phase_after_max_rounds_keeps_its_phase_through_reverts_and_ends_in_final():
    cfg = _cfg(prune_rule="cutoff", prune_cutoff=0.0, loss_guard=1e9, loss_cap=1e9, max_rounds=2,
               tail_guard=1e-12, tail_round_steps=2, tail_lam=0.002, tail_tries=2, target_links=1)
    st = new_state(cfg, np.random.default_rng(8))
    phases = []
    for _ in range(3 + 2 * 2 + 2 * 4 + 2):
        st, m = synthesis_step(st, cfg)
        phases.append(st["phase"])
    assert "tail" in phases and phases[-1] == "final"
    i = phases.index("tail")
    # the (impossible) tail guard fails every single-link removal: reverts stay in the tail until tail_tries
    assert set(phases[i:phases.index("final")]) == {"tail"}
    n_tail = len(st["link_ids"])
    assert n_tail == len(new_state(cfg, np.random.default_rng(8))["link_ids"])  # nothing was accepted


def test_extra_strings_train_on_the_sum_of_the_episode_losses():
    from minidsn.engine import grad
    from minidsn.models.dmm.synthesis import _plan_for

    cfg = _cfg(extra_strings=("mississippi.",))
    st = new_state(cfg, np.random.default_rng(9))
    both = _plan_for(cfg, st)
    one = _plan_for(_cfg(), st)
    other = _plan_for(_cfg(string="mississippi."), st)
    w = st["params"]["gates"] * 20.0
    assert len(both.plans) == 2
    assert np.isclose(both.loss(w), one.loss(w) + other.loss(w), rtol=1e-13)
    g_both = grad(both.differentiable_loss)(w)
    np.testing.assert_allclose(g_both, grad(one.differentiable_loss)(w) + grad(other.differentiable_loss)(w),
                               rtol=1e-12, atol=1e-14)
    for _ in range(5):  # a run with two episodes per step reaches its first prune
        st, m = synthesis_step(st, cfg)
    assert len(st["link_ids"]) < len(both.links)


def test_link_table_file_uses_the_runs_network_size(tmp_path):
    from minidsn.models.dmm.model import DMMModel

    cfg = _cfg(n_layers=2, n_per_layer=1)
    st = new_state(cfg, np.random.default_rng(10))
    for _ in range(4):
        st, _ = synthesis_step(st, cfg)
    DMMModel().plot(st, {}, str(tmp_path))
    lines = (tmp_path / "links.txt").read_text().splitlines()
    want = [f"{r[0]}.{r[1]} <- {r[2]}.{r[3]}  {r[4]:+.4f}" for r in link_table(cfg, st)]
    assert lines == want and len(lines) == len(st["link_ids"])


def test_single_link_pruning_ends_when_every_remaining_link_has_failed():
    # an impossible tail guard and more allowed failures than there are links: the tail must still end (it used to
    # run out of candidates, "accept" a round that removed nothing, reset its failure count and loop forever)
    cfg = _cfg(prune_rule="cutoff", prune_cutoff=0.025, loss_guard=1e9, loss_cap=1e9, target_links=1, max_rounds=1,
               tail_guard=1e-12, tail_round_steps=1, tail_lam=0.0, tail_tries=10**6)
    st = new_state(cfg, np.random.default_rng(11))
    while st["phase"] != "tail":  # base, one round: most links are below the cutoff and go
        st, _ = synthesis_step(st, cfg)
    n = len(st["link_ids"])  # the accepted machine the tail starts from
    assert 1 < n < 60
    for i in range(2 * n + 5):
        st, _ = synthesis_step(st, cfg)
        if st["phase"] == "final":
            break
    assert st["phase"] == "final" and len(st["link_ids"]) == n

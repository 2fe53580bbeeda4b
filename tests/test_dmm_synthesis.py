"""Synthesis schedule: pruning trims gates and Adam moments together; reverts restore the accepted snapshot."""

import numpy as np

from minidsn.models.dmm_synthesis import DEFAULTS, link_table, new_state, synthesis_step


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
    from minidsn.models.dmm_synthesis import _plan_for, _prune_order

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
    assert plan.loss(w) == plan.forward(w)[0]  # cache left at the current gates


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
    from minidsn.models.dmm_synthesis import _round_lam, _round_steps

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

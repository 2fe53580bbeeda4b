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

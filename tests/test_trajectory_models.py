"""Trajectory cases of diffrnn, isotropic and dmm (docs/oracle.md): each recorded step replays bit for bit from its
state, inputs and draws; consecutive steps chain; recording does not change the run; the default case shows every
event kind the model has."""

import numpy as np
import pytest

from minidsn.models.api import get_model

# (model, config on top of the model's trajectory_defaults)
CASES = [
    ("diffrnn", {"variant": "g2"}),
    ("diffrnn", {"variant": "altern"}),
    ("diffrnn", {"variant": "g3"}),
    ("diffrnn", {"variant": "fixed"}),
    *[("isotropic", {"o_mode": o, "psi_mode": p}) for o in ("none", "constant", "trainable")
      for p in ("none", "zeros", "trainable", "trainable_decay", "expectation")],
    ("isotropic", {"activation": "elementwise", "o_mode": "none", "psi_mode": "none"}),
    ("dmm", {}),
    ("dmm", {"prune_optimizer": "reset", "n_layers": 2}),
]
# cases whose event kinds depend on the run: replayed, not required to show every kind
PARTIAL = [("isotropic", {"auto_adapt": True, "width_target": 0, "K": 2, "tau": 0.5}),
           ("isotropic", {"auto_adapt": True, "width_target": 0, "K": 2, "tau": 1.5})]


def same(a, b, where="", dtypes=False) -> None:
    """Bitwise equality of two pytrees / event lists (dict keys, list lengths, values; nan equals nan); with
    ``dtypes`` the arrays' dtypes must match too."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and set(a) == set(b), f"{where}: keys {sorted(a)} vs {sorted(b)}"
        for k in a:
            same(a[k], b[k], f"{where}/{k}", dtypes)
    elif isinstance(a, (list, tuple)):
        assert isinstance(b, (list, tuple)) and len(a) == len(b), f"{where}: lengths {len(a)} vs {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            same(x, y, f"{where}/{i}", dtypes)
    elif a is None or isinstance(a, str):
        assert a == b, f"{where}: {a!r} vs {b!r}"
    else:
        x, y = np.asarray(a), np.asarray(b)
        assert x.shape == y.shape, f"{where}: shape {x.shape} vs {y.shape}"
        assert not dtypes or x.dtype == y.dtype, f"{where}: dtype {x.dtype} vs {y.dtype}"
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f" and y.dtype.kind == "f"), \
            f"{where}: values differ (max abs {np.max(np.abs(x - y)) if x.size else 0})"


def _case(model, extra, seed=0, steps=None):
    cls = get_model(model)
    cfg = cls.validate_config({**cls.trajectory_defaults, **extra}, explicit=extra)  # as trajectory_config
    m = cls()
    return m, cfg, m.trajectory(cfg, np.random.default_rng(seed), None, steps or cls.trajectory_steps)


@pytest.mark.parametrize("model,extra", CASES + PARTIAL, ids=[f"{m}-{e}" for m, e in CASES + PARTIAL])
def test_trajectory_replays_bit_for_bit_and_chains(model, extra):
    m, cfg, tr = _case(model, extra)
    steps = tr["steps"]
    assert len(steps) == get_model(model).trajectory_steps
    for k, s in enumerate(steps):
        after, losses, grads, events = m.trajectory_step(cfg, s["state_before"], s["inputs"], s["draws"])
        same(after, s["state_after"], f"step {k} state_after")
        same(losses, s["losses"], f"step {k} losses")
        same(grads, s["grads"], f"step {k} grads")
        same(events, s["events"], f"step {k} events")
        assert "total" in s["losses"]
        if k:
            same(s["state_before"], steps[k - 1]["state_after"], f"step {k} state_before")
    seen = sorted({e["kind"] for s in steps for e in s["events"]})
    assert set(seen) <= set(tr["meta"]["event_kinds"])
    if (model, extra) in PARTIAL:
        assert seen, "auto-adaptation changed no width"
    else:
        assert seen == sorted(tr["meta"]["event_kinds"]), "the default case must show every event kind"


def _training_view(model, state):
    if model == "diffrnn":
        from minidsn.models.diffrnn.cycle import training_state
    elif model == "isotropic":
        from minidsn.models.isotropic.training import training_state
    else:
        from minidsn.models.dmm.synthesis import training_state
    return training_state(state)


@pytest.mark.parametrize("model,extra", [("diffrnn", {"variant": "g2"}), ("diffrnn", {"variant": "g3"}),
                                         ("isotropic", {}), ("dmm", {})])
def test_recording_does_not_change_the_run(model, extra):
    """K plain Model.step calls from the same seed end in the trajectory's last state_after, with the generator in
    the same place (the recorded draws are exactly the run's draws)."""
    m, cfg, tr = _case(model, extra, seed=5)
    rng = np.random.default_rng(5)
    state = m.init(cfg, rng, None)
    for i in range(len(tr["steps"])):
        state, _ = m.step(state, cfg, rng, i)
    same(_training_view(model, state), tr["steps"][-1]["state_after"], "run vs record")
    rng_t = np.random.default_rng(5)
    m.trajectory(cfg, rng_t, None, len(tr["steps"]))
    assert rng.random() == rng_t.random()


@pytest.mark.parametrize("model", ["diffrnn", "isotropic", "dmm"])
def test_trajectory_meta_is_json_and_names_forced_options(model):
    import json

    _, cfg, tr = _case(model, {})
    json.dumps(tr["meta"])
    assert set(tr["meta"]["forced"]) <= set(get_model(model).trajectory_defaults)
    assert tr["meta"]["forced"], "the default case forces options and must say why"


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None)
@given(variant=st.sampled_from(["g2", "altern", "g3"]), hidden=st.integers(1, 6), seed=st.integers(0, 2**16),
       p_add=st.sampled_from([0.0, 0.5, 1.0]), p_del=st.sampled_from([0.0, 0.5, 1.0]))
def test_diffrnn_events_match_the_shapes_they_claim(variant, hidden, seed, p_add, p_del):
    """For any config: each step replays bit for bit, every event's size is the size it leaves, a deletion removes
    exactly its indices (the kept neurons' weights are the rest), an addition appends its values at the end."""
    cls = get_model("diffrnn")
    cfg = cls.validate_config({**cls.trajectory_defaults, "variant": variant, "hidden_size": hidden,
                               "p_add": p_add, "p_del": p_del, "seq_length": 12},
                              explicit=("variant", "hidden_size", "p_add", "p_del", "seq_length"))
    m = cls()
    tr = m.trajectory(cfg, np.random.default_rng(seed), None, 3)
    for k, s in enumerate(tr["steps"]):
        out = m.trajectory_step(cfg, s["state_before"], s["inputs"], s["draws"])
        same(out, (s["state_after"], s["losses"], s["grads"], s["events"]), f"step {k}")
        H = s["state_before"]["carried"].shape[0]
        for e in s["events"]:
            if e["kind"] == "delete":
                assert e["size"] == H - len(e["indices"]) and np.all(np.diff(e["indices"]) > 0)
                assert e["indices"].min() >= 0 and e["indices"].max() < H
            else:
                assert e["index"] == H and e["size"] == H + 1 and e["Whh_col"].shape == (H + 1,)
            H = e["size"]
        after = s["state_after"]
        assert after["carried"].shape == (H,) and after["params"]["Whh"].shape == (H, H)
        for name, a in after["params"].items():
            assert after["opt"]["mean_sq" if variant == "g3" else "sum_sq"][name].shape == a.shape
        adds = [e for e in s["events"] if e["kind"] == "add"]
        if adds:
            np.testing.assert_array_equal(after["params"]["Whh"][-1, :-1], adds[0]["Whh_row"])
            np.testing.assert_array_equal(after["params"]["Whh"][:, -1], adds[0]["Whh_col"])
            np.testing.assert_array_equal(after["params"]["Wiy"][:, -1], adds[0]["Wiy_col"])

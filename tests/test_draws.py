"""Recording and replaying a step's random draws (minidsn.models.draws)."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn.models.draws import DrawReplayError, RecordingGenerator, ReplayGenerator, draw_label


def _step(rng):
    """A stand-in for a training step that draws in every supported way, some of it conditionally."""
    out = [rng.random(), rng.uniform(-1, 1, size=3), rng.normal(0.0, 2.0, size=(2, 2)), rng.standard_normal(4),
           rng.integers(0, 10, size=5), rng.permutation(6)]
    with draw_label(rng, "coin"):
        u = rng.random()
    if u < 0.5:
        out.append(rng.choice(7, size=2, replace=False))
    out.append(u)
    return out


def _same(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
        assert np.asarray(x).dtype == np.asarray(y).dtype


@given(st.integers(0, 2**32 - 1))
@settings(max_examples=30, deadline=None)
def test_recording_draws_exactly_what_the_bare_generator_draws_and_replay_returns_it(seed):
    bare = _step(np.random.default_rng(seed))
    rec = RecordingGenerator(np.random.default_rng(seed))
    recorded = _step(rec)
    _same(bare, recorded)
    assert [d.label for d in rec.draws][:7] == ["random", "uniform", "normal", "standard_normal", "integers",
                                                 "permutation", "coin"]
    rep = ReplayGenerator(rec.draws)
    _same(recorded, _step(rep))
    rep.finish()


def test_replay_refuses_a_different_draw_and_unused_draws():
    rec = RecordingGenerator(np.random.default_rng(0))
    rec.random(size=3)
    rec.normal()
    with pytest.raises(DrawReplayError, match="asks for uniform"):
        ReplayGenerator(rec.draws).uniform()
    with pytest.raises(DrawReplayError, match="shape"):
        ReplayGenerator(rec.draws).random(size=4)
    rep = ReplayGenerator(rec.draws)
    rep.random(size=3)
    with pytest.raises(DrawReplayError, match="used 1 of 2"):
        rep.finish()
    rep.normal()
    with pytest.raises(DrawReplayError, match="more draws"):
        rep.normal()


def test_an_unrecorded_method_is_refused():
    with pytest.raises(AttributeError, match="not recorded"):
        RecordingGenerator(np.random.default_rng(0)).exponential()


def _toy_step(cfg, state, inputs, rng):
    """A step that draws, changes a shape and reports an event (stand-in for a model's trajectory step)."""
    u = rng.random()
    w = state["w"] - cfg["lr"] * inputs["g"]
    events = []
    if u < 0.5:
        w = np.append(w, rng.normal(size=1))
        events.append({"kind": "added", "index": w.size - 1})
    return {"w": w, "t": state["t"] + 1}, {"total": float(w.sum())}, {"w": inputs["g"]}, events


def test_record_step_then_replay_step_is_bit_identical():
    from minidsn.models.draws import record_step, replay_step

    state = {"w": np.arange(3.0), "t": 0}
    rng = np.random.default_rng(1)
    steps = []
    for _ in range(6):
        rec = record_step(_toy_step, {"lr": 0.1}, state, {"g": np.ones(state["w"].size)}, rng)
        steps.append(rec)
        state = rec["state_after"]
    assert any(s["events"] for s in steps) and any(not s["events"] for s in steps)
    for s in steps:
        after, losses, grads, events = replay_step(_toy_step, {"lr": 0.1}, s["state_before"], s["inputs"], s["draws"])
        np.testing.assert_array_equal(after["w"], s["state_after"]["w"])
        assert losses == s["losses"] and events == s["events"] and after["t"] == s["state_after"]["t"]


def test_record_step_refuses_a_step_that_writes_into_its_state():
    from minidsn.models.draws import record_step

    def bad(cfg, state, inputs, rng):
        state["w"] -= 1.0
        return state, {"total": 0.0}, {}, []

    with pytest.raises(RuntimeError, match="in place"):
        record_step(bad, {}, {"w": np.zeros(2)}, {}, np.random.default_rng(0))

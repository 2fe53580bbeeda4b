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

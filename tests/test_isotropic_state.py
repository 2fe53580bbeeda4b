"""Optimiser-state edits of the isotropic operations classify slots by minidsn.optim's table, never by guessing."""

import numpy as np
import pytest

from minidsn.models.isotropic.state import Editor


def _net():
    return {"params": {"W": [np.eye(2)]}, "buffers": {}}


def test_adam_slots_follow_the_moment_rule():
    M = np.array([[0.0, 1.0], [-1.0, 0.0]]) @ np.diag([1.0, 2.0])
    state = {"step": 3, "m": {"W": [np.arange(4.0).reshape(2, 2)]}, "v": {"W": [np.arange(4.0).reshape(2, 2)]}}
    ed = Editor(_net(), state)
    ed.left("W", 0, M)
    _, st = ed.result()
    np.testing.assert_array_equal(st["m"]["W"][0], M @ state["m"]["W"][0])
    np.testing.assert_array_equal(st["v"]["W"][0], (M * M) @ state["v"]["W"][0])


def test_unknown_slot_is_an_error_not_a_guess():
    state = {"step": 1, "exp_avg_sq": {"W": [np.ones((2, 2))]}}
    with pytest.raises(KeyError, match="exp_avg_sq"):
        Editor(_net(), state).left("W", 0, np.eye(2))
    ed = Editor(_net(), state, second_moment_slots={"exp_avg_sq"})
    ed.left("W", 0, 2 * np.eye(2))
    np.testing.assert_array_equal(ed.result()[1]["exp_avg_sq"]["W"][0], 4 * np.ones((2, 2)))

"""URN read-out mistakes: minidsn's own step with one function of the structure read-out
(minidsn/models/urn/structure.py) swapped for a wrong one."""

from __future__ import annotations

import contextlib

import numpy as np

from minidsn.oracle.conformance import minidsn_backend


def used_transposed(active_at):
    """The mistake: W_ij kept where i is active at l and j at l + 1 (rows and columns swapped)."""
    a = np.asarray(active_at, dtype=np.float64)
    return (a[:-1].T @ a[1:]) > 0


def layer_last(active_at):
    """The mistake: a neuron's layer is the LAST iteration it is active at, not the first."""
    active_at = np.asarray(active_at, dtype=bool)
    last = active_at.shape[0] - 1 - np.argmax(active_at[::-1], axis=0)
    return np.where(active_at.any(axis=0), last, -1)


@contextlib.contextmanager
def patched(name, fn):
    import minidsn.models.urn.trajectory as traj

    saved = getattr(traj, name)
    setattr(traj, name, fn)
    try:
        yield
    finally:
        setattr(traj, name, saved)


class PrunedTransposed(minidsn_backend):
    def step(self, state, inputs, draws):
        with patched("used_synapse_mask", used_transposed):
            return super().step(state, inputs, draws)


class LayerLast(minidsn_backend):
    def step(self, state, inputs, draws):
        with patched("layer_of_neurons", layer_last):
            return super().step(state, inputs, draws)

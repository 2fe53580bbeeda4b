"""DMM with a pruned link left in the optimiser state: minidsn's own step (Model.trajectory_step) with
synthesis.remove_links replaced by one that removes the links from the gates and link_ids but keeps the last pruned
link's entries in the Adam moments m and v."""

from __future__ import annotations

import contextlib

import numpy as np

from minidsn.models.dmm import synthesis
from minidsn.oracle.conformance import minidsn_backend


def remove_links_keeps_one(cfg, tstate, drop):
    drop = np.asarray(drop, dtype=np.int64)
    new, event = synthesis.remove_links.__wrapped_original__(cfg, tstate, drop)
    kept = drop[:-1]  # the mistake: the last pruned link stays in m and v
    opt = dict(new["opt"], m={"gates": np.delete(tstate["opt"]["m"]["gates"], kept)},
               v={"gates": np.delete(tstate["opt"]["v"]["gates"], kept)})
    return dict(new, opt=opt), event


@contextlib.contextmanager
def pruned_link_left_in_adam():
    original = synthesis.remove_links
    remove_links_keeps_one.__wrapped_original__ = original
    synthesis.remove_links = remove_links_keeps_one
    try:
        yield
    finally:
        synthesis.remove_links = original


class PrunedLinkLeftInAdam(minidsn_backend):
    def step(self, state, inputs, draws):
        with pruned_link_left_in_adam():
            return super().step(state, inputs, draws)

"""DMM in JAX against minidsn's trajectory case (synthesis steps with link pruning), through the conformance kit at
the kit's default float64 tolerances, each step replayed from minidsn's recorded state."""

import numpy as np

from minidsn.oracle.conformance import verify_arrays
from minidsn.oracle.export import make_trajectory
from minidsn_jax.dmm.oracle import DMMBackend


def test_trajectory_case_passes_the_kit():
    arrays, meta = make_trajectory("dmm", 4, seed=0, check_replay=False)
    report = verify_arrays(arrays, meta, DMMBackend(), case="dmm seed 0")
    assert report.ok, report.format()
    assert {e["kind"] for s in meta["steps"] for e in s["events"]} == {"prune"}  # the case pruned links

    class TrimForgotten(DMMBackend):
        """A pruned link left in the first Adam moment: the kit must fail at the first pruning step."""

        def step(self, state, inputs, draws):
            new, losses, grads, events = super().step(state, inputs, draws)
            if events:
                keep = np.ones(len(state["link_ids"]), dtype=bool)
                keep[np.asarray(inputs["drop"]).astype(int)] = False
                m = np.asarray(state["opt"]["m"]["gates"])
                new["opt"]["m"]["gates"] = np.concatenate([new["opt"]["m"]["gates"], m[~keep][:1]])
            return new, losses, grads, events

    bad = verify_arrays(arrays, meta, TrimForgotten())
    step, row = bad.first_failure
    assert meta["steps"][step]["events"] and "opt/m" in row.key

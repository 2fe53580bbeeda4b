"""DiffRNN in JAX against minidsn's trajectory cases, through the conformance kit, at the kit's default float64
tolerances: every variant, each step replayed from minidsn's recorded state (additions, deletions, the Adagrad or
RMSProp memories edited with them, the carried state, the data pointer)."""

import copy

import numpy as np
import pytest

from minidsn.oracle.conformance import verify_arrays
from minidsn.oracle.export import make_trajectory
from minidsn_jax.diffrnn.oracle import DiffRNNBackend

CASES = [("g2", 0), ("g2", 5), ("altern", 0), ("g3", 0), ("fixed", 0)]


@pytest.fixture(scope="module")
def cases():
    return {}


def _case(cases, variant, seed):
    if (variant, seed) not in cases:
        cases[(variant, seed)] = make_trajectory("diffrnn", 8, seed=seed, config={"variant": variant},
                                                 check_replay=False)
    return cases[(variant, seed)]


@pytest.mark.parametrize("variant,seed", CASES)
def test_trajectory_case_passes_the_kit(cases, variant, seed):
    arrays, meta = _case(cases, variant, seed)
    report = verify_arrays(arrays, meta, DiffRNNBackend(), case=f"diffrnn {variant} seed {seed}")
    assert report.ok, report.format()
    kinds = {e["kind"] for s in meta["steps"] for e in s["events"]}
    assert kinds == ({"add", "delete"} if variant != "fixed" else set()), kinds  # the case exercised both


def test_kit_catches_a_wrong_deletion_index(cases):
    """Our backend with an off-by-one deletion fails the kit, at a step that deletes."""
    arrays, meta = _case(cases, "g2", 0)

    class OffByOne(DiffRNNBackend):
        def step(self, state, inputs, draws):
            import minidsn_jax.diffrnn.oracle as mod

            real = mod.apply_decision

            def shifted(p, m, s, d, cfg):
                d = copy.copy(d)
                if d.deleted.size:
                    d.deleted = np.minimum(d.deleted + 1, s.shape[0] - 1)
                return real(p, m, s, d, cfg)

            mod.apply_decision = shifted
            try:
                return super().step(state, inputs, draws)
            finally:
                mod.apply_decision = real

    report = verify_arrays(arrays, meta, OffByOne())
    assert not report.ok
    step, row = report.first_failure
    assert any(e["kind"] == "delete" for e in meta["steps"][step]["events"])


def test_case_file_through_verify(tmp_path):
    """The same through a written case file (integers come back as float64) and minidsn.oracle.conformance.verify."""
    from minidsn.oracle.conformance import verify
    from minidsn.oracle.export import export_trajectory

    path, _, _ = export_trajectory("diffrnn", tmp_path / "g2.npz", 6, seed=1, check_replay=False)
    report = verify(path, DiffRNNBackend())
    assert report.ok, report.format()

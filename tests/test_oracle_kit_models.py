"""The conformance kit on the trajectory cases of diffrnn, isotropic and dmm (issue 13): minidsn's own cases export
(the export replays them bit for bit), an independent NumPy DiffRNN backend passes every variant at the default
tolerances, and each deliberately broken backend fails at the step where its mistake first acts, naming the key."""

import pytest

from minidsn.oracle.conformance import verify
from minidsn.oracle.export import export_trajectory

from oracle_backends.diffrnn_numpy import Backend as DiffRNNNumpy
from oracle_backends.dmm_broken import PrunedLinkLeftInAdam
from oracle_backends.isotropic_broken import NeurogenesisForgetsV


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    d = tmp_path_factory.mktemp("cases")
    made = {}

    def get(model, steps, **config):
        key = (model, steps, tuple(sorted(config.items())))
        if key not in made:
            path = d / f"{model}-{len(made)}.npz"
            _, arrays, meta = export_trajectory(model, path, steps, seed=0, config=config)
            made[key] = (path, meta)
        return made[key]

    return get


def _first_event_step(meta, kind):
    return next(k for k, s in enumerate(meta["steps"]) if any(e["kind"] == kind for e in s["events"]))


@pytest.mark.parametrize("variant", ["g2", "altern", "g3", "fixed"])
def test_independent_numpy_diffrnn_backend_passes(cases, variant):
    path, meta = cases("diffrnn", 8, variant=variant)
    report = verify(path, DiffRNNNumpy())
    assert report.ok, report.format()
    if variant != "fixed":
        assert {e["kind"] for s in meta["steps"] for e in s["events"]} == {"delete", "add"}


@pytest.mark.parametrize("mistake,kind,key", [
    ("delete_off_by_one", "delete", "state_after/carried"),          # the first key the wrong neuron changes
    ("forget_memory_slot", "delete", "state_after/opt/sum_sq/bh"),
    ("draw_order", "add", "state_after/params/Wiy"),
])
def test_broken_diffrnn_backends_fail_at_the_right_step(cases, mistake, kind, key):
    path, meta = cases("diffrnn", 8, variant="g2")
    report = verify(path, DiffRNNNumpy(mistake))
    assert not report.ok
    step, row = report.first_failure
    assert step == _first_event_step(meta, kind), report.format()
    assert row.key == f"steps/{step}/{key}", report.format()
    assert f"FAIL: first difference at step {step}, key steps/{step}/{key}" in report.format()


def test_neurogenesis_forgetting_the_second_moment_fails(cases):
    path, meta = cases("isotropic", 4)
    report = verify(path, NeurogenesisForgetsV())
    step, row = report.first_failure
    assert step == _first_event_step(meta, "neurogenesis")
    assert row.key.startswith(f"steps/{step}/state_after/opt/v/"), report.format()
    # only second moments differ: parameters, first moments, losses and events agree
    assert all(r.key.startswith(f"steps/{step}/state_after/opt/v/") for r in report.steps[step].failures)


def test_pruned_dmm_link_left_in_adam_fails(cases):
    path, meta = cases("dmm", 4)
    report = verify(path, PrunedLinkLeftInAdam())
    step, row = report.first_failure
    assert step == _first_event_step(meta, "prune") == 1
    assert row.key == f"steps/{step}/state_after/opt/m/gates", report.format()
    assert "shape" in row.note


@pytest.mark.parametrize("model,config", [("isotropic", {"o_mode": "constant", "psi_mode": "expectation"}),
                                          ("isotropic", {"activation": "elementwise", "o_mode": "none",
                                                         "psi_mode": "none"}),
                                          ("dmm", {"prune_optimizer": "reset", "n_layers": 2})])
def test_own_cases_pass_the_kit(cases, model, config):
    path, _ = cases(model, 4, **config)
    assert verify(path, "minidsn.oracle.conformance:minidsn_backend", rtol=0.0, atol=0.0).ok


def test_default_cases_are_small_and_show_every_event_kind(cases):
    for model, steps in (("diffrnn", 8), ("isotropic", 4), ("dmm", 4)):
        path, meta = cases(model, steps)
        assert path.stat().st_size < 1_000_000, (model, path.stat().st_size)
        seen = {e["kind"] for s in meta["steps"] for e in s["events"]}
        assert seen == set(meta["trajectory"]["event_kinds"]), (model, seen)

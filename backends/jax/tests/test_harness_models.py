"""The harness models jax-dnm and jax-urn run minidsn's reference-run files through minidsn's run loop.

jax-dnm draws its initial values and batches in the natural order, which is minidsn's, so its dnm-toy run starts on
minidsn's recorded trajectory: the logged losses of reference_runs/dnm-toy/metrics.jsonl at steps 50 and 100 must
agree to a relative 1e-9 (an end-to-end check of the closeness, DAG, losses, gradients and Adam against minidsn,
independent of the oracle).
"""

import json
import math
from pathlib import Path

import pytest

import minidsn_jax.dnm.model  # noqa: F401  (registers jax-dnm)
import minidsn_jax.urn.model  # noqa: F401  (registers jax-urn)
from minidsn.runs.config import REFERENCE_DIR, load_run_file, resolve_run_spec
from minidsn.runs.loop import run


def _spec(name, steps, **over):
    raw = load_run_file(REFERENCE_DIR / f"{name}.toml")
    raw["model"] = "jax-" + raw["model"]
    raw.update(over)
    raw.pop("seeds", None)
    return resolve_run_spec(raw, f"jax-{name}", REFERENCE_DIR / f"{name}.toml", steps=steps)


def _lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


def test_jax_dnm_follows_minidsn_dnm_toy(tmp_path):
    res = run(_spec("dnm-toy", 100, checkpoint_every=0), tmp_path / "run", plots=False, progress=False)
    assert res.status == "completed"
    ours = {d["step"]: d for d in _lines(tmp_path / "run" / "metrics.jsonl") if "loss" in d}
    ref = {d["step"]: d for d in _lines(REFERENCE_DIR / "dnm-toy" / "metrics.jsonl") if "loss" in d}
    for step in (50, 100):
        for key in ("loss", "objective", "flow", "pct", "cutoff", "test_mse"):
            assert math.isclose(ours[step][key], ref[step][key], rel_tol=1e-9), (step, key, ours[step][key],
                                                                                  ref[step][key])


def test_jax_urn_runs_spheres(tmp_path):
    res = run(_spec("urn-spheres-small", 64, log_every=32), tmp_path / "run", plots=False, progress=False)
    assert res.status == "completed"
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert 0.0 <= summary["final"]["test_acc"] <= 1.0
    assert summary["final"]["n_active"] >= 10  # the input nodes count as active
    lines = [d for d in _lines(tmp_path / "run" / "metrics.jsonl") if "loss" in d]
    assert [d["step"] for d in lines] == [32, 64] and all(math.isfinite(d["loss"]) for d in lines)


def test_jax_urn_refuses_more_than_two_shells(tmp_path):
    """Only the seed's two classes are implemented here: a third shell is refused by name (its data generator used to
    drop it silently and train on two shells)."""
    raw = load_run_file(REFERENCE_DIR / "urn-spheres-small.toml")
    raw["model"] = "jax-urn"
    raw.pop("seeds", None)
    raw["config"].update(shells=[[1.0, 1.5], [2.0, 2.5], [3.0, 3.5]], n_train=96, n_test=48)
    spec = resolve_run_spec(raw, "jax-urn-3-shells", REFERENCE_DIR / "urn-spheres-small.toml", steps=6)
    with pytest.raises(NotImplementedError, match="exactly two shells"):
        run(spec, tmp_path / "run", plots=False, progress=False)

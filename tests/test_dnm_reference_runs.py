"""The dnm toy reference runs replay: each TOML, run through minidsn's run loop for 100 steps, logs what its
committed metrics.jsonl holds at steps 50 and 100 (relative 1e-9; on the machine that recorded them the values are
equal). Guards the variants' numerics end to end: a change to faithful or text shows here, and text_full's run is
held to the code that recorded it."""

import json
import math
from pathlib import Path

import pytest

from minidsn.runs.config import REFERENCE_DIR, load_run_file, resolve_run_spec
from minidsn.runs.loop import run


def _lines(path):
    return [json.loads(line) for line in Path(path).read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["dnm-toy", "dnm-toy-text", "dnm-toy-text-full"])
def test_first_100_steps_follow_the_recorded_run(name, tmp_path):
    raw = load_run_file(REFERENCE_DIR / f"{name}.toml")
    raw.pop("seeds", None)
    raw["checkpoint_every"] = 0
    spec = resolve_run_spec(raw, name, REFERENCE_DIR / f"{name}.toml", steps=100)
    res = run(spec, tmp_path / "run", plots=False, progress=False)
    assert res.status == "completed"
    ours = {d["step"]: d for d in _lines(tmp_path / "run" / "metrics.jsonl") if "loss" in d}
    ref = {d["step"]: d for d in _lines(REFERENCE_DIR / name / "metrics.jsonl") if "loss" in d}
    for step in (50, 100):
        for key in ("loss", "objective", "flow", "pct", "sparsity_term", "cutoff", "test_mse"):
            assert math.isclose(ours[step][key], ref[step][key], rel_tol=1e-9), (step, key, ours[step][key],
                                                                                  ref[step][key])

"""Sweeps over seeds: the same run for each seed in ``seeds``, in up to ``jobs`` parallel processes.

Each seed runs into ``<out>/seed-<s>/`` exactly as a single run would (same files, same determinism); ``sweep.json``
collects each seed's status and final figures and their mean and standard deviation (ddof=1) over completed seeds.
"""

from __future__ import annotations

import json
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from minidsn.runs.atomic import atomic_write_text
from minidsn.runs.config import RunSpec
from minidsn.runs.loop import run

__all__ = ["run_sweep", "sweep_dirs"]


def _one(spec_json: dict, out_dir: str, resume: bool) -> dict:
    spec = RunSpec.from_json(spec_json)
    res = run(spec, out_dir, resume=resume, progress=False)
    return res.summary


def sweep_dirs(out_dir) -> list[Path]:
    return sorted(p for p in Path(out_dir).glob("seed-*") if (p / "config.json").exists())


def run_sweep(spec: RunSpec, out_dir, jobs: int = 1, resume: bool = False, specs: list[RunSpec] | None = None,
              stream=None) -> dict:
    """Run every seed of ``spec.seeds`` (or the given per-seed ``specs``); returns the sweep summary."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if specs is None:
        specs = [spec.with_seed(s) for s in spec.seeds]
    dirs = [str(out_dir / f"seed-{s.seed}") for s in specs]
    if jobs <= 1:
        summaries = [run(s, d, resume=resume, progress=None, stream=stream).summary for s, d in zip(specs, dirs)]
    else:
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            futures = [ex.submit(_one, s.to_json(), d, resume) for s, d in zip(specs, dirs)]
            summaries = [f.result() for f in futures]
    done = [s for s in summaries if s["status"] == "completed"]
    stats = {}
    for key in sorted({k for s in done for k in s["final"]}):
        vals = [s["final"][key] for s in done if key in s["final"]]
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
        stats[key] = {"mean": mean, "std": std, "n": len(vals)}
    sweep = {
        "name": specs[0].name, "model": specs[0].model,
        "seeds": {str(s["seed"]): {"status": s["status"], "final": s["final"], "wall_time_s": s["wall_time_s"]}
                  for s in summaries},
        "final_stats": stats,
    }
    atomic_write_text(out_dir / "sweep.json", json.dumps(sweep, indent=2))
    return sweep

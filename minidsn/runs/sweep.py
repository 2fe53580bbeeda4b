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

__all__ = ["run_sweep", "sweep_dirs", "sweep_seeds"]


def _one(spec_json: dict, out_dir: str, resume: bool) -> dict:
    spec = RunSpec.from_json(spec_json)
    res = run(spec, out_dir, resume=_resumable(out_dir, resume), progress=False)
    return res.summary


def _resumable(out_dir, resume: bool) -> bool:
    """Resume a seed only if it has started; a seed a stopped sweep never reached starts fresh."""
    return resume and (Path(out_dir) / "config.json").exists()


def sweep_dirs(out_dir) -> list[Path]:
    return sorted(p for p in Path(out_dir).glob("seed-*") if (p / "config.json").exists())


def sweep_seeds(out_dir) -> list[int] | None:
    """Every seed of the sweep in ``out_dir`` (from sweep.json, written when the sweep starts), None if unknown."""
    f = Path(out_dir) / "sweep.json"
    if not f.exists():
        return None
    try:
        return [int(k) for k in json.loads(f.read_text())["seeds"]]
    except (ValueError, KeyError, TypeError):
        return None


NOT_STARTED = {"status": "not started", "final": {}, "wall_time_s": 0.0}


def run_sweep(spec: RunSpec, out_dir, jobs: int = 1, resume: bool = False, specs: list[RunSpec] | None = None,
              stream=None) -> dict:
    """Run every seed of ``spec.seeds`` (or the given per-seed ``specs``); returns the sweep summary.

    Ctrl-C or SIGTERM stops the whole sweep, not only the seed that is running: the seeds not started yet are
    recorded as "not started" in sweep.json (written first, with every seed, so ``--resume`` knows them) and run when
    the sweep is resumed.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if specs is None:
        specs = [spec.with_seed(s) for s in spec.seeds]
    dirs = [str(out_dir / f"seed-{s.seed}") for s in specs]
    if not (out_dir / "sweep.json").exists():  # a new sweep: list every seed now; a resumed one keeps its record
        _write(out_dir, specs, {})
    summaries: dict[int, dict] = {}
    if jobs <= 1:
        for s, d in zip(specs, dirs):
            summ = run(s, d, resume=_resumable(d, resume), progress=None, stream=stream).summary
            summaries[s.seed] = summ
            if summ["status"] == "interrupted":
                break
    else:
        with ProcessPoolExecutor(max_workers=jobs) as ex:
            futures = [(s.seed, ex.submit(_one, s.to_json(), d, resume)) for s, d in zip(specs, dirs)]
            stopped = False
            for seed, f in futures:
                if stopped and f.cancel():
                    continue
                summ = f.result()
                summaries[seed] = summ
                if summ["status"] == "interrupted":
                    stopped = True
    return _write(out_dir, specs, summaries)


def _write(out_dir: Path, specs, summaries: dict) -> dict:
    done = [s for s in summaries.values() if s["status"] == "completed"]
    stats = {}
    for key in sorted({k for s in done for k in s["final"]}):
        vals = [s["final"][key] for s in done if key in s["final"]]
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
        stats[key] = {"mean": mean, "std": std, "n": len(vals)}
    seeds = {}
    for sp in specs:
        r = summaries.get(sp.seed, NOT_STARTED)
        seeds[str(sp.seed)] = {"status": r["status"], "final": r["final"], "wall_time_s": r["wall_time_s"]}
    sweep = {"name": specs[0].name, "model": specs[0].model, "seeds": seeds, "final_stats": stats}
    atomic_write_text(out_dir / "sweep.json", json.dumps(sweep, indent=2))
    return sweep

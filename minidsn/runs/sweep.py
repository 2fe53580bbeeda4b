"""Sweeps over seeds: the same run for each seed, in this process, in local processes, or on a Dask cluster.

Each seed runs into ``<out>/seed-<s>/`` exactly as a single run would (same files, same determinism, whatever runs
it: see minidsn.runs.executors); ``sweep.json`` holds every seed from the start ("not started" until it reports), each
seed's status ("completed", "interrupted", "nonfinite", "failed" with its message) and final figures, and their mean
and standard deviation (ddof=1) over completed seeds. It is rewritten as each seed finishes, so a crash of the client
loses no finished seed's record.

Ctrl-C or SIGTERM stops the whole sweep: a seed running in this process or in a local worker process stops with a
checkpoint; Dask seeds on a local cluster are stopped with the cluster (SIGTERM: a checkpoint each); every seed can be
continued with ``minidsn run --resume OUT``.
"""

from __future__ import annotations

import json
import math
import signal
import threading
import uuid
from pathlib import Path

from minidsn.runs.atomic import atomic_write_bytes, atomic_write_text
from minidsn.runs.config import RunSpec
from minidsn.runs.executors import SeedTask, make_executor
from minidsn.runs.lock import run_folder_lock
from minidsn.runs.sealed import SealError, unseal
from minidsn.runs.sweep_progress import SweepProgress

__all__ = ["run_sweep", "sweep_dirs", "sweep_seeds", "sweep_token"]

NOT_STARTED = {"status": "not started", "final": {}, "wall_time_s": 0.0}


def sweep_dirs(out_dir) -> list[Path]:
    return sorted(p for p in Path(out_dir).glob("seed-*") if (p / "config.json").exists())


def _read_record(out_dir) -> dict | None:
    f = Path(out_dir) / "sweep.json"
    if not f.exists():
        return None
    try:
        rec = json.loads(f.read_text())
    except (OSError, ValueError):
        return None
    return rec if isinstance(rec, dict) else None


def sweep_seeds(out_dir) -> list[int] | None:
    """Every seed of the sweep in ``out_dir`` (from sweep.json, written when the sweep starts), None if unknown."""
    rec = _read_record(out_dir)
    try:
        return [int(k) for k in rec["seeds"]] if rec else None
    except (ValueError, KeyError, TypeError):
        return None


def sweep_token(out_dir) -> str | None:
    rec = _read_record(out_dir)
    tok = rec.get("token") if rec else None
    return tok if isinstance(tok, str) else None


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def run_sweep(spec: RunSpec, out_dir, *args, **kwargs) -> dict:
    """``_run_sweep`` holding the sweep folder's lock (minidsn.runs.lock); each seed's run locks its own folder."""
    with run_folder_lock(out_dir):
        return _run_sweep(spec, out_dir, *args, **kwargs)


def _run_sweep(spec: RunSpec, out_dir, jobs: int = 1, resume: bool = False, specs: list[RunSpec] | None = None,
               stream=None, executor: str = "local", return_files: bool = False, progress: bool | None = None,
               plots: bool = False) -> dict:
    """Run every seed of ``spec.seeds`` (or the given per-seed ``specs``); returns the sweep summary (sweep.json).

    ``executor``: "local" (``jobs`` processes; 1 = this process), "dask" (a local Dask cluster of max(2, jobs)
    workers) or "dask://HOST:PORT" (an existing scheduler), or an executor object of minidsn.runs.executors
    (left open: the caller closes it). ``return_files``: Dask workers without a shared filesystem send each
    finished seed's files back (see minidsn.runs.executors).
    """
    import sys

    stream = stream if stream is not None else sys.stderr
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    if specs is None:
        specs = [spec.with_seed(s) for s in spec.seeds]
    dirs = {s.seed: out_dir / f"seed-{s.seed}" for s in specs}
    old = _read_record(out_dir)
    token = (old or {}).get("token") if resume else None
    token = token if isinstance(token, str) else uuid.uuid4().hex[:16]
    summaries: dict[int, dict] = {}
    if resume:  # seeds that already ran to this spec's length keep their record and are not run again
        for s in specs:
            done = _finished_summary(dirs[s.seed], s.steps)
            if done is not None:
                summaries[s.seed] = done
    todo = [s for s in specs if s.seed not in summaries]
    _write(out_dir, specs, summaries, token, executor)

    tasks = [SeedTask(spec=s.to_json(), out_dir=str(dirs[s.seed]), resume=resume, token=token,
                      return_files=return_files, plots=plots) for s in todo]
    owned = isinstance(executor, str)  # an executor object passed in belongs to the caller, who closes it
    ex = make_executor(executor, jobs, return_files, stream=stream) if owned else executor
    prog = SweepProgress([s.seed for s in specs], {s.seed: s.steps for s in specs}, stream=stream,
                         enabled=False if (progress is False or ex.__class__.__name__ == "InProcess") else progress)
    for seed in summaries:
        prog.finished[seed] = "completed"
    running = {t.spec["seed"] for t in tasks}

    def on_progress(event):
        if event is None:  # local processes: read the seeds' metrics files
            prog.poll_metrics({s: dirs[s] for s in running})
        elif event.get("token") == token:
            prog.seed_event(event["seed"], event["step"], event.get("metrics"))
        prog.draw()

    old_term = None
    if threading.current_thread() is threading.main_thread():
        try:
            old_term = signal.signal(signal.SIGTERM, _raise_interrupt)
        except (ValueError, OSError):
            old_term = None
    stopped = False
    try:
        for task, r in ex.map_unordered(tasks, on_progress):
            seed = task.spec["seed"]
            running.discard(seed)
            if return_files and r.get("files"):
                _write_files(dirs[seed], r["files"])
            summaries[seed] = _record(r)
            prog.seed_done(seed, r["status"], r.get("error") or "")
            _write(out_dir, specs, summaries, token, executor)
            if r["status"] == "interrupted":
                stopped = True
                break
    except KeyboardInterrupt:
        stopped = True
    finally:
        if owned:
            try:
                ex.close()
            except Exception:  # closing a cluster must not hide the sweep's own outcome
                pass
        prog.close()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    if stopped:
        for seed in running:
            if seed not in summaries and (dirs[seed] / "config.json").exists():
                summaries[seed] = {"status": "interrupted", "final": {}, "wall_time_s": 0.0}
    return _write(out_dir, specs, summaries, token, executor)


def _finished_summary(seed_dir: Path, steps: int) -> dict | None:
    """The sweep record of a seed folder whose run completed exactly ``steps`` steps, else None."""
    try:
        s = json.loads((seed_dir / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(s, dict) or s.get("status") != "completed" or s.get("steps_done") != steps:
        return None
    try:  # a damaged summary is not trusted: the seed is resumed (cheap for a finished one) and rewrites it
        unseal(s, str(seed_dir / "summary.json"), required=False)
    except SealError:
        return None
    return {"status": "completed", "final": s.get("final", {}), "wall_time_s": s.get("wall_time_s", 0.0)}


def _record(r: dict) -> dict:
    s = r.get("summary") or {}
    rec = {"status": r["status"], "final": s.get("final", {}), "wall_time_s": s.get("wall_time_s", 0.0)}
    if r.get("error"):
        rec["error"] = r["error"]
    return rec


def _write_files(seed_dir: Path, files: dict[str, bytes]) -> None:
    seed_dir.mkdir(parents=True, exist_ok=True)
    for rel, data in files.items():
        target = (seed_dir / rel).resolve()
        if seed_dir.resolve() not in target.parents:  # a worker's file name must stay inside the seed's folder
            raise ValueError(f"a worker returned a file outside its seed folder: {rel!r}")
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, data)


def _write(out_dir: Path, specs, summaries: dict, token: str, executor: str) -> dict:
    done = [s for s in summaries.values() if s["status"] == "completed"]
    stats = {}
    for key in sorted({k for s in done for k in s["final"]}):
        vals = [s["final"][key] for s in done if key in s["final"]]
        mean = sum(vals) / len(vals)
        std = math.sqrt(sum((v - mean) ** 2 for v in vals) / (len(vals) - 1)) if len(vals) > 1 else 0.0
        stats[key] = {"mean": mean, "std": std, "n": len(vals)}
    seeds = {}
    for sp in specs:
        seeds[str(sp.seed)] = dict(summaries.get(sp.seed, NOT_STARTED))
    kind = executor if isinstance(executor, str) else getattr(executor, "name", "local")
    sweep = {"name": specs[0].name, "model": specs[0].model, "token": token,
             "executor": "dask" if kind.startswith(("dask", "tcp")) else "local",
             "seeds": seeds, "final_stats": stats}
    atomic_write_text(out_dir / "sweep.json", json.dumps(sweep, indent=2))
    return sweep

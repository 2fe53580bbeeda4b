"""Where the seeds of a sweep run: in this process, in local worker processes, or on a Dask cluster.

One seed is one call of ``run_seed(task)``, wherever it runs: it runs (or resumes) the seed into its folder with
``minidsn.runs.loop.run`` and returns a plain dict (status, summary, error), so a seed's results are the same bytes
whatever executed it. The executors only differ in where that call happens:

- ``InProcess``: one seed after another in this process (``--jobs 1``, the default).
- ``LocalProcesses(jobs)``: a process pool on this machine (``--jobs N``).
- ``DaskExecutor(address)``: a Dask ``distributed`` cluster: a local cluster started for the sweep
  (``--executor dask``) or an existing scheduler (``--executor dask://HOST:PORT``). Dask is an optional dependency
  (``pip install -e ".[dask]"``), imported only here and only when asked for.

Shared filesystem (the default): workers write their seed folders themselves, checkpoints included, exactly as a local
run would. A worker that dies mid-seed: the scheduler gives the task to another worker, which finds the seed's folder
marked with this sweep's token and resumes it from its newest checkpoint.
Without a shared filesystem (``return_files=True``): a worker runs the seed in a scratch folder of its own and returns
every file of it except checkpoints/ to the client, which writes them into the seed's folder. Checkpoints then stay on
the worker (under its local directory); a seed whose worker died restarts from step 0 on another worker, and a stopped
seed cannot be resumed from the client's folder.
"""

from __future__ import annotations

import os
import tempfile
import time
import traceback
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["SeedTask", "run_seed", "InProcess", "LocalProcesses", "DaskExecutor", "make_executor",
           "ExecutorError", "TOKEN_FILE"]

TOKEN_FILE = ".sweep-token"  # in a seed folder: the sweep that started it (a retried task resumes only its own)
PROGRESS_TOPIC = "minidsn-sweep-progress"


class ExecutorError(RuntimeError):
    """The executor cannot be used (Dask not installed, scheduler unreachable, bad address)."""


@dataclass
class SeedTask:
    spec: dict            # RunSpec.to_json() of this seed
    out_dir: str          # the seed's folder as the client sees it
    resume: bool          # continue a started seed (minidsn run --resume)
    token: str            # this sweep's token: a retried task resumes the folder it started
    return_files: bool = False
    plots: bool = False
    publish_progress: bool = False
    progress_every_s: float = 1.0


def _resume_decision(out: Path, task: SeedTask) -> bool:
    """Resume when asked to and the seed has started, or when this sweep started the folder itself (the task is a
    retry after its worker died); a folder of another sweep is never resumed silently."""
    started = (out / "config.json").exists()
    if not started:
        return False
    if task.resume:
        return True
    tok = out / TOKEN_FILE
    return tok.exists() and tok.read_text().strip() == task.token


def _scratch_dir(task: SeedTask) -> Path:
    """The worker-local folder of a seed in return-files mode (kept across retries on the same worker)."""
    base = None
    try:  # a Dask worker's own local directory, else the system's temporary directory
        from distributed import get_worker

        base = Path(get_worker().local_directory)
    except Exception:
        base = Path(tempfile.gettempdir())
    seed = task.spec.get("seed")
    d = base / "minidsn-sweeps" / task.token / f"seed-{seed}"
    d.mkdir(parents=True, exist_ok=True)
    return d


def _collect_files(root: Path) -> dict[str, bytes]:
    files = {}
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root)
        if p.is_file() and rel.parts[0] != "checkpoints" and p.name != TOKEN_FILE:
            files[str(rel)] = p.read_bytes()
    return files


def _progress_publisher(task: SeedTask):
    """on_step callback that sends (seed, step, steps, metrics) to the client at most every progress_every_s."""
    if not task.publish_progress:
        return None
    try:
        from distributed import get_worker

        worker = get_worker()
    except Exception:
        return None
    last = [0.0]
    seed, steps = task.spec.get("seed"), task.spec.get("steps")

    def on_step(done: int, metrics: dict) -> None:
        now = time.monotonic()
        if now - last[0] >= task.progress_every_s or done == steps:
            last[0] = now
            try:
                worker.log_event(PROGRESS_TOPIC, {"token": task.token, "seed": seed, "step": done, "steps": steps,
                                                  "metrics": dict(list(metrics.items())[:2])})
            except Exception:  # progress must never fail a seed
                pass

    return on_step


def run_seed(task: SeedTask | dict, progress: bool | None = False, stream=None) -> dict:
    """Run one seed of a sweep (on whatever executes it). Returns {"seed", "status", "summary", "error", "files"};
    an exception (bad config, unreadable checkpoint, a model error) becomes status "failed" with its message, so one
    bad seed never stops the others."""
    from minidsn.runs.config import RunSpec
    from minidsn.runs.loop import run

    if isinstance(task, dict):
        task = SeedTask(**task)
    seed = task.spec.get("seed")
    out = _scratch_dir(task) if task.return_files else Path(task.out_dir)
    try:
        spec = RunSpec.from_json(task.spec)
        resume = _resume_decision(out, task)
        out.mkdir(parents=True, exist_ok=True)
        (out / TOKEN_FILE).write_text(task.token + "\n")
        cb = _progress_publisher(task)
        res = run(spec, out, resume=resume, progress=progress, stream=stream, plots=task.plots,
                  **({"on_step": cb} if cb else {}))
        result = {"seed": seed, "status": res.status, "summary": res.summary, "error": res.summary.get("error")}
    except KeyboardInterrupt:
        result = {"seed": seed, "status": "interrupted", "summary": None, "error": "interrupted"}
    except Exception as exc:
        result = {"seed": seed, "status": "failed", "summary": None,
                  "error": f"{type(exc).__name__}: {exc}",
                  "traceback": traceback.format_exc(limit=8)}
    if task.return_files:
        result["files"] = _collect_files(out)
    return result


# ------------------------------------------------------------------------------------------------ executors
class InProcess:
    """Seeds one after another in this process (Ctrl-C stops the running seed with a checkpoint, then the sweep)."""

    name = "local"
    shared_filesystem = True

    def __init__(self, stream=None):
        self.stream = stream

    def map_unordered(self, tasks, on_progress=None):
        for t in tasks:
            r = run_seed(t, progress=None, stream=self.stream)  # the run's own progress line, as a single run
            yield t, r
            if r["status"] == "interrupted":
                return

    def close(self):
        pass


class LocalProcesses:
    """A pool of ``jobs`` worker processes on this machine."""

    name = "local"
    shared_filesystem = True

    def __init__(self, jobs: int):
        from concurrent.futures import ProcessPoolExecutor

        self.pool = ProcessPoolExecutor(max_workers=jobs)

    def map_unordered(self, tasks, on_progress=None):
        from concurrent.futures import FIRST_COMPLETED, wait

        futures = {self.pool.submit(run_seed, asdict(t)): t for t in tasks}
        try:
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=1.0, return_when=FIRST_COMPLETED)
                if on_progress is not None:
                    on_progress(None)
                for f in done:
                    yield futures[f], f.result()
        except KeyboardInterrupt:  # a stop of this process alone (a scheduler's SIGTERM) reaches the workers too;
            self._stop_workers()   # each stops its seed at the next step boundary with a checkpoint
            raise
        finally:
            for f in futures:
                f.cancel()

    def _stop_workers(self):
        import signal

        for pid in list(getattr(self.pool, "_processes", None) or {}):
            try:
                os.kill(pid, signal.SIGTERM)
            except OSError:
                pass

    def close(self):
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    """Seeds as tasks on a Dask cluster: ``address`` None starts a local cluster of ``workers`` single-threaded
    worker processes for the sweep; "dask://HOST:PORT" (or "tcp://HOST:PORT") connects to an existing scheduler."""

    name = "dask"

    def __init__(self, address: str | None = None, workers: int = 2, shared_filesystem: bool = True,
                 connect_timeout: str = "10s"):
        try:
            from distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError("--executor dask needs Dask's `distributed` package: pip install -e \".[dask]\" "
                                "(or pip install distributed)") from None
        self.shared_filesystem = shared_filesystem
        self.cluster = None
        env = {v: os.environ.get(v, "1") for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
        try:
            if address is None:
                self.cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                            dashboard_address=None, env=env)
                self.client = Client(self.cluster)
            else:
                addr = "tcp://" + address[len("dask://"):] if address.startswith("dask://") else address
                self.client = Client(addr, timeout=connect_timeout)
        except (OSError, TimeoutError) as exc:
            if self.cluster is not None:
                self.cluster.close()
            raise ExecutorError(f"cannot reach the Dask scheduler {address}: {exc}") from None
        self._events: list[dict] = []
        self.client.subscribe_topic(PROGRESS_TOPIC, lambda event: self._events.append(event[1]))

    def map_unordered(self, tasks, on_progress=None):
        from distributed import as_completed

        futures = {}
        for t in tasks:
            d = asdict(t)
            d["publish_progress"] = True
            # pure=False: a seed is a run with side effects (its folder), never deduplicated by Dask
            key = f"minidsn-seed-{t.spec.get('seed')}-{t.token}-{uuid.uuid4().hex[:8]}"
            f = self.client.submit(run_seed, d, pure=False, key=key)
            futures[f] = t
        ac = as_completed(list(futures), with_results=False)
        try:
            while not ac.is_empty():
                batch = ac.next_batch(block=False)
                if not batch:
                    self._drain(on_progress)
                    time.sleep(0.2)
                    continue
                for f in batch:
                    t = futures[f]
                    try:
                        r = f.result()
                    except Exception as exc:  # the task itself failed (e.g. the worker died too often)
                        r = {"seed": t.spec.get("seed"), "status": "failed", "summary": None,
                             "error": f"{type(exc).__name__}: {exc}"}
                    self._drain(on_progress)
                    yield t, r
        finally:
            for f in futures:
                if not f.done():
                    f.cancel()

    def _drain(self, on_progress):
        events, self._events = self._events, []
        if on_progress is not None:
            for e in events:
                on_progress(e)

    def close(self):
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def make_executor(executor: str = "local", jobs: int = 1, return_files: bool = False, stream=None):
    """The executor named on the command line: "local" (with --jobs), "dask" (a local cluster of --jobs workers,
    at least 2), or "dask://HOST:PORT" / "tcp://HOST:PORT" (an existing scheduler)."""
    if executor in (None, "", "local"):
        if return_files:
            raise ExecutorError("--return-files is for Dask workers without a shared filesystem; local seeds "
                                "always write their folders")
        return InProcess(stream) if jobs <= 1 else LocalProcesses(jobs)
    if executor == "dask":
        return DaskExecutor(None, workers=max(2, jobs), shared_filesystem=not return_files)
    if executor.startswith(("dask://", "tcp://")):
        return DaskExecutor(executor, shared_filesystem=not return_files)
    raise ExecutorError(f"--executor {executor!r}: use local, dask, or dask://HOST:PORT")

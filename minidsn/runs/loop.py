"""The run loop: init or resume, step, log, evaluate, checkpoint, guard against NaN/inf, stop cleanly on Ctrl-C.

Output directory of a run:
    config.json       the resolved run (RunSpec: run-level values and the model's full config)
    metrics.jsonl     {"step": n, <metric>: value, ...} every log_every steps; "eval/<name>" lines every eval_every
    summary.json      status, final figures (Model.evaluate), last metrics, wall time, versions, seed
    checkpoints/      ckpt-<step>.npz + .json (see minidsn.runs.checkpoint)
    plots/            PNG curves (when matplotlib is installed)

Determinism: the run's Generator is ``default_rng(seed)``, used by init and every step and checkpointed with the
state; evaluation uses its own Generator ``default_rng([seed, step, 1])`` so evaluating (or not) never changes the
training trajectory.  A resumed run therefore reproduces an uninterrupted one bit for bit.
"""

from __future__ import annotations

import json
import platform
import re
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import minidsn
from minidsn.models.api import ConfigError, get_model
from minidsn.runs.atomic import atomic_write_text
from minidsn.runs.checkpoint import CheckpointError, load_latest_checkpoint, rng_from_state, save_checkpoint
from minidsn.runs.config import RunSpec
from minidsn.runs.finite import first_nonfinite_leaf, first_nonfinite_metric
from minidsn.runs.interrupts import deferred_interrupts, stop_requested
from minidsn.runs.lock import run_folder_lock
from minidsn.runs.plots import matplotlib_available, plot_curves, warn_plots_skipped
from minidsn.runs.progress import Progress
from minidsn.runs.sealed import seal

__all__ = ["run", "RunResult", "NonFiniteError", "EXIT_OK", "EXIT_ERROR", "EXIT_NONFINITE", "EXIT_INTERRUPTED"]

EXIT_OK, EXIT_ERROR, EXIT_NONFINITE, EXIT_INTERRUPTED = 0, 1, 3, 130


class NonFiniteError(FloatingPointError):
    """A step produced NaN or inf; ``step`` is the step number (1-based count of steps done) and ``quantity``."""

    def __init__(self, step: int, quantity: str):
        super().__init__(f"step {step} produced a non-finite value: {quantity}")
        self.step, self.quantity = step, quantity

    def __reduce__(self):  # picklable, so a sweep worker's error reaches the parent process intact
        return (type(self), (self.step, self.quantity))


@dataclass
class RunResult:
    status: str  # "completed" | "interrupted" | "nonfinite"
    steps_done: int
    out_dir: Path
    summary: dict

    @property
    def exit_code(self) -> int:
        return {"completed": EXIT_OK, "interrupted": EXIT_INTERRUPTED, "nonfinite": EXIT_NONFINITE}[self.status]


def versions() -> dict:
    import numba
    import scipy

    return {"minidsn": minidsn.__version__, "numpy": np.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "python": platform.python_version()}


def _to_float_metrics(metrics, step) -> dict:
    if not isinstance(metrics, dict):
        raise TypeError(f"Model.step must return (state, metrics dict); step {step} returned {type(metrics)}")
    out = {}
    for k, v in metrics.items():
        try:
            out[str(k)] = float(v)
        except (TypeError, ValueError):
            raise TypeError(f"metric {k!r} at step {step} is not a number: {v!r}") from None
    return out


def _read_metrics(path: Path, max_step: int | None = None) -> list[dict]:
    """Parse metrics.jsonl; a torn last line (crash mid-write) and lines beyond ``max_step`` are dropped."""
    lines = []
    if not path.exists():
        return lines
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(raw)
        except json.JSONDecodeError:
            continue
        if isinstance(d, dict) and isinstance(d.get("step"), int) and (max_step is None or d["step"] <= max_step):
            lines.append(d)
    return lines


def _is_eval_line(d: dict) -> bool:
    return any(k.startswith("eval/") for k in d)


def _eval_rng(seed: int, step: int) -> np.random.Generator:
    return np.random.default_rng([seed, step, 1])


# Exceptions a model raises when its numbers left the finite range (a guard in an optimiser, a kernel's input check,
# a linear solve on inf): translated to a NaN stop like a non-finite metric. Other exceptions stay errors.
_DIVERGENCE_TYPES = (FloatingPointError, OverflowError, np.linalg.LinAlgError)
_DIVERGENCE_WORDS = re.compile(r"\bnan\b|\binf\b|infinit|non-?finite|overflow", re.IGNORECASE)


def divergence_quantity(exc: BaseException) -> str | None:
    """What to report when ``exc`` (raised by Model.step) means the numbers diverged, else None."""
    if isinstance(exc, NonFiniteError):
        return exc.quantity
    if isinstance(exc, _DIVERGENCE_TYPES) or (isinstance(exc, (ValueError, RuntimeError))
                                             and _DIVERGENCE_WORDS.search(str(exc))):
        return f"the model raised {type(exc).__name__}: {exc}"
    return None


def _check_resume_length(spec: RunSpec, done: int, out_dir: Path) -> None:
    if spec.steps < done:
        raise ConfigError(f"{out_dir} has {done} steps done; --steps {spec.steps} would shorten it (give "
                          f"--steps >= {done}, or start a new run)")


def _resumed_metrics(spec: RunSpec, done: int, lines: list[dict]) -> tuple[list[dict], bool]:
    """The metrics lines an uninterrupted run of ``spec`` has after ``done`` steps, and whether the periodic
    evaluation at ``done`` is missing (interrupted before its line was written) and must be made now.

    Kept: lines up to ``done``; a training line at ``done`` only if this spec logs there (an earlier, shorter run
    logged its last step even off the log_every grid); an evaluation line at ``done`` only if this spec evaluates
    there periodically (the final one of a shorter run is redone at this run's end)."""
    logs_here = done % spec.log_every == 0 or done == spec.steps
    periodic = bool(spec.eval_every) and done % spec.eval_every == 0 and done != spec.steps
    kept = []
    for d in lines:
        if d["step"] == done:
            if _is_eval_line(d) and not periodic:
                continue
            if not _is_eval_line(d) and not logs_here:
                continue
        kept.append(d)
    have_eval = any(d["step"] == done and _is_eval_line(d) for d in kept)
    return kept, periodic and done > 0 and not have_eval


def _note(stream):
    return lambda msg: print(msg, file=stream)


def run(spec: RunSpec, out_dir, *, resume: bool = False, progress: bool | None = None, stream=None,
        plots: bool = True, on_step=None) -> RunResult:
    """Run (or resume) ``spec`` into ``out_dir``, holding the folder's lock (minidsn.runs.lock) throughout.
    ``on_step(done, metrics)``, if given, is called after every committed step (a sweep's progress display); it
    must be cheap and must not raise.

    Ctrl-C (or SIGTERM) is held to the next step boundary, then the run ends with a checkpoint and a summary;
    NaN/inf (or a model raising on them) ends it as "nonfinite" with the last good checkpoint kept.
    Raises ConfigError / ModelNotAvailable / CheckpointError / RunLockedError before any training on a bad setup;
    a fresh run that fails before its first checkpoint leaves no files behind.
    """
    stream = stream if stream is not None else sys.stderr
    if stop_requested():  # a sweep worker told to stop: a seed queued before the stop does not start
        raise KeyboardInterrupt
    out_dir = Path(out_dir)
    model = get_model(spec.model)()
    created = not out_dir.exists()
    try:
        with run_folder_lock(out_dir, on_stale=lambda h: print(
                f"note: {out_dir} was locked by a process that is gone ({h}); taking over", file=stream)):
            with deferred_interrupts(stream) as intr:  # Ctrl-C held to a step boundary, from init to summary
                return _run_locked(model, spec, out_dir, resume, progress, stream, plots, on_step, intr)
    finally:
        if created:
            _remove_if_empty(out_dir)


def _remove_if_empty(d: Path) -> None:
    try:
        d.rmdir()
    except OSError:
        pass


def _run_locked(model, spec, out_dir, resume, progress, stream, plots, on_step, intr) -> RunResult:
    ckpt_dir = out_dir / "checkpoints"
    cfg = spec.config
    metrics_path = out_dir / "metrics.jsonl"

    ck = None
    if resume:
        ck = load_latest_checkpoint(ckpt_dir, warn=_note(stream))
        if ck is None:
            print(f"no checkpoint in {ckpt_dir}: starting from step 0", file=stream)
        else:
            _check_resume_length(spec, ck.step, out_dir)

    t0 = time.monotonic()
    elapsed_before = 0.0
    last_metrics: dict = {}

    def ckpt(step, st, rng_state=None):
        save_checkpoint(ckpt_dir, step, st, rng, keep_last=spec.keep_checkpoints, rng_state=rng_state,
                        extra={"model": spec.model, "seed": spec.seed, "last_metrics": last_metrics,
                               "elapsed_s": elapsed_before + time.monotonic() - t0})

    catch_up_eval = False
    if ck is not None:
        state, done, rng = ck.state, ck.step, rng_from_state(ck.rng_state)
        elapsed_before = float(ck.extra.get("elapsed_s", 0.0))
        last_metrics = dict(ck.extra.get("last_metrics") or {})
        kept, catch_up_eval = _resumed_metrics(spec, done, _read_metrics(metrics_path, max_step=done))
        atomic_write_text(out_dir / "config.json", json.dumps(seal(spec.to_json()), indent=2))
        atomic_write_text(metrics_path, "".join(json.dumps(d) + "\n" for d in kept))
        print(f"resuming {out_dir} at step {done}/{spec.steps}", file=stream)
        ck = None  # the loop's `state` is now the only reference: holding the checkpoint kept its arrays all run
    else:
        rng = np.random.default_rng(spec.seed)
        state = model.init(cfg, rng, spec.data_dir)
        bad = first_nonfinite_leaf(state)
        if bad:
            raise NonFiniteError(0, f"initial {bad}")
        done = 0
        written = [out_dir / "config.json", metrics_path]
        try:  # the run exists once its step-0 checkpoint does; a failure before leaves nothing behind
            atomic_write_text(out_dir / "config.json", json.dumps(seal(spec.to_json()), indent=2))
            atomic_write_text(metrics_path, "")
            ckpt(0, state)  # the run's starting point: a NaN at step 1 still leaves a good checkpoint
        except BaseException:
            for f in written:
                f.unlink(missing_ok=True)
            _remove_if_empty(ckpt_dir)
            raise

    prog = Progress(spec.steps, start=done, enabled=progress, stream=stream)
    status, error = "completed", None
    committed_rng = rng.bit_generator.state
    last_ckpt = done
    try:
        with open(metrics_path, "a", encoding="utf-8") as mf:
            if catch_up_eval:  # a Ctrl-C (or kill) came between step `done` and its periodic evaluation line
                _write_eval(mf, done, _evaluate(model, state, cfg, spec, done))
            while done < spec.steps:
                intr.check()  # a held Ctrl-C / SIGTERM stops here, between steps
                try:
                    new_state, metrics = model.step(state, cfg, rng, done)
                except (KeyboardInterrupt, SystemError):
                    raise
                except Exception as exc:
                    what = divergence_quantity(exc)
                    if what is None:
                        raise
                    raise NonFiniteError(done + 1, what) from exc
                metrics = _to_float_metrics(metrics, done + 1)
                bad = first_nonfinite_metric(metrics) or first_nonfinite_leaf(new_state)
                if bad:
                    raise NonFiniteError(done + 1, bad)
                # commit: from here on the step counts
                state, done, last_metrics = new_state, done + 1, metrics
                committed_rng = rng.bit_generator.state
                if done % spec.log_every == 0 or done == spec.steps:
                    mf.write(json.dumps({"step": done, **metrics}) + "\n")
                    mf.flush()
                if spec.eval_every and done % spec.eval_every == 0 and done != spec.steps:
                    _write_eval(mf, done, _evaluate(model, state, cfg, spec, done))
                if spec.checkpoint_every and done % spec.checkpoint_every == 0:
                    ckpt(done, state)
                    last_ckpt = done
                prog.update(done, metrics)
                if on_step is not None:
                    on_step(done, metrics)
    except (KeyboardInterrupt, SystemError) as exc:
        # SystemError: a forced (second) Ctrl-C that landed inside a compiled kernel
        if isinstance(exc, SystemError) and not intr.forced:
            raise
        status = "interrupted"
        ckpt(done, state, rng_state=committed_rng)  # the RNG as it was after the last completed step
        last_ckpt = done
    except NonFiniteError as exc:
        status, error = "nonfinite", str(exc)
    except Exception as exc:  # a model error or a failed write: say so in the summary, then report it
        _record_failure(out_dir, spec, done, last_metrics, exc)
        raise
    finally:
        prog.close()

    final = {}
    # (Ctrl-C stays held here too: the final evaluation and the summary are written whole)
    if status == "completed":
        if last_ckpt != done:
            ckpt(done, state)
        try:
            final = _evaluate(model, state, cfg, spec, done)
        except KeyboardInterrupt:  # a forced stop in the final evaluation: resume redoes it
            status = "interrupted"
        else:
            with open(metrics_path, "a", encoding="utf-8") as mf:
                _write_eval(mf, done, final)
    return _finish_run(model, spec, out_dir, state, status, error, done, final, last_metrics,
                       elapsed_before + time.monotonic() - t0, stream, plots)


def _plain(record: dict) -> dict:
    """``record`` as JSON would read it back (numpy scalars and other leaves via str, as json.dumps(default=str)),
    so the checksum sealed into summary.json is the checksum of what a reader parses."""
    return json.loads(json.dumps(record, default=str))


def _record_failure(out_dir: Path, spec: RunSpec, done: int, last_metrics: dict, exc: Exception) -> None:
    """summary.json with status "failed" and the error, so the folder does not read as running or finished; the
    checkpoints are untouched and ``--resume`` continues from the newest. Best effort: the disk may be full."""
    summary = {"name": spec.name, "model": spec.model, "seed": spec.seed, "status": "failed", "steps": spec.steps,
               "steps_done": done, "final": {}, "last_metrics": last_metrics, "config": spec.config,
               "reference": spec.reference, "error": f"{type(exc).__name__}: {exc}"}
    try:
        atomic_write_text(out_dir / "summary.json", json.dumps(seal(_plain(summary)), indent=2))
    except OSError:
        pass


def _evaluate(model, state, cfg, spec, done) -> dict:
    return _to_float_metrics(model.evaluate(state, cfg, _eval_rng(spec.seed, done), spec.data_dir), done)


def _write_eval(mf, done: int, ev: dict) -> None:
    mf.write(json.dumps({"step": done, **{f"eval/{k}": v for k, v in ev.items()}}) + "\n")
    mf.flush()


def _finish_run(model, spec, out_dir, state, status, error, done, final, last_metrics, wall, stream,
                plots) -> RunResult:
    ckpt_dir = out_dir / "checkpoints"
    metrics_path = out_dir / "metrics.jsonl"
    cfg = spec.config
    summary = {
        "name": spec.name, "model": spec.model, "seed": spec.seed, "status": status,
        "steps": spec.steps, "steps_done": done, "final": final, "last_metrics": last_metrics,
        "wall_time_s": round(wall, 3), "versions": versions(),
        "config": cfg, "reference": spec.reference,
    }
    if error:
        summary["error"] = error
    atomic_write_text(out_dir / "summary.json", json.dumps(seal(_plain(summary)), indent=2))

    if status == "interrupted":
        print(f"interrupted at step {done}: checkpoint written; continue with  minidsn run --resume {out_dir}",
              file=stream)
    elif status == "nonfinite":
        print(f"error: {error}; the run stopped, last good checkpoint kept in {ckpt_dir}", file=stream)

    if plots and status != "interrupted":
        lines = _read_metrics(metrics_path)
        plot_curves(lines, out_dir / "plots")
        if matplotlib_available():
            try:
                model.plot(state, lines, out_dir / "plots")
            except Exception as exc:  # a figure must never lose a finished run
                print(f"warning: {spec.model}.plot failed: {type(exc).__name__}: {exc}", file=stream)
        else:
            warn_plots_skipped(stream)
    return RunResult(status, done, out_dir, summary)

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
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import minidsn
from minidsn.models.api import get_model
from minidsn.runs.atomic import atomic_write_text
from minidsn.runs.checkpoint import CheckpointError, load_latest_checkpoint, rng_from_state, save_checkpoint
from minidsn.runs.config import RunSpec
from minidsn.runs.finite import first_nonfinite_leaf, first_nonfinite_metric
from minidsn.runs.plots import matplotlib_available, plot_curves, warn_plots_skipped
from minidsn.runs.progress import Progress

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


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _catch_sigterm():
    """Treat SIGTERM (a job scheduler stopping the run) like Ctrl-C while the loop runs; main thread only."""
    if threading.current_thread() is not threading.main_thread():
        return None
    try:
        return signal.signal(signal.SIGTERM, _raise_interrupt)
    except (ValueError, OSError):
        return None


def _restore_sigterm(old) -> None:
    if old is not None:
        signal.signal(signal.SIGTERM, old)


def run(spec: RunSpec, out_dir, *, resume: bool = False, progress: bool | None = None, stream=None,
        plots: bool = True, on_step=None) -> RunResult:
    """Run (or resume) ``spec`` into ``out_dir``. Ctrl-C (or SIGTERM) and NaN/inf end the run with a
    checkpoint and a summary. ``on_step(done, metrics)``, if given, is called after every committed step (a sweep's
    progress display); it must be cheap and must not raise.

    Raises ConfigError / ModelNotAvailable / CheckpointError before any training on a bad setup.
    """
    stream = stream if stream is not None else sys.stderr
    out_dir = Path(out_dir)
    ckpt_dir = out_dir / "checkpoints"
    model_cls = get_model(spec.model)
    model = model_cls()
    cfg = spec.config
    metrics_path = out_dir / "metrics.jsonl"

    ck = None
    if resume:
        ck = load_latest_checkpoint(ckpt_dir, warn=lambda m: print(m, file=stream))
        if ck is None:
            print(f"no checkpoint in {ckpt_dir}: starting from step 0", file=stream)
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "config.json", json.dumps(spec.to_json(), indent=2))

    if ck is not None:
        state, done, rng = ck.state, ck.step, rng_from_state(ck.rng_state)
        elapsed_before = float(ck.extra.get("elapsed_s", 0.0))
        kept = _read_metrics(metrics_path, max_step=done)
        # An evaluation at the checkpoint's step stays only if an uninterrupted run of this spec makes it there
        # (periodic eval); the final one made when an earlier, shorter run ended is redone or dropped.
        periodic = bool(spec.eval_every) and done % spec.eval_every == 0 and done != spec.steps
        kept = [d for d in kept if not (d["step"] == done and _is_eval_line(d) and not periodic)]
        atomic_write_text(metrics_path, "".join(json.dumps(d) + "\n" for d in kept))
        print(f"resuming {out_dir} at step {done}/{spec.steps}", file=stream)
    else:
        rng = np.random.default_rng(spec.seed)
        state = model.init(cfg, rng, spec.data_dir)
        bad = first_nonfinite_leaf(state)
        if bad:
            raise NonFiniteError(0, f"initial {bad}")
        done, elapsed_before = 0, 0.0
        atomic_write_text(metrics_path, "")

    t0 = time.monotonic()

    def ckpt(step, st, rng_state=None):
        save_checkpoint(ckpt_dir, step, st, rng, keep_last=spec.keep_checkpoints, rng_state=rng_state,
                        extra={"model": spec.model, "seed": spec.seed,
                               "elapsed_s": elapsed_before + time.monotonic() - t0})

    if ck is None:
        ckpt(0, state)  # the run's starting point: a NaN at step 1 still leaves a good checkpoint

    prog = Progress(spec.steps, start=done, enabled=progress, stream=stream)
    old_term = _catch_sigterm()
    status, error, last_metrics = "completed", None, {}
    committed_rng = rng.bit_generator.state
    last_ckpt = done
    try:
        with open(metrics_path, "a", encoding="utf-8") as mf:
            while done < spec.steps:
                new_state, metrics = model.step(state, cfg, rng, done)
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
                    ev = model.evaluate(state, cfg, _eval_rng(spec.seed, done), spec.data_dir)
                    ev = _to_float_metrics(ev, done)
                    mf.write(json.dumps({"step": done, **{f"eval/{k}": v for k, v in ev.items()}}) + "\n")
                    mf.flush()
                if spec.checkpoint_every and done % spec.checkpoint_every == 0:
                    ckpt(done, state)
                    last_ckpt = done
                prog.update(done, metrics)
                if on_step is not None:
                    on_step(done, metrics)
    except KeyboardInterrupt:
        status = "interrupted"
        ckpt(done, state, rng_state=committed_rng)  # the RNG as it was after the last completed step
        last_ckpt = done
    except NonFiniteError as exc:
        status, error = "nonfinite", str(exc)
    finally:
        prog.close()
        _restore_sigterm(old_term)

    final = {}
    if status == "completed":
        if last_ckpt != done:
            ckpt(done, state)
        final = _to_float_metrics(model.evaluate(state, cfg, _eval_rng(spec.seed, done), spec.data_dir), done)
        with open(metrics_path, "a", encoding="utf-8") as mf:
            mf.write(json.dumps({"step": done, **{f"eval/{k}": v for k, v in final.items()}}) + "\n")

    summary = {
        "name": spec.name, "model": spec.model, "seed": spec.seed, "status": status,
        "steps": spec.steps, "steps_done": done, "final": final, "last_metrics": last_metrics,
        "wall_time_s": round(elapsed_before + time.monotonic() - t0, 3), "versions": versions(),
        "config": cfg, "reference": spec.reference,
    }
    if error:
        summary["error"] = error
    atomic_write_text(out_dir / "summary.json", json.dumps(summary, indent=2, default=str))

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

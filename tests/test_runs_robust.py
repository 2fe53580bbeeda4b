"""Run-folder lock, resume edge cases, Ctrl-C held to step boundaries (inside evaluations and Numba kernels),
divergence as a NaN stop in the harness, sweep statuses, nothing left behind by a run that fails at the start."""

import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import minidsn.models.mlp.model as mlp
from minidsn.data.errors import DataError
from minidsn.models.api import ConfigError, register_model
from minidsn.runs.checkpoint import list_checkpoints, load_checkpoint, load_latest_checkpoint
from minidsn.runs.config import resolve_run_spec
from minidsn.runs.lock import LOCK_NAME, RunLockedError, run_folder_lock
from minidsn.runs.loop import run
from minidsn.runs.sweep import run_sweep

SMALL = {"n_train": 64, "n_test": 32, "hidden": [8], "batch_size": 16, "n_classes": 3}
ROOT = Path(__file__).resolve().parents[1]


def spec(steps=30, model="mlp", **kw):
    raw = {"model": model, "steps": steps, "log_every": 5, "eval_every": 10, "checkpoint_every": 10,
           "config": dict(SMALL)}
    raw.update(kw)
    return resolve_run_spec(raw, "t")


def _enc(x):
    return json.dumps(x, default=lambda a: a.tobytes().hex() if isinstance(a, np.ndarray) else repr(a))


def same_run(a, b):
    ca = load_checkpoint(list_checkpoints(a / "checkpoints")[-1])
    cb = load_checkpoint(list_checkpoints(b / "checkpoints")[-1])
    assert ca.step == cb.step and _enc(ca.state) == _enc(cb.state) and ca.rng_state == cb.rng_state
    assert (a / "metrics.jsonl").read_text() == (b / "metrics.jsonl").read_text()


def quiet():
    return io.StringIO()


# ------------------------------------------------------------------ lock
def test_a_second_run_on_a_locked_folder_is_refused_naming_the_pid(tmp_path):
    run(spec(10), tmp_path / "r", stream=quiet())
    with run_folder_lock(tmp_path / "r"):
        with pytest.raises(RunLockedError, match=f"in use by process {os.getpid()}"):
            run(spec(20), tmp_path / "r", resume=True, stream=quiet())
    assert not (tmp_path / "r" / LOCK_NAME).exists()  # released
    assert run(spec(20), tmp_path / "r", resume=True, stream=quiet()).status == "completed"


def test_lock_held_by_another_process_and_stale_lock_taken_over(tmp_path, capsys):
    from minidsn.cli import main

    d = tmp_path / "r"
    run(spec(10), d, stream=quiet())
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from minidsn.runs.lock import "
                               "run_folder_lock\nwith run_folder_lock(sys.argv[1]):\n print('held', flush=True)\n "
                               "time.sleep(60)", str(d)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert main(["run", "--resume", str(d), "--steps", "20"]) == 1
        err = capsys.readouterr().err
        assert f"in use by process {holder.pid}" in err and "Traceback" not in err
    finally:
        holder.kill()  # kill -9: the lock file stays behind, stale
        holder.wait()
    assert (d / LOCK_NAME).exists()
    s = run(spec(20), d, resume=True, stream=(note := quiet()))
    assert s.status == "completed" and f"pid={holder.pid}" in note.getvalue() and "taking over" in note.getvalue()


# ------------------------------------------------------------------ resume edge cases
def test_resume_with_fewer_steps_than_done_is_refused_and_changes_nothing(tmp_path):
    run(spec(30), tmp_path, stream=quiet())
    before = {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError, match="has 30 steps done; --steps 20 would shorten it"):
        run(spec(20), tmp_path, resume=True, stream=quiet())
    assert before == {p.name: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}


@pytest.mark.parametrize("first", [23, 27, 20])
def test_extending_a_run_off_the_log_grid_equals_a_fresh_run(tmp_path, first):
    run(spec(37), tmp_path / "fresh", stream=quiet())
    run(spec(first), tmp_path / "ext", stream=quiet())
    run(spec(37), tmp_path / "ext", resume=True, stream=quiet())
    same_run(tmp_path / "fresh", tmp_path / "ext")
    a, b = (json.loads((tmp_path / d / "summary.json").read_text()) for d in ("fresh", "ext"))
    assert a["last_metrics"] == b["last_metrics"] and a["final"] == b["final"]


def test_resuming_a_finished_run_keeps_its_summary(tmp_path):
    run(spec(25), tmp_path, stream=quiet())
    before = json.loads((tmp_path / "summary.json").read_text())
    metrics = (tmp_path / "metrics.jsonl").read_text()
    run(spec(25), tmp_path, resume=True, stream=quiet())
    after = json.loads((tmp_path / "summary.json").read_text())
    assert after["last_metrics"] == before["last_metrics"] != {}
    assert after["final"] == before["final"] and after["status"] == "completed"
    assert (tmp_path / "metrics.jsonl").read_text() == metrics


class EvalInterrupt(mlp.MLPModel):
    name = "mlp-eval-interrupt-test"
    at = 20
    mode = "signal"  # "signal": a real SIGINT (held to the boundary); "raise": KeyboardInterrupt right there
    count = 0

    def step(self, state, cfg, rng, step):
        EvalInterrupt.count = step + 1
        return super().step(state, cfg, rng, step)

    def evaluate(self, state, cfg, rng, data_dir):
        if EvalInterrupt.count == EvalInterrupt.at:
            EvalInterrupt.count = -1
            if EvalInterrupt.mode == "signal":
                os.kill(os.getpid(), signal.SIGINT)
                time.sleep(0.05)
            else:
                raise KeyboardInterrupt
        return super().evaluate(state, cfg, rng, data_dir)


register_model(EvalInterrupt, replace=True)


@pytest.mark.parametrize("mode", ["signal", "raise"])
def test_ctrl_c_inside_a_periodic_evaluation_loses_no_metrics_line(tmp_path, mode):
    run(spec(30), tmp_path / "ref", stream=quiet())
    EvalInterrupt.mode = mode
    res = run(spec(30, model=EvalInterrupt.name), tmp_path / "cut", stream=quiet())
    assert res.status == "interrupted" and res.steps_done == 20
    lines = (tmp_path / "cut" / "metrics.jsonl").read_text()
    assert ('"step": 20, "eval/' in lines) == (mode == "signal")  # a held signal lets the evaluation finish
    res = run(spec(30), tmp_path / "cut", resume=True, stream=quiet())
    assert res.status == "completed"
    same_run(tmp_path / "ref", tmp_path / "cut")


def _busy_kernel():
    from numba import njit

    @njit(cache=False)
    def spin(n):
        s = 0.0
        for i in range(n):
            s += (i % 7) * 1e-9
        return s

    spin(10)
    return spin


class NumbaStep(mlp.MLPModel):
    """mlp whose step spends most of its time inside a compiled Numba loop (its result is not used)."""

    name = "mlp-numba-step-test"
    spin = None
    n = 2_000_000

    def step(self, state, cfg, rng, step):
        NumbaStep.spin(NumbaStep.n)
        return super().step(state, cfg, rng, step)


register_model(NumbaStep, replace=True)


def test_ctrl_c_inside_a_numba_kernel_stops_at_the_step_boundary(tmp_path):
    NumbaStep.spin = _busy_kernel()
    t = time.perf_counter()
    NumbaStep.spin(NumbaStep.n)
    NumbaStep.n = int(NumbaStep.n * 0.02 / max(time.perf_counter() - t, 1e-4))  # ~20 ms per step in the kernel
    run(spec(60), tmp_path / "ref", stream=quiet(), plots=False)
    outs = []
    for k, delay in enumerate((0.15, 0.31, 0.47)):
        out = tmp_path / f"cut{k}"
        timer = threading.Timer(delay, lambda: os.kill(os.getpid(), signal.SIGINT))
        timer.start()
        try:
            res = run(spec(60, model=NumbaStep.name), out, stream=quiet(), plots=False)
        finally:
            timer.cancel()
        outs.append(res.status)
        run(spec(60), out, resume=True, stream=quiet(), plots=False)
        same_run(tmp_path / "ref", out)
    assert "interrupted" in outs


# ------------------------------------------------------------------ divergence
class RaisingOnNaN(mlp.MLPModel):
    name = "mlp-raises-on-nan-test"
    exc = ValueError("dag: d contains NaN or inf")

    def step(self, state, cfg, rng, step):
        if step == 12:
            raise RaisingOnNaN.exc
        return super().step(state, cfg, rng, step)


register_model(RaisingOnNaN, replace=True)


@pytest.mark.parametrize("exc", [ValueError("dag: d contains NaN or inf"),
                                 FloatingPointError("grads at W/0 has 2000 NaN/inf entries"),
                                 np.linalg.LinAlgError("SVD did not converge"),
                                 OverflowError("math range error")])
def test_a_model_raising_on_nonfinite_values_ends_as_a_nan_stop(tmp_path, exc):
    RaisingOnNaN.exc = exc
    err = quiet()
    res = run(spec(30, model=RaisingOnNaN.name), tmp_path, stream=err)
    assert res.status == "nonfinite" and res.exit_code == 3 and res.steps_done == 12
    assert "step 13" in res.summary["error"] and type(exc).__name__ in res.summary["error"]
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "nonfinite"
    assert load_latest_checkpoint(tmp_path / "checkpoints").step == 10


def test_an_unrelated_model_error_stays_an_error(tmp_path):
    RaisingOnNaN.exc = ValueError("shapes (3,) and (4,) not aligned")
    with pytest.raises(ValueError, match="not aligned"):
        run(spec(30, model=RaisingOnNaN.name), tmp_path, stream=quiet())
    assert load_latest_checkpoint(tmp_path / "checkpoints").step == 10
    summ = json.loads((tmp_path / "summary.json").read_text())
    assert summ["status"] == "failed" and "not aligned" in summ["error"] and summ["steps_done"] == 12


def test_real_divergence_of_mlp_is_a_nan_stop(tmp_path):
    s = spec(30)
    s.config["lr"] = 1e300
    with np.errstate(all="ignore"):
        res = run(s, tmp_path, stream=quiet())
    assert res.status == "nonfinite" and res.summary["status"] == "nonfinite"


def test_a_sweep_records_each_seeds_real_status(tmp_path):
    RaisingOnNaN.exc = FloatingPointError("overflow")
    sw = run_sweep(spec(20, model=RaisingOnNaN.name, seeds=[0, 1]), tmp_path / "nan", stream=quiet())
    assert {k: v["status"] for k, v in sw["seeds"].items()} == {"0": "nonfinite", "1": "nonfinite"}
    assert json.loads((tmp_path / "nan" / "sweep.json").read_text())["seeds"]["1"]["status"] == "nonfinite"
    RaisingOnNaN.exc = KeyError("boom")
    sw = run_sweep(spec(20, model=RaisingOnNaN.name, seeds=[0, 1]), tmp_path / "err", stream=quiet())
    assert [v["status"] for v in sw["seeds"].values()] == ["failed", "failed"]
    assert "KeyError" in sw["seeds"]["0"]["error"]


# ------------------------------------------------------------------ nothing left behind
class NoData(mlp.MLPModel):
    name = "mlp-no-data-test"

    def init(self, cfg, rng, data_dir):
        raise DataError("data file x not found")


register_model(NoData, replace=True)


def test_a_run_failing_before_its_first_checkpoint_leaves_nothing(tmp_path):
    out = tmp_path / "new"
    with pytest.raises(DataError):
        run(spec(10, model=NoData.name), out, stream=quiet())
    assert not out.exists()
    existing = tmp_path / "given"
    existing.mkdir()
    with pytest.raises(DataError):
        run(spec(10, model=NoData.name), existing, stream=quiet())
    assert existing.exists() and list(existing.iterdir()) == []


@pytest.mark.slow
def test_many_random_ctrl_c_inside_numba_kernels(tmp_path):
    """Issue #19 saw 15 of 300 Ctrl-C's inside a Numba kernel crash with SystemError; held to the step boundary,
    every one must stop cleanly and resume bit-identically."""
    import random

    NumbaStep.spin = _busy_kernel()
    t = time.perf_counter()
    NumbaStep.spin(2_000_000)
    NumbaStep.n = int(2_000_000 * 0.02 / max(time.perf_counter() - t, 1e-4))
    run(spec(40), tmp_path / "ref", stream=quiet(), plots=False)
    rnd = random.Random(0)
    statuses = []
    for k in range(40):
        out = tmp_path / f"cut{k}"
        timer = threading.Timer(rnd.uniform(0.05, 0.6), lambda: os.kill(os.getpid(), signal.SIGINT))
        timer.start()
        try:
            statuses.append(run(spec(40, model=NumbaStep.name), out, stream=quiet(), plots=False).status)
        finally:
            timer.cancel()
            time.sleep(0.01)
        run(spec(40), out, resume=True, stream=quiet(), plots=False)
        same_run(tmp_path / "ref", out)
    assert statuses.count("interrupted") >= 20


def test_a_second_sweep_on_a_locked_sweep_folder_is_refused(tmp_path):
    d = tmp_path / "sw"
    with run_folder_lock(d):
        with pytest.raises(RunLockedError, match=f"process {os.getpid()}"):
            run_sweep(spec(5, seeds=[0, 1]), d, stream=quiet())
    assert run_sweep(spec(5, seeds=[0, 1]), d, stream=quiet())["seeds"]["1"]["status"] == "completed"


def test_one_ctrl_c_during_the_final_evaluation_lets_it_finish(tmp_path):
    EvalInterrupt.mode, EvalInterrupt.at = "signal", 30
    try:
        res = run(spec(30, model=EvalInterrupt.name), tmp_path / "a", stream=quiet())
    finally:
        EvalInterrupt.at = 20
    assert res.status == "completed" and res.summary["final"]
    run(spec(30), tmp_path / "b", stream=quiet())
    same_run(tmp_path / "a", tmp_path / "b")


def test_atomic_write_errors_name_the_target(tmp_path):
    from minidsn.runs.atomic import atomic_write_text

    with pytest.raises(IsADirectoryError) as e:
        atomic_write_text(tmp_path, "x")
    assert e.value.filename == str(tmp_path)
    (tmp_path / "f").write_text("")
    with pytest.raises(OSError) as e:
        atomic_write_text(tmp_path / "f" / "g.json", "x")
    assert "g.json" in str(e.value.filename) or str(tmp_path / "f") in str(e.value.filename)
    assert not list(tmp_path.glob(".tmp-*"))


def test_a_sweep_resumes_a_seed_whose_summary_is_damaged(tmp_path):
    d = tmp_path / "sw"
    run_sweep(spec(10, seeds=[0, 1]), d, stream=quiet())
    f = d / "seed-1" / "summary.json"
    rec = json.loads(f.read_text())
    rec["final"] = {k: v + 1.0 for k, v in rec["final"].items()}  # a damaged figure, still "completed"
    f.write_text(json.dumps(rec))
    sw = run_sweep(spec(10, seeds=[0, 1]), d, resume=True, stream=quiet())
    one = run(spec(10).with_seed(1), tmp_path / "one", stream=quiet(), plots=False)
    assert sw["seeds"]["1"]["final"] == one.summary["final"] != rec["final"]


@pytest.mark.slow  # three Python processes: 8-50 s depending on the machine's load
def test_sigterm_to_a_parallel_sweep_stops_its_workers_and_starts_no_queued_seed(tmp_path, spawn):
    """SIGTERM to the sweep process alone (a scheduler) reaches its worker processes: running seeds stop with a
    checkpoint, the seed queued behind them does not start, and the sweep exits 130 at once (it used to wait for
    the queued seed to run to its end)."""
    toml = tmp_path / "sw.toml"
    toml.write_text('model = "mlp"\nsteps = 1000000\nlog_every = 50\nseeds = [0, 1, 2]\n[config]\nn_train = 64\n'
                    'hidden = [8]\nbatch_size = 16\n')
    out = tmp_path / "sw"
    p = spawn([sys.executable, "-m", "minidsn", "run", str(toml), "--out", str(out), "--jobs", "2", "--no-plots"],
              cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not all((out / f"seed-{s}" / "metrics.jsonl").exists() and
                  (out / f"seed-{s}" / "metrics.jsonl").stat().st_size > 100 for s in (0, 1)):
        assert time.monotonic() < deadline and p.poll() is None, "the sweep did not start in time"
        time.sleep(0.1)
    p.send_signal(signal.SIGTERM)
    _, err = p.communicate(timeout=90)
    assert p.returncode == 130, err
    seeds = json.loads((out / "sweep.json").read_text())["seeds"]
    assert [seeds[s]["status"] for s in ("0", "1", "2")] == ["interrupted", "interrupted", "not started"]
    for s in (0, 1):
        summ = json.loads((out / f"seed-{s}" / "summary.json").read_text())
        assert load_latest_checkpoint(out / f"seed-{s}" / "checkpoints").step == summ["steps_done"] > 0

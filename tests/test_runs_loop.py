"""The run loop on the mlp model: bit-identical resume, Ctrl-C, the NaN/inf guard, sweeps, quiet when piped."""

import io
import json
import os
import signal
import threading

import numpy as np
import pytest

import minidsn.models.mlp.model as mlp
from minidsn.models import api
from minidsn.models.api import ConfigError, register_model
from minidsn.runs.checkpoint import list_checkpoints, load_checkpoint, load_latest_checkpoint
from minidsn.runs.config import RunSpec, resolve_run_spec
from minidsn.runs.loop import NonFiniteError, run
from minidsn.runs.sweep import run_sweep

SMALL = {"n_train": 64, "n_test": 32, "hidden": [8], "batch_size": 16, "n_classes": 3}


def spec(steps=30, **kw):
    raw = {"model": "mlp", "steps": steps, "log_every": 5, "eval_every": 10, "checkpoint_every": 10,
           "config": dict(SMALL)}
    raw.update(kw)
    return resolve_run_spec(raw, "t")


def final_state(out):
    return load_checkpoint(list_checkpoints(out / "checkpoints")[-1])


def assert_states_identical(a, b):
    ea = json.dumps(a.state, default=lambda x: x.tobytes().hex() if isinstance(x, np.ndarray) else repr(x))
    eb = json.dumps(b.state, default=lambda x: x.tobytes().hex() if isinstance(x, np.ndarray) else repr(x))
    assert ea == eb
    assert a.rng_state == b.rng_state


class Interrupting(mlp.MLPModel):
    """mlp that raises KeyboardInterrupt inside step ``at`` (after consuming random numbers, like a real Ctrl-C)."""

    name = "mlp-interrupt-test"
    at = 17

    def step(self, state, cfg, rng, step):
        if step == Interrupting.at:
            rng.random(3)  # the interrupted step has already drawn: the checkpoint must not include these draws
            raise KeyboardInterrupt
        return super().step(state, cfg, rng, step)


class Exploding(mlp.MLPModel):
    name = "mlp-nan-test"
    where = "metric"

    def step(self, state, cfg, rng, step):
        new, metrics = super().step(state, cfg, rng, step)
        if step == 12:
            if Exploding.where == "metric":
                metrics["loss"] = float("nan")
            else:
                W = new["params"]["layers"][0]["W"].copy()
                W[1, 2] = np.inf
                new["params"]["layers"][0]["W"] = W
        return new, metrics


register_model(Interrupting, replace=True)
register_model(Exploding, replace=True)


def test_run_writes_everything(tmp_path):
    res = run(spec(), tmp_path, stream=io.StringIO())
    assert res.status == "completed" and res.exit_code == 0
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["config"]["hidden"] == [8] and cfg["config"]["activation"] == "tanh"  # defaults filled in
    lines = [json.loads(x) for x in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    train = [d for d in lines if "loss" in d]
    assert [d["step"] for d in train] == [5, 10, 15, 20, 25, 30]
    evals = [d for d in lines if "eval/test_acc" in d]
    assert [d["step"] for d in evals] == [10, 20, 30]
    summ = json.loads((tmp_path / "summary.json").read_text())
    assert summ["status"] == "completed" and summ["seed"] == 0 and summ["steps_done"] == 30
    assert set(summ["final"]) == {"train_loss", "train_acc", "test_loss", "test_acc", "test_acc_bayes"}
    assert summ["versions"]["numpy"] == np.__version__ and summ["wall_time_s"] >= 0
    assert final_state(tmp_path).step == 30


def test_resume_is_bit_identical(tmp_path):
    ref = tmp_path / "ref"
    run(spec(), ref, stream=io.StringIO())
    # interrupted at step 17 (Ctrl-C inside the step), resumed from the Ctrl-C checkpoint
    cut = tmp_path / "cut"
    s = spec()
    s.model = Interrupting.name
    res = run(s, cut, stream=io.StringIO())
    assert res.status == "interrupted" and res.steps_done == 17 and res.exit_code == 130
    assert load_latest_checkpoint(cut / "checkpoints").step == 17
    s.model = "mlp"
    res2 = run(s, cut, resume=True, stream=io.StringIO())
    assert res2.status == "completed"
    assert_states_identical(final_state(ref), final_state(cut))
    assert (ref / "metrics.jsonl").read_text() == (cut / "metrics.jsonl").read_text()
    assert json.loads((ref / "summary.json").read_text())["final"] == json.loads(
        (cut / "summary.json").read_text())["final"]


def test_resume_from_periodic_checkpoint_after_crash(tmp_path):
    """A crash (process killed) after step 23: the checkpoint of step 20 is resumed; metrics beyond it dropped."""
    ref = tmp_path / "ref"
    run(spec(), ref, stream=io.StringIO())
    crash = tmp_path / "crash"
    run(spec(steps=23), crash, stream=io.StringIO())
    for p in list_checkpoints(crash / "checkpoints"):  # as if killed: no final checkpoint at 23
        if p.name.endswith("23.json"):
            p.unlink()
    with open(crash / "metrics.jsonl", "a") as f:
        f.write('{"step": 25, "loss": 0.')  # a torn line from the kill
    s = spec()
    run(s, crash, resume=True, stream=io.StringIO())
    assert_states_identical(final_state(ref), final_state(crash))
    assert (ref / "metrics.jsonl").read_text() == (crash / "metrics.jsonl").read_text()


def test_sigint_during_run(tmp_path):
    """A real SIGINT delivered while the loop runs: checkpoint written, resumable, final result identical."""
    ref = tmp_path / "ref"
    run(spec(steps=400), ref, stream=io.StringIO(), plots=False)
    out = tmp_path / "sig"
    timer = threading.Timer(0.15, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        res = run(spec(steps=400), out, stream=io.StringIO(), plots=False)
    finally:
        timer.cancel()
    if res.status == "completed":
        pytest.skip("the run finished before the signal arrived (machine too fast)")
    assert res.status == "interrupted"
    res = run(spec(steps=400), out, resume=True, stream=io.StringIO(), plots=False)
    assert res.status == "completed"
    assert_states_identical(final_state(ref), final_state(out))


@pytest.mark.parametrize("where", ["metric", "param"])
def test_nonfinite_stops_with_step_and_quantity(tmp_path, where):
    Exploding.where = where
    s = spec()
    s.model = Exploding.name
    err = io.StringIO()
    res = run(s, tmp_path, stream=err)
    assert res.status == "nonfinite" and res.exit_code == 3 and res.steps_done == 12
    msg = res.summary["error"]
    assert "step 13" in msg
    assert ("metric 'loss'" in msg) if where == "metric" else ("['layers'][0]['W']" in msg and "(1, 2)" in msg)
    assert "last good checkpoint kept" in err.getvalue()
    good = load_latest_checkpoint(tmp_path / "checkpoints")
    assert good.step == 10
    assert np.all(np.isfinite(good.state["params"]["layers"][0]["W"]))


def test_config_errors_before_any_work(tmp_path):
    with pytest.raises(ConfigError, match="unknown config key 'widht'.*known keys"):
        spec(config={"widht": 3})
    with pytest.raises(ConfigError, match="'activation'.*'tanh', 'relu'"):
        spec(config={"activation": "gelu"})
    with pytest.raises(ConfigError, match="'lr'.*must be > 0"):
        spec(config={"lr": -1.0})
    with pytest.raises(ConfigError, match="'hidden'.*expected list"):
        spec(config={"hidden": 8})
    with pytest.raises(ConfigError, match="unknown config key 'stpes' at the top level of the run file"):
        spec(stpes=3)
    with pytest.raises(ConfigError, match=r"unknown config key 'lr' at the top level .*model options go under "
                                          r"\[config\]"):
        spec(lr=0.1)  # a model option above [config]: the message says where it belongs
    with pytest.raises(ConfigError, match="'log_every'.*must be > 0"):
        spec(log_every=0)
    assert not any(tmp_path.iterdir())


def test_epochs_resolve_to_steps():
    s = resolve_run_spec({"model": "mlp", "epochs": 3, "config": dict(SMALL)}, "t")
    assert s.steps == 3 * 4  # 64 points / batch 16
    s = resolve_run_spec({"model": "mlp", "steps": 5, "config": dict(SMALL)}, "t", epochs=2)
    assert s.steps == 8


def test_progress_quiet_when_piped_and_shown_on_tty(tmp_path):
    err = io.StringIO()  # not a TTY
    run(spec(steps=10), tmp_path / "a", stream=err, plots=False)
    assert "\r" not in err.getvalue() and "it/s" not in err.getvalue()

    class TTY(io.StringIO):
        def isatty(self):
            return True

    tty = TTY()
    run(spec(steps=10), tmp_path / "b", stream=tty, plots=False)
    assert "\rstep 10/10" in tty.getvalue() and "loss=" in tty.getvalue() and "ETA" in tty.getvalue()


def test_plots_skipped_message_once_without_matplotlib(tmp_path, monkeypatch, capsys):
    import minidsn.runs.loop as loop
    import minidsn.runs.plots as plots

    monkeypatch.setattr(plots, "matplotlib_available", lambda: False)
    monkeypatch.setattr(loop, "matplotlib_available", lambda: False)
    monkeypatch.setattr(plots, "_warned", False)
    run(spec(steps=5), tmp_path / "a", stream=io.StringIO())
    run(spec(steps=5), tmp_path / "b", stream=io.StringIO())
    assert capsys.readouterr().err.count("plots skipped") == 1
    assert not (tmp_path / "a" / "plots").exists() or not any((tmp_path / "a" / "plots").glob("*.png"))


def test_plots_written_with_matplotlib(tmp_path):
    pytest.importorskip("matplotlib")
    run(spec(steps=10), tmp_path, stream=io.StringIO())
    assert (tmp_path / "plots" / "loss.png").exists()


def test_sweep_in_parallel_matches_single_runs(tmp_path):
    s = spec(steps=10, seeds=[0, 1])
    sweep = run_sweep(s, tmp_path / "sw", jobs=2)
    assert set(sweep["seeds"]) == {"0", "1"} and all(r["status"] == "completed" for r in sweep["seeds"].values())
    assert sweep["final_stats"]["test_acc"]["n"] == 2
    single = run(s.with_seed(1), tmp_path / "one", stream=io.StringIO(), plots=False)
    assert single.summary["final"] == sweep["seeds"]["1"]["final"]
    swept = (tmp_path / "sw" / "seed-1" / "metrics.jsonl").read_text()
    assert swept == (tmp_path / "one" / "metrics.jsonl").read_text()


def test_runspec_json_roundtrip():
    s = spec()
    assert RunSpec.from_json(json.loads(json.dumps(s.to_json()))) == s


def test_registry_names_unchanged():
    assert list(api.MODEL_MODULES) == ["mlp", "dnm", "diffrnn", "diffrnn-ff", "urn", "isotropic", "dmm"]


def test_sigint_and_sigterm_to_a_cli_process(tmp_path, spawn):
    """A separate `python -m minidsn run` process stopped by SIGINT (Ctrl-C) or SIGTERM exits 130 with a checkpoint,
    and its resumed result equals an uninterrupted run's."""
    import subprocess
    import sys
    import time
    from pathlib import Path

    toml = tmp_path / "long.toml"
    toml.write_text('model = "mlp"\nsteps = 100000\nlog_every = 50\n[config]\nn_train = 64\nhidden = [8]\n'
                    'batch_size = 16\n')
    root = Path(__file__).resolve().parents[1]
    for sig in (signal.SIGINT, signal.SIGTERM):
        out = tmp_path / f"run-{int(sig)}"
        p = spawn([sys.executable, "-m", "minidsn", "run", str(toml), "--out", str(out), "--no-plots"],
                  cwd=root, stderr=subprocess.PIPE, text=True,
                  preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
        deadline = time.monotonic() + 60
        while not (out / "metrics.jsonl").exists() or (out / "metrics.jsonl").stat().st_size < 200:
            assert time.monotonic() < deadline and p.poll() is None
            time.sleep(0.05)
        p.send_signal(sig)
        _, err = p.communicate(timeout=60)
        assert p.returncode == 130, err
        assert "checkpoint written" in err
        done = json.loads((out / "summary.json").read_text())["steps_done"]
        assert 0 < done < 100000
        assert load_latest_checkpoint(out / "checkpoints").step == done
    # resume the SIGTERM one to a short total and compare with a fresh run of that length
    s = resolve_run_spec({"model": "mlp", "steps": done + 7, "log_every": 50,
                          "config": {"n_train": 64, "hidden": [8], "batch_size": 16}}, "long")
    run(s, tmp_path / "fresh", stream=io.StringIO(), plots=False)
    out = tmp_path / f"run-{int(signal.SIGTERM)}"
    cfg = json.loads((out / "config.json").read_text())
    cfg["steps"] = done + 7
    resumed = RunSpec.from_json(cfg)
    run(resumed, out, resume=True, stream=io.StringIO(), plots=False)
    assert_states_identical(final_state(tmp_path / "fresh"), final_state(out))
    assert (tmp_path / "fresh" / "metrics.jsonl").read_text() == (out / "metrics.jsonl").read_text()


def test_an_interrupted_sweep_stops_and_its_resume_runs_every_seed(tmp_path, monkeypatch):
    """Ctrl-C in seed 1 of seeds [0, 1, 2] stops the sweep (seed 2 is not started, not run after the interrupt);
    --resume finishes seed 1 and runs seed 2, and every seed equals its uninterrupted single run."""
    from minidsn.cli import main

    import minidsn.runs.loop as loop_mod

    s = spec(steps=30, seeds=[0, 1, 2])
    s.model = Interrupting.name
    real_step, real_run = Interrupting.step, loop_mod.run
    SEED1_CFG = [None]  # the config object of seed 1's run, recorded when that run starts

    def step_interrupting_seed_1(self, state, cfg, rng, step):
        if step == Interrupting.at and cfg is SEED1_CFG[0]:
            rng.random(3)
            raise KeyboardInterrupt
        return mlp.MLPModel.step(self, state, cfg, rng, step)

    def run_marking(spec_, out_dir, **kw):
        if spec_.seed == 1:
            SEED1_CFG[0] = spec_.config
        return real_run(spec_, out_dir, **kw)

    monkeypatch.setattr(loop_mod, "run", run_marking)  # each seed runs through loop.run
    monkeypatch.setattr(Interrupting, "step", step_interrupting_seed_1)
    out = tmp_path / "sw"
    sweep = run_sweep(s, out, jobs=1, stream=io.StringIO())
    assert {k: v["status"] for k, v in sweep["seeds"].items()} == {"0": "completed", "1": "interrupted",
                                                                   "2": "not started"}
    assert not (out / "seed-2").exists()
    assert json.loads((out / "sweep.json").read_text())["seeds"]["2"]["status"] == "not started"

    monkeypatch.setattr(Interrupting, "step", real_step)
    monkeypatch.setattr(loop_mod, "run", real_run)
    for d in out.glob("seed-*"):  # resume as the plain mlp (same numbers: Interrupting only adds the interrupt)
        cfg = json.loads((d / "config.json").read_text())
        cfg["model"] = "mlp"
        (d / "config.json").write_text(json.dumps(cfg))
    assert main(["run", "--resume", str(out)]) == 0
    final = json.loads((out / "sweep.json").read_text())
    assert all(v["status"] == "completed" for v in final["seeds"].values())
    s.model = "mlp"
    for seed in (0, 1, 2):
        one = run(s.with_seed(seed), tmp_path / f"one-{seed}", stream=io.StringIO(), plots=False)
        assert one.summary["final"] == final["seeds"][str(seed)]["final"]

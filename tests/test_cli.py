"""The `minidsn` command: list, run (+ overrides, errors, resume, sweep), oracle export/compare, selfcheck."""

import json
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from minidsn.cli import main
from minidsn.models import api

RUN_TOML = """
model = "mlp"
description = "tiny cli test run"
seed = 4
steps = 12
log_every = 4
checkpoint_every = 6
[config]
n_train = 32
n_test = 16
hidden = [6]
batch_size = 8
"""


@pytest.fixture
def run_file(tmp_path):
    p = tmp_path / "tiny.toml"
    p.write_text(RUN_TOML)
    return p


def test_list_shows_models_and_reference_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(api.MODEL_MODULES, "ghost", "minidsn.models.ghost_not_written")
    (tmp_path / "demo.toml").write_text('model = "mlp"\ndescription = "a demo run"\nsteps = 3\n')
    (tmp_path / "broken.toml").write_text('model = "mlp\n')
    assert main(["list", "--reference-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ("mlp", "dnm", "diffrnn", "urn", "isotropic", "dmm"):
        assert f"  {name} " in out
    assert "ghost" in out and "not available yet" in out
    assert "demo" in out and "[mlp] a demo run" in out and "unreadable" in out
    assert main(["list", "-v"]) == 0
    assert "activation: str, default 'tanh'" in capsys.readouterr().out


def test_list_includes_repository_reference_runs(capsys):
    assert main(["list"]) == 0
    assert "mlp-blobs" in capsys.readouterr().out


def test_run_with_overrides_and_outputs(tmp_path, run_file, capsys):
    out = tmp_path / "out"
    assert main(["run", str(run_file), "--steps", "8", "--seed", "2", "--out", str(out), "--no-plots"]) == 0
    summ = json.loads((out / "summary.json").read_text())
    assert summ["steps_done"] == 8 and summ["seed"] == 2 and summ["status"] == "completed"
    assert json.loads((out / "config.json").read_text())["config"]["hidden"] == [6]
    err = capsys.readouterr().err
    assert "done: 8 steps" in err and "\r" not in err  # captured stderr is not a TTY: no progress line
    # the same directory again is refused; --resume continues (and can extend)
    assert main(["run", str(run_file), "--out", str(out)]) == 1
    assert "already holds a run" in capsys.readouterr().err
    assert main(["run", "--resume", str(out), "--steps", "12", "--no-plots"]) == 0
    assert json.loads((out / "summary.json").read_text())["steps_done"] == 12
    # a run of 12 steps from scratch gives the same metrics and final state as 8 + 4 resumed
    ref = tmp_path / "ref"
    assert main(["run", str(run_file), "--seed", "2", "--out", str(ref), "--no-plots"]) == 0
    assert (ref / "metrics.jsonl").read_text() == (out / "metrics.jsonl").read_text()
    # resuming a finished run changes nothing
    assert main(["run", "--resume", str(out), "--no-plots"]) == 0
    assert (ref / "metrics.jsonl").read_text() == (out / "metrics.jsonl").read_text()
    from minidsn.runs.checkpoint import load_latest_checkpoint

    a, b = load_latest_checkpoint(ref / "checkpoints"), load_latest_checkpoint(out / "checkpoints")
    assert a.step == b.step == 12 and a.rng_state == b.rng_state
    for la, lb in zip(a.state["params"]["layers"], b.state["params"]["layers"]):
        assert la["W"].tobytes() == lb["W"].tobytes() and la["b"].tobytes() == lb["b"].tobytes()


@pytest.mark.parametrize("edit,needle", [
    ('hidden = [6]', "config key 'hidden'"),
    ('batch_size = 8', "unknown config key 'batchsize'"),
    ('steps = 12', "'steps': 'many'"),
    ('n_test = 16', "'activation': 'swish' is not allowed; allowed values: 'tanh', 'relu'"),
])
def test_bad_configs_stop_before_work(tmp_path, capsys, edit, needle):
    bad = {'hidden = [6]': 'hidden = 6', 'batch_size = 8': 'batchsize = 8', 'steps = 12': 'steps = "many"',
           'n_test = 16': 'n_test = 16\nactivation = "swish"'}[edit]
    p = tmp_path / "bad.toml"
    p.write_text(RUN_TOML.replace(edit, bad))
    out = tmp_path / "o"
    assert main(["run", str(p), "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert needle.replace("'many'", "") in err.replace("'many'", "") and "error:" in err
    assert not out.exists()


def test_run_errors(tmp_path, capsys):
    assert main(["run", "no-such-run"]) == 1
    assert "no reference run named 'no-such-run'" in capsys.readouterr().err
    p = tmp_path / "m.toml"
    p.write_text('model = "nosuch"\nsteps = 2\n')
    assert main(["run", str(p)]) == 1
    assert "unknown model 'nosuch'" in capsys.readouterr().err
    p.write_text('model = "mlp"\nsteps = 2\n[config\n')
    assert main(["run", str(p)]) == 1
    assert "TOML syntax error" in capsys.readouterr().err
    assert main(["run", "--resume", str(tmp_path / "nothing")]) == 1
    with pytest.raises(SystemExit):
        main(["run", str(p), "--steps", "3", "--epochs", "2"])


def test_sweep_from_cli(tmp_path, run_file):
    run_file.write_text(RUN_TOML.replace("seed = 4", "seeds = [0, 1]"))
    out = tmp_path / "sw"
    assert main(["run", str(run_file), "--out", str(out), "--jobs", "2"]) == 0
    sweep = json.loads((out / "sweep.json").read_text())
    assert set(sweep["seeds"]) == {"0", "1"}
    assert (out / "seed-0" / "summary.json").exists() and (out / "seed-1" / "summary.json").exists()
    assert main(["run", "--resume", str(out), "--steps", "14"]) == 0
    assert json.loads((out / "seed-1" / "summary.json").read_text())["steps_done"] == 14


def test_oracle_export_and_compare(tmp_path, capsys, run_file):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    assert main(["oracle", "export", "mlp", "--seed", "1", "--config", str(run_file), "--set", "l2=0.1",
                 "--set", "activation=relu", "--out", str(a)]) == 0
    with np.load(a, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"][()]))
        assert z["params/layers/0/W"].shape == (2, 6)
    assert meta["config"]["l2"] == 0.1 and meta["config"]["activation"] == "relu" and meta["seed"] == 1
    assert main(["oracle", "compare", str(a), str(a)]) == 0
    assert "16/16 keys pass" in capsys.readouterr().out
    assert main(["oracle", "export", "mlp", "--seed", "2", "--config", str(run_file), "--set", "l2=0.1",
                 "--set", "activation=relu", "--out", str(b)]) == 0
    capsys.readouterr()
    assert main(["oracle", "compare", str(a), str(b)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "params/layers/0/W" in out
    assert main(["oracle", "export", "mlp", "--set", "widthh=3", "--out", str(b)]) == 1
    assert "unknown config key 'widthh'" in capsys.readouterr().err


def test_selfcheck_dispatch(monkeypatch):
    seen = {}
    fake = types.ModuleType("minidsn.testing.selfcheck")
    fake.main = lambda argv, discover=None: seen.setdefault("argv", argv) and 5
    monkeypatch.setitem(sys.modules, "minidsn.testing.selfcheck", fake)
    import minidsn.testing

    monkeypatch.setattr(minidsn.testing, "selfcheck", fake, raising=False)
    assert main(["selfcheck", "--quick", "-k", "x"]) == 5
    assert seen["argv"] == ["--quick", "-k", "x"]


def test_python_dash_m(tmp_path):
    r = subprocess.run([sys.executable, "-m", "minidsn", "list"], capture_output=True, text=True,
                       cwd=Path(__file__).resolve().parents[1], timeout=120)
    assert r.returncode == 0 and "mlp" in r.stdout and r.stderr == ""
    r = subprocess.run([sys.executable, "-m", "minidsn", "frobnicate"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "invalid choice" in r.stderr


def test_blas_thread_defaults():
    from minidsn.cli import BLAS_THREAD_VARS, blas_thread_env

    assert blas_thread_env(None, {}) == {v: "1" for v in BLAS_THREAD_VARS}
    assert blas_thread_env(None, {"OMP_NUM_THREADS": "4"}) == {}  # the user's choice wins
    assert blas_thread_env(3, {"OMP_NUM_THREADS": "4"}) == {v: "3" for v in BLAS_THREAD_VARS}
    assert blas_thread_env(0, {}) == {}
    with pytest.raises(ValueError, match="--threads"):
        blas_thread_env(-1, {})


def test_run_sets_blas_threads_before_numpy_loads(tmp_path, run_file):
    # A fresh process: the variables must be in the environment when NumPy (and its BLAS) is first imported.
    code = ("import os, sys; from minidsn.cli import main; "
            "sys.argv = ['minidsn', 'run', sys.argv[1], '--steps', '1', '--out', sys.argv[2], '--no-plots'] "
            "+ sys.argv[3:]; main(); print('THREADS', os.environ.get('OPENBLAS_NUM_THREADS'))")
    env = {k: v for k, v in __import__("os").environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
                                                                          "MKL_NUM_THREADS")}
    for extra, want in (([], "1"), (["--threads", "2"], "2")):
        out = tmp_path / f"out{len(extra)}"
        r = subprocess.run([sys.executable, "-c", code, str(run_file), str(out), *extra], capture_output=True,
                           text=True, env=env, cwd=Path(__file__).resolve().parents[1], timeout=120)
        assert r.returncode == 0, r.stderr
        assert f"THREADS {want}" in r.stdout

"""Seed sweeps on every executor: --seeds lists, local processes, a local Dask cluster (shared filesystem and
return-files mode), a killed worker, a failing seed, clear errors. Seeds are bit-identical whatever ran them."""

import io
import json
import os
import signal
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from minidsn.models.api import ConfigError
from minidsn.runs.config import resolve_run_spec
from minidsn.runs.executors import ExecutorError, make_executor
from minidsn.runs.loop import run
from minidsn.runs.seeds import parse_seeds
from minidsn.runs.sweep import run_sweep
from minidsn.runs.sweep_progress import SweepProgress

SMALL = {"n_train": 64, "n_test": 32, "hidden": [8], "batch_size": 16, "n_classes": 3}


def spec(steps=30, **kw):
    """The small mlp run of the run-loop tests. (Not imported from test_runs_loop: importing that module a second
    time, under another name, registers its test models again and breaks its monkeypatching.)"""
    raw = {"model": "mlp", "steps": steps, "log_every": 5, "eval_every": 10, "checkpoint_every": 10,
           "config": dict(SMALL)}
    raw.update(kw)
    return resolve_run_spec(raw, "t")


def _metrics(d: Path) -> list[dict]:
    """metrics.jsonl without wall-clock fields (the only thing allowed to differ between executors)."""
    out = []
    for line in (d / "metrics.jsonl").read_text().splitlines():
        r = json.loads(line)
        out.append({k: v for k, v in r.items() if "time" not in k})
    return out


def _same_seed(a: Path, b: Path):
    assert _metrics(a) == _metrics(b)
    sa, sb = (json.loads((x / "summary.json").read_text()) for x in (a, b))
    assert sa["status"] == sb["status"] == "completed"
    assert sa["final"] == sb["final"] and sa["last_metrics"] == sb["last_metrics"]


# ------------------------------------------------------------------------------------------- --seeds
@given(st.lists(st.integers(0, 500), min_size=1, max_size=30, unique=True))
@settings(max_examples=60, deadline=None)
def test_seed_lists_round_trip(seeds):
    assert parse_seeds(",".join(map(str, seeds))) == seeds
    lo = min(seeds)
    assert parse_seeds(f"{lo}-{lo + 4}") == list(range(lo, lo + 5))


@pytest.mark.parametrize("text, msg", [("", "got nothing"), ("3-1", "backwards"), ("a", "not a seed"),
                                       ("1,1", "listed twice"), ("0-2,2", "listed twice"), ("-1", "not a seed"),
                                       ("0-100000000", "at most")])
def test_bad_seed_lists_are_clear_errors(text, msg):
    with pytest.raises(ConfigError, match=msg):
        parse_seeds(text)


def test_cli_seeds_sweep_equals_single_runs(tmp_path):
    from minidsn.cli import main

    f = tmp_path / "r.toml"
    f.write_text('model = "mlp"\nsteps = 20\nlog_every = 5\ncheckpoint_every = 10\n[config]\n'
                 'n_train = 64\nn_test = 32\nhidden = [8]\nbatch_size = 16\nn_classes = 3\n')
    assert main(["run", str(f), "--seeds", "2,0", "--out", str(tmp_path / "sw"), "--no-plots"]) == 0
    rec = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    assert list(rec["seeds"]) == ["2", "0"] and all(r["status"] == "completed" for r in rec["seeds"].values())
    assert main(["run", str(f), "--seed", "2", "--out", str(tmp_path / "single"), "--no-plots"]) == 0
    _same_seed(tmp_path / "sw" / "seed-2", tmp_path / "single")
    assert main(["run", str(f), "--seed", "1", "--seeds", "0-1", "--out", str(tmp_path / "x")]) == 1


def test_unknown_executor_and_unreachable_scheduler_are_clear_errors():
    with pytest.raises(ExecutorError, match="use local, dask"):
        make_executor("spark")
    with pytest.raises(ExecutorError, match="shared filesystem"):
        make_executor("local", return_files=True)
    pytest.importorskip("distributed")
    from minidsn.runs.executors import DaskExecutor

    with pytest.raises(ExecutorError, match="cannot reach the Dask scheduler"):
        DaskExecutor("dask://127.0.0.1:9", connect_timeout="1s")  # the discard port: nothing listens there


def test_progress_lines_show_each_running_seed_and_the_total():
    p = SweepProgress([0, 1, 2], {0: 100, 1: 100, 2: 100}, stream=io.StringIO(), enabled=True)
    p.seed_event(0, 10, {"loss": 0.5})
    p.seed_event(1, 40, {"loss": 0.25})
    p.seed_done(2, "failed", "ValueError: x")
    lines = p.lines()
    assert lines[0].startswith("  seed 0: step 10/100") and "loss=0.5" in lines[0]
    assert lines[1].startswith("  seed 1: step 40/100")
    assert lines[-1].startswith("sweep: 1/3 seeds done (1 not completed), 2 running")
    quiet = io.StringIO()
    q = SweepProgress([0], {0: 10}, stream=quiet, enabled=False)
    q.seed_done(0, "completed")
    assert quiet.getvalue() == "seed 0: completed  [1/1 seeds done]\n"


def test_a_failing_seed_is_recorded_and_the_others_complete(tmp_path):
    good = spec(steps=10)
    bad = spec(steps=10).with_seed(1)
    bad.config = dict(bad.config, hidden="not a list")  # fails inside the model, after validation
    out = tmp_path / "sw"
    sweep = run_sweep(good.with_seed(0), out, specs=[good.with_seed(0), bad], stream=io.StringIO())
    assert sweep["seeds"]["0"]["status"] == "completed"
    assert sweep["seeds"]["1"]["status"] == "failed" and sweep["seeds"]["1"]["error"]
    assert json.loads((out / "sweep.json").read_text())["seeds"]["1"]["status"] == "failed"


def test_a_diverging_seed_is_recorded_as_nonfinite(tmp_path):
    s = spec(steps=10)
    bad = s.with_seed(1)
    bad.config = dict(bad.config, lr=1e300)
    sweep = run_sweep(s, tmp_path / "sw", specs=[s.with_seed(0), bad], stream=io.StringIO())
    assert sweep["seeds"]["0"]["status"] == "completed"
    assert sweep["seeds"]["1"]["status"] == "nonfinite"


def test_resume_of_a_finished_sweep_keeps_every_record_and_runs_nothing(tmp_path):
    s = spec(steps=10, seeds=[0, 1])
    out = tmp_path / "sw"
    first = run_sweep(s, out, stream=io.StringIO())
    before = {d.name: (d / "summary.json").read_bytes() for d in out.glob("seed-*")}
    again = run_sweep(s, out, resume=True, stream=io.StringIO())
    assert again["seeds"] == first["seeds"] and again["token"] == first["token"]
    assert {d.name: (d / "summary.json").read_bytes() for d in out.glob("seed-*")} == before


# ------------------------------------------------------------------------------------------- Dask
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def local_runs(tmp_path_factory):
    """Seeds 0-3 run one by one in this process: the reference every executor must reproduce."""
    root = tmp_path_factory.mktemp("local")
    for seed in range(4):
        run(spec(steps=40).with_seed(seed), root / f"seed-{seed}", progress=False, plots=False)
    return root


@pytest.fixture(scope="module")
def cluster():
    """One local cluster of 2 single-threaded worker processes for the Dask sweep tests (starting one costs seconds)."""
    ex = make_executor("dask", jobs=1)  # --executor dask: a local cluster, at least 2 workers
    yield ex
    ex.close()


def test_dask_local_cluster_sweep_is_bit_identical_to_local_runs(tmp_path, local_runs, cluster):
    out = tmp_path / "sw"
    sweep = run_sweep(spec(steps=40, seeds=[0, 1, 2, 3]), out, executor=cluster, stream=io.StringIO())
    assert sweep["executor"] == "dask"
    assert cluster.cluster is not None and len(cluster.client.scheduler_info()["workers"]) == 2
    assert all(r["status"] == "completed" for r in sweep["seeds"].values())
    for seed in range(4):
        _same_seed(out / f"seed-{seed}", local_runs / f"seed-{seed}")
        assert (out / f"seed-{seed}" / "checkpoints").is_dir()  # shared filesystem: workers wrote everything


def test_dask_return_files_mode_writes_the_seed_folders_on_the_client(tmp_path, local_runs, cluster):
    out = tmp_path / "sw"
    sweep = run_sweep(spec(steps=40, seeds=[1, 2]), out, executor=cluster, return_files=True,
                      stream=io.StringIO())
    assert all(r["status"] == "completed" for r in sweep["seeds"].values())
    for seed in (1, 2):
        _same_seed(out / f"seed-{seed}", local_runs / f"seed-{seed}")
        assert not (out / f"seed-{seed}" / "checkpoints").exists()  # checkpoints stay on the worker


class _WorkerKiller(threading.Thread):
    """SIGKILLs the worker process running seed 0 once that seed has written a checkpoint past step 0."""

    def __init__(self, client, seed_dir: Path):
        super().__init__(daemon=True)
        self.client, self.seed_dir, self.killed = client, seed_dir, None

    def run(self):
        deadline = time.monotonic() + 120
        ckdir = self.seed_dir / "checkpoints"
        while time.monotonic() < deadline:
            if ckdir.is_dir() and len(list(ckdir.iterdir())) >= 2:
                pids = self.client.run(os.getpid)  # worker address -> PID
                for addr, keys in self.client.processing().items():
                    if any("minidsn-seed-0-" in str(k) for k in keys) and addr in pids:
                        os.kill(pids[addr], signal.SIGKILL)
                        self.killed = pids[addr]
                        return
            time.sleep(0.05)


def test_a_killed_worker_is_replaced_and_its_seed_resumes_to_the_same_result(tmp_path):
    """SIGKILL the worker running seed 0 mid-run (after a periodic checkpoint): Dask gives the task to a worker
    again, which finds the folder marked with this sweep's token and resumes it from its newest checkpoint; both
    seeds end bit-identical to uninterrupted local runs."""
    from minidsn.runs.executors import DaskExecutor

    s = spec(steps=600, eval_every=0, checkpoint_every=50, log_every=50, seeds=[0, 1])
    ref = tmp_path / "ref"
    for seed in (0, 1):
        run(s.with_seed(seed), ref / f"seed-{seed}", progress=False, plots=False)
    out = tmp_path / "sw"
    ex = DaskExecutor(None, workers=2)
    killer = _WorkerKiller(ex.client, out / "seed-0")
    killer.start()
    try:
        sweep = run_sweep(s, out, executor=ex, stream=io.StringIO())
    finally:
        ex.close()
    killer.join(timeout=1)
    assert killer.killed is not None, "the test never killed a worker (seed 0 finished too fast)"
    assert all(r["status"] == "completed" for r in sweep["seeds"].values()), sweep["seeds"]
    for seed in (0, 1):
        _same_seed(out / f"seed-{seed}", ref / f"seed-{seed}")

"""Randomized kill-and-resume: a `minidsn run` process killed with SIGKILL (or stopped with SIGINT / SIGTERM) at a
random moment, then resumed, ends bit-identical to the uninterrupted run: state, RNG state and metrics.jsonl."""

import io
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from minidsn.runs.checkpoint import list_checkpoints, load_checkpoint
from minidsn.runs.config import RunSpec
from minidsn.runs.loop import run

ROOT = Path(__file__).resolve().parents[1]
TOML = """model = "mlp"
steps = {steps}
log_every = 7
eval_every = 40
checkpoint_every = 60
keep_checkpoints = 2
[config]
n_train = 64
n_test = 32
hidden = [8]
batch_size = 16
"""


def _enc(x):
    return json.dumps(x, default=lambda a: a.tobytes().hex() if isinstance(a, np.ndarray) else repr(a))


def _start(args):
    return subprocess.Popen([sys.executable, "-m", "minidsn", *args, "--no-plots"], cwd=ROOT,
                            stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)


def _wait_started(p, out, deadline=60.0):
    t0 = time.monotonic()
    while not list_checkpoints(out / "checkpoints") and p.poll() is None:
        assert time.monotonic() - t0 < deadline
        time.sleep(0.01)


def _kill_and_resume(tmp_path, rounds, seed, steps=400):
    rnd = random.Random(seed)
    toml = tmp_path / "k.toml"
    toml.write_text(TOML.format(steps=steps))
    out = tmp_path / "killed"
    p = _start(["run", str(toml), "--out", str(out)])
    stopped = []
    for r in range(rounds):
        _wait_started(p, out)
        time.sleep(rnd.uniform(0.0, 1.0))
        sig = rnd.choice([signal.SIGKILL, signal.SIGKILL, signal.SIGINT, signal.SIGTERM])
        if p.poll() is None:
            p.send_signal(sig)
            stopped.append(sig)
        p.wait(timeout=120)
        if r < rounds - 1:
            p = _start(["run", "--resume", str(out)])
    spec = RunSpec.from_json(json.loads((out / "config.json").read_text()))
    res = run(spec, out, resume=True, stream=io.StringIO(), plots=False)
    assert res.status == "completed"
    ref = tmp_path / "ref"
    run(spec, ref, stream=io.StringIO(), plots=False)
    a = load_checkpoint(list_checkpoints(ref / "checkpoints")[-1])
    b = load_checkpoint(list_checkpoints(out / "checkpoints")[-1])
    assert a.step == b.step == steps
    assert _enc(a.state) == _enc(b.state) and a.rng_state == b.rng_state
    assert (ref / "metrics.jsonl").read_text() == (out / "metrics.jsonl").read_text()
    assert not (out / ".lock").exists() or (out / ".lock").read_text()  # a kill -9 may leave a (stale) lock
    return stopped


def test_kill_at_a_random_moment_then_resume_is_bit_identical(tmp_path):
    seed = int(time.time()) % 1000  # a new moment each run; the seed is in the failure report
    _kill_and_resume(tmp_path, rounds=1, seed=seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_repeated_random_kills_then_resume_are_bit_identical(tmp_path, seed):
    assert _kill_and_resume(tmp_path, rounds=4, seed=seed, steps=1500)

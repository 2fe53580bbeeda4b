"""Resident memory of each model's reference run against the size of the state the run must hold (issue 21).

    python bench/memory.py                        # every case, step counts capped (minutes on a quiet machine)
    python bench/memory.py --cases urn-2500 urn-5000 --steps 2000
    python bench/memory.py --full                 # the reference runs' own lengths (hours for the URN at S = 5000)
    python bench/memory.py --data-dir ../shared/data   # DNM MNIST and the isotropic runs need MNIST

Each case runs the reference run through the harness (minidsn.runs.loop.run: steps, evaluations, checkpoints,
metrics, the NaN guard) in a fresh process, with evaluations and checkpoints made more frequent than in the run file
so a short run passes through many of them. The child samples its resident size (VmRSS) every `--every` steps and
after each evaluation, and reads the kernel's high-water mark (VmHWM, reset after the imports) at the end, so the
peak includes every transient inside a step or an evaluation.

Printed per case:
  state     distinct array bytes the run holds: the state (parameters, optimiser state, data kept in the state)
            plus the model object's arrays (workspaces, caches), at the last sample
  base      resident size after the imports, before init (interpreter, NumPy, SciPy, Numba)
  peak      VmHWM - base, the run's own peak;   peak/state is the goal's ratio (<= 2)
  warm, end resident size at the warm-up sample (the first after the first evaluation, or after 10% of the steps
            when the case has none) and at the end;   end/warm is the growth (goal <= 1.05)
Rows whose data are missing print a reason instead (give --data-dir or set MINIDSN_DATA).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# (case, reference run, config overrides, capped steps, eval_every, checkpoint_every)
CASES = [
    ("urn-2500", "urn-spheres", {"n_neurons": 2500}, 1500, 250, 250),
    ("urn-5000", "urn-spheres", {}, 500, 100, 100),
    ("dnm-mnist", "dnm-mnist", {}, 1500, 250, 250),
    ("diffrnn", "diffrnn-easy", {}, 3000, 0, 500),
    ("isotropic", "iso-sparsify-500x2", {}, 1500, 0, 250),
    ("dmm", "dmm-synthesis", {}, 14000, 0, 2000),
]

_CHILD = r'''
import json, os, sys, time
from pathlib import Path
sys.path.insert(0, os.getcwd())
a = json.loads(sys.argv[1])
from minidsn.testing.memory import rss_bytes, unique_array_bytes
import minidsn.runs.loop as loop
from minidsn.models.api import get_model
from minidsn.runs.config import load_run_file, locate_run, resolve_run_spec

def hwm():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

raw = load_run_file(locate_run(a["run"]))
raw.setdefault("config", {}).update(a["overrides"])
raw.update(eval_every=a["eval_every"], checkpoint_every=a["checkpoint_every"], keep_checkpoints=2, seeds=[0])
path = locate_run(a["run"])
spec = resolve_run_spec(raw, a["run"], source=path, steps=a["steps"], data_dir=a["data_dir"])
cls = get_model(spec.model)
samples, held = [], {}
orig_step, orig_eval, orig_init = cls.step, cls.evaluate, cls.init
count = [0]

def sample(kind, model, state):
    samples.append({"kind": kind, "step": count[0], "rss": rss_bytes(),
                    "state": unique_array_bytes(state, vars(model))})

def init(self, cfg, rng, data_dir):
    st = orig_init(self, cfg, rng, data_dir)
    sample("init", self, st)
    return st

def step(self, state, cfg, rng, n):
    out = orig_step(self, state, cfg, rng, n)
    count[0] += 1
    if count[0] % a["every"] == 0:
        sample("step", self, out[0])
    return out

def evaluate(self, state, cfg, rng, data_dir):
    if a["no_eval"]:  # checkpoints only: the run's final evaluation is skipped too
        return {}
    out = orig_eval(self, state, cfg, rng, data_dir)
    sample("eval", self, state)
    return out

cls.init, cls.step, cls.evaluate = init, step, evaluate
base = rss_bytes()
try:
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # reset VmHWM: the peak is the run's, not the imports'
except OSError:
    pass
t0 = time.time()
res = loop.run(spec, a["out"], progress=False, plots=False)
print(json.dumps({"base": base, "hwm": hwm(), "samples": samples, "steps": spec.steps, "status": res.status,
                  "wall_s": time.time() - t0}))
'''


def run_case(case, run, overrides, steps, eval_every, ckpt_every, every, data_dir, python, no_eval=False):
    with tempfile.TemporaryDirectory(prefix=f"mem-{case}-") as tmp:
        args = {"run": run, "overrides": overrides, "steps": steps, "eval_every": eval_every,
                "checkpoint_every": ckpt_every, "every": every, "data_dir": data_dir, "out": str(Path(tmp) / "run"),
                "no_eval": no_eval}
        env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
        p = subprocess.run([python, "-c", _CHILD, json.dumps(args)], capture_output=True, text=True, env=env,
                           cwd=Path(__file__).resolve().parents[1])
    if p.returncode != 0:
        last = (p.stderr.strip().splitlines() or ["(no message)"])[-1]
        return {"error": last}
    return json.loads(p.stdout.strip().splitlines()[-1])


def summarise(r, eval_every):
    s = r["samples"]
    body = [x for x in s if x["kind"] != "init"]
    if not body:
        return None
    firsts = [i for i, x in enumerate(body) if x["kind"] == "eval"]
    if eval_every and firsts:
        warm = body[firsts[0]]
    else:
        warm = next((x for x in body if x["step"] >= 0.1 * r["steps"]), body[0])
    end = body[-1]
    state = max(x["state"] for x in body)
    peak = r["hwm"] - r["base"]
    return {"state": state, "base": r["base"], "peak": peak, "warm": warm["rss"], "warm_step": warm["step"],
            "end": end["rss"], "end_step": end["step"], "peak_state": peak / state if state else float("nan"),
            "end_warm": end["rss"] / warm["rss"], "max_rss": max(x["rss"] for x in body)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", nargs="+", choices=[c[0] for c in CASES], default=[c[0] for c in CASES])
    ap.add_argument("--steps", type=int, help="steps of every case (default: each case's cap)")
    ap.add_argument("--full", action="store_true", help="the reference runs' own lengths (hours)")
    ap.add_argument("--every", type=int, default=25, help="sample the resident size every N steps")
    ap.add_argument("--interval", type=int, default=0,
                    help="evaluate and checkpoint every N steps in every case (default: each case's own)")
    ap.add_argument("--no-eval", action="store_true", help="no evaluation at all, not even the final one "
                    "(checkpoints only): the URN's evaluation at S = 2500 costs as much as hundreds of steps")
    ap.add_argument("--data-dir", default=os.environ.get("MINIDSN_DATA"))
    ap.add_argument("--json", help="also write the raw samples to this file")
    a = ap.parse_args(argv)
    mb = 2**20
    print(f"# bench/memory.py  {time.strftime('%Y-%m-%d %H:%M')}  load average {os.getloadavg()[0]:.1f} "
          f"on {os.cpu_count()} cores")
    print(f"{'case':10} {'steps':>6} {'evals':>5} {'ckpts':>5} {'state MB':>9} {'base MB':>8} {'peak MB':>8} "
          f"{'peak/state':>10} {'warm MB':>8} {'@step':>6} {'end MB':>8} {'end/warm':>8}  wall")
    raw_all = {}
    for case, run, overrides, cap, ev, ck in CASES:
        if case not in a.cases:
            continue
        steps = None if a.full else (a.steps or cap)  # --full keeps the frequent evaluations and checkpoints
        if a.interval:
            ev, ck = (a.interval if ev else 0), a.interval
        if a.no_eval:
            ev = 0
        r = run_case(case, run, overrides, steps, ev, ck, a.every, a.data_dir, sys.executable, a.no_eval)
        raw_all[case] = r
        if "error" in r:
            print(f"{case:10} skipped: {r['error']}")
            continue
        s = summarise(r, ev)
        if s is None:
            print(f"{case:10} no samples")
            continue
        n_ev = sum(x["kind"] == "eval" for x in r["samples"])
        n_ck = r["steps"] // ck if ck else 0
        print(f"{case:10} {r['steps']:6d} {n_ev:5d} {n_ck:5d} {s['state'] / mb:9.3g} {s['base'] / mb:8.1f} "
              f"{s['peak'] / mb:8.1f} {s['peak_state']:10.3g} {s['warm'] / mb:8.1f} {s['warm_step']:6d} "
              f"{s['end'] / mb:8.1f} {s['end_warm']:8.3f}  {r['wall_s']:.0f}s", flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(raw_all))


if __name__ == "__main__":
    main()

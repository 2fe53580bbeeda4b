"""minidsn against its JAX backend (backends/jax, package minidsn_jax): training-step time per model, side by side.

    python bench/backends.py [--repeats 5] [--target-seconds 0.3] [--out bench_backends.json]

For every model, one training step of minidsn's fastest path (its registered Model.step with the compiled kernels:
DNM closeness kernel + sparse DAG kernel, URN sparse products + fused Adam pass, DiffRNN's fused cycle kernel, ...)
and of the JAX backend: the jitted step (loss, gradients and optimiser update in one XLA computation, arrays already
on the device; a repeat ends with block_until_ready) and, where minidsn_jax registers a harness model, its Model.step (what a
run through minidsn's harness costs: NumPy -> JAX -> NumPy every step, the data batch drawn on the host).
Everything on the CPU, float64, one thread (OPENBLAS/OMP/MKL/NUMBA threads 1, XLA's CPU thread pool off), set
before NumPy and JAX are imported. Sizes: the reference-run configs named in the table.

Method (as bench/engine.py): each variant runs in repeats of about --target-seconds, interleaved repeat by repeat so
load changes hit all alike; the minimum over repeats is used (the median is printed too). Ratio = JAX jit / minidsn
(below 1: JAX faster). The load average before and after is printed: on a shared machine absolute times move.
A model whose JAX module is missing is listed as such, not skipped silently.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import argparse  # noqa: E402
import importlib  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "backends" / "jax"))

from minidsn.models.api import get_model  # noqa: E402
from minidsn.runs.config import load_run_file, locate_run  # noqa: E402


def run_config(name: str, **overrides) -> dict:
    cfg = dict(load_run_file(locate_run(name)).get("config", {}))
    cfg.update(overrides)
    return cfg


def minidsn_stepper(model: str, cfg: dict, seed: int = 0):
    """A closure doing one minidsn training step per call (the state advances)."""
    cls = get_model(model)
    m, c = cls(), cls.validate_config(cfg)
    rng = np.random.default_rng(seed)
    box = {"state": m.init(c, rng, None), "i": 0}

    def step():
        box["state"], _ = m.step(box["state"], c, rng, box["i"])
        box["i"] += 1
    return step


def harness_stepper(model: str, cfg: dict, seed: int = 0):
    """The same through minidsn_jax's harness model jax-<model> (None when the module does not exist)."""
    try:
        importlib.import_module(f"minidsn_jax.{model}.model")
    except ModuleNotFoundError:
        return None
    return minidsn_stepper(f"jax-{model}", cfg, seed)


def _jit_loop(step_fn, state):
    """Advance ``state`` with ``step_fn(state) -> state`` and block until the device is done."""
    import jax
    box = {"state": state}

    def step():
        box["state"] = step_fn(box["state"])

    # JAX dispatches asynchronously: a training loop does not wait for each step, so time_round waits once at the
    # end of a repeat (steps depend on each other, so the work timed is the same). Waiting after every step would
    # time the thread hand-off too, which on a loaded machine costs a scheduler slice per step.
    step.sync = lambda: jax.block_until_ready(box["state"])
    return step


def jax_mlp(cfg):
    import jax.numpy as jnp
    from minidsn_jax.mlp import train
    rng = np.random.default_rng(0)
    sizes = [cfg.get("n_features", 2), *cfg.get("hidden", [32, 32]), cfg.get("n_classes", 3)]
    full = {"activation": cfg.get("activation", "tanh"), "l2": cfg.get("l2", 0.0), "lr": cfg.get("lr", 0.01)}
    p = train.init(rng, sizes)
    B = cfg.get("batch_size", 64)
    x, y = jnp.asarray(rng.standard_normal((B, sizes[0]))), jnp.asarray(rng.integers(0, sizes[-1], B))
    return _jit_loop(lambda s: train.train_step(s[0], s[1], x, y, full)[:2],
                     (jax_tree(p), train.new_optimiser(jax_tree(p))))


def jax_dnm(cfg):
    import jax.numpy as jnp
    from minidsn_jax.dnm import train
    from minidsn_jax.dnm.model import JaxDNM
    full = JaxDNM.validate_config(cfg)
    rng = np.random.default_rng(0)
    p = jax_tree(train.init_params(full, rng))
    x, t = (jnp.asarray(a) for a in train.toy_batch(rng, full["batch_size"]))
    return _jit_loop(lambda s: train.train_step(s[0], s[1], x, t, full)[:2], (p, train.new_optimiser(p)))


def jax_urn(cfg):
    import jax.numpy as jnp
    from minidsn_jax.urn import train
    from minidsn_jax.urn.model import JaxURN
    full = JaxURN.validate_config(cfg)
    rng = np.random.default_rng(0)
    p = jax_tree(train.init_params(full, rng))
    B, d = full["batch_size"], full["sphere_dim"]
    x = jnp.asarray(rng.standard_normal((B, d)))
    y = jnp.asarray(np.eye(2)[rng.integers(0, 2, B)])
    return _jit_loop(lambda s: train.train_step(s[0], s[1], x, y, full)[:2], (p, train.new_optimiser(p)))


def jax_isotropic(cfg):
    import jax.numpy as jnp
    from minidsn_jax.isotropic import train
    defaults = {"o_mode": "trainable", "psi_mode": "trainable_decay", "o_init": 1e-6, "psi_decay": 0.1,
                "eps": 1e-3, "guard": "series", "lr": 1e-3, "weight_decay": 1e-3, "activation": "isotropic"}
    full = {**defaults, **{k: v for k, v in cfg.items() if k in defaults}}
    rng = np.random.default_rng(0)
    sizes = [cfg.get("synthetic_dim", 20), *cfg.get("hidden", [100, 100]), cfg.get("synthetic_classes", 5)]
    params, buffers = train.init(full, rng, sizes)
    params, buffers = jax_tree(params), jax_tree(buffers)
    B = cfg.get("batch_size", 48)
    x, y = jnp.asarray(rng.standard_normal((B, sizes[0]))), jnp.asarray(rng.integers(0, sizes[-1], B))
    return _jit_loop(lambda s: train.train_step(s[0], s[1], buffers, x, y, full)[:2],
                     (params, train.new_optimiser(params)))


def jax_tree(tree):
    import jax
    import jax.numpy as jnp
    return jax.tree_util.tree_map(jnp.asarray, tree)


def jax_from_backend(model):
    """A jitted-step factory a backend module may offer as ``minidsn_jax.<model>.bench.jit_stepper(cfg)``."""
    def make(cfg):
        try:
            mod = importlib.import_module(f"minidsn_jax.{model}.bench")
        except ModuleNotFoundError:
            return None
        return mod.jit_stepper(cfg)
    return make


# (label, minidsn model, config, JAX jitted-step factory)
CASES = [
    ("mlp (2-32-32-3, batch 64)", "mlp", {}, jax_mlp),
    ("dnm (dnm-toy: 25/5/4, batch 50)", "dnm", run_config("dnm-toy", closeness_impl="kernel", dag_impl="sparse"),
     jax_dnm),
    ("urn (urn-spheres-small: S 120, I 4, batch 32)", "urn", run_config("urn-spheres-small"), jax_urn),
    ("urn (S 1000, I 4, batch 32)", "urn", run_config("urn-spheres-small", n_neurons=1000), jax_urn),
    ("isotropic (20-100-100-5, batch 48)", "isotropic", {"dataset": "synthetic"}, jax_isotropic),
    ("diffrnn (diffrnn-hard)", "diffrnn", run_config("diffrnn-hard"), jax_from_backend("diffrnn")),
    ("dmm (dmm-synthesis)", "dmm", run_config("dmm-synthesis"), jax_from_backend("dmm")),
]


def time_round(fn, target):
    """Seconds per call over one repeat of about ``target`` seconds (at least 3 calls)."""
    sync = getattr(fn, "sync", lambda: None)
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        if n >= 3 and time.perf_counter() - t0 >= target:
            sync()
            return (time.perf_counter() - t0) / n


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--target-seconds", type=float, default=0.3)
    ap.add_argument("--only", default=None, help="comma-separated model names")
    ap.add_argument("--out", default=None, help="write the table as JSON")
    a = ap.parse_args(argv)
    import jax
    import minidsn_jax  # noqa: F401  (float64)
    load0 = os.getloadavg()
    rows = []
    for label, model, cfg, make_jax in CASES:
        if a.only and model not in a.only.split(","):
            continue
        variants = {"minidsn": minidsn_stepper(model, cfg)}
        jit = make_jax(cfg)
        if jit is not None:
            variants["jax_jit"] = jit
        harness = harness_stepper(model, cfg)
        if harness is not None:
            variants["jax_harness"] = harness
        for fn in variants.values():  # warm-up: compile (Numba, XLA) outside the timing
            fn(), fn(), fn()
        times = {k: [] for k in variants}
        for _ in range(a.repeats):
            for k, fn in variants.items():
                times[k].append(time_round(fn, a.target_seconds))
        row = {"case": label, "model": model}
        for k, ts in times.items():
            row[f"{k}_ms"] = 1e3 * min(ts)
            row[f"{k}_median_ms"] = 1e3 * statistics.median(ts)
        if "jax_jit_ms" in row:
            row["ratio_jit"] = row["jax_jit_ms"] / row["minidsn_ms"]
        if "jax_harness_ms" in row:
            row["ratio_harness"] = row["jax_harness_ms"] / row["minidsn_ms"]
        rows.append(row)
        print(_line(row), flush=True)
    load1 = os.getloadavg()
    print(f"\nload average (1 min) before {load0[0]:.1f}, after {load1[0]:.1f}; cores {os.cpu_count()}; "
          f"jax {jax.__version__}, numpy {np.__version__}; float64, one thread; min over {a.repeats} repeats")
    print(_table(rows))
    if a.out:
        Path(a.out).write_text(json.dumps({"rows": rows, "load_before": load0, "load_after": load1}, indent=2))
    return 0


def _fmt(v):
    return "–" if v is None else f"{v:.3f}"


def _line(r):
    return (f"{r['case']}: minidsn {_fmt(r.get('minidsn_ms'))} ms, JAX jit {_fmt(r.get('jax_jit_ms'))} ms, "
            f"JAX harness {_fmt(r.get('jax_harness_ms'))} ms")


def _table(rows):
    out = ["| model (config) | minidsn ms/step | JAX jit ms/step | JAX / minidsn | JAX via harness ms/step |",
           "|---|---|---|---|---|"]
    for r in rows:
        ratio = r.get("ratio_jit")
        out.append(f"| {r['case']} | {_fmt(r.get('minidsn_ms'))} | "
                   f"{_fmt(r.get('jax_jit_ms')) if 'jax_jit_ms' in r else 'no JAX module'} | "
                   f"{'–' if ratio is None else f'{ratio:.2f}'} | {_fmt(r.get('jax_harness_ms'))} |")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())

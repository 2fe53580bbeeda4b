"""Engine benchmark: the cost of tracing and of reverse mode, relative to plain NumPy, measured side by side.

    python bench/engine.py [--repeats 7] [--target-seconds 0.05] [--threads 1] [--clock wall|cpu] [--profile]

Prints, for a 2-layer MLP (batch 50, width 100) and a 40-step tanh RNN (width 30, batch 1):
  (1) traced forward / plain NumPy forward       (minidsn.engine.vjp without calling the backward)
  (2) value_and_grad / plain NumPy forward        (target: at most 3)
  (3) value_and_grad / PyTorch forward+backward   (CPU, float64, eager; only where torch is installed; target <= 1)
and, for scale, a hand-written NumPy forward+backward / plain NumPy forward (what a person would write by hand).

Timing: each variant is timed with `number` calls per repeat (chosen so one repeat takes about --target-seconds),
the variants are interleaved repeat by repeat (so machine load drifts over all of them alike), and the minimum over
repeats is reported (median in brackets). On a machine shared with other work, `--clock cpu` times with the process's
CPU time (time.process_time) instead of wall time, which other processes barely disturb (BLAS threads: 1). Before timing, the engine's gradients are checked against the hand-written
backward so the benchmark measures a correct computation.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path


def _threads_from_argv(argv: list[str]) -> int:
    """--threads N, read before NumPy is imported (BLAS reads its thread count at load time)."""
    for i, a in enumerate(argv):
        if a == "--threads" and i + 1 < len(argv):
            return int(argv[i + 1])
        if a.startswith("--threads="):
            return int(a.split("=", 1)[1])
    return 1


THREADS = _threads_from_argv(sys.argv[1:]) if __name__ == "__main__" else 0
if THREADS > 0:  # same thread count for NumPy's BLAS and for torch; 0 = each library's default
    for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = str(THREADS)

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a clone without installing

import minidsn.numpy as mnp  # noqa: E402
from minidsn.engine import value_and_grad, vjp  # noqa: E402
from minidsn.scipy.special import log_softmax  # noqa: E402

try:  # optional comparison; never a dependency
    import torch

    if THREADS > 0:
        torch.set_num_threads(THREADS)
    TORCH_NOTE = f"torch {torch.__version__} ({torch.get_num_threads()} threads)"
except Exception as err:  # ImportError, or a broken install (OSError from a missing shared library)
    torch = None
    TORCH_NOTE = f"torch unavailable ({type(err).__name__})"


# --- the two models, each written three times: minidsn (traced), plain NumPy forward, NumPy forward+backward ------

def np_log_softmax(z: np.ndarray) -> np.ndarray:
    m = z.max(axis=-1, keepdims=True)
    return z - (m + np.log(np.exp(z - m).sum(axis=-1, keepdims=True)))


class MLP:
    """loss = -mean_b sum_k Y[b,k] log_softmax(tanh(X W1 + b1) W2 + b2)[b,k]; X 50 x 100, hidden 100, 10 classes."""

    name = "MLP 2-layer (batch 50, width 100)"

    def __init__(self, rng: np.random.Generator, batch: int = 50, width: int = 100, classes: int = 10):
        self.params = {
            "W1": rng.normal(size=(width, width)) / np.sqrt(width),
            "b1": np.zeros(width),
            "W2": rng.normal(size=(width, classes)) / np.sqrt(width),
            "b2": np.zeros(classes),
        }
        self.x = rng.normal(size=(batch, width))
        self.y = np.eye(classes)[rng.integers(0, classes, size=batch)]

    @staticmethod
    def loss_mnp(p, x, y):
        h = mnp.tanh(x @ p["W1"] + p["b1"])
        z = h @ p["W2"] + p["b2"]
        return -mnp.mean(mnp.sum(y * log_softmax(z, axis=-1), axis=-1))

    @staticmethod
    def loss_np(p, x, y):
        h = np.tanh(x @ p["W1"] + p["b1"])
        z = h @ p["W2"] + p["b2"]
        return -np.mean(np.sum(y * np_log_softmax(z), axis=-1))

    @staticmethod
    def value_and_grad_np(p, x, y):
        h = np.tanh(x @ p["W1"] + p["b1"])
        z = h @ p["W2"] + p["b2"]
        ls = np_log_softmax(z)
        B = x.shape[0]
        loss = -np.mean(np.sum(y * ls, axis=-1))
        dz = (np.exp(ls) * y.sum(axis=-1, keepdims=True) - y) / B
        dh = (dz @ p["W2"].T) * (1 - h * h)
        return loss, {"W1": x.T @ dh, "b1": dh.sum(0), "W2": h.T @ dz, "b2": dz.sum(0)}

    def torch_case(self):
        t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in self.params.items()}
        x = torch.tensor(self.x, dtype=torch.float64)
        y = torch.tensor(self.y, dtype=torch.float64)

        def step():
            for v in t.values():
                v.grad = None
            h = torch.tanh(x @ t["W1"] + t["b1"])
            z = h @ t["W2"] + t["b2"]
            loss = -(y * torch.log_softmax(z, dim=-1)).sum(-1).mean()
            loss.backward()
            return loss

        return step


class RNN:
    """40-step tanh RNN, batch 1: h_t = tanh(x_t Wxh + h_{t-1} Whh + bh), loss = -sum_t log_softmax(h_t Why + by)[y_t];
    inputs and targets one-hot over 4 symbols (DiffRNN-sized), width 30."""

    name = "RNN tanh 40 steps (width 30, batch 1)"

    def __init__(self, rng: np.random.Generator, steps: int = 40, width: int = 30, vocab: int = 4):
        self.params = {
            "Wxh": rng.normal(size=(vocab, width)) * 0.3,
            "Whh": rng.normal(size=(width, width)) / np.sqrt(width),
            "bh": np.zeros(width),
            "Why": rng.normal(size=(width, vocab)) * 0.3,
            "by": np.zeros(vocab),
        }
        seq = rng.integers(0, vocab, size=steps + 1)
        eye = np.eye(vocab)
        self.x = [eye[seq[t]][None, :] for t in range(steps)]  # each (1, vocab)
        self.y = [eye[seq[t + 1]][None, :] for t in range(steps)]

    @staticmethod
    def loss_mnp(p, xs, ys):
        h = mnp.zeros((1, p["Whh"].shape[0]))
        loss = 0.0
        for x, y in zip(xs, ys):
            h = mnp.tanh(x @ p["Wxh"] + h @ p["Whh"] + p["bh"])
            loss = loss - mnp.sum(y * log_softmax(h @ p["Why"] + p["by"], axis=-1))
        return loss

    @staticmethod
    def loss_np(p, xs, ys):
        h = np.zeros((1, p["Whh"].shape[0]))
        loss = 0.0
        for x, y in zip(xs, ys):
            h = np.tanh(x @ p["Wxh"] + h @ p["Whh"] + p["bh"])
            loss = loss - np.sum(y * np_log_softmax(h @ p["Why"] + p["by"]))
        return loss

    @staticmethod
    def value_and_grad_np(p, xs, ys):
        hs = [np.zeros((1, p["Whh"].shape[0]))]
        lss = []
        loss = 0.0
        for x, y in zip(xs, ys):
            hs.append(np.tanh(x @ p["Wxh"] + hs[-1] @ p["Whh"] + p["bh"]))
            lss.append(np_log_softmax(hs[-1] @ p["Why"] + p["by"]))
            loss = loss - np.sum(y * lss[-1])
        g = {k: np.zeros_like(v) for k, v in p.items()}
        dh_next = np.zeros_like(hs[0])
        for t in reversed(range(len(xs))):
            dz = np.exp(lss[t]) * ys[t].sum() - ys[t]
            g["Why"] += hs[t + 1].T @ dz
            g["by"] += dz[0]
            dr = (dz @ p["Why"].T + dh_next) * (1 - hs[t + 1] ** 2)
            g["Wxh"] += xs[t].T @ dr
            g["Whh"] += hs[t].T @ dr
            g["bh"] += dr[0]
            dh_next = dr @ p["Whh"].T
        return loss, g

    def torch_case(self):
        t = {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in self.params.items()}
        xs = [torch.tensor(x, dtype=torch.float64) for x in self.x]
        ys = [torch.tensor(y, dtype=torch.float64) for y in self.y]

        def step():
            for v in t.values():
                v.grad = None
            h = torch.zeros((1, t["Whh"].shape[0]), dtype=torch.float64)
            loss = 0.0
            for x, y in zip(xs, ys):
                h = torch.tanh(x @ t["Wxh"] + h @ t["Whh"] + t["bh"])
                loss = loss - (y * torch.log_softmax(h @ t["Why"] + t["by"], dim=-1)).sum()
            loss.backward()
            return loss

        return step


# --- timing --------------------------------------------------------------------------------------------------------

CLOCK = time.perf_counter  # --clock cpu: time.process_time


def calls_per_repeat(fn, target_seconds: float) -> int:
    fn()  # warm up (imports, caches)
    n = 1
    while True:
        t0 = CLOCK()
        for _ in range(n):
            fn()
        dt = CLOCK() - t0
        if dt >= target_seconds / 4 or n >= 1 << 20:
            return max(1, int(n * target_seconds / max(dt, 1e-9)))
        n *= 4


def time_side_by_side(variants: dict, repeats: int, target_seconds: float) -> dict:
    """{name: (min seconds per call, median seconds per call)}, variants interleaved repeat by repeat."""
    numbers = {k: calls_per_repeat(f, target_seconds) for k, f in variants.items()}
    samples: dict = {k: [] for k in variants}
    for _ in range(repeats):
        for k, f in variants.items():
            n = numbers[k]
            t0 = CLOCK()
            for _ in range(n):
                f()
            samples[k].append((CLOCK() - t0) / n)
    return {k: (min(v), statistics.median(v)) for k, v in samples.items()}


def check_gradients(model) -> float:
    """Max abs difference between the engine's value_and_grad and the hand-written backward (and forward values)."""
    v1, g1 = value_and_grad(model.loss_mnp)(model.params, model.x, model.y)
    v2, g2 = model.value_and_grad_np(model.params, model.x, model.y)
    v3 = model.loss_np(model.params, model.x, model.y)
    err = max(abs(float(v1) - float(v2)), abs(float(v3) - float(v2)))
    for k in g2:
        err = max(err, float(np.max(np.abs(np.asarray(g1[k]) - g2[k]))))
    if err > 1e-9:
        raise AssertionError(f"{model.name}: engine and hand-written gradients differ by {err:.3g}")
    return err


def bench_model(model, repeats: int, target_seconds: float) -> dict:
    p, x, y = model.params, model.x, model.y
    vag = value_and_grad(model.loss_mnp)
    variants = {
        "numpy_fwd": lambda: model.loss_np(p, x, y),
        "traced_fwd": lambda: vjp(lambda q: model.loss_mnp(q, x, y), p)[0],
        "value_and_grad": lambda: vag(p, x, y),
        "numpy_fwd_bwd": lambda: model.value_and_grad_np(p, x, y),
    }
    if torch is not None:
        variants["torch_fwd_bwd"] = model.torch_case()
    return time_side_by_side(variants, repeats, target_seconds)


def profile_model(model, calls: int) -> None:
    """Where value_and_grad's time goes: primitive evaluations and the time spent inside their NumPy functions
    (the rest is engine overhead), then the top of a cProfile listing. Instruments, then restores, the primitives."""
    import cProfile
    import collections
    import io
    import pstats

    from minidsn.numpy import _table

    p, x, y = model.params, model.x, model.y
    vag = value_and_grad(model.loss_mnp)
    fwd = lambda: vjp(lambda q: model.loss_mnp(q, x, y), p)[0]  # noqa: E731
    prims = _table.all_primitives() if hasattr(_table, "all_primitives") else {}
    spent = [0.0]
    counts: collections.Counter = collections.Counter()
    saved = {name: prim.fun for name, prim in prims.items()}
    for name, prim in prims.items():
        def timed(*a, _f=prim.fun, _n=name, **k):
            t0 = time.perf_counter()
            try:
                return _f(*a, **k)
            finally:
                spent[0] += time.perf_counter() - t0
                counts[_n] += 1
        prim.fun = timed
    try:
        print(f"\n== {model.name}")
        for label, f in [("traced forward", fwd), ("value_and_grad", lambda: vag(p, x, y))]:
            f()
            spent[0] = 0.0
            counts.clear()
            t0 = time.perf_counter()
            for _ in range(calls):
                f()
            total = (time.perf_counter() - t0) / calls
            n_eval = sum(counts.values()) / calls
            print(f"{label}: {total * 1e6:.0f} us/call (instrumented); inside primitive functions (NumPy work) "
                  f"{spent[0] / calls * 1e6:.0f} us; {n_eval:.0f} primitive evaluations: "
                  + ", ".join(f"{k} {v // calls}" for k, v in counts.most_common(10)))
    finally:
        for name, prim in prims.items():
            prim.fun = saved[name]
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        vag(p, x, y)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(15)
    print("\n".join(line for line in out.getvalue().splitlines() if line.strip()))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats per variant (default 7)")
    ap.add_argument("--target-seconds", type=float, default=0.05, help="wall time of one repeat (default 0.05)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--profile", action="store_true", help="also show where value_and_grad spends its time")
    ap.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                    help="wall time (default) or the process's CPU time (steadier on a loaded machine)")
    ap.add_argument("--threads", type=int, default=1,
                    help="BLAS / torch threads (default 1: steady on a shared machine; 0 = library defaults)")
    args = ap.parse_args(argv)
    if args.repeats < 1 or args.target_seconds <= 0:
        ap.error("--repeats must be >= 1 and --target-seconds > 0")

    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    rng = np.random.default_rng(args.seed)
    models = [MLP(rng), RNN(rng)]
    print(f"numpy {np.__version__}; BLAS threads {THREADS or 'default'}; {TORCH_NOTE}; "
          f"{args.repeats} repeats, min [median] per call, {args.clock} clock")
    rows = []
    for model in models:
        err = check_gradients(model)
        t = bench_model(model, args.repeats, args.target_seconds)
        rows.append((model, t, err))

    def us(x):
        return f"{x[0] * 1e6:9.1f} [{x[1] * 1e6:9.1f}]"

    print()
    print(f"{'model':40s} {'variant':16s} {'us/call min [median]':>22s}")
    for model, t, err in rows:
        for k, v in t.items():
            print(f"{model.name:40s} {k:16s} {us(v):>22s}")
        print(f"{'':40s} (engine vs hand-written gradient: max abs diff {err:.1e})")
    print()
    header = f"{'model':40s} {'(1) traced/np':>14s} {'(2) vag/np':>11s} {'hand bwd/np':>12s} {'(3) vag/torch':>14s}"
    print(header)
    for model, t, _ in rows:
        base = t["numpy_fwd"][0]
        r1 = t["traced_fwd"][0] / base
        r2 = t["value_and_grad"][0] / base
        rh = t["numpy_fwd_bwd"][0] / base
        r3 = f"{t['value_and_grad'][0] / t['torch_fwd_bwd'][0]:14.2f}" if "torch_fwd_bwd" in t else f"{'n/a':>14s}"
        print(f"{model.name:40s} {r1:14.2f} {r2:11.2f} {rh:12.2f} {r3}")
    print("targets: (2) <= 3, (3) <= 1.0")
    if args.profile:
        for model in models:
            profile_model(model, calls=200 if isinstance(model, MLP) else 10)
    return 0


if __name__ == "__main__":
    sys.exit(main())

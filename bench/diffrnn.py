"""Cycles per second of DiffRNN (G2) training, by backend, as ratios in one run.

    python bench/diffrnn.py                      # all backends at fixed sizes H (no structural changes)
    python bench/diffrnn.py --hidden 35 --cycles 2000
    python bench/diffrnn.py --full 300000        # one whole G2 run on the hard task (wall time of the paper's length)

Backends (minidsn.models.diffrnn.cycle): fused (compiled window kernel + compiled clip/Adagrad), kernel (engine
value_and_grad through the rnn_window primitive + minidsn.optim), engine (minidsn.numpy reference), and, when
PyTorch is installed, a PyTorch eager implementation of the same cycle (autograd over the 40 steps, clip, Adagrad
in the min-char-rnn form). Sizes are held fixed during the timing (structure off) so that every backend does the
same work; the JIT compilation is excluded by a warm-up.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from minidsn.models.diffrnn.model import DiffRNNModel  # noqa: E402

try:  # optional; never required
    import torch  # type: ignore
except ImportError:  # pragma: no cover - torch is not installed in the reference environment
    torch = None


def time_backend(backend, H, cycles, warmup):
    model = DiffRNNModel()
    cfg = model.validate_config({"backend": backend, "task": "hard", "hidden_size": H, "structure": False})
    rng = np.random.default_rng(0)
    state = model.init(cfg, rng, None)
    for i in range(warmup):
        state, _ = model.step(state, cfg, rng, i)
    t0 = time.perf_counter()
    for i in range(cycles):
        state, _ = model.step(state, cfg, rng, i)
    return cycles / (time.perf_counter() - t0)


def time_torch(H, cycles, warmup):
    """Same cycle in PyTorch eager mode (float64, one thread)."""
    from minidsn.models.diffrnn.cycle import task_data

    torch.set_num_threads(1)
    model = DiffRNNModel()
    cfg = model.validate_config({"task": "hard"})
    data = torch.as_tensor(np.array(task_data("hard", cfg)))  # writable copy
    g = torch.Generator().manual_seed(0)
    dt = torch.float64
    P = {
        "Wxh": 0.01 * torch.randn(H, 4, generator=g, dtype=dt),
        "Whh": 0.01 * torch.randn(H, H, generator=g, dtype=dt),
        "Wiy": 0.01 * torch.randn(4, H, generator=g, dtype=dt),
        "bh": torch.zeros(H, dtype=dt),
        "by": torch.zeros(4, dtype=dt),
        "m": torch.ones(H, dtype=dt),
    }
    for v in P.values():
        v.requires_grad_(True)
    mem = {k: torch.zeros_like(v) for k, v in P.items()}
    h = torch.zeros(H, dtype=dt)
    p = 0
    T = 40

    def one():
        nonlocal h, p
        if p + T + 1 >= data.shape[0]:
            p, h = 0, torch.zeros(H, dtype=dt)
        x, y = data[p:p + T], data[p + 1:p + T + 1]
        loss = 0.0
        s = h
        for t in range(T):
            s = torch.tanh(P["Wxh"][:, x[t]] + P["Whh"] @ s + P["bh"])
            logits = P["Wiy"] @ (P["m"] * s) + P["by"]
            loss = loss - torch.log_softmax(logits, 0)[y[t]]
        obj = loss + 3e-5 * T * P["m"].abs().sum()
        grads = torch.autograd.grad(obj, list(P.values()))
        with torch.no_grad():
            for (k, v), d in zip(P.items(), grads):
                d = d.clamp(-5, 5)
                mem[k] += d * d
                v -= 0.1 * d / torch.sqrt(mem[k] + 1e-8)
            P["m"].clamp_(min=0.025)
        h = s.detach()
        p += T

    for _ in range(warmup):
        one()
    t0 = time.perf_counter()
    for _ in range(cycles):
        one()
    return cycles / (time.perf_counter() - t0)


def full_run(n_cycles, task, seed):
    model = DiffRNNModel()
    cfg = model.validate_config({"task": task})
    rng = np.random.default_rng(seed)
    state = model.init(cfg, rng, None)
    t0 = time.perf_counter()
    for i in range(n_cycles):
        state, met = model.step(state, cfg, rng, i)
        if (i + 1) % max(1, n_cycles // 10) == 0:
            print(f"  cycle {i + 1:7d}  {time.perf_counter() - t0:7.1f} s  H {int(met['hidden_size']):3d}  "
                  f"smooth loss {met['smooth_loss']:.3f}", flush=True)
    wall = time.perf_counter() - t0
    print(f"full G2 run, task {task}, seed {seed}: {n_cycles} cycles in {wall:.1f} s "
          f"({n_cycles / wall:.0f} cycles/s, JIT compilation included), final H {state['carried'].shape[0]}")
    return wall


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hidden", type=int, nargs="*", default=[7, 35])
    ap.add_argument("--cycles", type=int, default=2000, help="timed cycles for fused / kernel")
    ap.add_argument("--engine-cycles", type=int, default=10, help="timed cycles for the (slow) engine reference")
    ap.add_argument("--full", type=int, default=0, help="also time one whole run of this many cycles")
    ap.add_argument("--task", default="hard")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    print(f"DiffRNN G2, T = 40, V = 4, float64, one process; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores (shared machine: absolute numbers vary, ratios less)")
    for H in args.hidden:
        rates = {
            "fused": time_backend("fused", H, args.cycles, 50),
            "kernel": time_backend("kernel", H, args.cycles, 50),
            "engine": time_backend("engine", H, args.engine_cycles, 1),
        }
        if torch is not None:
            rates["torch-eager"] = time_torch(H, max(args.cycles // 10, 20), 5)
        else:
            rates["torch-eager"] = math.nan
        base = rates["engine"]
        print(f"H = {H}")
        for k, v in rates.items():
            if math.isnan(v):
                print(f"  {k:12s}   not installed")
            else:
                print(f"  {k:12s} {v:10.1f} cycles/s   x{v / base:8.1f} vs engine   "
                      f"300k cycles: {300_000 / v / 60:8.1f} min")
    if args.full:
        full_run(args.full, args.task, args.seed)


if __name__ == "__main__":
    main()

"""DNM speed: training-step time at the MNIST size, and sparse-kernel time against the number of live connections.

    python bench/dnm.py [--reps 10] [--out bench_dnm.json] [--quick]

1. Step time (value_and_grad of the full loss + Adam update), N = 1000 / 784 / 10, batch 50, MNIST initialisation,
   measured side by side in one process for each (closeness, DAG) implementation pair, and for a PyTorch eager
   float64 version when torch is installed (skipped otherwise). The original took about 0.79 s per step.
2. Sparse kernel (forward + backward) time against the number of live entries at the MNIST size, random live sets
   at several densities of the K = 192,519 allowed entries, with the dense kernel at each density; a least-squares
   line t = t0 + slope * nnz for the sparse kernel, and the density above which the dense kernel is faster.

BLAS threads: OpenBLAS may start one thread per host core, which on a shared 2-core machine makes the small matrix
products of the dense kernel ~20x slower. Unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS is already set, this script
sets both to 1 before NumPy is imported, and reports what it used.
"""

from __future__ import annotations

import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree's minidsn, installed or not
import minidsn.optim as optim  # noqa: E402
from minidsn.engine import value_and_grad  # noqa: E402
from minidsn.models.dnm import dag_kernels as dag  # noqa: E402
from minidsn.models.dnm.closeness import init_params  # noqa: E402
from minidsn.models.dnm.net import Layout, LossSpec, closeness_of, network_loss  # noqa: E402

N, N_IN, N_OUT, BATCH, PERIOD = 1000, 784, 10, 50, 28.0


def _timeit(fn, reps, warmup=2):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def _mnist_like(rng):
    # MNIST-shaped inputs in [0, 1] with one-hot targets: the step time does not depend on the pixel values
    x = rng.random((BATCH, N_IN))
    t = np.eye(N_OUT)[rng.integers(0, N_OUT, BATCH)]
    return x, t


def step_times(reps):
    rng = np.random.default_rng(0)
    layout = Layout(N, N_IN, N_OUT, PERIOD)
    params = init_params(rng, N, N_IN, N_OUT, "mnist")
    x, t = _mnist_like(rng)
    opt = optim.Adam(lr=0.002, eps_form="efficient")
    ost = opt.init(params)
    f = value_and_grad(network_loss, has_aux=True)
    rows = []
    configs = [("engine", "engine"), ("engine", "dense"), ("engine", "sparse"), ("kernel", "dense"),
               ("kernel", "sparse")]
    for cl, dg in configs:
        spec = LossSpec(objective="softmax_ce", c_obj=1e3, c_flow=1e-4, c_sp=0.1, dag_impl=dg, closeness_impl=cl)

        def one():
            (_, _), g = f(params, x, t, layout, spec)
            opt.update(g, ost, params)

        med, best = _timeit(one, reps if dg != "engine" else max(2, reps // 4))
        rows.append({"closeness": cl, "dag": dg, "median_ms": med * 1e3, "min_ms": best * 1e3})
    torch_row = _torch_step_time(params, x, t, layout, reps)
    if torch_row is not None:
        rows.append(torch_row)
    base = next(r for r in rows if r["closeness"] == "engine" and r["dag"] == "engine")["median_ms"]
    for r in rows:
        r["speedup_vs_engine_reference"] = base / r["median_ms"]
        r["speedup_vs_original_0.79s"] = 790.0 / r["median_ms"]
    return rows


def _torch_step_time(params, x, t, layout, reps):
    """PyTorch eager float64 version of the same step (closeness, DAG neuron by neuron, losses, Adam)."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    tp = {k: torch.tensor(np.asarray(v, dtype=np.float64), requires_grad=True) for k, v in params.items()}
    P = torch.tensor(layout.P)
    mask = torch.tensor(layout.mask)
    xt, tt = torch.tensor(x), torch.tensor(t)
    n_in, n_out, n_src = layout.n_in, layout.n_out, layout.n_src
    n_comp = n_src - n_in
    opt = torch.optim.Adam(list(tp.values()), lr=0.002)

    def loss_fn():
        def row(k):
            return tp[k][n_in:].reshape(-1, 1)

        a = 2 * torch.sigmoid(row("alpha")) - 1
        gauss = torch.exp(-((P - row("mu")) ** 2) / (2 * torch.nn.functional.softplus(row("sigma")) ** 2))
        th = torch.nn.functional.softplus(row("theta")) / np.log(2.0)
        s = (0.501 + 0.5 * torch.sin(2 * np.pi / (layout.period * th) * P + row("phi"))) ** (row("beta") + 1)
        v = a * (gauss * (s - torch.sigmoid(row("gamma"))))
        c = torch.sigmoid(tp["kappa"])
        d = torch.where((v.abs() > c) & mask, torch.sign(v) * (v.abs() - c) / (1 - c), torch.zeros_like(v))
        w, b = tp["w"][:n_src], tp["b"][:n_src]
        z_in = xt * w[:n_in] + b[:n_in]
        acts = [torch.nn.functional.leaky_relu(z_in, 0.2)]
        zs = [z_in]
        for r in range(n_comp):
            i = n_in + r
            o = torch.cat(acts, dim=1) @ d[r, :i]
            z = o * w[i] + b[i]
            zs.append(z[:, None])
            acts.append(torch.nn.functional.leaky_relu(z, 0.2)[:, None])
        out = torch.cat(zs, dim=1) @ d[n_comp:].T
        y = out**2
        obj = -(tt * torch.log_softmax(y, dim=1)).sum() / y.shape[0]
        flow = (d[:n_comp, :n_in].abs().sum() - d[n_comp:, n_in:].abs().sum()) ** 2
        pct = float((d != 0).sum()) / layout.K
        return 1e3 * obj + 1e-4 * flow + 0.1 * pct**2

    def one():
        opt.zero_grad()
        loss_fn().backward()
        opt.step()

    med, best = _timeit(one, max(2, reps // 2))
    return {"closeness": "torch", "dag": "torch eager float64", "median_ms": med * 1e3, "min_ms": best * 1e3}


def sparse_scaling(reps, densities):
    rng = np.random.default_rng(1)
    mask = dag.allowed_mask(N, N_IN, N_OUT)
    K = int(mask.sum())
    w, b = rng.normal(size=N - N_OUT), rng.normal(size=N - N_OUT)
    x = rng.random((BATCH, N_IN))
    g = rng.normal(size=(BATCH, N_OUT))
    rows = []
    for dens in densities:
        d = np.where(mask & (rng.random(mask.shape) < dens), rng.uniform(-1, 1, mask.shape), 0.0)
        ip, ix = dag.live_structure(d, N_IN, N_OUT)

        def sparse():
            out, cache = dag.sparse_forward(d, w, b, x, N_IN, N_OUT, ip, ix, check=False)
            dag.sparse_backward(g, d, w, N_IN, ip, ix, cache)

        def dense():
            out, cache = dag.dense_forward(d, w, b, x, N_IN, N_OUT, check=False)
            dag.dense_backward(g, d, w, N_IN, cache)

        ts, _ = _timeit(sparse, reps)
        td, _ = _timeit(dense, reps)
        rows.append({"density": dens, "nnz": int(ix.size), "pct": ix.size / K, "sparse_ms": ts * 1e3,
                     "dense_ms": td * 1e3})
    nnz = np.array([r["nnz"] for r in rows], dtype=float)
    ts = np.array([r["sparse_ms"] for r in rows])
    A = np.stack([np.ones_like(nnz), nnz], axis=1)
    (t0, slope), *_ = np.linalg.lstsq(A, ts, rcond=None)
    pred = t0 + slope * nnz
    r2 = 1 - np.sum((ts - pred) ** 2) / np.sum((ts - ts.mean()) ** 2)
    dense_med = float(np.median([r["dense_ms"] for r in rows]))
    # crossover: where the fitted sparse line reaches the (density-independent) dense time
    cross_nnz = (dense_med - t0) / slope if slope > 0 else float("inf")
    fit = {"t0_ms": float(t0), "ms_per_1000_live": float(slope * 1000), "r2": float(r2),
           "dense_median_ms": dense_med, "crossover_nnz": float(cross_nnz), "crossover_pct": float(cross_nnz / K),
           "K": K}
    return rows, fit


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--out", default=None, help="write the results as JSON here")
    ap.add_argument("--quick", action="store_true", help="fewer densities and repetitions")
    args = ap.parse_args(argv)
    reps = 3 if args.quick else args.reps
    dens = [0.01, 0.1, 0.5, 1.0] if args.quick else [0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0]
    threads = {v: os.environ.get(v) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS")}
    print(f"# DNM bench  N={N} n_in={N_IN} n_out={N_OUT} batch={BATCH}  threads={threads}")
    try:
        load = os.getloadavg()
        print(f"# load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    except OSError:
        load = None

    rows = step_times(reps)
    print("\n## training step (value_and_grad + Adam update), MNIST size\n")
    print("| closeness | DAG | median ms | min ms | x engine reference | x original (790 ms) |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['closeness']} | {r['dag']} | {r['median_ms']:.1f} | {r['min_ms']:.1f} | "
              f"{r['speedup_vs_engine_reference']:.1f} | {r['speedup_vs_original_0.79s']:.1f} |")
    if not any(r["closeness"] == "torch" for r in rows):
        print("\n(PyTorch not installed: its row is skipped)")

    srows, fit = sparse_scaling(reps, dens)
    print("\n## DAG kernels, forward + backward, against live connections (K = 192,519 allowed)\n")
    print("| density | live entries | sparse ms | dense ms | dense / sparse |")
    print("|---:|---:|---:|---:|---:|")
    for r in srows:
        print(f"| {r['pct']:.4f} | {r['nnz']} | {r['sparse_ms']:.2f} | {r['dense_ms']:.2f} | "
              f"{r['dense_ms'] / r['sparse_ms']:.1f} |")
    print(f"\nsparse fit: t = {fit['t0_ms']:.3f} ms + {fit['ms_per_1000_live']:.4f} ms per 1000 live entries "
          f"(R^2 = {fit['r2']:.4f}); dense median {fit['dense_median_ms']:.2f} ms; "
          f"crossover at {fit['crossover_nnz']:.0f} live entries = density {fit['crossover_pct']:.3f}")
    result = {"step": rows, "sparse_scaling": srows, "fit": fit, "threads": threads,
              "load_at_start": load, "python": sys.version.split()[0]}
    if args.out:
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return result


if __name__ == "__main__":
    main()

"""Step time of the URN at S = 5000 against the bare matrix products the step needs (the BLAS limit here).

    python bench/urn.py [--S 5000] [--batch 32] [--iters 4] [--repeat 3] [--live 1.0]

Bare products of one step (seed 002 eq. 3 unrolled I times, batch B, rows = samples), as the step needs them:
  forward  I-1 x (B, S) @ (S, S)           A_l = H_l W^T, l = 1..I-1
           1 x (B, d) @ (d, S)             A_0 = N^(0) W^T over the d = 10 input columns (the rest of N^(0) is 0)
  backward 1 x (S, (I-1) B) @ ((I-1) B, S)  gW = sum_{l>=1} dA_l^T H_l, stacked into one product
           1 x (S, B) @ (B, d)             gW[:, inputs] += dA_0^T N^(0)[:, inputs]
           I-1 x (B, S) @ (S, S)           dH_l = dA_l W, l = 1..I-1 (dH_0 only feeds N^(0), which is data)
With every product dense (the model's sparse = false) the count is I forward products and gW over I B rows; that
step is timed against that larger figure. The model's step adds the elementwise work on S^2 entries (|W| terms,
Adam) that no product covers.
`--live f` kills all but a fraction f of the neurons (bias -10, W rows zeroed) to time a trained, sparse state,
where the step skips the dead neurons' products (config sparse = true); the bare figures stay those of a dense W.
PyTorch eager float64 is timed as well when torch is installed (skipped otherwise).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree's minidsn, installed or not


def best_of(fn, repeat):
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts)


def bare_products(W, H, I, repeat, d_in=None):
    """Time of the products listed above; d_in=None: every product dense (I forward, gW over I B rows)."""
    B, S = H.shape
    if d_in is None:
        HH = np.concatenate([H] * I)

        def go():
            for _ in range(I):
                H @ W.T
            HH.T @ HH
            for _ in range(I - 1):
                H @ W
        return best_of(go, repeat)
    HH = np.concatenate([H] * (I - 1))
    H0 = np.ascontiguousarray(H[:, :d_in])

    def go_needed():
        H0 @ W[:, :d_in].T
        for _ in range(I - 1):
            H @ W.T
        HH.T @ HH
        H.T @ H0
        for _ in range(I - 1):
            H @ W
    return best_of(go_needed, repeat)


def model_step(S, B, I, live, sparse, repeat, seed=0):
    from minidsn.models.urn.model import URNModel

    m = URNModel()
    cfg = m.validate_config({"n_neurons": S, "n_iter": I, "batch_size": B, "n_train": 4 * B, "n_test": B,
                             "sparse": sparse})
    rng = np.random.default_rng(seed)
    state = m.init(cfg, rng, None)
    if live < 1.0:
        dead = rng.random(S) >= live
        dead[:10] = False  # inputs
        dead[-2:] = False  # outputs
        W = state["params"]["W"].copy()
        W[dead, :] = 0.0
        b = state["params"]["b"].copy()
        b[dead] = -10.0
        state["params"] = {"W": W, "b": b}
    state, _ = m.step(state, cfg, rng, 0)  # warm-up (allocations, caches)
    times = []
    for s in range(repeat):
        t = time.perf_counter()
        state, met = m.step(state, cfg, rng, s + 1)
        times.append(time.perf_counter() - t)
    return min(times), met


def torch_step(S, B, I, repeat):
    try:
        import torch
    except ImportError:
        return None
    torch.manual_seed(0)
    W = (torch.randn(S, S, dtype=torch.float64) * (2.0 / S) ** 0.5).requires_grad_()
    b = torch.zeros(S, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.Adam([W, b], lr=7e-4)
    x = torch.randn(B, 10, dtype=torch.float64)
    y = torch.randint(0, 2, (B,))

    def go():
        h = torch.zeros(B, S, dtype=torch.float64)
        h[:, :10] = x
        act = 0.0
        for _ in range(I):
            h = torch.relu(h @ W.T + b)
            act = act + h.abs().sum() / B
        logits = torch.stack([h[:, S - 1], h[:, S - 2]], 1)
        loss = torch.nn.functional.cross_entropy(logits, y) + 5e-7 * W.abs().sum() + 2e-5 * act
        opt.zero_grad()
        loss.backward()
        opt.step()
    go()
    return best_of(go, repeat)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--S", type=int, default=5000)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--iters", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--live", type=float, default=1.0)
    a = ap.parse_args(argv)
    rng = np.random.default_rng(0)
    W = rng.normal(0, (2 / a.S) ** 0.5, (a.S, a.S))
    H = rng.normal(size=(a.batch, a.S))
    bares = {False: bare_products(W, H, a.iters, a.repeat), True: bare_products(W, H, a.iters, a.repeat, d_in=10)}
    del W
    print(f"S={a.S} B={a.batch} I={a.iters} live fraction={a.live}")
    print(f"bare matrix products, every product dense:  {bares[False] * 1e3:9.1f} ms")
    print(f"bare matrix products the step needs:        {bares[True] * 1e3:9.1f} ms   (input iteration over the "
          f"input columns)")
    for sparse in (False, True):
        t, met = model_step(a.S, a.batch, a.iters, a.live, sparse, a.repeat)
        which = "needed" if sparse else "dense"
        print(f"urn step (sparse={sparse!s:5}):        {t * 1e3:9.1f} ms   ratio to bare ({which}) = "
              f"{t / bares[sparse]:5.2f}   (live neurons in batch: {met['live_neurons_batch']:.0f})")
    bare = bares[False]
    tt = torch_step(a.S, a.batch, a.iters, a.repeat)
    if tt is None:
        print("torch eager float64: not installed (skipped)")
    else:
        print(f"torch eager float64 step:        {tt * 1e3:9.1f} ms   ratio to bare (dense) = {tt / bare:5.2f}")


if __name__ == "__main__":
    main()

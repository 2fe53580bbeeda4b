"""Speed of one 140-cycle episode of the 1,486-gate DMM-Lite network (issue 8 targets: value_and_grad / forward <= 3,
one training step < 0.5 s on one core).  Also times the V-value reference forward once (it is the slow path).

    python bench/dmm.py [--vvalue]
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this tree's minidsn, installed or not

import minidsn.numpy as mnp
import minidsn.optim as optim
from minidsn.engine import value_and_grad
from minidsn.models.dmm.compiled import EpisodePlan, episode_loss
from minidsn.models.dmm.handcrafted import handcrafted_traces
from minidsn.models.dmm.trainable import gates_to_matrix, hard_links, init_gates, soft_links, trainable_machine, \
    vvalue_loss


def main(argv):
    s, T, lam = "test string.", 140, 0.001
    links, hard = soft_links(), hard_links()
    targets = handcrafted_traces(s, T)
    plan = EpisodePlan(s, links, hard, targets)
    gates = init_gates(np.random.default_rng(0), len(links))

    def f(w):
        return episode_loss(w, plan=plan) + lam * mnp.sum(mnp.abs(w))

    def fwd():
        plan._cache_gates = None
        return f(gates)

    def vg():
        plan._cache_gates = None
        return value_and_grad(f)(gates)

    opt = optim.Adam(lr=1e-3)
    params = {"gates": gates}
    state = opt.init(params)

    def train_step():
        plan._cache_gates = None
        _, g = value_and_grad(lambda p: f(p["gates"]))(params)
        return opt.update(g, state, params)

    vg()
    t_f = min(timeit.repeat(fwd, number=10, repeat=7)) / 10
    t_vg = min(timeit.repeat(vg, number=10, repeat=7)) / 10
    t_step = min(timeit.repeat(train_step, number=10, repeat=7)) / 10
    print(f"links {len(links)}  cycles {T}  keys {plan.n_keys}")
    print(f"forward (compiled, Numba)      {t_f * 1e3:8.2f} ms")
    print(f"value_and_grad                 {t_vg * 1e3:8.2f} ms   ratio {t_vg / t_f:.2f}  (target <= 3)")
    print(f"training step (vg + Adam)      {t_step * 1e3:8.2f} ms   (target < 500 ms)")
    if "--vvalue" in argv:
        m = trainable_machine(s)
        t0 = timeit.default_timer()
        vvalue_loss(gates_to_matrix(links, gates), m, hard, targets, lam)
        print(f"forward (V-value reference)    {(timeit.default_timer() - t0) * 1e3:8.0f} ms")


if __name__ == "__main__":
    main(sys.argv[1:])

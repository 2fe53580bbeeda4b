"""DMM synthesis: the OpenAI-ES gradient estimate against the exact (compiled BPTT) gradient of the episode loss.

For the default synthesis machine (1,486 gates, 140 cycles of "test string."), at two points — the initial gates and
after 2,499 exact base-phase Adam steps at lambda 0.001 (one short of the base phase, whose end prunes) — prints, for
several population sizes P (antithetic pairs, 2P episodes per estimate) and sigmas: the cosine similarity of the ES
estimate with the exact gradient (mean and spread over 5 independent estimates), and the time of one estimate as a
ratio to one exact gradient (forward + backward), measured side by side in this run. Then trains 300 base-phase steps
both ways from the same start (exact, and ES with P = 50, sigma = 1e-3) and prints the data loss reached.

    python bench/dmm_es.py [--quick]

With ``--schedule RUN.toml``: along the trajectory of that run file's synthesis schedule (exact gradient, seed
``--seed``), every ``--every`` steps, the cosine of ES estimates (P = 10 / 50 pairs, sigma ``--sigma``, 3 estimates
each, their own generator) with the exact gradient of the data loss at the current gates, the link count, and the
time of one ES estimate over one exact gradient at that size, measured side by side. With ``--es-from-links N`` the
schedule switches to gradient = "es" (P ``--es-pop``) once the machine has <= N links and runs to the end of its final
phase: whether synthesis still reaches the goal when ES drives the end of the schedule.

    python bench/dmm_es.py --schedule reference_runs/NAME.toml --seed S [--every 2000] [--es-from-links 40]

With ``--checkpoints RUN_DIR/seed-S``: the same cosine / cost table at every checkpoint a recorded run kept (the
schedule's own trajectory, read back rather than re-run; the run file must keep them: ``keep_checkpoints``). With
``--es-resume CKPT.json`` (and the run's seed directory for its config): continue that checkpoint's schedule with
gradient = "es" (P ``--es-pop``, sigma ``--sigma``) to the end of its final phase and print where it ends.

    python bench/dmm_es.py --checkpoints runs/NAME/seed-S
    python bench/dmm_es.py --checkpoints runs/NAME/seed-S --es-resume runs/NAME/seed-S/checkpoints/ckpt-N.json
"""

from __future__ import annotations

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))  # this tree's minidsn

import numpy as np  # noqa: E402

from minidsn.models.api import get_model  # noqa: E402
from minidsn.models.dmm.synthesis import es_gradient, make_plan  # noqa: E402


def cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def timed(f, repeats, clock=time.perf_counter):
    best = float("inf")
    for _ in range(repeats):
        t0 = clock()
        f()
        best = min(best, clock() - t0)
    return best


def cosine_row(cfg, state, es_rng, sigma):
    """(links, data loss, cos at P = 10, cos at P = 50, ms per exact gradient, ES-50 time / exact) at ``state``."""
    from minidsn.models.dmm.synthesis import _plan_for

    eps = _plan_for(cfg, state)
    w = state["params"]["gates"]
    exact = sum(p.grad(w) for p in eps.plans)

    def fresh_grad():
        for p in eps.plans:
            p._cache_gates = None  # time forward + backward, as a step does
        return sum(p.grad(w) for p in eps.plans)

    # CPU time of this process (time.process_time), not wall time: on a loaded machine a long measurement is
    # preempted more often than a short one, which inflates wall-time ratios several-fold
    t_exact = timed(fresh_grad, 5, time.process_time)
    c10 = np.mean([cos(es_gradient(eps.loss, w, es_rng, 10, sigma), exact) for _ in range(3)])
    c50 = np.mean([cos(es_gradient(eps.loss, w, es_rng, 50, sigma), exact) for _ in range(3)])
    t_es = timed(lambda: es_gradient(eps.loss, w, es_rng, 50, sigma), 2, time.process_time)
    return len(w), eps.loss(w), c10, c50, 1e3 * t_exact, t_es / t_exact


def from_checkpoints(args):
    """The cosine table at a recorded run's checkpoints; with --es-resume, that checkpoint continued by ES."""
    import json
    from pathlib import Path

    from minidsn.models.dmm.synthesis import generalisation
    from minidsn.runs.checkpoint import list_checkpoints, load_checkpoint, rng_from_state

    seed_dir = Path(args.checkpoints)
    model = get_model("dmm")()
    cfg = model.validate_config(json.loads((seed_dir / "config.json").read_text())["config"])
    es_rng = np.random.default_rng(7)
    if not args.es_resume:
        print(f"{seed_dir}: sigma {args.sigma:g}; cosine = mean of 3 estimates")
        print(f"{'step':>7} {'phase':>6} {'links':>6} {'data':>9} {'cos P=10':>9} {'cos P=50':>9} {'t exact ms':>10} "
              f"{'t es50 / exact':>14}  (CPU time)")
        for path in list_checkpoints(seed_dir / "checkpoints"):
            ck = load_checkpoint(path)
            n, d, c10, c50, t_ms, ratio = cosine_row(cfg, ck.state, es_rng, args.sigma)
            print(f"{ck.step:>7} {ck.state['phase']:>6} {n:>6} {d:>9.4g} {c10:>9.3f} {c50:>9.3f} {t_ms:>10.2f} "
                  f"{ratio:>14.1f}", flush=True)
        return
    ck = load_checkpoint(args.es_resume)
    state, rng = ck.state, rng_from_state(ck.rng_state)
    cfg = dict(cfg, gradient="es", es_population=args.es_pop, es_sigma=args.sigma)
    print(f"from {args.es_resume} (step {ck.step}, phase {state['phase']}, {len(state['link_ids'])} links): "
          f"gradient = es, P = {args.es_pop}, sigma {args.sigma:g}", flush=True)
    t0, fin, i = time.perf_counter(), None, ck.step
    while True:
        state, met = model.step(state, cfg, rng, i)
        i += 1
        if i % 5000 == 0:
            print(f"  step {i} phase {state['phase']} links {len(state['link_ids'])} data {met['data_loss']:.4g}",
                  flush=True)
        if state["phase"] == "final":
            fin = i if fin is None else fin
            if i - fin >= cfg["final_steps"]:
                break
    g = generalisation(cfg, state)
    print(f"end at step {i} ({time.perf_counter() - t0:.0f} s): {len(state['link_ids'])} links; "
          + "; ".join(f"{k} {v:.4g}" for k, v in g.items()))


def along_schedule(args):
    """ES against the exact gradient along a run file's schedule (see the module docstring)."""
    from minidsn.models.dmm.synthesis import generalisation
    from minidsn.runs.config import load_run_file

    model = get_model("dmm")()
    cfg = model.validate_config(dict(load_run_file(args.schedule)["config"]))
    rng = np.random.default_rng(args.seed)
    es_rng = np.random.default_rng([args.seed, 7])
    state = model.init(cfg, rng, None)
    print(f"schedule {args.schedule}, seed {args.seed}, sigma {args.sigma:g}; cosine = mean of 3 estimates")
    print(f"{'step':>7} {'phase':>6} {'links':>6} {'data':>9} {'cos P=10':>9} {'cos P=50':>9} {'t exact ms':>10} "
          f"{'t es50 / exact':>14}")
    switched, fin, i = None, None, 0
    while True:
        if i % args.every == 0:
            n, d, c10, c50, t_ms, ratio = cosine_row(cfg, state, es_rng, args.sigma)
            print(f"{i:>7} {state['phase']:>6} {n:>6} {d:>9.4g} {c10:>9.3f} {c50:>9.3f} {t_ms:>10.2f} {ratio:>14.1f}",
                  flush=True)
        if args.es_from_links and switched is None and len(state["link_ids"]) <= args.es_from_links:
            switched = i
            cfg = dict(cfg, gradient="es", es_population=args.es_pop, es_sigma=args.sigma)
            print(f"step {i}: {len(state['link_ids'])} links, phase {state['phase']}: gradient = es from here "
                  f"(P = {args.es_pop}, sigma {args.sigma:g})", flush=True)
        state, met = model.step(state, cfg, rng, i)
        i += 1
        if state["phase"] == "final":
            fin = i if fin is None else fin
            if i - fin >= cfg["final_steps"]:
                break
    g = generalisation(cfg, state)
    print(f"end at step {i}: {len(state['link_ids'])} links; " + "; ".join(f"{k} {v:.4g}" for k, v in g.items()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points and steps")
    ap.add_argument("--schedule", help="a dmm synthesis run file: measure along its trajectory instead")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--every", type=int, default=2000)
    ap.add_argument("--sigma", type=float, default=1e-4)
    ap.add_argument("--es-from-links", type=int, default=0, help="switch to gradient = es at <= this many links")
    ap.add_argument("--es-pop", type=int, default=50)
    ap.add_argument("--checkpoints", help="a recorded run's seed directory: measure at its checkpoints")
    ap.add_argument("--es-resume", help="with --checkpoints: continue this checkpoint with gradient = es")
    args = ap.parse_args(argv)
    if args.checkpoints:
        return from_checkpoints(args)
    if args.schedule:
        return along_schedule(args)
    model = get_model("dmm")()
    base_steps = 300 if args.quick else 2500
    cfg = model.validate_config({"base_steps": base_steps})
    plan = make_plan(cfg["string"], cfg["n_cycles"], cfg["n_layers"], cfg["n_per_layer"])
    rng = np.random.default_rng(0)
    state0 = model.init(cfg, rng, None)
    state = state0
    for i in range(base_steps - 1):  # stop one step before the base phase ends (its end prunes links)
        state, met = model.step(state, cfg, rng, i)
    points = {"initial gates": state0["params"]["gates"],
              f"after {base_steps - 1} exact steps": state["params"]["gates"]}
    pops = (10, 50, 200) if args.quick else (10, 50, 200, 800)
    sigmas = (1e-4, 1e-3, 1e-2, 1e-1)
    n = len(plan.links)
    def exact_grad(w):
        plan._cache_gates = None  # the plan caches its last forward pass: time forward + backward, as a step does
        return plan.grad(w)

    t_exact = timed(lambda: exact_grad(points["initial gates"]), 5)
    t_forward = timed(lambda: (setattr(plan, "_cache_gates", None), plan.loss(points["initial gates"])), 5)
    print(f"gates n = {n}; one exact gradient (compiled forward + BPTT): {1e3 * t_exact:.2f} ms; "
          f"one forward (loss only): {1e3 * t_forward:.2f} ms")
    print(f"{'point':<26} {'P':>5} {'sigma':>7} {'cos mean':>9} {'cos min..max':>15} {'time / exact':>13}")
    for name, w in points.items():
        exact = plan.grad(w)
        for P in pops:
            for s in (sigmas if P <= 200 else (1e-3,)):
                cs = [cos(es_gradient(plan.loss, w, np.random.default_rng(k), P, s), exact) for k in range(5)]
                t = timed(lambda: es_gradient(plan.loss, w, np.random.default_rng(9), P, s), 2)
                print(f"{name:<26} {P:>5} {s:>7.0e} {np.mean(cs):>9.3f} {min(cs):>7.3f}..{max(cs):<7.3f}"
                      f" {t / t_exact:>13.1f}")
    steps = 100 if args.quick else 300
    for mode, P in (("exact", 0), ("es", 50)):
        c = model.validate_config({"base_steps": steps + 1, "gradient": mode, "es_population": max(P, 1),
                                   "es_sigma": 1e-3})
        r = np.random.default_rng(0)
        st = model.init(c, r, None)
        t0 = time.perf_counter()
        for i in range(steps):
            st, met = model.step(st, c, r, i)
        dt = time.perf_counter() - t0
        label = "exact" if mode == "exact" else f"es P={P} sigma={c['es_sigma']:g}"
        print(f"base phase, {steps} Adam steps, {label:<24}: data loss {met['data_loss']:.4f}  ({dt:.1f} s)")


if __name__ == "__main__":
    main()

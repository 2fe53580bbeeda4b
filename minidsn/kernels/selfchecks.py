"""Kernel self-checks run by `minidsn selfcheck` (minidsn/testing/selfcheck.py reads SELF_CHECKS).

Each check builds a seeded random problem, runs the compiled kernel and its plain reference, and returns the largest
relative difference over every output and gradient (scaled by the reference's magnitude, as the kernel tests do).
The hypothesis tests in tests/ check the same pairs over many random sizes; these are the one-shot versions a user
runs on a new machine, where a different CPU or LLVM could change what the compiled code does.
"""

from __future__ import annotations

import numpy as np

from minidsn.testing.compare import scaled_error

SELF_CHECK_TOL = 1e-11


def _worst(pairs) -> float:
    return max(scaled_error(a, b) for a, b in pairs)


def _dag_problem(seed=0, n_in=7, n_comp=23, n_out=4, batch=5, density=0.3):
    from minidsn.kernels import dag

    rng = np.random.default_rng(seed)
    N = n_in + n_comp + n_out
    mask = dag.allowed_mask(N, n_in, n_out)
    d = np.where(mask, rng.uniform(-1, 1, mask.shape) * (rng.random(mask.shape) < density), 0.0)
    return dict(d=d, w=rng.normal(size=N - n_out), b=rng.normal(size=N - n_out), x=rng.normal(size=(batch, n_in)),
                g=rng.normal(size=(batch, n_out)), n_in=n_in, n_out=n_out)


def check_dag_dense() -> float:
    """DNM dense DAG kernel (forward and VJP) against dag.forward_reference / backward_reference."""
    from minidsn.kernels import dag

    c = _dag_problem()
    out, cache = dag.dense_forward(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"])
    grads = dag.dense_backward(c["g"], c["d"], c["w"], c["n_in"], cache)
    rout = dag.forward_reference(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"])
    rgrads = dag.backward_reference(c["g"], c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"])
    return _worst([(out, rout), *zip(grads, rgrads)])


def check_dag_sparse() -> float:
    """DNM sparse DAG kernel (CSR of live entries) against the references (gradient of d on live entries)."""
    from minidsn.kernels import dag

    c = _dag_problem(seed=1, density=0.15)
    ip, ix = dag.live_structure(c["d"], c["n_in"], c["n_out"])
    out, cache = dag.sparse_forward(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"], ip, ix)
    gd, gw, gb, gx = dag.sparse_backward(c["g"], c["d"], c["w"], c["n_in"], ip, ix, cache)
    rout = dag.forward_reference(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"])
    rgd, rgw, rgb, rgx = dag.backward_reference(c["g"], c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"])
    live = c["d"] != 0
    return _worst([(out, rout), (gd[live], rgd[live]), (gw, rgw), (gb, rgb), (gx, rgx)])


def check_dnm_closeness() -> float:
    """DNM fused closeness kernel (d, v and all eight parameter gradients) against the engine closeness code."""
    from minidsn.engine import value_and_grad
    from minidsn.kernels.dag import allowed_mask
    from minidsn.kernels.dag_closeness import closeness_fused
    from minidsn.models.dnm_closeness import closeness, engine_ops, init_params, positions

    names = ("alpha", "beta", "gamma", "theta", "phi", "sigma", "mu", "kappa")
    rng = np.random.default_rng(2)
    n_in, n_comp, n_out, period = 5, 16, 4, 5.0
    N = n_in + n_comp + n_out
    p = init_params(rng, N, n_in, n_out, "toy")
    P, m = positions(N, n_in, n_out), allowed_mask(N, n_in, n_out)
    wd, wv = rng.normal(size=m.shape), rng.normal(size=m.shape)
    ops = engine_ops()

    def engine_f(q):
        d, v, _ = closeness(q, P, m, n_in, period, ops)
        return (d * wd).sum() + (ops.where(m, v, 0.0) * wv).sum()

    def kernel_f(q):
        dv = closeness_fused(*(q[k] for k in names), P=P, n_in=n_in, n_out=n_out, period=period)
        return (dv[0] * wd).sum() + (dv[1] * wv).sum()

    ve, ge = value_and_grad(engine_f)(p)
    vk, gk = value_and_grad(kernel_f)(p)
    return _worst([(vk, ve)] + [(gk[k], ge[k]) for k in names])


def check_rnn_window() -> float:
    """DiffRNN 40-step forward + BPTT kernel (G2 and rnnAltern) against the engine reference path."""
    from minidsn.models.diffrnn_loss import loss_and_grads

    rng = np.random.default_rng(3)
    worst = 0.0
    for H, gate in ((1, False), (7, False), (7, True)):
        V, T = 4, 40
        params = {"Wxh": 0.3 * rng.standard_normal((H, V)), "Whh": 0.3 * rng.standard_normal((H, H)),
                  "Wiy": 0.3 * rng.standard_normal((V, H)), "bh": 0.1 * rng.standard_normal(H),
                  "by": 0.1 * rng.standard_normal(V), "m": rng.uniform(0.025, 1.5, H)}
        s0 = np.tanh(rng.standard_normal(H))
        text = rng.integers(0, V, T + 1)
        ce_e, s_e, g_e = loss_and_grads(params, s0, text[:-1], text[1:], l1=3e-5, path="engine", gate=gate)
        ce_k, s_k, g_k = loss_and_grads(params, s0, text[:-1], text[1:], l1=3e-5, path="kernel", gate=gate)
        worst = max(worst, _worst([(ce_k, ce_e), (s_k, s_e)] + [(g_k[k], g_e[k]) for k in g_e]))
    return worst


def check_rnn_clip_adagrad() -> float:
    """DiffRNN fused clip + Adagrad step against its NumPy reference (C and Fortran layouts)."""
    from minidsn.kernels.rnn_adagrad import clip_adagrad, clip_adagrad_ref

    rng = np.random.default_rng(4)
    p, g, M = rng.standard_normal((6, 5)), 8 * rng.standard_normal((6, 5)), rng.random((6, 5))
    pairs = []
    for order in ("C", "F"):
        args = [np.asarray(a, order=order) for a in (p, g, M)]
        out, ref = clip_adagrad(*args, 0.1, 1e-8, 5.0), clip_adagrad_ref(*args, 0.1, 1e-8, 5.0)
        pairs += list(zip(out, ref))
    return _worst(pairs)


def check_urn_adam() -> float:
    """URN fused L1 / synaptic-length subgradient + Adam step against its NumPy reference."""
    from minidsn.kernels.urn_adam import adam_l1_update, adam_l1_update_reference

    rng = np.random.default_rng(5)
    W, G, m = rng.standard_normal((9, 9)), rng.standard_normal((9, 9)), 0.1 * rng.standard_normal((9, 9))
    v, L = rng.random((9, 9)), rng.random((9, 9))
    args = (W, G, m, v, L, 1e-3, 2e-3, 3, 7e-4, 0.9, 0.999, 1e-8)
    return _worst(zip(adam_l1_update(*args), adam_l1_update_reference(*args)))


def check_dmm_episode() -> float:
    """DMM-Lite compiled 140-cycle episode (loss and gate gradient) against its plain-NumPy reference."""
    from minidsn.models.dmm_compiled import backward_numpy, forward_numpy
    from minidsn.models.dmm_synthesis import DEFAULTS, make_plan
    from minidsn.models.dmm_trainable import init_gates

    plan = make_plan(DEFAULTS["string"], DEFAULTS["n_cycles"], DEFAULTS["n_layers"], DEFAULTS["n_per_layer"])
    gates = init_gates(np.random.default_rng(6), len(plan.links), 0.5)
    A = plan.matrix(gates)
    ref_loss, X, Y, y = forward_numpy(plan, A)
    ref_g = backward_numpy(plan, A, X, Y, y)[plan.to_idx, plan.from_idx]
    return _worst([(plan.loss(gates), ref_loss), (plan.grad(gates), ref_g)])


def check_stacked_rules() -> float:
    """Engine: gradients of a 12-step tanh RNN (weights and bias used at every step) with the stacked first-order
    rules (core.defvjp_stacked) against the ordinary rules."""
    import minidsn.numpy as mnp
    from minidsn.engine import stacked_rules_off, value_and_grad

    rng = np.random.default_rng(7)
    p = {"U": rng.standard_normal((3, 6)), "W": 0.5 * rng.standard_normal((6, 6)), "b": rng.standard_normal(6)}
    xs = [rng.standard_normal((2, 3)) for _ in range(12)]

    def loss(p):
        h, total = mnp.zeros((2, 6)), 0.0
        for x in xs:
            h = mnp.tanh(x @ p["U"] + h @ p["W"] + p["b"])
            total = total + mnp.sum(h * h)
        return total

    v1, g1 = value_and_grad(loss)(p)
    with stacked_rules_off():
        v0, g0 = value_and_grad(loss)(p)
    return _worst([(v1, v0)] + [(g1[k], g0[k]) for k in p])


SELF_CHECKS = [
    ("engine stacked rules (unrolled RNN)", check_stacked_rules),
    ("dag dense kernel (DNM)", check_dag_dense),
    ("dag sparse kernel (DNM)", check_dag_sparse),
    ("dnm closeness kernel", check_dnm_closeness),
    ("rnn window kernel (DiffRNN)", check_rnn_window),
    ("rnn clip+adagrad kernel (DiffRNN)", check_rnn_clip_adagrad),
    ("urn l1+adam kernel (URN)", check_urn_adam),
    ("dmm episode kernel (DMM)", check_dmm_episode),
]

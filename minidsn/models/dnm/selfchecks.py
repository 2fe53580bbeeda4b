"""DNM kernel self-checks for `minidsn selfcheck`, registered when this package is imported (what a
check returns and why: minidsn.testing.selfcheck)."""

from __future__ import annotations

import numpy as np

from minidsn.testing.compare import worst_error as _worst
from minidsn.testing.selfcheck import register_kernel_check

SELF_CHECK_TOL = 1e-11


def _dag_problem(seed=0, n_in=7, n_comp=23, n_out=4, batch=5, density=0.3):
    from minidsn.models.dnm import dag_kernels as dag

    rng = np.random.default_rng(seed)
    N = n_in + n_comp + n_out
    mask = dag.allowed_mask(N, n_in, n_out)
    d = np.where(mask, rng.uniform(-1, 1, mask.shape) * (rng.random(mask.shape) < density), 0.0)
    return dict(d=d, w=rng.normal(size=N - n_out), b=rng.normal(size=N - n_out), x=rng.normal(size=(batch, n_in)),
                g=rng.normal(size=(batch, n_out)), n_in=n_in, n_out=n_out)


def check_dag_dense() -> float:
    """DNM dense DAG kernel (forward and VJP) against dag.forward_reference / backward_reference, for every
    activation (leaky_relu of the notebooks, sigmoid of the seed text).

    Source: none (kernel self-check against the reference; formulas in dag_kernels.py)
    """
    from minidsn.models.dnm import dag_kernels as dag

    c = _dag_problem()
    pairs = []
    for act in dag.ACTIVATIONS:
        out, cache = dag.dense_forward(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"], activation=act)
        grads = dag.dense_backward(c["g"], c["d"], c["w"], c["n_in"], cache, activation=act)
        rout = dag.forward_reference(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"], activation=act)
        rgrads = dag.backward_reference(c["g"], c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"],
                                        activation=act)
        pairs += [(out, rout), *zip(grads, rgrads)]
    return _worst(pairs)


def check_dag_sparse() -> float:
    """DNM sparse DAG kernel (CSR of live entries) against the references (gradient of d on live entries), for
    every activation.

    Source: none (kernel self-check against the reference; formulas in dag_kernels.py)
    """
    from minidsn.models.dnm import dag_kernels as dag

    c = _dag_problem(seed=1, density=0.15)
    ip, ix = dag.live_structure(c["d"], c["n_in"], c["n_out"])
    live = c["d"] != 0
    pairs = []
    for act in dag.ACTIVATIONS:
        out, cache = dag.sparse_forward(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"], ip, ix, activation=act)
        gd, gw, gb, gx = dag.sparse_backward(c["g"], c["d"], c["w"], c["n_in"], ip, ix, cache, activation=act)
        rout = dag.forward_reference(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"], activation=act)
        rgd, rgw, rgb, rgx = dag.backward_reference(c["g"], c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"],
                                                    activation=act)
        pairs += [(out, rout), (gd[live], rgd[live]), (gw, rgw), (gb, rgb), (gx, rgx)]
    return _worst(pairs)


def check_dnm_closeness() -> float:
    """DNM fused closeness kernel (d, v and all eight parameter gradients) against the engine closeness code, for the
    signed and the unsigned closeness.

    Source: none (kernel self-check against the reference; formulas in closeness.py)
    """
    from minidsn.engine import value_and_grad
    from minidsn.models.dnm.dag_kernels import allowed_mask
    from minidsn.models.dnm.closeness_kernel import closeness_fused
    from minidsn.models.dnm.closeness import closeness, engine_ops, init_params, positions

    names = ("alpha", "beta", "gamma", "theta", "phi", "sigma", "mu", "kappa")
    rng = np.random.default_rng(2)
    n_in, n_comp, n_out, period = 5, 16, 4, 5.0
    N = n_in + n_comp + n_out
    p = init_params(rng, N, n_in, n_out, "toy")
    P, m = positions(N, n_in, n_out), allowed_mask(N, n_in, n_out)
    wd, wv = rng.normal(size=m.shape), rng.normal(size=m.shape)
    ops = engine_ops()
    pairs = []
    for signed in (True, False):  # the code's signed closeness and the seed text's unsigned one

        def engine_f(q):
            d, v, _ = closeness(q, P, m, n_in, period, ops, closeness_range="signed" if signed else "unsigned")
            return (d * wd).sum() + (ops.where(m, v, 0.0) * wv).sum()

        def kernel_f(q):
            dv = closeness_fused(*(q[k] for k in names), P=P, n_in=n_in, n_out=n_out, period=period, signed=signed)
            return (dv[0] * wd).sum() + (dv[1] * wv).sum()

        ve, ge = value_and_grad(engine_f)(p)
        vk, gk = value_and_grad(kernel_f)(p)
        pairs += [(vk, ve)] + [(gk[k], ge[k]) for k in names]
    return _worst(pairs)


register_kernel_check("dag dense kernel (DNM)", check_dag_dense, SELF_CHECK_TOL)
register_kernel_check("dag sparse kernel (DNM)", check_dag_sparse, SELF_CHECK_TOL)
register_kernel_check("dnm closeness kernel", check_dnm_closeness, SELF_CHECK_TOL)

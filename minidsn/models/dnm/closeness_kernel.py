"""Fused closeness kernel: the DNM closeness matrix and its VJP as one compiled engine primitive (a speed option).

The reference is the engine code in minidsn.models.dnm.closeness (same equations, mnp operations; the default
`closeness_impl = "engine"`). This kernel evaluates, for every allowed entry (row r = neuron i - n_in, source j),

    a = 2 sigmoid(alpha_i) - 1,  e = beta_i + 1,  g = sigmoid(gamma_i),  th = softplus(theta_i)/ln 2,
    sg = softplus(sigma_i),      gauss = exp(-(P - mu_i)^2 / (2 sg^2)),
    base = 0.501 + 0.5 sin(2 pi P / (T th) + phi_i),  s = base**e,  v = a gauss (s - g),
    c = sigmoid(kappa),  d = sign(v)(|v| - c)/(1 - c) if |v| > c else 0      (signed=True, the code's)
                         d =        (|v| - c)/(1 - c) if |v| > c else 0      (signed=False, the seed text's [0, 1])

and returns stack([d, v]) ([2, N-n_in, N-n_out]; v feeds the smooth sparsity surrogate). The backward applies the
chain rule entry by entry (derivatives written out in _closeness_backward_kernel) and sums over each row, giving
gradients for the seven per-neuron parameter vectors ([N]; zero on input rows) and for kappa. Why it exists: at the
MNIST size the ~25 elementwise engine operations on 214k-entry arrays, each kept for the backward, cost several
times the DAG itself; one pass per direction without temporaries removes that.
"""

from __future__ import annotations

import math

import numba
import numpy as np

from minidsn.engine import defvjp_joint, primitive

__all__ = ["closeness_fused", "closeness_forward", "closeness_backward"]

_njit = numba.njit(cache=False)
_LN2 = math.log(2.0)


@_njit
def _sig(z):
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


@_njit
def _softplus(z):
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@_njit
def _closeness_forward_kernel(alpha, beta, gamma, theta, phi, sigma, mu, kappa, P, n_in, n_out, period, exact_v,
                              signed):
    n_rows, n_src = P.shape
    out = np.zeros((2, n_rows, n_src))
    c = _sig(kappa)
    for r in range(n_rows):
        i = n_in + r
        lim = i if i < n_src else n_src
        a = 2.0 * _sig(alpha[i]) - 1.0
        e = beta[i] + 1.0
        g = _sig(gamma[i])
        th = _softplus(theta[i]) / _LN2
        sg = _softplus(sigma[i])
        k = (2.0 * math.pi) / (period * th)
        # |s - g| <= max(s, g) <= max(1.001**e, 1) for e > 0 (0 <= s <= 1.001**e, 0 < g < 1): an entry whose
        # |a| gauss max(1.001**e, 1) cannot pass the cutoff is dead without evaluating the sine and the power
        shortcut = (not exact_v) and e > 0.0
        bound_row = abs(a) * max(1.001**e, 1.0) * (1.0 + 1e-12) if shortcut else 0.0
        for j in range(lim):
            p = P[r, j]
            gauss = math.exp(-((p - mu[i]) ** 2) / (2.0 * sg**2))
            if shortcut and bound_row * gauss <= c:
                continue  # d = 0; v left at 0 (not evaluated)
            base = 0.501 + 0.5 * math.sin(k * p + phi[i])
            v = a * (gauss * (base**e - g))
            out[1, r, j] = v
            av = abs(v)
            if av > c:
                out[0, r, j] = (av - c) / (1.0 - c) if (v > 0 or not signed) else -(av - c) / (1.0 - c)
    return out


@_njit
def _closeness_backward_kernel(G, DV, alpha, beta, gamma, theta, phi, sigma, mu, kappa, P, n_in, n_out, period,
                               signed):
    """G [2, n_rows, n_src] = (dL/dd, dL/dv); DV = the forward's stack([d, v]). Returns grads (alpha..mu: [N] each,
    kappa: float). An entry with d = 0 (dead) and no cotangent on v contributes nothing and is skipped before any
    transcendental function is evaluated, so with the exact-count sparsity the cost follows the live entries."""
    n_rows, n_src = P.shape
    N = alpha.shape[0]
    ga = np.zeros(N)
    gb = np.zeros(N)
    gg = np.zeros(N)
    gt = np.zeros(N)
    gp = np.zeros(N)
    gs = np.zeros(N)
    gm = np.zeros(N)
    c = _sig(kappa)
    gc = 0.0
    for r in range(n_rows):
        i = n_in + r
        lim = i if i < n_src else n_src
        sa = _sig(alpha[i])
        a = 2.0 * sa - 1.0
        e = beta[i] + 1.0
        g = _sig(gamma[i])
        th = _softplus(theta[i]) / _LN2
        sg = _softplus(sigma[i])
        k = (2.0 * math.pi) / (period * th)
        acc_a = 0.0  # d L / d a
        acc_e = 0.0
        acc_g = 0.0
        acc_th = 0.0
        acc_ph = 0.0
        acc_sg = 0.0
        acc_mu = 0.0
        for j in range(lim):
            if DV[0, r, j] == 0.0 and G[1, r, j] == 0.0:
                continue
            p = P[r, j]
            dm = p - mu[i]
            gauss = math.exp(-(dm**2) / (2.0 * sg**2))
            arg = k * p + phi[i]
            base = 0.501 + 0.5 * math.sin(arg)
            s = base**e
            v = a * (gauss * (s - g))
            gv = G[1, r, j]
            av = abs(v)
            if av > c:
                sgn = 1.0 if v > 0 else -1.0
                gd = G[0, r, j]
                if signed:
                    gv += gd / (1.0 - c)  # dd/dv = sign(v)^2/(1-c)
                    gc += gd * sgn * (av - 1.0) / (1.0 - c) ** 2  # dd/dc
                else:
                    gv += sgn * gd / (1.0 - c)  # d = (|v| - c)/(1 - c): dd/dv = sign(v)/(1-c)
                    gc += gd * (av - 1.0) / (1.0 - c) ** 2
            if gv == 0.0:
                continue
            acc_a += gv * gauss * (s - g)
            g_gauss = gv * a * (s - g)
            g_s = gv * a * gauss
            acc_g -= gv * a * gauss
            acc_mu += g_gauss * gauss * dm / sg**2  # dgauss/dmu
            acc_sg += g_gauss * gauss * dm**2 / sg**3  # dgauss/dsg
            acc_e += g_s * s * math.log(base)  # ds/de
            g_arg = g_s * e * base ** (e - 1.0) * 0.5 * math.cos(arg)  # ds/dbase * dbase/darg
            acc_ph += g_arg
            acc_th += g_arg * (-k * p / th)  # d(k p)/dth = -k p / th
        ga[i] = acc_a * 2.0 * sa * (1.0 - sa)
        gb[i] = acc_e
        gg[i] = acc_g * g * (1.0 - g)
        gt[i] = acc_th * _sig(theta[i]) / _LN2
        gp[i] = acc_ph
        gs[i] = acc_sg * _sig(sigma[i])
        gm[i] = acc_mu
    gk = gc * c * (1.0 - c)
    return ga, gb, gg, gt, gp, gs, gm, gk


def _check(params, P, n_in, n_out):
    N = P.shape[0] + n_in
    for name, a in zip(("alpha", "beta", "gamma", "theta", "phi", "sigma", "mu"), params):
        if a.shape != (N,) or a.dtype != np.float64:
            raise ValueError(f"closeness kernel: {name} must be float64 of shape ({N},), got {a.dtype} {a.shape}")
        if not np.all(np.isfinite(a)):
            raise ValueError(f"closeness kernel: {name} contains NaN or inf")


def closeness_forward(alpha, beta, gamma, theta, phi, sigma, mu, kappa, P, n_in, n_out, period, jit=True,
                      exact_v=True, signed=True):
    """stack([d, v]) of the module docstring (NumPy arrays in and out).

    exact_v=False: v is evaluated only where the entry can be live; provably dead entries (|a| gauss
    max(1.001**(beta+1), 1) <= c) get v = 0 and skip the sine and the power. d is the same either way. Use it only
    when nothing reads v (exact-count or mean_abs sparsity). signed=False: the unsigned closeness in [0, 1].

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 72-183 (compiled
        form of closeness.closeness; held equal by tests/test_dnm_closeness.py and the selfcheck row
        'dnm closeness kernel').
    """
    _check((alpha, beta, gamma, theta, phi, sigma, mu), P, n_in, n_out)
    f = _closeness_forward_kernel if jit else _closeness_forward_kernel.py_func
    return f(alpha, beta, gamma, theta, phi, sigma, mu, float(kappa), P, n_in, n_out, float(period), bool(exact_v),
             bool(signed))


def closeness_backward(G, alpha, beta, gamma, theta, phi, sigma, mu, kappa, P, n_in, n_out, period, jit=True,
                       dv=None, signed=True):
    """Gradients (alpha, beta, gamma, theta, phi, sigma, mu, kappa) for the cotangent G of stack([d, v]).

    dv: the forward's output for these parameters (recomputed when None).

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 72-183
        (hand-written VJP of those lines; tests/test_dnm_closeness.py checks it against the engine gradient of
        closeness.closeness).
    """
    if dv is None:
        dv = closeness_forward(alpha, beta, gamma, theta, phi, sigma, mu, kappa, P, n_in, n_out, period, jit,
                               signed=signed)
    f = _closeness_backward_kernel if jit else _closeness_backward_kernel.py_func
    *gs, gk = f(np.ascontiguousarray(G, dtype=np.float64), dv, alpha, beta, gamma, theta, phi, sigma, mu, float(kappa),
                P, n_in, n_out, float(period), bool(signed))
    return (*gs, np.asarray(gk, dtype=np.float64).reshape(np.shape(kappa)))


@primitive
def closeness_fused(alpha, beta, gamma, theta, phi, sigma, mu, kappa, *, P, n_in, n_out, period, jit=True,
                    exact_v=True, signed=True):
    """Engine primitive: stack([d, v]) [2, N-n_in, N-n_out] from the closeness parameters (module docstring).

    With exact_v=False, v is 0 at provably dead entries (see closeness_forward); the VJP recomputes any entry that
    receives a cotangent on v, so gradients stay exact.

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 72-183 (the
        closeness matrix as one engine primitive).
    """
    return closeness_forward(alpha, beta, gamma, theta, phi, sigma, mu, kappa, P, n_in, n_out, period, jit, exact_v,
                             signed)


def _fused_vjp(G, ans, alpha, beta, gamma, theta, phi, sigma, mu, kappa, *, P, n_in, n_out, period, jit=True,
               exact_v=True, signed=True):
    return closeness_backward(G, alpha, beta, gamma, theta, phi, sigma, mu, kappa, P, n_in, n_out, period, jit,
                              dv=ans, signed=signed)


defvjp_joint(closeness_fused, _fused_vjp)

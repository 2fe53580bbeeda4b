"""One compiled pass over a URN weight matrix: the L1 / synaptic-length subgradient plus an Adam update.

Why: at S = 5000 every elementwise operation on the S x S matrix costs about as much as one of the step's matrix
products, and the engine path (|W| terms traced, then minidsn.optim.Adam) makes a dozen such passes. Here they are
one pass that reads W, the data gradient G, m, v (and the length weights L) and writes new W, m, v (the inputs are
left untouched, as minidsn.optim requires).

Formulas:
  penalty      R(W) = sum_ij (c_w + c_syn L_ij) |W_ij|       (seed 002 eq. 9; L_ij = d_ij^gamma, eq. 8)
  l1_mode "subgradient" (default, ASSUMPTION: the penalty's gradient through Adam, as a Keras kernel_regularizer):
               g = G + (c_w + c_syn L) sign(W)               (sign(0) = 0, as the engine's abs VJP)
  l1_mode "prox": Adam on g = G, then the proximal step of the penalty with step lr (soft threshold; weights
               become exactly 0): W' <- sign(W') max(|W'| - lr coef, 0), coef = c_w + c_syn L
  l1_mode "prox_adam": the same in Adam's per-weight metric: tau = lr coef / (sqrt(vhat') + eps) (the prox of
               coef |w| under the diagonal scaling Adam applies to the gradient)
  Adam         minidsn.optim.Adam, eps_form "algorithm1" (Kingma & Ba 2015, Algorithm 1):
               m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2;
               W' = W - lr (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps)
eps_form "algorithm1" (default) or "efficient" (TensorFlow / Keras' Adam: minidsn.optim.Adam documents both).
Returns (W', m', v', sum |W|, sum L |W|) (R(W) = c_w * the first + c_syn * the second; the second is 0 without L). `adam_l1_update_reference` is the plain NumPy version; `adam_l1_update` the Numba one
(`jit=False` runs the same loop uncompiled, through `_kernel.py_func`). The kernel folds the constants,
lr / (1 - b1^t) and 1 / sqrt(1 - b2^t), so it agrees with the reference to rounding (about 1 ulp), not bitwise.
"""

from __future__ import annotations

import numba
import numpy as np


L1_MODES = ("subgradient", "prox", "prox_adam")
EPS_FORMS = ("algorithm1", "efficient")


def _adam_constants(t, lr, b1, b2, eps_form):
    """(a, s, r): the Adam step is a m' / (sqrt(v') s + eps); r = a (1 - b1^t) is the step size on a bias-corrected
    moment (lr for algorithm1, lr sqrt(1 - b2^t) for the efficient form), used by the Adam-scaled proximal step.

    Source: minidsn.optim.Adam (Kingma & Ba 2015, Algorithm 1 and Section 2's efficient form), constants folded.
    """
    if eps_form == "algorithm1":
        return float(lr) / (1.0 - b1**t), 1.0 / np.sqrt(1.0 - b2**t), float(lr)
    if eps_form == "efficient":
        c2 = np.sqrt(1.0 - b2**t)
        return float(lr) * c2 / (1.0 - b1**t), 1.0, float(lr) * c2
    raise ValueError(f"adam eps_form must be one of {EPS_FORMS}, got {eps_form!r}")


def _check_mode(l1_mode):
    if l1_mode not in L1_MODES:
        raise ValueError(f"l1_mode must be one of {L1_MODES}, got {l1_mode!r}")


def adam_l1_update_reference(W, G, m, v, L, c_w, c_syn, t, lr, b1, b2, eps, l1_mode="subgradient",
                             eps_form="algorithm1"):
    """Source: seed 002 eq. (5), eq. (9) (c_W |W| + c_syn sum |W_ij| d_ij^gamma: subgradient (c_W + c_syn L) sign(W));
        seed 002 l. 77 (Adam, lr 7e-4); assumption: Adam as in Kingma & Ba Algorithm 1 (minidsn.optim.Adam) or its
        efficient form (`eps_form`); assumption: the penalty as a subgradient through Adam, or as a proximal
        soft-threshold step after it (`l1_mode`, module docstring).
    """
    _check_mode(l1_mode)
    coef = c_w + c_syn * L if L is not None else np.full_like(W, c_w)
    l1 = float(np.sum(np.abs(W)))
    syn = float(np.sum(L * np.abs(W))) if L is not None else 0.0
    g = G + coef * np.sign(W) if l1_mode == "subgradient" else G
    m2 = b1 * m + (1.0 - b1) * g
    v2 = b2 * v + (1.0 - b2) * (g * g)
    c1 = 1.0 - b1**t
    c2 = 1.0 - b2**t
    if eps_form == "algorithm1":
        W2 = W - lr * (m2 / c1) / (np.sqrt(v2 / c2) + eps)
        denom = np.sqrt(v2 / c2) + eps
    else:
        _adam_constants(t, lr, b1, b2, eps_form)  # names a bad eps_form
        W2 = W - (lr * np.sqrt(c2) / c1) * m2 / (np.sqrt(v2) + eps)
        denom = (np.sqrt(v2) + eps) / np.sqrt(c2)
    if l1_mode != "subgradient":
        # soft threshold (prox of tau |w|): tau = lr coef, or lr coef / (Adam's per-weight denominator)
        tau = lr * coef if l1_mode == "prox" else lr * coef / denom
        W2 = np.sign(W2) * np.maximum(np.abs(W2) - tau, 0.0)
    return W2, m2, v2, l1, syn


@numba.njit(cache=False)
def _prox_row(W, G, m, v, L, has_L, c_w, c_syn, step_scale, inv_sqrt_c2, b1, b2, eps, W2, m2, v2, mode, prox_lr, i):
    """Row i of the proximal modes: Adam on the data gradient G alone, then the soft threshold
    w <- sign(w) max(|w| - tau, 0), tau = prox_lr coef (mode 1) or prox_lr coef / (sqrt(v') s + eps) (mode 2)."""
    for j in range(W.shape[1]):
        coef = c_w + c_syn * L[i, j] if has_L else c_w
        g = G[i, j]
        mm = b1 * m[i, j] + (1.0 - b1) * g
        vv = b2 * v[i, j] + (1.0 - b2) * (g * g)
        m2[i, j] = mm
        v2[i, j] = vv
        den = np.sqrt(vv) * inv_sqrt_c2 + eps
        w = W[i, j] - step_scale * mm / den
        tau = prox_lr * coef if mode == 1 else prox_lr * coef / den
        a = abs(w) - tau
        W2[i, j] = (np.float64(w > 0) - np.float64(w < 0)) * a if a > 0 else 0.0


@numba.njit(cache=False)
def _kernel(W, G, m, v, L, has_L, c_w, c_syn, step_scale, inv_sqrt_c2, b1, b2, eps, W2, m2, v2, mode, prox_lr):
    n0, n1 = W.shape
    l1 = 0.0
    syn = 0.0
    for i in range(n0):
        if mode != 0:
            _prox_row(W, G, m, v, L, has_L, c_w, c_syn, step_scale, inv_sqrt_c2, b1, b2, eps, W2, m2, v2, mode,
                      prox_lr, i)
        # no reduction and no branch in the update loop, so LLVM vectorises it (no fastmath needed)
        for j in range(n1 if mode == 0 else 0):
            w = W[i, j]
            coef = c_w + c_syn * L[i, j] if has_L else c_w
            s = np.float64(w > 0) - np.float64(w < 0)
            g = G[i, j] + coef * s
            mm = b1 * m[i, j] + (1.0 - b1) * g
            vv = b2 * v[i, j] + (1.0 - b2) * (g * g)
            m2[i, j] = mm
            v2[i, j] = vv
            # = lr (m / c1) / (sqrt(v / c2) + eps), with the constants folded (one division, not three)
            W2[i, j] = w - step_scale * mm / (np.sqrt(vv) * inv_sqrt_c2 + eps)
        # the penalty sums while the row is in cache; four partial sums break the add latency chain
        p0 = p1 = p2 = p3 = 0.0
        q0 = q1 = q2 = q3 = 0.0
        n4 = n1 - n1 % 4
        for j in range(0, n4, 4):
            a0, a1, a2, a3 = abs(W[i, j]), abs(W[i, j + 1]), abs(W[i, j + 2]), abs(W[i, j + 3])
            p0 += a0
            p1 += a1
            p2 += a2
            p3 += a3
            if has_L:
                q0 += L[i, j] * a0
                q1 += L[i, j + 1] * a1
                q2 += L[i, j + 2] * a2
                q3 += L[i, j + 3] * a3
        for j in range(n4, n1):
            a0 = abs(W[i, j])
            p0 += a0
            if has_L:
                q0 += L[i, j] * a0
        l1 += (p0 + p1) + (p2 + p3)
        syn += (q0 + q1) + (q2 + q3)
    return l1, syn


def adam_l1_update(W, G, m, v, L, c_w, c_syn, t, lr, b1, b2, eps, jit=True, out=None, l1_mode="subgradient",
                   eps_form="algorithm1"):
    """Compiled version of `adam_l1_update_reference` (same arguments and results, up to rounding).

    `out`: three C-contiguous float64 arrays of W's shape, apart from every input, that receive W', m', v' (every
    element is written; see minidsn.kernels.workspace); by default new arrays.

    Source: seed 002 eq. (5), eq. (9), l. 77 (compiled form of adam_l1_update_reference; held equal by
        tests/test_urn_kernels.py and the selfcheck 'urn_adam').
    """
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (W, G, m, v)]
    if any(a.shape != arrays[0].shape or a.ndim != 2 for a in arrays):
        raise ValueError("adam_l1_update: W, G, m, v must be 2-d arrays of one shape")
    has_L = L is not None
    Lc = np.ascontiguousarray(L, dtype=np.float64) if has_L else np.zeros((1, 1))
    if has_L and Lc.shape != arrays[0].shape:
        raise ValueError(f"adam_l1_update: L has shape {Lc.shape}, W has {arrays[0].shape}")
    if not (t >= 1):
        raise ValueError(f"adam_l1_update: step t must be >= 1, got {t}")
    if out is None:
        W2, m2, v2 = (np.empty_like(arrays[0]) for _ in range(3))
    else:
        W2, m2, v2 = out
        inputs = arrays + ([Lc] if has_L else [])
        for k, o in enumerate(out):
            if not (isinstance(o, np.ndarray) and o.shape == arrays[0].shape and o.dtype == np.float64
                    and o.flags.c_contiguous and o.flags.writeable):
                raise ValueError(f"adam_l1_update: out must be writeable C-contiguous float64 {arrays[0].shape}")
            if any(np.may_share_memory(o, a) for a in inputs + list(out[:k])):
                raise ValueError("adam_l1_update: out arrays must not overlap each other or the inputs")
    _check_mode(l1_mode)
    step_scale, inv_sqrt_c2, r = _adam_constants(t, lr, b1, b2, eps_form)
    mode = L1_MODES.index(l1_mode)
    prox_lr = float(lr) if l1_mode == "prox" else r
    kernel = _kernel if jit else _kernel.py_func
    l1, syn = kernel(*arrays, Lc, has_L, float(c_w), float(c_syn), step_scale, inv_sqrt_c2, float(b1), float(b2),
                     float(eps), W2, m2, v2, mode, prox_lr)
    return W2, m2, v2, float(l1), float(syn)


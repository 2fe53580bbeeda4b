"""One compiled pass over a URN weight matrix: the L1 / synaptic-length subgradient plus an Adam update.

Why: at S = 5000 every elementwise operation on the S x S matrix costs about as much as one of the step's matrix
products, and the engine path (|W| terms traced, then minidsn.optim.Adam) makes a dozen such passes. Here they are
one pass that reads W, the data gradient G, m, v (and the length weights L) and writes new W, m, v (the inputs are
left untouched, as minidsn.optim requires).

Formulas:
  penalty      R(W) = sum_ij (c_w + c_syn L_ij) |W_ij|       (seed 002 eq. 9; L_ij = d_ij^gamma, eq. 8)
  subgradient  g = G + (c_w + c_syn L) sign(W)               (sign(0) = 0, as the engine's abs VJP)
  Adam         minidsn.optim.Adam, eps_form "algorithm1" (Kingma & Ba 2015, Algorithm 1):
               m' = b1 m + (1 - b1) g;  v' = b2 v + (1 - b2) g^2;
               W' = W - lr (m' / (1 - b1^t)) / (sqrt(v' / (1 - b2^t)) + eps)
Returns (W', m', v', sum |W|, sum L |W|) (R(W) = c_w * the first + c_syn * the second; the second is 0 without L). `adam_l1_update_reference` is the plain NumPy version; `adam_l1_update` the Numba one
(`jit=False` runs the same loop uncompiled, through `_kernel.py_func`).
"""

from __future__ import annotations

import numba
import numpy as np


def adam_l1_update_reference(W, G, m, v, L, c_w, c_syn, t, lr, b1, b2, eps):
    coef = c_w + c_syn * L if L is not None else np.full_like(W, c_w)
    l1 = float(np.sum(np.abs(W)))
    syn = float(np.sum(L * np.abs(W))) if L is not None else 0.0
    g = G + coef * np.sign(W)
    m2 = b1 * m + (1.0 - b1) * g
    v2 = b2 * v + (1.0 - b2) * (g * g)
    c1 = 1.0 - b1**t
    c2 = 1.0 - b2**t
    W2 = W - lr * (m2 / c1) / (np.sqrt(v2 / c2) + eps)
    return W2, m2, v2, l1, syn


@numba.njit(cache=False)
def _kernel(W, G, m, v, L, has_L, c_w, c_syn, c1, c2, lr, b1, b2, eps, W2, m2, v2):
    n0, n1 = W.shape
    l1 = 0.0
    syn = 0.0
    for i in range(n0):
        for j in range(n1):
            w = W[i, j]
            lij = L[i, j] if has_L else 0.0
            coef = c_w + c_syn * lij if has_L else c_w
            s = 1.0 if w > 0 else (-1.0 if w < 0 else 0.0)
            l1 += abs(w)
            syn += lij * abs(w)
            g = G[i, j] + coef * s
            mm = b1 * m[i, j] + (1.0 - b1) * g
            vv = b2 * v[i, j] + (1.0 - b2) * (g * g)
            m2[i, j] = mm
            v2[i, j] = vv
            W2[i, j] = w - lr * (mm / c1) / (np.sqrt(vv / c2) + eps)
    return l1, syn


def adam_l1_update(W, G, m, v, L, c_w, c_syn, t, lr, b1, b2, eps, jit=True):
    """Compiled version of `adam_l1_update_reference` (same arguments and results, up to rounding)."""
    arrays = [np.ascontiguousarray(a, dtype=np.float64) for a in (W, G, m, v)]
    if any(a.shape != arrays[0].shape or a.ndim != 2 for a in arrays):
        raise ValueError("adam_l1_update: W, G, m, v must be 2-d arrays of one shape")
    has_L = L is not None
    Lc = np.ascontiguousarray(L, dtype=np.float64) if has_L else np.zeros((1, 1))
    if has_L and Lc.shape != arrays[0].shape:
        raise ValueError(f"adam_l1_update: L has shape {Lc.shape}, W has {arrays[0].shape}")
    if not (t >= 1):
        raise ValueError(f"adam_l1_update: step t must be >= 1, got {t}")
    W2, m2, v2 = (np.empty_like(arrays[0]) for _ in range(3))
    kernel = _kernel if jit else _kernel.py_func
    l1, syn = kernel(*arrays, Lc, has_L, float(c_w), float(c_syn), 1.0 - b1**t, 1.0 - b2**t, float(lr),
                      float(b1), float(b2), float(eps), W2, m2, v2)
    return W2, m2, v2, float(l1), float(syn)


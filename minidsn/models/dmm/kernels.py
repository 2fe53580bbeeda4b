"""Numba kernels for the compiled DMM-Lite episode (plain-NumPy references: compiled.forward_numpy /
backward_numpy; equations in minidsn.models.dmm.compiled).

The down movement runs over the link list (X[to] += w * Y[from] for every soft and hard link), which is sparse
(about 1,500 of 72 x 54 slots) and sums each key column in the same order, so exact ties between identical columns
(characters seen equally often) stay exact, as in the V-value reference.  Compiled with njit(cache=False), no
fastmath, no parallel.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["episode_forward", "episode_backward"]


def episode_forward(lt, lf, lw, E, exo_rows, acc_out, acc_in1, acc_in2, norm_out, norm_in, dot_out, dot_in1,
                    dot_in2, cmp_true, cmp_false, cmp_in1, cmp_in2, num, clip, X, Y):
    """Fill X[1..T], Y[1..T] (X[0] = Y[0] = 0 on entry): X_c = A Y_{c-1}; Y_c = neurons(X_c).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:65-105 (compiled form of
        compiled.forward_numpy; tests/test_dmm_trainable.py, selfcheck 'dmm_episode').
    """
    T = X.shape[0] - 1
    K = X.shape[2]
    for c in range(1, T + 1):
        for l in range(lt.shape[0]):
            w = lw[l]
            i = lt[l]
            j = lf[l]
            for k in range(K):
                X[c, i, k] += w * Y[c - 1, j, k]
        for r in range(exo_rows.shape[0]):
            for k in range(K):
                Y[c, exo_rows[r], k] = E[c, r, k]
        for r in range(acc_out.shape[0]):
            for k in range(K):
                Y[c, acc_out[r], k] = X[c, acc_in1[r], k] + X[c, acc_in2[r], k]
        for r in range(norm_out.shape[0]):
            m = 0.0
            for k in range(K):
                a = abs(X[c, norm_in[r], k])
                if a > m:
                    m = a
            Y[c, norm_out[r], num] = m
        for r in range(dot_out.shape[0]):
            s = 0.0
            for k in range(K):
                s += X[c, dot_in1[r], k] * X[c, dot_in2[r], k]
            Y[c, dot_out[r], num] = min(max(s, -clip), clip)
        for r in range(cmp_true.shape[0]):
            d = X[c, cmp_in1[r], num] - X[c, cmp_in2[r], num]
            Y[c, cmp_true[r], num] = d if d > 0.0 else 0.0
            Y[c, cmp_false[r], num] = -d if d < 0.0 else 0.0


def episode_backward(lt, lf, lw, n_soft, acc_out, acc_in1, acc_in2, norm_out, norm_in, dot_out, dot_in1, dot_in2,
                     cmp_true, cmp_false, cmp_in1, cmp_in2, read_rows, num, clip, X, Y, dy, dgates):
    """BPTT; writes dL/dw for the first n_soft links into dgates.  Kink rules as the engine (see compiled.py).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:32-42 (compiled form of
        compiled.backward_numpy; tests/test_dmm_trainable.py, selfcheck 'dmm_episode').
    """
    T = X.shape[0] - 1
    n_in = X.shape[1]
    n_out = Y.shape[1]
    K = X.shape[2]
    dY = np.zeros((n_out, K))
    dX = np.zeros((n_in, K))
    for l in range(n_soft):
        dgates[l] = 0.0
    for c in range(T, 0, -1):
        for i in range(n_in):
            for k in range(K):
                dX[i, k] = 0.0
        dX[read_rows[0], num] += dy[c - 1, 0]
        dX[read_rows[1], num] += dy[c - 1, 1]
        for r in range(acc_out.shape[0]):
            for k in range(K):
                g = dY[acc_out[r], k]
                dX[acc_in1[r], k] += g
                dX[acc_in2[r], k] += g
        for r in range(norm_out.shape[0]):
            g = dY[norm_out[r], num]
            if g == 0.0:
                continue
            m = 0.0
            for k in range(K):
                a = abs(X[c, norm_in[r], k])
                if a > m:
                    m = a
            if m == 0.0:
                continue  # every entry is 0 and |x| has slope 0 there
            cnt = 0
            for k in range(K):
                if abs(X[c, norm_in[r], k]) == m:
                    cnt += 1
            for k in range(K):
                x = X[c, norm_in[r], k]
                if abs(x) == m:
                    dX[norm_in[r], k] += g / cnt * (1.0 if x > 0.0 else -1.0)
        for r in range(dot_out.shape[0]):
            g = dY[dot_out[r], num]
            s = 0.0
            for k in range(K):
                s += X[c, dot_in1[r], k] * X[c, dot_in2[r], k]
            if s < -clip or s > clip:
                continue
            for k in range(K):
                dX[dot_in1[r], k] += g * X[c, dot_in2[r], k]
                dX[dot_in2[r], k] += g * X[c, dot_in1[r], k]
        for r in range(cmp_true.shape[0]):
            d = X[c, cmp_in1[r], num] - X[c, cmp_in2[r], num]
            gd = 0.0
            if d > 0.0:
                gd = dY[cmp_true[r], num]
            elif d < 0.0:
                gd = -dY[cmp_false[r], num]
            dX[cmp_in1[r], num] += gd
            dX[cmp_in2[r], num] -= gd
        # gate gradients and dY_{c-1} = A^T dX_c over the link list
        for j in range(n_out):
            for k in range(K):
                dY[j, k] = 0.0
        for l in range(lt.shape[0]):
            i = lt[l]
            j = lf[l]
            w = lw[l]
            acc = 0.0
            for k in range(K):
                acc += dX[i, k] * Y[c - 1, j, k]
                dY[j, k] += w * dX[i, k]
            if l < n_soft:
                dgates[l] += acc


episode_forward_jit = numba.njit(cache=False)(episode_forward)
episode_backward_jit = numba.njit(cache=False)(episode_backward)

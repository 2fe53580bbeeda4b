"""Clip + Adagrad for one parameter array, compiled: the fast path of the DiffRNN cycle.

Same arithmetic, in the same order, as minidsn.optim.clip_elementwise followed by minidsn.optim.Adagrad.update
(note ../shared/notes/diffrnn.md, "G2 model": every gradient clipped elementwise to [-c, c]; M += d^2;
theta -= lr d / sqrt(M + eps)), so both give bit-identical results (tests/test_rnn_kernel_adagrad.py). It exists
because the pytree machinery of minidsn.optim costs more per cycle than the whole 40-step window kernel; the
state it reads and writes is the minidsn.optim.Adagrad state, so the structural edits apply to it unchanged.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["clip_adagrad_ref", "clip_adagrad"]


def clip_adagrad_ref(p, g, M, lr, eps, clip):
    """NumPy reference: returns new (p, M); clip <= 0 means no clipping. Inputs are not modified.

    Source: seed 001 Sec. 2.2 (min-char-rnn's update); ThomasMiconi/DiffRNN@8b2491f rnn.py:120-121 (clip every
        gradient to [-5, 5]), rnn.py:175-179 (M += d^2; theta -= 0.1 d / sqrt(M + 1e-8)).
    """
    if clip > 0:
        g = np.clip(g, -clip, clip)
    M = M + g * g
    return p - lr * g / np.sqrt(M + eps), M


@numba.njit(cache=False)
def _clip_adagrad_flat(p, g, M, lr, eps, clip, p_out, M_out):
    for i in range(p.shape[0]):
        d = g[i]
        if clip > 0:
            d = min(max(d, -clip), clip)  # the order of np.clip: lower bound, then upper bound
        mi = M[i] + d * d
        M_out[i] = mi
        p_out[i] = p[i] - lr * d / np.sqrt(mi + eps)


def clip_adagrad(p, g, M, lr, eps, clip):
    """Compiled ``clip_adagrad_ref`` (new arrays out, inputs untouched).

    Source: seed 001 Sec. 2.2; ThomasMiconi/DiffRNN@8b2491f rnn.py:120-121,175-179 (compiled form of clip_adagrad_ref;
        held equal by tests/test_diffrnn.py and the selfcheck 'rnn_clip_adagrad').
    """
    # Outputs are allocated C-contiguous on purpose: np.empty_like would copy a Fortran layout, and reshape(-1) of
    # such an array is a copy, so the kernel's writes would be lost (an earlier version had exactly this bug).
    p_out = np.empty(p.shape, dtype=np.float64)
    M_out = np.empty(M.shape, dtype=np.float64)
    _clip_adagrad_flat(np.ascontiguousarray(p, dtype=np.float64).reshape(-1),
                       np.ascontiguousarray(g, dtype=np.float64).reshape(-1),
                       np.ascontiguousarray(M, dtype=np.float64).reshape(-1), float(lr), float(eps), float(clip),
                       p_out.reshape(-1), M_out.reshape(-1))
    return p_out, M_out

"""DiffRNN kernel self-checks for `minidsn selfcheck`, registered when this package is imported (what a
check returns and why: minidsn.testing.selfcheck)."""

from __future__ import annotations

import numpy as np

from minidsn.testing.compare import worst_error as _worst
from minidsn.testing.selfcheck import register_kernel_check

SELF_CHECK_TOL = 1e-11


def check_rnn_window() -> float:
    """DiffRNN 40-step forward + BPTT kernel (G2 and rnnAltern) against the engine reference path.

    Source: none (kernel self-check against the reference; formulas in window_kernel.py)
    """
    from minidsn.models.diffrnn.loss import loss_and_grads

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
    """DiffRNN fused clip + Adagrad step against its NumPy reference (C and Fortran layouts).

    Source: none (kernel self-check against the reference; formulas in adagrad_kernel.py)
    """
    from minidsn.models.diffrnn.adagrad_kernel import clip_adagrad, clip_adagrad_ref

    rng = np.random.default_rng(4)
    p, g, M = rng.standard_normal((6, 5)), 8 * rng.standard_normal((6, 5)), rng.random((6, 5))
    pairs = []
    for order in ("C", "F"):
        args = [np.asarray(a, order=order) for a in (p, g, M)]
        out, ref = clip_adagrad(*args, 0.1, 1e-8, 5.0), clip_adagrad_ref(*args, 0.1, 1e-8, 5.0)
        pairs += list(zip(out, ref))
    return _worst(pairs)


register_kernel_check("rnn window kernel (DiffRNN)", check_rnn_window, SELF_CHECK_TOL)
register_kernel_check("rnn clip+adagrad kernel (DiffRNN)", check_rnn_clip_adagrad, SELF_CHECK_TOL)

"""The DiffRNN window kernel (minidsn.models.diffrnn.window_kernel) as ONE engine primitive with a joint VJP.

    rnn_window(Wxh, Whh, m, Wiy, bh, by, s0, *, inputs, targets, gate) -> out, shape (1 + H,)
    out[0] = L = sum_t -ln softmax(Wiy q_t + by)[targets[t]],   out[1:] = s_{T-1} (the state to carry over)

Equations: minidsn/models/diffrnn/window_kernel.py module docstring (note ../shared/notes/diffrnn.md, "G2 model", "rnnAltern").
The forward runs the compiled kernel without the backward pass; the joint VJP runs the compiled forward + BPTT in
one call with cotangents (g[0], g[1:]) and returns the gradients of all seven positional arguments. It is first
order only (raw Numba); second derivatives go through the engine reference path (minidsn.models.diffrnn.loss).
"""

from __future__ import annotations

import numpy as np

from minidsn.engine import defvjp_joint, primitive

from .window_kernel import check_window_args, window_fwd_bwd

__all__ = ["rnn_window"]


@primitive
def rnn_window(Wxh, Whh, m, Wiy, bh, by, s0, *, inputs, targets, gate=False):
    """[L, s_last] of one window (see module doc); inputs/targets int index arrays, gate=True for rnnAltern.

    Source: seed 001 Sec. 2.1; ThomasMiconi/DiffRNN@8b2491f rnn.py:88-96 (the window as one differentiable operation;
        VJP rnn.py:102-119).
    """
    check_window_args(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets)
    loss, s_last, _ = window_fwd_bwd(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets, gate, 1.0, None, False)
    out = np.empty(1 + s_last.shape[0])
    out[0] = loss
    out[1:] = s_last
    return out


def _rnn_window_vjp(g, ans, Wxh, Whh, m, Wiy, bh, by, s0, *, inputs, targets, gate=False):
    g = np.asarray(g, dtype=np.float64)
    _, _, grads = window_fwd_bwd(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets, gate, float(g[0]), g[1:], True)
    return grads


defvjp_joint(rnn_window, _rnn_window_vjp)

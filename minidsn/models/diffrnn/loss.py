"""DiffRNN objective for one window of characters, and its gradient, by two paths that must agree.

Source: seed 001 Sec. 2.1-2.2; ThomasMiconi/DiffRNN@8b2491f rnn.py:88-121.

    CE(theta) = sum_{t<T} -ln softmax(Wiy (m * h_t) + by)[target_t],  h_t = tanh(Wxh x_t + Whh s_{t-1} + bh)
    s_t = h_t (G2) or m * h_t (rnnAltern, gate=True);  s_{-1} = s0 carried from the previous window (a constant)

    objective = CE + A * T * sum_j |m_j|

Why A * T: the original adds "A sign(m)" to dm inside the time loop, once per step, so the gradient it descends is
dCE/dm + T A sign(m) (note, "Text versus code" 4). A * T * sum|m| is the loss whose gradient is exactly that
(m > 0 always, as m is floored at M_min > 0; at m = 0 the engine's |.| gives 0 = sign(0), as the original's
np.sign). The reported loss (and the smoothed loss) is CE alone, as in the original. Elementwise clipping of the
gradient to [-5, 5] is NOT part of the objective: it is applied to the gradient before Adagrad
(minidsn.models.diffrnn.cycle).

Paths:
- "engine": the reference, written with minidsn.numpy, gradients by minidsn.engine.value_and_grad (any order).
- "kernel": the same CE as ONE engine primitive (minidsn.models.diffrnn.window_primitive.rnn_window, compiled forward +
  BPTT, first order only); the L1 term is still an engine expression.

Variants without multipliers (fixed-size min-char-rnn, G3) have no "m" in params: m = 1 is used as a constant and
there is no L1 term.
"""

from __future__ import annotations

import numpy as np

import minidsn.numpy as mnp
from minidsn.engine import stop_gradient, value_and_grad

__all__ = ["HIDDEN_AXES", "window_ce_engine", "window_ce_kernel", "objective", "loss_and_grads"]

# Axes of each parameter that index hidden neurons (used by structural edits).
HIDDEN_AXES = {"Wxh": (0,), "Whh": (0, 1), "m": (0,), "Wiy": (1,), "bh": (0,), "by": ()}


def _log_softmax_at(y, k):
    """ln softmax(y)[k] = y[k] - c - ln sum_o exp(y_o - c), c = max(y) taken as a constant (the value and the
    gradient do not depend on c; it only keeps exp from overflowing)."""
    c = float(np.max(stop_gradient(y)))
    return y[k] - c - mnp.log(mnp.sum(mnp.exp(y - c)))


def window_ce_engine(params, s0, inputs, targets, gate=False):
    """(CE, s_last) with engine ops, one time step at a time (module doc equations).

    Source: seed 001 Sec. 2.1; ThomasMiconi/DiffRNN@8b2491f rnn.py:92 (h_t = tanh(Wxh x_t + Whh h_{t-1} + bh)),
        rnn.py:93 (q_t = m * h_t), rnn.py:94-96 (y_t = Wiy q_t + by, CE); ThomasMiconi/DiffRNN@8b2491f
        rnnAltern.py:101-103 (altern: h_t = tanh(Wxh x + Whh q_{t-1} + bh)).
    """
    Wxh, Whh, Wiy, bh, by = params["Wxh"], params["Whh"], params["Wiy"], params["bh"], params["by"]
    m = params.get("m")
    s = s0
    ce = 0.0
    for t in range(len(inputs)):
        h = mnp.tanh(Wxh[:, int(inputs[t])] + Whh @ s + bh)  # Wxh x_t for one-hot x_t = column inputs[t]
        q = h if m is None else m * h
        y = Wiy @ q + by
        ce = ce - _log_softmax_at(y, int(targets[t]))
        s = q if gate else h
    return ce, s


def window_ce_kernel(params, s0, inputs, targets, gate=False):
    """(CE, s_last) through the compiled primitive; s_last is returned without gradient (it is carried over).

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:88-96 (the forward), rnn.py:102-119 (its BPTT, in the compiled window
        kernel).
    """
    from minidsn.models.diffrnn.window_primitive import rnn_window

    m = params.get("m")
    if m is None:
        m = np.ones(params["bh"].shape[0])
    out = rnn_window(params["Wxh"], params["Whh"], m, params["Wiy"], params["bh"], params["by"], s0,
                     inputs=np.asarray(inputs, dtype=np.int64), targets=np.asarray(targets, dtype=np.int64),
                     gate=bool(gate))
    return out[0], out[1:]


def objective(params, s0, inputs, targets, *, l1=0.0, path="kernel", gate=False):
    """CE + l1 * T * sum|m|; returns (objective, (CE, s_last)) for value_and_grad(..., has_aux=True).

    Source: seed 001 Sec. 2.1 (L1 on the multipliers), Sec. 2.2 (A_L1reg = 3e-5); ThomasMiconi/DiffRNN@8b2491f
        rnn.py:110-111 (A sign(m) added inside the 40-step loop: the gradient of A T sum|m|);
        ThomasMiconi/DiffRNN@8803ff8 rnn.py:109-110 (G1's buggy dm = dq * m: variant g1, g1_multiplier_gradient).
    """
    if path == "engine":
        ce, s_last = window_ce_engine(params, s0, inputs, targets, gate)
    elif path == "kernel":
        ce, s_last = window_ce_kernel(params, s0, inputs, targets, gate)
    else:
        raise ValueError(f"path must be 'engine' or 'kernel', got {path!r}")
    total = ce
    if "m" in params and l1 != 0.0:
        total = total + (l1 * len(inputs)) * mnp.sum(mnp.abs(params["m"]))
    return total, (stop_gradient(ce), stop_gradient(s_last))


def loss_and_grads(params, s0, inputs, targets, *, l1=0.0, path="kernel", gate=False):
    """(CE as float, s_last ndarray, grads dict like params) of ``objective`` (unclipped gradients).

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:78-122 (lossFun: loss, gradients and last hidden state; clipping is
        the optimiser step's, rnn.py:120-121).
    """
    if s0.shape != params["bh"].shape:
        raise ValueError(f"carried state has shape {s0.shape}, expected {params['bh'].shape} (one value per neuron)")

    def f(p):
        return objective(p, s0, inputs, targets, l1=l1, path=path, gate=gate)

    (_, (ce, s_last)), grads = value_and_grad(f, has_aux=True)(params)
    return float(ce), np.asarray(s_last, dtype=np.float64), grads


def g1_multiplier_gradient(params, grads, l1, T):
    """The multiplier "gradient" of the first DiffRNN code (G1), which has a bug: it multiplies dq_t by m where the
    derivative of q_t = m * h_t needs h_t:

        G1:  dm = sum_t (Wiy^T dy_t) * m + T A sign(m)      (the bug)
        G2:  dm = sum_t (Wiy^T dy_t) * h_t + T A sign(m)    (the fix; ``loss_and_grads`` computes it)

    Because Wiy is fixed within the window, sum_t Wiy^T dy_t = Wiy^T sum_t dy_t = Wiy^T dby, so G1's value follows
    exactly from the window's own gradient of by (which has no L1 term); clipping and Adagrad then act on it as on
    any gradient (rnn.py:119-120, 176-178 at 8803ff8). Only the g2 model has a G1 (gate = False).

    Source: seed 001 Sec. 2.1 (the multipliers and their L1 term; the text's 27 vs 6 neurons come from this code,
        note diffrnn.md "Text versus code" 3); ThomasMiconi/DiffRNN@8803ff8 rnn.py:106,109-110 (dintoy = Wiy^T dy;
        dmultips += dintoy * multips + COEFFMULTIPNORM * sign(multips)), fixed in ThomasMiconi/DiffRNN@277c4a6
        rnn.py:110 (dpostmultip * hs[t]).
    """
    m = params["m"]
    return (params["Wiy"].T @ grads["by"]) * m + (l1 * T) * np.sign(m)

"""One window of the DiffRNN recurrent network: forward over T characters and backpropagation through time.

Source: seed 001 Sec. 2 (describes this version); ThomasMiconi/DiffRNN@8b2491f rnn.py:78-122 (lossFun, G2) and
rnnAltern.py:87-131 (rnnAltern); built on Karpathy's min-char-rnn as the original is.

With x_t the one-hot of inputs[t], state s_{-1} = s0 (carried over from the previous window, no gradient carried):

    G2 (gate=False):       h_t = tanh(Wxh x_t + Whh s_{t-1} + bh),   q_t = m * h_t,   s_t = h_t
    rnnAltern (gate=True): h_t = tanh(Wxh x_t + Whh s_{t-1} + bh),   q_t = m * h_t,   s_t = q_t
                           (the multiplier also gates the recurrence; the original carries q, computed with the
                           multipliers of its own window, over to the next window)
    y_t = Wiy q_t + by,    p_t = softmax(y_t),    L = sum_t -ln p_t[targets[t]]

A fixed-size min-char-rnn is G2 with m = 1 (its gradient then unused).

Outputs: L and s_{T-1} (the state to carry). The VJP takes cotangents (gL, gs) of both outputs and returns the
gradients of (Wxh, Whh, m, Wiy, bh, by, s0); with gL = 1, gs = 0 they are the note's BPTT:

    dy = gL (p_t - onehot(target_t));  dWiy += dy q_t^T;  dby += dy;  dq = Wiy^T dy (+ ds_next when gate)
    dm += dq * h_t;  dh = dq * m (+ ds_next when not gate);  dr = (1 - h_t^2) dh
    dbh += dr;  dWxh += dr x_t^T;  dWhh += dr s_{t-1}^T;  ds_next = Whh^T dr;   ds0 = ds_next at the end.

The L1 term of the multipliers and the clipping are not part of this window function (see
minidsn.models.diffrnn.loss). ``window_fwd_bwd_ref`` is the plain NumPy reference; ``window_fwd_bwd`` is the same
algorithm compiled with Numba (explicit loops; no fastmath, no parallel), ``window_fwd_bwd.py_func`` its JIT-off
form.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["window_fwd_bwd_ref", "window_fwd_bwd", "check_window_args"]


def check_window_args(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets):
    """Raise ValueError naming the problem if shapes, dtypes or values do not fit one window.

    Source: none (argument checks of the window kernel; no formula)
    """
    arrs = {"Wxh": Wxh, "Whh": Whh, "m": m, "Wiy": Wiy, "bh": bh, "by": by, "s0": s0}
    for name, a in arrs.items():
        if not isinstance(a, np.ndarray) or a.dtype != np.float64:
            raise ValueError(f"rnn window: {name} must be a float64 ndarray, got {type(a).__name__} "
                             f"{getattr(a, 'dtype', '')}")
    if Wxh.ndim != 2:
        raise ValueError(f"rnn window: Wxh must be (H, V), got shape {Wxh.shape}")
    H, V = Wxh.shape
    want = {"Whh": (H, H), "m": (H,), "Wiy": (V, H), "bh": (H,), "by": (V,), "s0": (H,)}
    for name, shape in want.items():
        if arrs[name].shape != shape:
            raise ValueError(f"rnn window: {name} must have shape {shape} (H={H}, V={V}), got {arrs[name].shape}")
    for name, a in arrs.items():
        if not np.all(np.isfinite(a)):
            raise ValueError(f"rnn window: {name} contains NaN or inf")
    for name, a in (("inputs", inputs), ("targets", targets)):
        if not isinstance(a, np.ndarray) or a.ndim != 1 or a.dtype.kind not in "iu":
            raise ValueError(f"rnn window: {name} must be a 1-d integer ndarray")
        if a.size and (a.min() < 0 or a.max() >= V):
            raise ValueError(f"rnn window: {name} must be indices in [0, {V}), got range [{a.min()}, {a.max()}]")
    if inputs.shape != targets.shape or inputs.size == 0:
        raise ValueError(f"rnn window: inputs and targets must have the same non-zero length, got "
                         f"{inputs.shape} and {targets.shape}")


def window_fwd_bwd_ref(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets, gate, g_loss, g_s, want_grads):
    """Plain NumPy reference. Returns (loss, s_last, grads) with grads None when not want_grads, else the tuple
    (dWxh, dWhh, dm, dWiy, dbh, dby, ds0) of the VJP with cotangents g_loss (float) and g_s (H,).

    Source: seed 001 Sec. 2.1; ThomasMiconi/DiffRNN@8b2491f rnn.py:88-96 (forward), rnn.py:102-119 (BPTT: dy = p -
        onehot, dWiy += dy q^T, dq = Wiy^T dy, dm += dq * h, dh = dq * m + dh_next, dr = (1 - h^2) dh, dh_next = Whh^T
        dr); ThomasMiconi/DiffRNN@8b2491f rnnAltern.py:101-131 (altern forward and BPTT).
    """
    T = inputs.shape[0]
    H, V = Wxh.shape
    hs = np.empty((T, H))
    ss = np.empty((T + 1, H))  # ss[t + 1] = s_t, ss[0] = s0
    ps = np.empty((T, V))
    ss[0] = s0
    loss = 0.0
    for t in range(T):
        h = np.tanh(Wxh[:, inputs[t]] + Whh @ ss[t] + bh)
        q = m * h
        y = Wiy @ q + by
        ymax = y.max()
        e = np.exp(y - ymax)
        z = e.sum()
        ps[t] = e / z
        loss += -(y[targets[t]] - ymax - np.log(z))
        hs[t] = h
        ss[t + 1] = q if gate else h
    if not want_grads:
        return loss, ss[T].copy(), None
    dWxh = np.zeros_like(Wxh)
    dWhh = np.zeros_like(Whh)
    dm = np.zeros_like(m)
    dWiy = np.zeros_like(Wiy)
    dbh = np.zeros_like(bh)
    dby = np.zeros_like(by)
    ds_next = np.array(g_s, dtype=np.float64, copy=True)
    for t in range(T - 1, -1, -1):
        h = hs[t]
        q = m * h
        dy = g_loss * ps[t]
        dy[targets[t]] -= g_loss
        dWiy += np.outer(dy, q)
        dby += dy
        dq = Wiy.T @ dy
        if gate:
            dq = dq + ds_next
            dh = dq * m
        else:
            dh = dq * m + ds_next
        dm += dq * h
        dr = (1.0 - h * h) * dh
        dbh += dr
        dWxh[:, inputs[t]] += dr
        dWhh += np.outer(dr, ss[t])
        ds_next = Whh.T @ dr
    return loss, ss[T].copy(), (dWxh, dWhh, dm, dWiy, dbh, dby, ds_next)


@numba.njit(cache=False)
def _window_kernel(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets, gate, g_loss, g_s, want_grads,
                   dWxh, dWhh, dm, dWiy, dbh, dby, ds0, s_last):
    """Compiled body: explicit loops, fixed summation order (j ascending), gradients written into the d* arrays."""
    T = inputs.shape[0]
    H, V = Wxh.shape
    hs = np.empty((T, H))
    ss = np.empty((T + 1, H))
    ps = np.empty((T, V))
    for j in range(H):
        ss[0, j] = s0[j]
    loss = 0.0
    y = np.empty(V)
    a = np.empty(H)
    WhhT = np.ascontiguousarray(Whh.T)
    for t in range(T):
        xi = inputs[t]
        # a_i = (Wxh[i, x] + bh_i) + sum_j Whh[i, j] s_j, accumulated j ascending as axpy over the rows of Whh^T:
        # the same additions in the same order as the dot-product form, but the inner loop has no loop-carried
        # dependency, so LLVM vectorises it without fastmath.
        for i in range(H):
            a[i] = Wxh[i, xi] + bh[i]
        for j in range(H):
            sj = ss[t, j]
            for i in range(H):
                a[i] += WhhT[j, i] * sj
        for i in range(H):
            h = np.tanh(a[i])
            hs[t, i] = h
            ss[t + 1, i] = m[i] * h if gate else h
        ymax = -np.inf
        for o in range(V):
            acc = by[o]
            for j in range(H):
                acc += Wiy[o, j] * (m[j] * hs[t, j])
            y[o] = acc
            if acc > ymax:
                ymax = acc
        z = 0.0
        for o in range(V):
            e = np.exp(y[o] - ymax)
            ps[t, o] = e
            z += e
        for o in range(V):
            ps[t, o] /= z
        loss += -(y[targets[t]] - ymax - np.log(z))
    for j in range(H):
        s_last[j] = ss[T, j]
    if not want_grads:
        return loss
    dWxh[:, :] = 0.0
    dWhh[:, :] = 0.0
    dm[:] = 0.0
    dWiy[:, :] = 0.0
    dbh[:] = 0.0
    dby[:] = 0.0
    ds_next = np.empty(H)
    for j in range(H):
        ds_next[j] = g_s[j]
    dy = np.empty(V)
    dr = np.empty(H)
    for t in range(T - 1, -1, -1):
        for o in range(V):
            dy[o] = g_loss * ps[t, o]
        dy[targets[t]] -= g_loss
        for o in range(V):
            dby[o] += dy[o]
            for j in range(H):
                dWiy[o, j] += dy[o] * (m[j] * hs[t, j])
        for j in range(H):
            dq = 0.0
            for o in range(V):
                dq += Wiy[o, j] * dy[o]
            h = hs[t, j]
            if gate:
                dq += ds_next[j]
                dh = dq * m[j]
            else:
                dh = dq * m[j] + ds_next[j]
            dm[j] += dq * h
            dr[j] = (1.0 - h * h) * dh
        xi = inputs[t]
        for i in range(H):
            dbh[i] += dr[i]
            dWxh[i, xi] += dr[i]
            for j in range(H):
                dWhh[i, j] += dr[i] * ss[t, j]
        # ds_j = sum_i Whh[i, j] dr_i, i ascending, as axpy over the rows of Whh (same order, vectorisable).
        for j in range(H):
            ds_next[j] = 0.0
        for i in range(H):
            dri = dr[i]
            for j in range(H):
                ds_next[j] += Whh[i, j] * dri
    for j in range(H):
        ds0[j] = ds_next[j]
    return loss


def _window_fwd_bwd(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets, gate, g_loss, g_s, want_grads, kernel):
    H, V = Wxh.shape
    s_last = np.empty(H)
    grads = (np.empty((H, V)), np.empty((H, H)), np.empty(H), np.empty((V, H)), np.empty(H), np.empty(V),
             np.empty(H))
    g_s = np.zeros(H) if g_s is None else np.ascontiguousarray(g_s, dtype=np.float64)
    loss = kernel(np.ascontiguousarray(Wxh), np.ascontiguousarray(Whh), np.ascontiguousarray(m),
                  np.ascontiguousarray(Wiy), np.ascontiguousarray(bh), np.ascontiguousarray(by),
                  np.ascontiguousarray(s0), np.ascontiguousarray(inputs, dtype=np.int64),
                  np.ascontiguousarray(targets, dtype=np.int64), bool(gate), float(g_loss), g_s, bool(want_grads),
                  *grads, s_last)
    return float(loss), s_last, (grads if want_grads else None)


def window_fwd_bwd(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets, gate=False, g_loss=1.0, g_s=None, want_grads=True):
    """Numba kernel with the interface of ``window_fwd_bwd_ref`` (g_s None means zeros). Equations: module doc.

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:88-119 (compiled form of window_fwd_bwd_ref; held equal by
        tests/test_rnn_kernel.py and the selfcheck 'rnn_window').
    """
    return _window_fwd_bwd(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets, gate, g_loss, g_s, want_grads,
                           _window_kernel)


def _window_fwd_bwd_py(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets, gate=False, g_loss=1.0, g_s=None,
                       want_grads=True):
    """The kernel's loops run by the Python interpreter (JIT off): ``window_fwd_bwd.py_func``."""
    return _window_fwd_bwd(Wxh, Whh, m, Wiy, bh, by, s0, inputs, targets, gate, g_loss, g_s, want_grads,
                           _window_kernel.py_func)


window_fwd_bwd.py_func = _window_fwd_bwd_py

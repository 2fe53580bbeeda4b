"""DNM with its cutoff compared with >= instead of >: minidsn's own step with closeness() swapped for a copy whose
only change is that comparison (minidsn/models/dnm/closeness.py, ``keep = |v| > c``)."""

from __future__ import annotations

import contextlib
import math

import numpy as np

from minidsn.models.dnm import closeness as closeness_mod
from minidsn.oracle.conformance import minidsn_backend


def closeness_ge(params, P, mask, n_in, period, ops=closeness_mod.NUMPY_OPS, closeness_range="signed"):
    def row(name):
        return ops.reshape(params[name][n_in:], (-1, 1))

    a = 2.0 * ops.sigmoid(row("alpha")) - 1.0
    expo = row("beta") + 1.0
    g = ops.sigmoid(row("gamma"))
    th = ops.softplus(row("theta")) / math.log(2.0)
    gauss = ops.exp(-((P - row("mu")) ** 2) / (2.0 * ops.softplus(row("sigma")) ** 2))
    s = (0.501 + 0.5 * ops.sin((2.0 * math.pi) / (period * th) * P + row("phi"))) ** expo
    v = a * (gauss * (s - g))
    c = closeness_mod.cutoff_value(params["kappa"], ops)
    absv = ops.abs(v)
    sign = np.sign(ops.stop_gradient(v))
    keep = np.asarray(ops.stop_gradient(absv) >= ops.stop_gradient(c)) & mask  # the mistake: >= for >
    if closeness_range == "unsigned":
        sign = 1.0
    d = ops.where(keep, sign * (absv - c) / (1.0 - c), 0.0)
    return d, v, c


@contextlib.contextmanager
def cutoff_ge():
    import minidsn.models.dnm.net as net
    import minidsn.models.dnm.trajectory as traj

    def live_ge(params, layout):  # the events' live set, with the same mistake
        _, v, c = closeness_ge(params, layout.P, layout.mask, layout.n_in, layout.period)
        return (np.abs(v) >= c) & layout.mask

    saved = net.closeness, traj.live_entries
    net.closeness, traj.live_entries = closeness_ge, live_ge
    try:
        yield
    finally:
        net.closeness, traj.live_entries = saved


class CutoffGe(minidsn_backend):
    def step(self, state, inputs, draws):
        with cutoff_ge():
            return super().step(state, inputs, draws)

"""DMM kernel self-checks for `minidsn selfcheck`, registered when this package is imported (what a
check returns and why: minidsn.testing.selfcheck)."""

from __future__ import annotations

import numpy as np

from minidsn.testing.compare import worst_error as _worst
from minidsn.testing.selfcheck import register_kernel_check

SELF_CHECK_TOL = 1e-11


def check_dmm_episode() -> float:
    """DMM-Lite compiled 140-cycle episode (loss and gate gradient) against its plain-NumPy reference.

    Source: none (kernel self-check against the reference; formulas in compiled.py)
    """
    from minidsn.models.dmm.compiled import backward_numpy, forward_numpy
    from minidsn.models.dmm.synthesis import DEFAULTS, make_plan
    from minidsn.models.dmm.trainable import init_gates

    plan = make_plan(DEFAULTS["string"], DEFAULTS["n_cycles"], DEFAULTS["n_layers"], DEFAULTS["n_per_layer"])
    gates = init_gates(np.random.default_rng(6), len(plan.links), 0.5)
    A = plan.matrix(gates)
    ref_loss, X, Y, y = forward_numpy(plan, A)
    ref_g = backward_numpy(plan, A, X, Y, y)[plan.to_idx, plan.from_idx]
    return _worst([(plan.loss(gates), ref_loss), (plan.grad(gates), ref_g)])


register_kernel_check("dmm episode kernel (DMM)", check_dmm_episode, SELF_CHECK_TOL)

"""URN kernel self-checks for `minidsn selfcheck`, registered when this package is imported (what a
check returns and why: minidsn.testing.selfcheck)."""

from __future__ import annotations

import numpy as np

from minidsn.testing.compare import worst_error as _worst
from minidsn.testing.selfcheck import register_kernel_check

SELF_CHECK_TOL = 1e-11


def check_urn_adam() -> float:
    """URN fused L1 / synaptic-length subgradient + Adam step against its NumPy reference.

    Source: none (kernel self-check against the reference; formulas in adam_kernel.py)
    """
    from minidsn.models.urn.adam_kernel import adam_l1_update, adam_l1_update_reference

    rng = np.random.default_rng(5)
    W, G, m = rng.standard_normal((9, 9)), rng.standard_normal((9, 9)), 0.1 * rng.standard_normal((9, 9))
    v, L = rng.random((9, 9)), rng.random((9, 9))
    args = (W, G, m, v, L, 1e-3, 2e-3, 3, 7e-4, 0.9, 0.999, 1e-8)
    return _worst(zip(adam_l1_update(*args), adam_l1_update_reference(*args)))


register_kernel_check("urn l1+adam kernel (URN)", check_urn_adam, SELF_CHECK_TOL)

"""Kernel-versus-reference comparison with a tolerance scaled to the reference's magnitude.

Compiled kernels sum in a different order from their references, so entries that cancel to near zero differ by
rounding relative to the array's scale, not their own. Both the hypothesis tests and `minidsn selfcheck` use this
one rule: |a - b| <= rtol * max(1, max |b|) elementwise.
"""

from __future__ import annotations

import numpy as np

__all__ = ["scaled_error", "worst_error", "assert_close_scaled"]


def scaled_error(a, b) -> float:
    """max |a - b| / max(1, max |b|) (a and b of one shape)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch {a.shape} vs {b.shape}")
    return float(np.max(np.abs(a - b), initial=0.0)) / max(1.0, float(np.max(np.abs(b), initial=0.0)))


def assert_close_scaled(a, b, what: str = "", rtol: float = 1e-12) -> None:
    """Assert a equals the reference b within rtol relative and rtol * max(1, max |b|) absolute."""
    scale = max(1.0, float(np.max(np.abs(np.asarray(b, dtype=np.float64)), initial=0.0)))
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale, err_msg=what)


def worst_error(pairs) -> float:
    """The largest scaled_error over (computed, reference) pairs: the figure a kernel self-check reports."""
    return max(scaled_error(a, b) for a, b in pairs)

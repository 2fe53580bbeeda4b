"""Differentiable mirrors of a few scipy functions (minidsn.scipy.special)."""

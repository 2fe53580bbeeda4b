"""Stable fused primitives mirroring scipy.special: expit, logsumexp, softmax, log_softmax.

Each is one primitive with its own VJP (minidsn/numpy/_table.py), computed in the shifted form that cannot overflow:
finite at +-1000, and an all -inf group gives -inf (logsumexp, log_softmax) or zeros (softmax), never nan.
"""

from minidsn.numpy._table import expit, log_softmax, logsumexp, softmax

__all__ = ["expit", "logsumexp", "softmax", "log_softmax"]

"""Differentiable mirrors of scipy.special.

Stable fused primitives (minidsn/numpy/_table.py): expit, logsumexp, softmax, log_softmax, each computed in the
shifted form that cannot overflow: finite at +-1000, and an all -inf group gives -inf (logsumexp, log_softmax) or
zeros (softmax), never nan. The special functions (gammaln ... ive) are scipy's own with VJPs in _special_table.py.
"""

import numpy as _np

from minidsn.engine.core import is_traced as _is_traced
from minidsn.engine.core import stop_gradient as _stop_gradient
from minidsn.numpy import _table as _t
from minidsn.numpy._table import expit, log_softmax, softmax
from minidsn.scipy._special_table import (
    beta,
    betaln,
    digamma,
    erf,
    erfc,
    erfcinv,
    erfinv,
    gamma,
    gammaln,
    i0,
    i1,
    ive,
    log_ndtr,
    logit,
    multigammaln,
    ndtr,
    polygamma,
    xlog1py,
    xlogy,
)

__all__ = ["expit", "logsumexp", "softmax", "log_softmax", "gammaln", "digamma", "polygamma", "gamma", "beta",
           "betaln", "erf", "erfc", "erfinv", "erfcinv", "logit", "xlogy", "xlog1py", "ndtr", "log_ndtr",
           "multigammaln", "i0", "i1", "ive", "psi"]

psi = digamma  # scipy's other name


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    """scipy.special.logsumexp: log sum b e^a over axis, shifted by the max (stable).

    Without b it is one primitive (all -inf gives -inf with gradient 0). With b (which may be traced too) it is
    log |s| + m with s = sum b e^(a - m) and m the (constant) max of a; return_sign gives (value, sign(s)); without
    it a negative s gives nan, as in scipy.
    """
    if b is None:
        out = _t.logsumexp(a, axis=axis, keepdims=keepdims)
        if not return_sign:
            return out
        sign = _np.where(_np.isneginf(_np.asarray(_stop_gradient(out))), 0.0, 1.0)
        return out, sign
    if not (_is_traced(a) or _is_traced(b)):
        import scipy.special as sps

        return sps.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=return_sign)
    av = _np.asarray(_stop_gradient(a))
    m = _np.max(_np.broadcast_to(av, _np.broadcast_shapes(av.shape, _np.shape(_stop_gradient(b)))), axis=axis,
                keepdims=True)
    m = _np.where(_np.isfinite(m), m, 0.0)
    s = _t.sum(_t.multiply(b, _t.exp(_t.subtract(a, m))), axis=axis, keepdims=True)
    sv = _np.asarray(_stop_gradient(s))
    sign = _np.sign(sv)
    nz = sv != 0
    with _np.errstate(divide="ignore"):
        out = _t.where(nz, _t.add(_t.log(_t.where(nz, _t.abs(s), 1.0)), m), -_np.inf)
    if not return_sign:
        out = _t.where(sv < 0, _np.nan, out)
    if not keepdims:
        out = _t.reshape(out, _np.sum(sv, axis=axis).shape) if axis is not None else _t.reshape(out, ())
        sign = _np.reshape(sign, _np.shape(out))
    return (out, sign) if return_sign else out

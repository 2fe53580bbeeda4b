"""The scipy.special part of the primitive table: each function is scipy's own, with its VJP written with
primitives (so it is differentiable again). Derivatives from DLMF (https://dlmf.nist.gov): gamma 5.2.1 / 5.15.1,
digamma and polygamma 5.15, beta 5.12.1, erf 7.2.1 / 7.10, Bessel I 10.29.1 / 10.29.5, normal cdf as erfc (7.2.2).

At a point where a derivative is infinite (erfinv at +-1, logit at 0 and 1, gammaln at the poles) the rule gives
inf, as the derivative is; where a product 0 * log 0 is taken as 0 (xlogy), its derivative in y is taken as 0 at x = 0.
"""

from __future__ import annotations

import numpy as np
import scipy.special as sps

from minidsn.engine.core import defvjp, is_traced, primitive, stop_gradient
from minidsn.numpy._table import (
    add,
    divide,
    exp,
    log,
    log1p,
    multiply,
    negative,
    sqrt,
    square,
    subtract,
    where,
)

_SQRT_PI = float(np.sqrt(np.pi))
_LOG_SQRT_2PI = float(0.5 * np.log(2 * np.pi))

gammaln = primitive(sps.gammaln)
digamma = primitive(sps.digamma)
gamma = primitive(sps.gamma)
erf = primitive(sps.erf)
erfc = primitive(sps.erfc)
erfinv = primitive(sps.erfinv)
erfcinv = primitive(sps.erfcinv)
logit = primitive(sps.logit)
ndtr = primitive(sps.ndtr)
log_ndtr = primitive(sps.log_ndtr)
i0 = primitive(sps.i0)
i1 = primitive(sps.i1)
betaln = primitive(sps.betaln)
beta = primitive(sps.beta)
xlogy = primitive(sps.xlogy)
xlog1py = primitive(sps.xlog1py)


@primitive
def polygamma(n, x):
    """scipy.special.polygamma(n, x), the n-th derivative of digamma; n (an integer order) has no gradient."""
    return sps.polygamma(n, x)


@primitive
def ive(v, z):
    """scipy.special.ive(v, z) = iv(v, z) exp(-|z|); the order v has no gradient."""
    return sps.ive(v, z)


defvjp(gammaln, lambda g, ans, x: multiply(g, digamma(x)))
defvjp(digamma, lambda g, ans, x: multiply(g, polygamma(1, x)))
defvjp(polygamma, None, lambda g, ans, n, x: multiply(g, polygamma(np.add(stop_gradient(n), 1), x)))
defvjp(gamma, lambda g, ans, x: multiply(g, multiply(ans, digamma(x))))


def _beta_rule(which, scale_by_ans):
    def rule(g, ans, a, b):
        d = subtract(digamma((a, b)[which]), digamma(add(a, b)))  # d log B / da = psi(a) - psi(a + b)
        return multiply(g, multiply(ans, d) if scale_by_ans else d)

    return rule


defvjp(betaln, _beta_rule(0, False), _beta_rule(1, False))
defvjp(beta, _beta_rule(0, True), _beta_rule(1, True))

defvjp(erf, lambda g, ans, x: multiply(g, multiply(2.0 / _SQRT_PI, exp(negative(square(x))))))
defvjp(erfc, lambda g, ans, x: multiply(g, multiply(-2.0 / _SQRT_PI, exp(negative(square(x))))))
defvjp(erfinv, lambda g, ans, x: multiply(g, multiply(_SQRT_PI / 2.0, exp(square(ans)))))
defvjp(erfcinv, lambda g, ans, x: multiply(g, multiply(-_SQRT_PI / 2.0, exp(square(ans)))))
defvjp(logit, lambda g, ans, x: divide(g, multiply(x, subtract(1.0, x))))
# d ndtr / dx = phi(x) = exp(-x^2/2) / sqrt(2 pi); d log_ndtr / dx = phi(x) / ndtr(x), formed in logs (no 0/0 far left)
defvjp(ndtr, lambda g, ans, x: multiply(g, exp(subtract(multiply(-0.5, square(x)), _LOG_SQRT_2PI))))
defvjp(log_ndtr, lambda g, ans, x: multiply(g, exp(subtract(subtract(multiply(-0.5, square(x)), _LOG_SQRT_2PI), ans))))

defvjp(i0, lambda g, ans, x: multiply(g, i1(x)))


def _i1_vjp(g, ans, x):
    # I1'(x) = I0(x) - I1(x) / x (DLMF 10.29.2), with the limit 1/2 at x = 0
    nz = stop_gradient(x) != 0
    ratio = where(nz, divide(i1(x), where(nz, x, 1.0)), 0.5)
    return multiply(g, subtract(i0(x), ratio))


defvjp(i1, _i1_vjp)


def _ive_vjp(g, ans, v, z):
    # d/dz [I_v(z) e^-|z|] = (I_{v-1} + I_{v+1}) / 2 e^-|z| - sign(z) ive(v, z)   (DLMF 10.29.1)
    vv = stop_gradient(v)
    d = subtract(multiply(0.5, add(ive(np.subtract(vv, 1), z), ive(np.add(vv, 1), z))),
                 multiply(np.sign(stop_gradient(z)), ans))
    return multiply(g, d)


defvjp(ive, None, _ive_vjp)


def _xlogy_x(g, ans, x, y):
    return multiply(g, log(y))


def _xlogy_y(g, ans, x, y):
    nz = stop_gradient(x) != 0  # x log y is 0 for x = 0 whatever y: its y-derivative there is 0
    return where(nz, divide(multiply(g, x), where(nz, y, 1.0)), 0.0)


defvjp(xlogy, _xlogy_x, _xlogy_y)


def _xlog1py_y(g, ans, x, y):
    nz = stop_gradient(x) != 0
    return where(nz, divide(multiply(g, x), where(nz, add(y, 1.0), 1.0)), 0.0)


defvjp(xlog1py, lambda g, ans, x, y: multiply(g, log1p(y)), _xlog1py_y)


def multigammaln(a, d):
    """scipy.special.multigammaln: d(d-1)/4 log(pi) + sum_{j=1..d} gammaln(a + (1 - j)/2) (composite)."""
    d = int(d)
    if not is_traced(a):
        return sps.multigammaln(a, d)
    total = d * (d - 1) / 4.0 * np.log(np.pi)
    for j in range(1, d + 1):
        total = add(total, gammaln(add(a, (1 - j) / 2.0)))
    return total


__all__ = ["gammaln", "digamma", "polygamma", "gamma", "beta", "betaln", "erf", "erfc", "erfinv", "erfcinv",
           "logit", "xlogy", "xlog1py", "ndtr", "log_ndtr", "multigammaln", "i0", "i1", "ive"]

"""Isotropic activation functions (G. Bird, seed 003_65f8765f7dcd8253 / arXiv 2602.23405; note isotropic.md).

An isotropic activation maps a pre-activation vector h in R^n to

    f(h) = sigma(|h|_o) h / |h|_o ,     |h|_o = r = sqrt(| o + sum_i h_i^2 |)              (note, "Isotropic activation")

i.e. a scalar function of the (intrinsic-length augmented) norm times h.  For sigma = tanh this is the paper's
isotropic tanh, f(h) = (tanh(r)/r) h.  Because the factor depends on h only through |h|, f(Q h) = Q f(h) for every
orthogonal Q: no basis is preferred and neurons are "de-individuated".

Every function here returns the *scale* s(h) = sigma(r)/r (shape (..., 1): one scalar per sample), so that the
network can reuse s for its psi term (note, "Network": s_k is one scalar per sample and layer); the activation is
``s * h``.

Guard near r = 0 (the coordinate singularity of h/r).  Two named variants:

* ``guard="series"`` (default): for r <= eps use the Taylor series of tanh(r)/r in u = r^2,
  1 - u/3 + 2u^2/15 - 17u^3/315 (the next term is O(u^4) = O(eps^8), far below float64 resolution for eps = 1e-3).
  This is the correct limit (tanh(r)/r -> 1) *and* keeps the correct derivative inside the ball.
* ``guard="code"``: the author's code (Dependencies/IsotropicFunctions.py, IsotropicTanhIntrinsicLength): for
  r <= eps the factor is the constant tanh(sqrt|o|)/sqrt|o| if |o| > 0.01 else 1 (zero derivative in the ball).

Both are written with the "safe where" pattern: the unselected branch is evaluated at a harmless argument (u = 1), so
neither its value nor its gradient can be NaN/inf, and ``where`` routes a zero cotangent to it.

All functions take ``xp``: the array namespace (``minidsn.numpy`` to differentiate with minidsn.engine, or plain
``numpy`` for fast evaluation); ``None`` picks minidsn.numpy when the engine is installed, else numpy.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "get_xp",
    "GUARDS",
    "isotropic_tanh_scale",
    "isotropic_scale",
    "ISOTROPIC_FUNCTIONS",
    "isotropic_scale_from_norm",
    "isotropic_tanh",
    "isotropic_from_norm",
    "elementwise_tanh",
    "DEFAULT_EPS",
]

DEFAULT_EPS = 1e-3  # radius of the guard ball (author's code: tanh_epsilon = 1e-3)
GUARDS = ("series", "code")

# Members of the isotropic functional class f(h) = sigma(|h|_o) h / |h|_o implemented as activations.  The seed only
# states the form (its v2 text and the note: "other isotropic functions of the same form sigma(|h|) h/|h| are
# legal"; the author's code implements tanh only); the members besides tanh are minidsn's choice, each odd, bounded,
# with sigma'(0) = 1 like tanh, so that every structural operation (diagonalisation, neurogenesis, neurodegeneration
# with its o <- o + b*^2 compensation) is exact or compensated exactly as for tanh: those arguments use only that the
# factor is a function of u = o + |h|^2.
#   tanh:   sigma(r) = tanh(r),           s = tanh(r)/r     = 1 - u/3 + 2u^2/15 - 17u^3/315 + O(u^4)
#   arctan: sigma(r) = arctan(r),         s = arctan(r)/r   = 1 - u/3 + u^2/5 - u^3/7 + O(u^4)
#   isru:   sigma(r) = r / sqrt(1 + r^2), s = 1/sqrt(1 + u)  (the inverse square root unit; analytic at u = 0, so it
#           needs no guard: both guard names compute the same exact formula)
ISOTROPIC_FUNCTIONS = ("tanh", "arctan", "isru")


def get_xp(xp=None):
    """The array namespace to compute with: ``xp`` if given, else minidsn.numpy when available, else numpy.

    Source: none (chooses the array namespace; no formula)
    """
    if xp is not None:
        return xp
    try:
        import minidsn.numpy as mnp
    except ImportError:  # engine not installed yet
        return np
    return mnp if hasattr(mnp, "tanh") and hasattr(mnp, "where") else np


def _sq_norm_o(h, o, xp):
    """u = | o + sum_i h_i^2 |, shape (..., 1): the squared intrinsic-length norm (note, "Isotropic activation")."""
    return xp.abs(o + xp.sum(h * h, axis=-1, keepdims=True))


def isotropic_tanh_scale(h, o=0.0, *, eps=DEFAULT_EPS, guard="series", xp=None):
    """Scale s = tanh(r)/r with r = sqrt(|o + |h|^2|), shape h.shape[:-1] + (1,).

    Equation: note isotropic.md "Isotropic activation" (f(h) = (tanh(r)/r) h); guard variants in the module doc.
    ``o`` is the intrinsic length (scalar, may be traced).  The activation is ``s * h``.

    Source: seed 003 abstract (isotropic activations, intrinsic length); GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhIntrinsicLength.forward (r = sqrt(|o + sum x^2|); inside r <=
        eps the constant tanh(sqrt|o|)/sqrt|o| if |o| > 0.01 else 1: guard 'code'); minidsn choice: guard 'series'
        (Taylor series of tanh(r)/r inside the ball).
    """
    if guard not in GUARDS:
        raise ValueError(f"guard must be one of {GUARDS}, got {guard!r}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    xp = get_xp(xp)
    u = _sq_norm_o(h, o, xp)
    outside = u > eps * eps  # r > eps  <=>  u > eps^2 (comparison: no gradient)
    u_safe = xp.where(outside, u, 1.0)
    r = xp.sqrt(u_safe)
    s_outside = xp.tanh(r) / r
    if guard == "series":
        # tanh(r)/r = 1 - u/3 + 2u^2/15 - 17u^3/315 + O(u^4), u = r^2 (Taylor series of tanh)
        s_inside = 1.0 - u / 3.0 + (2.0 / 15.0) * u * u - (17.0 / 315.0) * u * u * u
    else:
        # author's code: tanh(sqrt|o|)/sqrt|o| if |o| > 0.01 else 1 (value at h = 0, constant in the ball)
        ao = xp.abs(o + 0.0 * u)  # broadcast o to u's shape so where() sees arrays of one shape
        big_o = ao > 0.01
        sqrt_o = xp.sqrt(xp.where(big_o, ao, 1.0))
        s_inside = xp.where(big_o, xp.tanh(sqrt_o) / sqrt_o, 1.0 + 0.0 * u)
    return xp.where(outside, s_outside, s_inside)


def _arctan_scale(h, o, eps, guard, xp):
    """s = arctan(r)/r with the same guard ball and the same "safe where" pattern as isotropic_tanh_scale."""
    u = _sq_norm_o(h, o, xp)
    outside = u > eps * eps
    r = xp.sqrt(xp.where(outside, u, 1.0))
    s_outside = xp.arctan(r) / r
    if guard == "series":
        s_inside = 1.0 - u / 3.0 + u * u / 5.0 - u * u * u / 7.0  # arctan series; next term O(u^4) = O(eps^8)
    else:  # the author's guard rule transferred: the constant value at h = 0, sigma(sqrt|o|)/sqrt|o| or its limit 1
        ao = xp.abs(o + 0.0 * u)
        big_o = ao > 0.01
        sqrt_o = xp.sqrt(xp.where(big_o, ao, 1.0))
        s_inside = xp.where(big_o, xp.arctan(sqrt_o) / sqrt_o, 1.0 + 0.0 * u)
    return xp.where(outside, s_outside, s_inside)


def _isru_scale(h, o, eps, guard, xp):
    """s = 1/sqrt(1 + u), u = |o + |h|^2|: sigma(r)/r for sigma(r) = r/sqrt(1 + r^2), exact for every h."""
    return 1.0 / xp.sqrt(1.0 + _sq_norm_o(h, o, xp))


def isotropic_scale(h, o=0.0, *, fn="tanh", eps=DEFAULT_EPS, guard="series", xp=None):
    """Scale s = sigma(r)/r of the isotropic activation ``fn`` (one of ISOTROPIC_FUNCTIONS), r = sqrt(|o + |h|^2|),
    shape h.shape[:-1] + (1,); the activation is ``s * h``.  fn = "tanh" is isotropic_tanh_scale (bit for bit).

    Source: seed 003 abstract ("a nested functional class" of isotropic primitives: sigma(|h|) h/|h|);
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhIntrinsicLength.forward (tanh, its guard); minidsn choice:
        the members arctan and isru and their series inside the guard ball.
    """
    if fn == "tanh":
        return isotropic_tanh_scale(h, o, eps=eps, guard=guard, xp=xp)
    if fn not in ISOTROPIC_FUNCTIONS:
        raise ValueError(f"isotropic function must be one of {ISOTROPIC_FUNCTIONS}, got {fn!r}")
    if guard not in GUARDS:
        raise ValueError(f"guard must be one of {GUARDS}, got {guard!r}")
    if not eps > 0:
        raise ValueError(f"eps must be > 0, got {eps!r}")
    xp = get_xp(xp)
    return (_arctan_scale if fn == "arctan" else _isru_scale)(h, o, eps, guard, xp)


def isotropic_scale_from_norm(h, sigma, slope_at_zero, o=0.0, *, eps=DEFAULT_EPS, xp=None):
    """Generic isotropic scale s = sigma(r)/r, r = sqrt(|o + |h|^2|), for f(h) = sigma(|h|) h/|h|.

    Note isotropic.md: "Other isotropic functions of the same form sigma(|h|) h/|h| are legal".  ``sigma`` is a
    function of the norm written with ``xp`` operations (sigma(0) = 0 is needed for continuity at h = 0);
    ``slope_at_zero`` = sigma'(0) is the limit of sigma(r)/r as r -> 0, used inside the guard ball r <= eps
    (first-order: the error there is O(eps^2) relative when sigma''(0) = 0, O(eps) otherwise).

    Source: seed 003 abstract ("a nested functional class" of isotropic primitives);
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhIntrinsicLength.combined (the sigma(|x|) x/|x| form).
    """
    if not callable(sigma):
        raise TypeError("sigma must be a callable of the norm r")
    xp = get_xp(xp)
    u = _sq_norm_o(h, o, xp)
    outside = u > eps * eps
    r = xp.sqrt(xp.where(outside, u, 1.0))
    return xp.where(outside, sigma(r) / r, float(slope_at_zero) + 0.0 * u)


def isotropic_tanh(h, o=0.0, *, eps=DEFAULT_EPS, guard="series", xp=None):
    """f(h) = (tanh(r)/r) h, r = sqrt(|o + |h|^2|) (note isotropic.md, "Isotropic activation").

    Source: seed 003 abstract; GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhIntrinsicLength.combined (f(x) = tanh(r) x / r).
    """
    return isotropic_tanh_scale(h, o, eps=eps, guard=guard, xp=xp) * h


def isotropic_from_norm(h, sigma, slope_at_zero, o=0.0, *, eps=DEFAULT_EPS, xp=None):
    """f(h) = sigma(|h|) h/|h| with the intrinsic-length norm (generic isotropic form).

    Source: seed 003 abstract; GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhIntrinsicLength.combined (the generic sigma(|x|) x/|x| form).
    """
    return isotropic_scale_from_norm(h, sigma, slope_at_zero, o, eps=eps, xp=xp) * h


def elementwise_tanh(h, xp=None):
    """The anisotropic control: f(h)_i = tanh(h_i) (seed, v1 Fig. 5 "anisotropic tanh control network").

    Source: seed 003 Fig. 5 (the anisotropic tanh control network).
    """
    return get_xp(xp).tanh(h)

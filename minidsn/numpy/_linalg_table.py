"""The linear-algebra part of the primitive table: inv, det, slogdet, solve, cholesky, eigh, svd and their VJPs.

Rules are written with the table's own primitives (so they are differentiable again) and act on stacks of matrices
(leading batch axes), as NumPy's functions do. Sources of the formulas: M. Giles, "An extended collection of matrix
derivative results for forward and reverse mode AD" (2008) for inv, det, solve, eigh; I. Murray, "Differentiation of
the Cholesky decomposition" (2016) for cholesky; J. Townsend, "Differentiating the singular value decomposition"
(2016) for svd.

Limits (the derivative does not exist there, and the rules say so by giving inf/nan rather than a silent number):
det/inv/solve/slogdet at a singular matrix; eigh eigenvectors at a repeated eigenvalue (1/(w_j - w_i)); svd
singular vectors at repeated (or, for the non-square part, zero) singular values (1/(s_j^2 - s_i^2), 1/s).
eigh and cholesky read one triangle of their input: their gradients are the symmetric ones (as in JAX and autograd),
i.e. the input is taken to be a symmetric matrix and the gradient is symmetrised.
"""

from __future__ import annotations

import numpy as np

from minidsn.engine.core import defvjp, primitive
from minidsn.numpy._table import (
    add,
    divide,
    expand_dims,
    matmul,
    multiply,
    negative,
    square,
    subtract,
    swapaxes,
    where,
)


def _T(x):
    return swapaxes(x, -1, -2)


def _sym(x):
    return multiply(0.5, add(x, _T(x)))


def _col(v):
    """(..., n) -> (..., n, 1)"""
    return expand_dims(v, -1)


def _row(v):
    return expand_dims(v, -2)


def _scalar_to_matrix(g):
    """(...,) -> (..., 1, 1), to scale stacks of matrices."""
    return expand_dims(expand_dims(g, -1), -1)


@primitive
def inv(a):
    return np.linalg.inv(a)


# d(A^-1) = -A^-1 dA A^-1  =>  Abar = -A^-T G A^-T
defvjp(inv, lambda g, ans, a: negative(matmul(_T(ans), matmul(g, _T(ans)))))


@primitive
def det(a):
    return np.linalg.det(a)


# d det A = det A tr(A^-1 dA)  =>  Abar = g det(A) A^-T
defvjp(det, lambda g, ans, a: multiply(_scalar_to_matrix(multiply(g, ans)), _T(inv(a))))


@primitive
def logabsdet(a):
    """log |det a| (the second output of np.linalg.slogdet)."""
    return np.linalg.slogdet(a)[1]


defvjp(logabsdet, lambda g, ans, a: multiply(_scalar_to_matrix(g), _T(inv(a))))


@primitive
def solve(a, b):
    """np.linalg.solve (NumPy 2 rule: b is a vector only when b.ndim == 1)."""
    return np.linalg.solve(a, b)


def _solve_b(g, ans, a, b):
    return solve(_T(a), g)  # Bbar = A^-T Xbar


def _solve_a(g, ans, a, b):
    gb = solve(_T(a), g)  # Abar = -Bbar X^T
    if np.ndim(b) == 1:
        return negative(multiply(_col(gb), _row(ans)))
    return negative(matmul(gb, _T(ans)))


defvjp(solve, _solve_a, _solve_b)


@primitive
def cholesky(a):
    return np.linalg.cholesky(a)


def _phi(x):
    """Lower triangle with the diagonal halved (Murray 2016, eq. 10)."""
    n = np.shape(x)[-1]
    low = np.tril(np.ones((n, n)), -1) + 0.5 * np.eye(n)
    return multiply(x, low)


def _cholesky_vjp(g, ans, a):
    # Abar = sym(L^-T phi(L^T Lbar) L^-1) (Murray 2016, eq. 10), with solves instead of explicit inverses
    L = ans
    p = _phi(matmul(_T(L), g))
    y = solve(_T(L), p)  # L^-T P
    s = _T(solve(_T(L), _T(y)))  # L^-T P L^-1
    return _sym(s)


defvjp(cholesky, _cholesky_vjp)


# ---------------------------------------------------------------------------------------------- eigh


@primitive
def eigh_values(a):
    """The eigenvalues of symmetric a, ascending (first output of np.linalg.eigh)."""
    return np.linalg.eigh(a)[0]


@primitive
def eigh_vectors(a):
    """The eigenvectors of symmetric a (columns; second output of np.linalg.eigh: the same call, so the same signs)."""
    return np.linalg.eigh(a)[1]


def _eigh_values_vjp(g, ans, a):
    v = eigh_vectors(a)
    return matmul(multiply(v, _row(g)), _T(v))  # V diag(wbar) V^T


def _eigh_vectors_vjp(g, ans, a):
    # Abar = sym(V (F o V^T Vbar) V^T), F_ij = 1 / (w_j - w_i) off the diagonal, 0 on it (Giles 2008, sec. 3.1)
    v = ans
    w = eigh_values(a)
    n = np.shape(a)[-1]
    off = ~np.eye(n, dtype=bool)
    diff = subtract(_row(w), _col(w))  # w_j - w_i
    f = where(off, divide(1.0, where(off, diff, 1.0)), 0.0)
    return _sym(matmul(v, matmul(multiply(f, matmul(_T(v), g)), _T(v))))


defvjp(eigh_values, _eigh_values_vjp)
defvjp(eigh_vectors, _eigh_vectors_vjp)


# ---------------------------------------------------------------------------------------------- svd (thin)


@primitive
def svd_u(a):
    return np.linalg.svd(a, full_matrices=False)[0]


@primitive
def svd_s(a):
    return np.linalg.svd(a, compute_uv=False)


@primitive
def svd_vh(a):
    return np.linalg.svd(a, full_matrices=False)[2]


def _svd_f(s):
    """F_ij = 1 / (s_j^2 - s_i^2) off the diagonal, 0 on it (Townsend 2016)."""
    k = np.shape(s)[-1]
    off = ~np.eye(k, dtype=bool)
    s2 = square(s)
    d = subtract(_row(s2), _col(s2))
    return where(off, divide(1.0, where(off, d, 1.0)), 0.0)


def _svd_s_vjp(g, ans, a):
    return matmul(multiply(svd_u(a), _row(g)), svd_vh(a))  # U diag(sbar) V^T


def _svd_u_vjp(g, ans, a):
    # Abar = U [(F o (U^T Ubar - Ubar^T U)) S] V^T + (I - U U^T) Ubar S^-1 V^T   (Townsend 2016, eq. 36, Ubar part)
    u, s, vh = ans, svd_s(a), svd_vh(a)
    utg = matmul(_T(u), g)
    inner = multiply(multiply(_svd_f(s), subtract(utg, _T(utg))), _row(s))
    term1 = matmul(u, matmul(inner, vh))
    m, k = np.shape(a)[-2], np.shape(s)[-1]
    if m > k:
        proj = subtract(g, matmul(u, utg))  # (I - U U^T) Ubar
        term1 = add(term1, matmul(divide(proj, _row(s)), vh))
    return term1


def _svd_vh_vjp(g, ans, a):
    # with V = vh^T and Vbar = g^T: Abar = U [S (F o (V^T Vbar - Vbar^T V))] V^T + U S^-1 Vbar^T (I - V V^T)
    vh, s, u = ans, svd_s(a), svd_u(a)
    vtvbar = matmul(vh, _T(g))  # V^T Vbar
    inner = multiply(_col(s), multiply(_svd_f(s), subtract(vtvbar, _T(vtvbar))))
    term1 = matmul(u, matmul(inner, vh))
    n, k = np.shape(a)[-1], np.shape(s)[-1]
    if n > k:
        proj = subtract(g, matmul(_T(vtvbar), vh))  # Vbar^T (I - V V^T) = g - (g V) V^T
        term1 = add(term1, matmul(u, divide(proj, _col(s))))
    return term1


defvjp(svd_s, _svd_s_vjp)
defvjp(svd_u, _svd_u_vjp)
defvjp(svd_vh, _svd_vh_vjp)

__all__ = ["inv", "det", "logabsdet", "solve", "cholesky", "eigh_values", "eigh_vectors", "svd_u", "svd_s", "svd_vh"]

"""One gradient-check case per differentiable function of minidsn.numpy / scipy.special / nn.

Shared by the hypothesis tests (tests/test_engine_primitives.py, which draw shapes and seeds) and by
`minidsn selfcheck` (which runs each case once at fixed shapes). Values are kept away from kinks and singularities
(|x| > 0.2 for abs and sign-like kinks, positive arguments for log/sqrt, distinct entries for max/min), so finite
differences are meaningful; the behaviour AT the kinks is tested separately.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

import minidsn.numpy as mnp
import minidsn.scipy.special as sps
from minidsn.nn import leaky_relu, relu, softplus
from minidsn.scipy.special import expit, log_softmax, logsumexp, softmax

__all__ = ["Case", "CASES", "values"]


def values(rng: np.random.Generator, shape, domain: str = "real") -> np.ndarray:
    """Random float64 values of `shape` in a domain: real, pos (>= 0.5), gt1 (>= 1.2), prob (in (0.05, 0.95)), unit
    (|x| < 0.9), away0 (|x| >= 0.2), distinct (all entries different by >= 0.05, for max/min/sort-like functions)."""
    z = rng.standard_normal(shape)
    if domain == "real":
        return z
    if domain == "pos":
        return 0.5 + np.abs(z)
    if domain == "gt1":
        return 1.2 + np.abs(z)
    if domain == "prob":
        return 0.05 + 0.9 / (1.0 + np.exp(-z))
    if domain == "unit":
        return 0.9 * np.tanh(z)
    if domain == "away0":
        return np.sign(z + (z == 0)) * (0.2 + np.abs(z))
    if domain == "distinct":
        n = int(np.prod(shape)) if len(shape) else 1
        return (rng.permutation(n) * 0.1 - 0.05 * n + 0.01 * rng.random(n)).reshape(shape)
    raise ValueError(f"unknown domain {domain!r}")


@dataclass(frozen=True)
class Case:
    """kind: 'unary' (one array of any shape), 'binary' (two mutually broadcastable shapes), 'reduce' (one array and
    an axis/keepdims choice: fn(x, axis, keepdims)), 'axis' (one array of at least one dimension and an int axis:
    fn(x, axis)), 'custom' (make(rng) builds all arguments)."""

    name: str
    kind: str
    fn: Callable
    domains: tuple = ("real",)
    make: Callable | None = None
    second_order: bool = True
    covers: tuple = ()  # public names this case checks (default: the case's own name)

    def names(self) -> tuple:
        return self.covers or (self.name,)


def _u(name, fn, domain="real"):
    return Case(name, "unary", fn, (domain,))


def _b(name, fn, d1="real", d2="real"):
    return Case(name, "binary", fn, (d1, d2))


def _r(name, fn, domain="real"):
    return Case(name, "reduce", fn, (domain,))


def _maximum_args(rng):
    x = values(rng, (3, 4))
    return [x, x + values(rng, (1, 4), "away0")]


def _clip_args(rng):
    x = values(rng, (4, 3))
    # keep entries at least 0.05 away from the bounds -0.5 and 0.7 (the gradient jumps there)
    for bound in (-0.5, 0.7):
        near = np.abs(x - bound) < 0.05
        x = np.where(near, bound + 0.1 * np.sign(x - bound + (x == bound)), x)
    return [x]


def _matmul_cases():
    shapes = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 2)), ((2, 3), (3, 4)), ((2, 2, 3), (3, 2)), ((2, 1, 2, 3), (3, 3, 1))]
    out = []
    for i, (sa, sb) in enumerate(shapes):
        out.append(Case(f"matmul{sa}x{sb}", "custom", lambda a, b: mnp.matmul(a, b),
                        make=lambda rng, sa=sa, sb=sb: [values(rng, sa), values(rng, sb)], covers=("matmul", "@")))
    return out


def _c(name, fn, make, covers=(), second_order=True):
    return Case(name, "custom", fn, make=make, covers=tuple(covers), second_order=second_order)


def _w(shape):
    return np.linspace(0.5, 2.0, int(np.prod(shape))).reshape(shape) if len(shape) else np.array(1.3)


def _sym(x):
    return (x + mnp.swapaxes(x, -1, -2)) * 0.5


def _spd(x):
    n = x.shape[-1]
    return x @ mnp.swapaxes(x, -1, -2) + n * np.eye(n)


def _parts(parts):
    """Join the pieces of a split with distinct weights (a wrong piece cannot go unnoticed)."""
    return mnp.concatenate([mnp.ravel(p) * (i + 1.0) for i, p in enumerate(parts)])


def _distinct_pair(rng, sa, sb):
    x = values(rng, sa)
    return [x, x + values(rng, sb, "away0")]


def _one(shape, domain="real"):
    return lambda rng: [values(rng, shape, domain)]


def _more_cases() -> list:
    """Cases of the functions added for issue #15 (NumPy that model code uses, linalg, scipy.special)."""
    out = [
        _u("tan", mnp.tan, "unit"),
        _u("arcsin", mnp.arcsin, "unit"),
        _u("arccos", mnp.arccos, "unit"),
        _u("arcsinh", mnp.arcsinh),
        _u("arccosh", mnp.arccosh, "gt1"),
        _u("arctanh", mnp.arctanh, "unit"),
        _u("exp2", mnp.exp2),
        _u("log2", mnp.log2, "pos"),
        _u("log10", mnp.log10, "pos"),
        _b("arctan2", mnp.arctan2, "real", "away0"),
        _b("hypot", mnp.hypot, "away0", "real"),
        _b("logaddexp", mnp.logaddexp),
        _b("logaddexp2", mnp.logaddexp2),
        Case("mod", "binary", mnp.mod, ("real", "pos"), covers=("mod", "remainder")),
        _c("mod_operator", lambda x, y: x % y + 3.0 % (y + 2.0),
           lambda rng: [values(rng, (3, 2)), values(rng, (2,), "pos")],
           covers=("%",)),
        _c("fmax", mnp.fmax, lambda rng: _distinct_pair(rng, (3, 4), (1, 4))),
        _c("fmin", mnp.fmin, lambda rng: _distinct_pair(rng, (3, 4), (1, 4))),
        Case("std_axes", "reduce", lambda x, axis, keepdims: mnp.std(x, axis=axis, keepdims=keepdims),
             covers=("std",)),
        _c("ravel", lambda x: mnp.ravel(x) * _w((6,)) + mnp.ravel(mnp.swapaxes(x, 0, 1)), _one((2, 3))),
        _c("var_ddof", lambda x: mnp.concatenate([mnp.var(x, axis=1, ddof=1), mnp.std(x, axis=0, ddof=1)]),
           _one((3, 4)),
           covers=("var", "std")),
        _c("mean_var_std_of_list", lambda a, b, c: mnp.mean([a, b, c]) + mnp.var([a, b, c], ddof=1)
           + mnp.std([a, b, c]) + mnp.sum([a, b]), lambda rng: [values(rng, ()) for _ in range(3)],
           covers=("mean", "var", "std", "sum")),
        _c("average", lambda a, w: mnp.average(a, axis=1, weights=w) + mnp.average(a) * 2.0,
           lambda rng: [values(rng, (3, 4)), values(rng, (4,), "pos")]),
        _c("cumsum", lambda x: mnp.cumsum(x, axis=1) * _w((3, 4)) + mnp.reshape(mnp.cumsum(x), (3, 4)),
           _one((3, 4))),
        _c("cumprod", lambda x: mnp.cumprod(x, axis=0) * _w((3, 4)) + mnp.reshape(mnp.cumprod(x), (3, 4)),
           _one((3, 4), "away0")),
        _c("sort", lambda x: mnp.sort(x, axis=0) * _w((3, 4)) + mnp.reshape(mnp.sort(x, axis=None), (3, 4)),
           _one((3, 4), "distinct")),
        _c("tril_triu", lambda x: mnp.tril(x, -1) * 2.0 + mnp.triu(x, 1) * _w((2, 3, 4)) + mnp.tril(x),
           _one((2, 3, 4)), covers=("tril", "triu")),
        _c("tril_1d", lambda x: mnp.triu(x) + mnp.tril(x, 1) * _w((4, 4)), _one((4,)), covers=("tril", "triu")),
        _c("diag", lambda v, m: mnp.sum(mnp.diag(v, 1) * _w((4, 4))) + mnp.diag(m, -1) * 2.0,
           lambda rng: [values(rng, (3,)), values(rng, (3, 4))]),
        _c("diagonal_trace", lambda x: mnp.diagonal(x, 1, 0, 2) * _w((3, 2)) + mnp.trace(x, axis1=1, axis2=2)[:, None],
           _one((3, 3, 3)), covers=("diagonal", "trace")),
        _c("linspace", lambda a, b: mnp.concatenate([mnp.linspace(a, b, 5) * _w((5,)),
                                                     mnp.linspace(a, b, 4, endpoint=False)]),
           lambda rng: [values(rng, ()), values(rng, ())]),
        _c("linspace_arrays", lambda a, b: mnp.linspace(a, b, 3, axis=1) * _w((2, 3)),
           lambda rng: [values(rng, (2,)), values(rng, (2,))], covers=("linspace",)),
        _c("stacks", lambda a, b: mnp.concatenate([mnp.ravel(mnp.vstack([a, b])), mnp.ravel(mnp.hstack([a, b]) * 2.0),
                                                   mnp.ravel(mnp.dstack([a, b]) * 3.0),
                                                   mnp.ravel(mnp.column_stack([a, b]) * 4.0),
                                                   mnp.ravel(mnp.row_stack([a, b]) * 5.0)]),
           lambda rng: [values(rng, (3,)), values(rng, (3,))],
           covers=("vstack", "hstack", "dstack", "column_stack", "row_stack")),
        _c("stacks_2d", lambda a, b: mnp.concatenate([mnp.ravel(mnp.vstack([a, b])),
                                                      mnp.ravel(mnp.hstack([a, b]) * 2.0),
                                                      mnp.ravel(mnp.column_stack([a, b])) * 3.0]),
           lambda rng: [values(rng, (2, 3)), values(rng, (2, 3))], covers=("vstack", "hstack", "column_stack")),
        _c("atleast", lambda a, b: mnp.concatenate([mnp.ravel(mnp.atleast_1d(a)), mnp.ravel(mnp.atleast_2d(b)) * 2.0,
                                                    mnp.ravel(mnp.atleast_3d(b)) * 3.0,
                                                    mnp.ravel(mnp.atleast_3d(a)) * 4.0]),
           lambda rng: [values(rng, ()), values(rng, (3,))], covers=("atleast_1d", "atleast_2d", "atleast_3d")),
        _c("tile", lambda x: mnp.tile(x, (2, 1, 3)) * _w((2, 2, 9)), _one((2, 3))),
        _c("repeat", lambda x: mnp.repeat(x, [1, 3, 2], axis=1) * _w((2, 6)) + mnp.sum(mnp.repeat(x, 2)),
           _one((2, 3))),
        _c("append", lambda x, y: mnp.append(x, y) * _w((10,)) + mnp.sum(mnp.append(x, y[:1] * 2.0, axis=0)),
           lambda rng: [values(rng, (2, 2)), values(rng, (3, 2))]),
        _c("diff", lambda x: mnp.diff(x, n=2, axis=0) * _w((2, 3)) + mnp.sum(mnp.diff(x, prepend=1.0, append=x[:, :1])),
           _one((4, 3))),
        _c("roll", lambda x: mnp.roll(x, (1, -2), axis=(0, 1)) * _w((3, 4)) + mnp.roll(x, 5) * 2.0, _one((3, 4))),
        _c("pad", lambda x: mnp.concatenate([mnp.ravel(mnp.pad(x, ((1, 2), (0, 1)), mode=m)) * (i + 1.0)
                                             for i, m in enumerate(["constant", "edge", "reflect", "symmetric",
                                                                    "wrap"])])
           + mnp.sum(mnp.pad(x, 1, constant_values=3.0)), _one((3, 4))),
        _c("split", lambda x: _parts(mnp.split(x, 2, axis=1)) + mnp.sum(_parts(mnp.split(x, [1, 2])))
           + mnp.sum(_parts(mnp.hsplit(x, 2))) + mnp.sum(_parts(mnp.vsplit(x, 3)))
           + mnp.sum(_parts(mnp.dsplit(mnp.reshape(x, (3, 2, 2)), 2))),
           _one((3, 4)), covers=("split", "hsplit", "vsplit", "dsplit")),
        _c("array_split", lambda x: _parts(mnp.array_split(x, 3, axis=1)), _one((2, 5))),
        _c("flip", lambda x: mnp.flip(x, 1) * _w((2, 3, 4)) + mnp.flip(x) + mnp.flip(x, (0, 2)) * 3.0, _one((2, 3, 4))),
        _c("fliplr_flipud", lambda x: mnp.fliplr(x) * _w((3, 4)) + mnp.flipud(x) * 2.0, _one((3, 4)),
           covers=("fliplr", "flipud")),
        _c("rot90", lambda x: _parts([mnp.rot90(x, k) for k in (1, 2, 3, 4)])
           + mnp.sum(mnp.rot90(x, axes=(1, 0)) * 2.0),
           _one((3, 4))),
        _c("moveaxis_rollaxis", lambda x: _parts([mnp.moveaxis(x, 0, -1), mnp.rollaxis(x, 2),
                                                  mnp.moveaxis(x, [0, 1], [1, 2]), mnp.rollaxis(x, 0, 3)]),
           _one((2, 3, 4)), covers=("moveaxis", "rollaxis")),
        _c("tensordot", lambda a, b: _parts([mnp.tensordot(a, b, axes=1), mnp.tensordot(a, b, ([1, 2], [1, 0])),
                                                mnp.tensordot(a[0], b[:, :, 0].T, axes=2)]),
           lambda rng: [values(rng, (2, 3, 4)), values(rng, (4, 3, 3))]),
        _c("kron", lambda a, b: mnp.kron(a, b) * _w((6, 6)) + mnp.sum(mnp.kron(a[0], b)),
           lambda rng: [values(rng, (2, 3)), values(rng, (3, 2))]),
        _c("cross", lambda a, b: mnp.cross(a, b) * _w((2, 3)) + mnp.sum(mnp.cross(a[:, :2], b[:, :2])),
           lambda rng: [values(rng, (2, 3)), values(rng, (1, 3))]),
        _c("inner_dot_nd", lambda a, b: mnp.sum(mnp.inner(a, b) * 2.0) + mnp.sum(mnp.dot(a, mnp.swapaxes(b, 1, 2)))
           + mnp.sum(mnp.dot(a[0], mnp.swapaxes(b, 1, 2))) + mnp.vdot(a, a),
           lambda rng: [values(rng, (2, 3, 4)), values(rng, (2, 3, 4))],
           covers=("inner", "dot", "vdot")),
        _c("einsum_ellipsis", lambda a, b: mnp.sum(mnp.einsum("...ij,...jk->...ik", a, b) * _w((2, 3, 2)))
           + mnp.einsum("...i,...i", a[..., 0], b[0, :3, 0]) + mnp.sum(mnp.einsum("i...->...", a) * _w((3, 4))),
           lambda rng: [values(rng, (2, 3, 4)), values(rng, (1, 4, 2))], covers=("einsum",)),
        _c("einsum_repeated", lambda a, b: mnp.einsum("ii->i", a[0]) * 2.0 + mnp.einsum("iij,j->i", a, b)
           + mnp.einsum("jii", a), lambda rng: [values(rng, (3, 3, 3)), values(rng, (3,))], covers=("einsum",)),
        _c("einsum_sublist", lambda a, b: mnp.einsum(a, [0, 1], b, [1, 2], [0, 2]) * _w((2, 2))
           + mnp.einsum(a, [Ellipsis, 1], b[:, 0], [1]), lambda rng: [values(rng, (2, 3)), values(rng, (3, 2))],
           covers=("einsum",)),
        _c("select", lambda x, y: mnp.select([np.array([True, False, False]), np.array([True, True, False])], [x, y],
                                             default=-1.0) * _w((2, 3)), lambda rng: [values(rng, (2, 3)),
                                                                                       values(rng, (3,))]),
        _c("nan_to_num", lambda x: mnp.nan_to_num(x) * _w((3, 4)), _one((3, 4))),
        _c("full_fill", lambda v: mnp.full((2, 3), v) * _w((2, 3)) + mnp.full_like(np.ones((2, 3)), v) * 2.0,
           lambda rng: [values(rng, ())], covers=("full", "full_like")),
        _c("array_copy", lambda a, b: mnp.array([a, b, mnp.copy(a)]) * _w((3, 2)) + mnp.asarray([[a], [b]])[0] * 2.0,
           lambda rng: [values(rng, (2,)), values(rng, (2,))], covers=("array", "asarray", "copy")),
        _c("aliases", lambda x, y: mnp.absolute(x) + mnp.true_divide(x, y) + mnp.amax(x, axis=0, keepdims=True)
           + mnp.amin(x, axis=1, keepdims=True) + mnp.concat([x, y * 2.0], axis=0)[:3],
           lambda rng: [values(rng, (3, 4), "distinct"), values(rng, (3, 4), "away0")],
           covers=("absolute", "true_divide", "amax", "amin", "concat")),
        # linalg
        _c("norm_vector", lambda x: mnp.concatenate([
            mnp.stack([mnp.linalg.norm(x[0]), mnp.linalg.norm(x[0], 1), mnp.linalg.norm(x[0], np.inf),
                       mnp.linalg.norm(x[0], -np.inf), mnp.linalg.norm(x[0], 3), mnp.linalg.norm(x[0], 0.5)]),
            mnp.linalg.norm(x, axis=1) * 2.0, mnp.linalg.norm(x, 2, axis=0) * 3.0]), _one((3, 4), "distinct"),
           covers=("norm",)),
        _c("norm_matrix", lambda x: mnp.stack([mnp.linalg.norm(x, o) for o in ("fro", "nuc", 1, -1, 2, -2, np.inf,
                                                                              -np.inf)]),
           _one((3, 4), "distinct"), covers=("norm",)),
        _c("det_slogdet", lambda a: mnp.stack([mnp.linalg.det(a[0]), mnp.linalg.slogdet(a[1])[1]]) + mnp.sum(
            mnp.linalg.det(a)), lambda rng: [values(rng, (2, 3, 3)) + 3 * np.eye(3)], covers=("det", "slogdet")),
        _c("inv", lambda a: mnp.linalg.inv(a) * _w((2, 3, 3)), lambda rng: [values(rng, (2, 3, 3)) + 3 * np.eye(3)]),
        _c("solve", lambda a, b, c: mnp.linalg.solve(a, b) * _w((3, 2)) + mnp.sum(mnp.linalg.solve(a, c)),
           lambda rng: [values(rng, (3, 3)) + 3 * np.eye(3), values(rng, (3, 2)), values(rng, (3,))]),
        _c("cholesky", lambda x: mnp.linalg.cholesky(_spd(x)) * _w((3, 3)), _one((3, 3))),
        _c("eigh", lambda x: mnp.linalg.eigh(_sym(x))[0] * _w((3,)) + mnp.sum(
            (mnp.linalg.eigh(_sym(x))[1] * _w((3,))) @ mnp.swapaxes(mnp.linalg.eigh(_sym(x))[1], -1, -2) * _w((3, 3)))
           + mnp.sum(mnp.linalg.eigvalsh(_sym(x))), _one((3, 3), "distinct"), covers=("eigh", "eigvalsh")),
        _c("svd", lambda x: mnp.concatenate([
            mnp.linalg.svd(x, compute_uv=False) * _w((3,)),
            mnp.ravel(_svd_invariant(x)), mnp.ravel(_svd_invariant(mnp.swapaxes(x, 0, 1))) * 2.0]),
           _one((3, 4), "distinct")),
    ]
    along_axis = [
        Case("cumsum_axis", "axis", lambda x, axis: mnp.cumsum(x, axis=axis), covers=("cumsum",)),
        Case("cumprod_axis", "axis", lambda x, axis: mnp.cumprod(x, axis=axis), ("away0",), covers=("cumprod",)),
        Case("sort_axis", "axis", lambda x, axis: mnp.sort(x, axis=axis), ("distinct",), covers=("sort",)),
        Case("flip_axis", "axis", lambda x, axis: mnp.flip(x, axis) * _w(x.shape), covers=("flip",)),
        Case("diff_axis", "axis", lambda x, axis: mnp.diff(x, axis=axis, prepend=0.5), covers=("diff",)),
        Case("roll_axis", "axis", lambda x, axis: mnp.roll(x, 2, axis=axis) * _w(x.shape), covers=("roll",)),
        Case("repeat_axis", "axis", lambda x, axis: mnp.repeat(x, 2, axis=axis), covers=("repeat",)),
        Case("std_ddof_axis", "axis", lambda x, axis: mnp.std(x, axis=axis, ddof=1) if x.shape[axis] > 1
             else mnp.std(x, axis=axis), covers=("std",)),
    ]
    special = [
        _u("gammaln", sps.gammaln, "pos"),
        Case("digamma", "unary", sps.digamma, ("pos",), covers=("digamma", "psi")),
        _u("gamma", sps.gamma, "pos"),
        _c("polygamma", lambda x: sps.polygamma(1, x) + sps.polygamma(2, x) * 2.0, _one((3,), "pos")),
        _b("beta", sps.beta, "pos", "pos"),
        _b("betaln", sps.betaln, "pos", "pos"),
        _u("erf", sps.erf),
        _u("erfc", sps.erfc),
        _u("erfinv", sps.erfinv, "unit"),
        _c("erfcinv", lambda x: sps.erfcinv(x + 1.0), _one((3, 2), "unit")),
        _u("logit", sps.logit, "prob"),
        _b("xlogy", sps.xlogy, "real", "pos"),
        _b("xlog1py", sps.xlog1py, "real", "pos"),
        _u("ndtr", sps.ndtr),
        _u("log_ndtr", sps.log_ndtr),
        _c("multigammaln", lambda a: sps.multigammaln(a + 1.0, 3), _one((2, 2), "pos")),
        _u("i0", sps.i0),
        _u("i1", sps.i1),
        _c("ive", lambda z: sps.ive(1.5, mnp.abs(z)) + sps.ive(0, z) * 2.0 + sps.ive(1, z), _one((3, 2), "away0")),
        _c("logsumexp_b", lambda a, b: sps.logsumexp(a, axis=1, b=b) + sps.logsumexp(a, b=b, return_sign=True)[0],
           lambda rng: [values(rng, (2, 3)), values(rng, (2, 3), "pos")], covers=("logsumexp",)),
        _c("logsumexp_sign", lambda a, b: sps.logsumexp(a, axis=0, b=b, return_sign=True)[0],
           lambda rng: [values(rng, (2, 3)), values(rng, (2, 3), "away0")], covers=("logsumexp",)),
    ]
    return out + along_axis + special


def _svd_invariant(x):
    """Functions of the singular vectors that do not depend on their signs: U diag(c) V^T, U diag(c) U^T and
    V diag(c) V^T (each singular pair may flip sign together)."""
    u, s, vh = mnp.linalg.svd(x, full_matrices=False)
    c = _w((s.shape[-1],))
    return mnp.concatenate([mnp.ravel((u * c) @ vh), mnp.ravel((u * c) @ mnp.swapaxes(u, -1, -2)) * 2.0,
                            mnp.ravel(mnp.swapaxes(vh, -1, -2) * c @ vh) * 3.0, mnp.ravel(u * s @ vh)])


CASES: list[Case] = [
    _b("add", mnp.add),
    _b("subtract", mnp.subtract),
    _b("multiply", mnp.multiply),
    _b("divide", mnp.divide, "real", "away0"),
    _b("power", mnp.power, "pos", "real"),
    _u("negative", mnp.negative),
    _u("square", mnp.square),
    _u("exp", mnp.exp),
    _u("expm1", mnp.expm1),
    _u("log", mnp.log, "pos"),
    _u("log1p", mnp.log1p, "pos"),
    _u("sqrt", mnp.sqrt, "pos"),
    _u("tanh", mnp.tanh),
    _u("sinh", mnp.sinh),
    _u("cosh", mnp.cosh),
    _u("sin", mnp.sin),
    _u("cos", mnp.cos),
    _u("arctan", mnp.arctan),
    _u("abs", mnp.abs, "away0"),
    Case("maximum", "custom", mnp.maximum, make=_maximum_args),
    Case("minimum", "custom", mnp.minimum, make=_maximum_args),
    Case("clip", "custom", lambda x: mnp.clip(x, -0.5, 0.7), make=_clip_args),
    Case("where", "custom", lambda x, y: mnp.where(np.array([[True, False, True]]), x, y),
         make=lambda rng: [values(rng, (2, 3)), values(rng, (2, 1))]),
    _r("sum", lambda x, axis, keepdims: mnp.sum(x, axis=axis, keepdims=keepdims)),
    _r("mean", lambda x, axis, keepdims: mnp.mean(x, axis=axis, keepdims=keepdims)),
    _r("max", lambda x, axis, keepdims: mnp.max(x, axis=axis, keepdims=keepdims), "distinct"),
    _r("min", lambda x, axis, keepdims: mnp.min(x, axis=axis, keepdims=keepdims), "distinct"),
    _r("prod", lambda x, axis, keepdims: mnp.prod(x, axis=axis, keepdims=keepdims), "away0"),
    _r("var", lambda x, axis, keepdims: mnp.var(x, axis=axis, keepdims=keepdims)),
    _r("logsumexp", lambda x, axis, keepdims: logsumexp(x, axis=axis, keepdims=keepdims)),
    *_matmul_cases(),
    Case("dot", "custom", mnp.dot, make=lambda rng: [values(rng, (2, 3)), values(rng, (3, 2))]),
    Case("outer", "custom", mnp.outer, make=lambda rng: [values(rng, (3,)), values(rng, (2, 2))]),
    Case("einsum", "custom", lambda a, b: mnp.einsum("ij,jk->ik", a, b),
         make=lambda rng: [values(rng, (2, 3)), values(rng, (3, 4))]),
    Case("einsum_reduce", "custom", lambda a, b: mnp.einsum("ijk,j->i", a, b),
         make=lambda rng: [values(rng, (2, 3, 2)), values(rng, (3,))]),
    Case("einsum_implicit", "custom", lambda a, b: mnp.einsum("ij,jk", a, b),
         make=lambda rng: [values(rng, (2, 3)), values(rng, (3, 2))]),
    Case("reshape", "custom", lambda x: mnp.reshape(x, (3, 4)) * np.arange(12.0).reshape(3, 4),
         make=lambda rng: [values(rng, (2, 6))]),
    Case("transpose", "custom", lambda x: mnp.transpose(x, (2, 0, 1)) * np.arange(24.0).reshape(4, 2, 3),
         make=lambda rng: [values(rng, (2, 3, 4))]),
    Case("swapaxes", "custom", lambda x: mnp.swapaxes(x, 0, 2) * np.arange(24.0).reshape(4, 3, 2),
         make=lambda rng: [values(rng, (2, 3, 4))]),
    Case("expand_dims", "custom", lambda x: mnp.expand_dims(x, 1) * np.arange(6.0).reshape(2, 1, 3),
         make=lambda rng: [values(rng, (2, 3))]),
    Case("squeeze", "custom", lambda x: mnp.squeeze(x, axis=1) * np.arange(6.0).reshape(2, 3),
         make=lambda rng: [values(rng, (2, 1, 3))]),
    Case("broadcast_to", "custom", lambda x: mnp.broadcast_to(x, (4, 2, 3)) * np.arange(24.0).reshape(4, 2, 3),
         make=lambda rng: [values(rng, (1, 3))]),
    Case("concatenate", "custom", lambda a, b, c: mnp.concatenate([a, b, c], axis=1),
         make=lambda rng: [values(rng, (2, 1)), values(rng, (2, 3)), values(rng, (2, 2))]),
    Case("stack", "custom", lambda a, b: mnp.stack([a, b], axis=-1),
         make=lambda rng: [values(rng, (2, 3)), values(rng, (2, 3))]),
    Case("getitem_slice", "custom", lambda x: x[1:, ::2] * 3.0, make=lambda rng: [values(rng, (3, 4))]),
    Case("getitem_repeated", "custom", lambda x: x[np.array([0, 2, 0, 0])] * np.arange(1.0, 5.0)[:, None],
         make=lambda rng: [values(rng, (3, 2))]),
    Case("getitem_mask", "custom", lambda x: x[np.array([True, False, True])], make=lambda rng: [values(rng, (3, 2))]),
    Case("take_along_axis", "custom",
         lambda x: mnp.take_along_axis(x, np.array([[0, 0], [2, 1]]), axis=1) * np.array([[1.0, 2.0], [3.0, 4.0]]),
         make=lambda rng: [values(rng, (2, 3))]),
    _u("expit", expit),
    _u("softplus", softplus),
    _u("relu", relu, "away0"),
    _u("leaky_relu", lambda x: leaky_relu(x, 0.2), "away0"),
    Case("softmax", "custom", lambda x: softmax(x, axis=-1) * np.arange(1.0, 13.0).reshape(3, 4),
         make=lambda rng: [values(rng, (3, 4))]),
    Case("softmax_axis0", "custom", lambda x: softmax(x, axis=0) * np.arange(1.0, 13.0).reshape(3, 4),
         make=lambda rng: [values(rng, (3, 4))]),
    Case("log_softmax", "custom", lambda x: log_softmax(x, axis=-1) * np.arange(1.0, 13.0).reshape(3, 4),
         make=lambda rng: [values(rng, (3, 4))]),
    Case("astype", "custom", lambda x: mnp.astype(x, np.float64) * 2.0, make=lambda rng: [values(rng, (3,))]),
    Case("std", "custom", lambda x: mnp.std(x, axis=0), make=lambda rng: [values(rng, (4, 3))]),
]


_FIRST_CASES = len(CASES)
CASES += _more_cases()
ADDED_CASES = CASES[_FIRST_CASES:]  # the cases added with issue #15 (tests run them with fewer seeds)


def covered_names() -> set:
    """Every public name some case checks against finite differences."""
    return {n for c in CASES for n in c.names()}


def case_by_name(name: str) -> Case:
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(name)

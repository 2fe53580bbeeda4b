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
from minidsn.nn import leaky_relu, relu, softplus
from minidsn.scipy.special import expit, log_softmax, logsumexp, softmax

__all__ = ["Case", "CASES", "values"]


def values(rng: np.random.Generator, shape, domain: str = "real") -> np.ndarray:
    """Random float64 values of `shape` in a domain: real, pos (>= 0.5), unit (|x| < 0.9), away0 (|x| >= 0.2),
    distinct (all entries different by >= 0.05, for max/min/sort-like functions)."""
    z = rng.standard_normal(shape)
    if domain == "real":
        return z
    if domain == "pos":
        return 0.5 + np.abs(z)
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
    an axis/keepdims choice: fn(x, axis, keepdims)), 'custom' (make(rng) builds all arguments)."""

    name: str
    kind: str
    fn: Callable
    domains: tuple = ("real",)
    make: Callable | None = None
    second_order: bool = True


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
                        make=lambda rng, sa=sa, sb=sb: [values(rng, sa), values(rng, sb)]))
    return out


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


def case_by_name(name: str) -> Case:
    for c in CASES:
        if c.name == name:
            return c
    raise KeyError(name)

"""Composite functions computed on traced values return what NumPy / SciPy return (values, shapes): the forward pass
of every function built from primitives (pads, flips, einsum with ellipsis and repeated indices, norms, linspace, ...)
is checked here against the library it mirrors; the gradients are checked by tests/test_engine_primitives.py."""

import numpy as np
import pytest
import scipy.special as ssp

import minidsn.numpy as mnp
import minidsn.scipy.special as msp
from minidsn.engine import vjp

rng = np.random.default_rng(3)
x = rng.standard_normal((3, 4))
y = rng.standard_normal((4, 2))
v = rng.standard_normal(3)
z = rng.standard_normal((2, 3, 4))


def T(f, *a):
    """f's value computed on traced inputs."""
    return vjp(f, *a)[0]


CHECKS = {
 "pad edge": (lambda x: mnp.pad(x, ((1, 2), (0, 3)), mode="edge"),
     lambda x: np.pad(x, ((1, 2), (0, 3)), mode="edge"), (x,)),
 "pad reflect": (lambda x: mnp.pad(x, 2, mode="reflect"), lambda x: np.pad(x, 2, mode="reflect"), (x,)),
 "pad const": (lambda x: mnp.pad(x, (1, 2), constant_values=(3, 4)),
     lambda x: np.pad(x, (1, 2), constant_values=(3, 4)), (x,)),
 "pad wrap": (lambda x: mnp.pad(x, ((0, 1), (2, 1)), mode="wrap"),
     lambda x: np.pad(x, ((0, 1), (2, 1)), mode="wrap"), (x,)),
 "rot90": (lambda x: mnp.rot90(x, 3, axes=(1, 2)), lambda x: np.rot90(x, 3, axes=(1, 2)), (z,)),
 "tile": (lambda x: mnp.tile(x, (2, 1, 2)), lambda x: np.tile(x, (2, 1, 2)), (x,)),
 "tile1": (lambda x: mnp.tile(x, 3), lambda x: np.tile(x, 3), (z,)),
 "repeat": (lambda x: mnp.repeat(x, [1, 0, 2], axis=0), lambda x: np.repeat(x, [1, 0, 2], axis=0), (x,)),
 "roll": (lambda x: mnp.roll(x, (1, -1), axis=(2, 0)), lambda x: np.roll(x, (1, -1), axis=(2, 0)), (z,)),
 "roll none": (lambda x: mnp.roll(x, 7), lambda x: np.roll(x, 7), (z,)),
 "diff": (lambda x: mnp.diff(x, 2, axis=0, append=x[:1]), lambda x: np.diff(x, 2, axis=0, append=x[:1]), (x,)),
 "kron": (lambda a, b: mnp.kron(a, b), lambda a, b: np.kron(a, b), (x, y)),
 "kron nd": (lambda a, b: mnp.kron(a, b), lambda a, b: np.kron(a, b), (z, y)),
 "cross": (lambda a, b: mnp.cross(a, b, axisa=0, axisb=0),
     lambda a, b: np.cross(a, b, axisa=0, axisb=0), (x[:3, :2], rng.standard_normal((3, 1)))),
 "tensordot": (lambda a, b: mnp.tensordot(a, b, ([2, 1], [0, 1])),
     lambda a, b: np.tensordot(a, b, ([2, 1], [0, 1])), (z, rng.standard_normal((4, 3, 2)))),
 "einsum ell": (lambda a, b: mnp.einsum("...ij,jk->...ik", a, b),
     lambda a, b: np.einsum("...ij,jk->...ik", a, b), (z, y)),
 "einsum implicit ell": (lambda a, b: mnp.einsum("...ij,jk", a, b), lambda a, b: np.einsum("...ij,jk", a, b), (z, y)),
 "einsum trace": (lambda a: mnp.einsum("ii", a), lambda a: np.einsum("ii", a), (x[:, :3],)),
 "einsum iji": (lambda a: mnp.einsum("iji->j", a), lambda a: np.einsum("iji->j", a), (rng.standard_normal((3, 2, 3)),)),
 "einsum sublist": (lambda a, b: mnp.einsum(a, [0, 1], b, [1, 2]),
     lambda a, b: np.einsum(a, [0, 1], b, [1, 2]), (x, y)),
 "einsum bcast": (lambda a, b: mnp.einsum("...i,...i->...", a, b),
     lambda a, b: np.einsum("...i,...i->...", a, b), (z, rng.standard_normal((3, 4)))),
 "diag": (lambda a: mnp.diag(a, -2), lambda a: np.diag(a, -2), (v,)),
 "diagonal": (lambda a: mnp.diagonal(a, -1, 2, 1), lambda a: np.diagonal(a, -1, 2, 1), (z,)),
 "trace": (lambda a: mnp.trace(a, 1), lambda a: np.trace(a, 1), (x,)),
 "split": (lambda a: mnp.concatenate(mnp.array_split(a, 3, axis=1), axis=1),
     lambda a: np.concatenate(np.array_split(a, 3, axis=1), axis=1), (x,)),
 "moveaxis": (lambda a: mnp.moveaxis(a, [0, 2], [2, 0]), lambda a: np.moveaxis(a, [0, 2], [2, 0]), (z,)),
 "rollaxis": (lambda a: mnp.rollaxis(a, 2, 1), lambda a: np.rollaxis(a, 2, 1), (z,)),
 "sort": (lambda a: mnp.sort(a, axis=0), lambda a: np.sort(a, axis=0), (x,)),
 "cumprod": (lambda a: mnp.cumprod(a, axis=1), lambda a: np.cumprod(a, axis=1), (x,)),
 "cumsum": (lambda a: mnp.cumsum(a), lambda a: np.cumsum(a), (x,)),
 "column_stack": (lambda a, b: mnp.column_stack([a, b]), lambda a, b: np.column_stack([a, b]), (v, x)),
 "dstack": (lambda a, b: mnp.dstack([a, b]), lambda a, b: np.dstack([a, b]), (x, x)),
 "hstack1": (lambda a, b: mnp.hstack([a, b]), lambda a, b: np.hstack([a, b]), (v, v)),
 "select": (lambda a, b: mnp.select([a > 0, b > 0], [a, b], 7.0),
     lambda a, b: np.select([a > 0, b > 0], [a, b], 7.0), (x, x[::-1])),
 "average": (lambda a, w: mnp.average(a, axis=0, weights=w),
     lambda a, w: np.average(a, axis=0, weights=w), (x, np.abs(v))),
 "linspace": (lambda a, b: mnp.linspace(a, b, 6, endpoint=False, axis=1),
     lambda a, b: np.linspace(a, b, 6, endpoint=False, axis=1), (v, v + 1)),
 "linspace ret": (lambda a, b: mnp.linspace(a, b, 5)[-1], lambda a, b: np.linspace(a, b, 5)[-1], (v, v * 3)),
 "norm nuc": (lambda a: mnp.linalg.norm(a, "nuc"), lambda a: np.linalg.norm(a, "nuc"), (x,)),
 "norm -inf ax": (lambda a: mnp.linalg.norm(a, -np.inf, axis=(2, 0), keepdims=True),
     lambda a: np.linalg.norm(a, -np.inf, axis=(2, 0), keepdims=True), (z,)),
 "norm 1 ax": (lambda a: mnp.linalg.norm(a, 1, axis=(0, 2)), lambda a: np.linalg.norm(a, 1, axis=(0, 2)), (z,)),
 "norm p": (lambda a: mnp.linalg.norm(a, 3, axis=1), lambda a: np.linalg.norm(a, 3, axis=1), (x,)),
 "slogdet": (lambda a: mnp.linalg.slogdet(a)[1], lambda a: np.linalg.slogdet(a)[1], (z[:, :3, :3],)),
 "solve batched vec": (lambda a, b: mnp.linalg.solve(a, b), lambda a, b: np.linalg.solve(a, b), (z[:, :3, :3], v)),
 "lse b": (lambda a, b: msp.logsumexp(a, axis=0, b=b), lambda a, b: ssp.logsumexp(a, axis=0, b=b), (x, np.abs(x))),
 "lse sign": (lambda a, b: msp.logsumexp(a, b=b, return_sign=True)[0],
     lambda a, b: ssp.logsumexp(a, b=b, return_sign=True)[0], (x, x)),
 "multigammaln": (lambda a: msp.multigammaln(a, 3), lambda a: ssp.multigammaln(a, 3), (np.array(3.2),)),
 "nan_to_num": (lambda a: mnp.nan_to_num(a * np.array([np.inf, 1, 1, 1])),
     lambda a: np.nan_to_num(a * np.array([np.inf, 1, 1, 1])), (x,)),
}


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_traced_value_equals_numpy(name):
    m, n, args = CHECKS[name]
    with np.errstate(invalid="ignore", over="ignore"):
        got, ref = np.asarray(T(m, *args)), np.asarray(n(*args))
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)

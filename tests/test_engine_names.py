"""Every public name of minidsn.numpy, minidsn.numpy.linalg and minidsn.scipy.special is accounted for: either checked
against finite differences by a case of minidsn/testing/primitive_cases.py (tests/test_engine_primitives.py runs
them), or listed with its reason for having no gradient (and shown here to have none: its output is not a float,
or its derivative is 0 where it exists), or a creation function that refuses traced arguments, or a constant."""

import numpy as np
import pytest

import minidsn.numpy as mnp
import minidsn.numpy.linalg as mla
import minidsn.scipy.special as msps
from minidsn.engine import NotSupportedError, TracedConversionError, grad, vjp
from minidsn.engine.core import Traced
from minidsn.testing import check_grads
from minidsn.testing.primitive_cases import covered_names


def _public(module):
    return sorted(n for n in dir(module) if not n.startswith("_"))


def test_every_public_name_is_checked_or_has_a_reason():
    covered = covered_names()
    missing = []
    for name in _public(mnp):
        if name in mnp.CONSTANTS or name in mnp.NO_GRADIENT or name in mnp.CREATION:
            continue
        if name not in covered:
            missing.append(f"minidsn.numpy.{name}")
    for name in _public(mla):
        obj = getattr(mla, name)
        if isinstance(obj, type) or not callable(obj):
            continue  # result types and LinAlgError
        if name not in covered:
            missing.append(f"minidsn.numpy.linalg.{name}")
    for name in _public(msps):
        if name not in covered:
            missing.append(f"minidsn.scipy.special.{name}")
    assert not missing, "public names without a finite-difference case or a documented reason: " + ", ".join(missing)
    assert set(_public(msps)) == set(msps.__all__)


def test_every_case_names_a_public_function():
    public = set(_public(mnp)) | set(_public(mla)) | set(_public(msps)) | {"%", "@"}
    public |= {"relu", "leaky_relu", "softplus", "getitem_slice", "getitem_repeated", "getitem_mask"}
    unknown = sorted(n for n in covered_names() if n not in public and not n.startswith(("matmul", "einsum_",
                                                                                          "softmax_", "getitem")))
    assert not unknown, unknown


# Each no-gradient name applied to a traced value, with arguments away from jumps.
NO_GRADIENT_CALLS = {
    "floor_divide": lambda x: mnp.floor_divide(x, 0.7),
    "heaviside": lambda x: mnp.heaviside(x, 0.5),
    "greater": lambda x: mnp.greater(x, 0.1),
    "greater_equal": lambda x: mnp.greater_equal(x, 0.1),
    "less": lambda x: mnp.less(x, 0.1),
    "less_equal": lambda x: mnp.less_equal(x, 0.1),
    "equal": lambda x: mnp.equal(x, x),
    "not_equal": lambda x: mnp.not_equal(x, 0.1),
    "logical_and": lambda x: mnp.logical_and(x, x),
    "logical_or": lambda x: mnp.logical_or(x, x),
    "logical_xor": lambda x: mnp.logical_xor(x, x),
    "allclose": lambda x: mnp.allclose(x, x),
    "isclose": lambda x: mnp.isclose(x, x),
    "array_equal": lambda x: mnp.array_equal(x, x),
    "searchsorted": lambda x: mnp.searchsorted(np.array([-0.5, 0.5]), x),
}


@pytest.mark.parametrize("name", sorted(mnp.NO_GRADIENT))
def test_no_gradient_names_have_none(name):
    assert mnp.NO_GRADIENT[name]  # a reason is given
    call = NO_GRADIENT_CALLS.get(name, getattr(mnp, name))
    x = 3.0 * np.random.default_rng(0).standard_normal((3, 4)) + 0.05  # entries far (> 1e-6) from any jump
    seen = []

    def f(x):
        out = call(x)
        seen.append(out)
        if isinstance(out, Traced):
            return out
        arr = np.asarray(out, dtype=np.float64) if not isinstance(out, tuple) else np.zeros(())
        return arr + mnp.sum(x) * 0.0

    out, f_vjp = vjp(f, x)
    assert not any(isinstance(s, Traced) for s in seen), f"{name} returned a traced value"
    raw = seen[0]
    if isinstance(raw, (np.ndarray, np.generic)) and raw.dtype.kind == "f" and name not in ("zeros_like", "ones_like",
                                                                                            "empty_like"):
        # a float output: its derivative is 0 wherever it exists (checked by finite differences here)
        check_grads(f, [x], modes=("rev",))
    (g,) = f_vjp(np.ones(np.shape(out)))
    np.testing.assert_array_equal(g, np.zeros_like(x))


@pytest.mark.parametrize("name", sorted(mnp.CREATION))
def test_creation_functions_refuse_traced_arguments(name):
    fn = getattr(mnp, name)
    with pytest.raises((TracedConversionError, NotSupportedError, TypeError)):
        grad(lambda x: mnp.sum(fn(x)))(np.array(2.0))


def test_constants_are_not_functions_of_arrays():
    for name in mnp.CONSTANTS:
        obj = getattr(mnp, name)
        assert not callable(obj) or isinstance(obj, type) or name in ("linalg",), name


def test_unsupported_names_raise_naming_the_function():
    with pytest.raises(AttributeError, match="minidsn.numpy.fft is not supported"):
        mnp.fft  # noqa: B018
    with pytest.raises(AttributeError, match="minidsn.numpy.nanmean is not supported"):
        mnp.nanmean  # noqa: B018
    with pytest.raises(NotSupportedError, match="np.nanmean"):
        grad(lambda x: np.nanmean(x))(np.ones(3))
    with pytest.raises(NotSupportedError, match="np.pinv"):
        grad(lambda x: mnp.sum(np.linalg.pinv(x)))(np.eye(2))


def test_numpy_functions_dispatch_to_the_differentiable_versions():
    """np.f(traced) for the functions minidsn implements runs the minidsn version (through __array_function__ /
    __array_ufunc__), so code written against numpy itself differentiates."""
    x = np.random.default_rng(2).standard_normal((3, 3)) + 3 * np.eye(3)
    w = np.arange(1.0, 10.0)  # every output below has 9 entries
    pairs = [
        (np.cumsum, mnp.cumsum), (np.flip, mnp.flip), (np.tril, mnp.tril), (np.sort, mnp.sort),
        (np.linalg.inv, mnp.linalg.inv), (np.arcsinh, mnp.arcsinh),
        (lambda x: np.hypot(x, x), lambda x: mnp.hypot(x, x)),
        (lambda x: np.fmax(x, x * 0.5), lambda x: mnp.fmax(x, x * 0.5)),
        (lambda x: np.mod(x, 4.0), lambda x: mnp.mod(x, 4.0)),
    ]
    for np_f, m_f in pairs:
        g1 = grad(lambda x: mnp.sum(mnp.ravel(np_f(x)) * w))(x)
        g2 = grad(lambda x: mnp.sum(mnp.ravel(m_f(x)) * w))(x)
        np.testing.assert_array_equal(g1, g2)
        assert np.any(g1 != 0)


def test_docs_engine_md_lists_the_current_names():
    """docs/engine.md's list of supported names is generated from the code (python -m
    minidsn.testing.engine_names --write regenerates it)."""
    from minidsn.testing import engine_names

    text = engine_names.DOC.read_text()
    assert engine_names.current_section(text) == engine_names.render(), (
        "docs/engine.md is out of date: run python -m minidsn.testing.engine_names --write")
    for name in ("tril", "cumsum", "einsum", "eigh", "gammaln"):
        assert f"`{name}`" in engine_names.current_section(text)

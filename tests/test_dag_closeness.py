"""Fused closeness kernel (minidsn.models.dnm.closeness_kernel) against the engine closeness code it replaces."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.engine import grad
from minidsn.testing.compare import assert_close_scaled as _close
from minidsn.models.dnm.dag_kernels import allowed_mask
from minidsn.models.dnm.closeness_kernel import closeness_backward, closeness_forward, closeness_fused
from minidsn.models.dnm.closeness import closeness, engine_ops, init_params, positions
from minidsn.testing import check_grads

NAMES = ("alpha", "beta", "gamma", "theta", "phi", "sigma", "mu", "kappa")


@st.composite
def cases(draw):
    n_in = draw(st.integers(1, 6))
    n_comp = draw(st.integers(0, 8))
    n_out = draw(st.integers(1, 4))
    init = draw(st.sampled_from(["toy", "mnist"]))
    kappa = draw(st.floats(-3.0, 0.5))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    N = n_in + n_comp + n_out
    p = init_params(rng, N, n_in, n_out, init, kappa0=kappa)
    period = draw(st.sampled_from([5.0, 28.0, 3.3]))
    wd = rng.normal(size=(N - n_in, N - n_out))
    wv = rng.normal(size=(N - n_in, N - n_out))
    signed = draw(st.booleans())  # the code's signed d, or the seed text's unsigned closeness in [0, 1]
    return dict(p=p, n_in=n_in, n_out=n_out, N=N, period=period, wd=wd, wv=wv, signed=signed)


def _range(c):
    return "signed" if c["signed"] else "unsigned"


def _engine_f(c):
    P, m = positions(c["N"], c["n_in"], c["n_out"]), allowed_mask(c["N"], c["n_in"], c["n_out"])
    ops = engine_ops()

    def f(p):
        d, v, _ = closeness(p, P, m, c["n_in"], c["period"], ops, closeness_range=_range(c))
        return (d * c["wd"]).sum() + (ops.where(m, v, 0.0) * c["wv"]).sum()

    return f


def _kernel_f(c, jit=True):
    P = positions(c["N"], c["n_in"], c["n_out"])

    def f(p):
        dv = closeness_fused(*(p[k] for k in NAMES), P=P, n_in=c["n_in"], n_out=c["n_out"], period=c["period"],
                             jit=jit, signed=c["signed"])
        return (dv[0] * c["wd"]).sum() + (dv[1] * c["wv"]).sum()

    return f


@pytest.mark.parametrize("signed", [True, False])
@settings(max_examples=20)
@given(c=cases())
def test_kernel_forward_equals_engine_closeness(c, signed):
    c = dict(c, signed=signed)
    P, m = positions(c["N"], c["n_in"], c["n_out"]), allowed_mask(c["N"], c["n_in"], c["n_out"])
    d, v, _ = closeness(c["p"], P, m, c["n_in"], c["period"], closeness_range=_range(c))
    dv = closeness_forward(*(c["p"][k] for k in NAMES), P, c["n_in"], c["n_out"], c["period"], signed=signed)
    _close(dv[0], d, "d")
    _close(dv[1], np.where(m, v, 0.0), "v")


@pytest.mark.parametrize("signed", [True, False])
@settings(max_examples=20)
@given(c=cases())
def test_kernel_vjp_equals_engine_gradient(c, signed):
    c = dict(c, signed=signed)
    ge = grad(_engine_f(c))(c["p"])
    gk = grad(_kernel_f(c))(c["p"])
    for k in NAMES:
        _close(gk[k], ge[k], f"grad {k}")


@settings(max_examples=8)
@given(cases())
def test_kernel_passes_check_grads_and_jit_off_matches(c):
    P = positions(c["N"], c["n_in"], c["n_out"])
    sg = c["signed"]
    dv = closeness_forward(*(c["p"][k] for k in NAMES), P, c["n_in"], c["n_out"], c["period"], signed=sg)
    cut = 1 / (1 + np.exp(-float(c["p"]["kappa"])))
    # central differences must not step across the strict cutoff
    if np.min(np.abs(np.abs(dv[1][allowed_mask(c["N"], c["n_in"], c["n_out"])]) - cut), initial=1.0) > 1e-4:
        check_grads(_kernel_f(c), [c["p"]], rtol=1e-5, atol=1e-7)
    dv0 = closeness_forward(*(c["p"][k] for k in NAMES), P, c["n_in"], c["n_out"], c["period"], jit=False, signed=sg)
    _close(dv0, dv, "forward, JIT off")
    G = np.stack([c["wd"], c["wv"]])
    g1 = closeness_backward(G, *(c["p"][k] for k in NAMES), P, c["n_in"], c["n_out"], c["period"], signed=sg)
    g0 = closeness_backward(G, *(c["p"][k] for k in NAMES), P, c["n_in"], c["n_out"], c["period"], jit=False,
                            signed=sg)
    for a, b, k in zip(g0, g1, NAMES):
        _close(a, b, f"grad {k}, JIT off")


@settings(max_examples=20)
@given(cases())
def test_shortcut_without_exact_v_keeps_d_and_gradients(c):
    P = positions(c["N"], c["n_in"], c["n_out"])
    args = [c["p"][k] for k in NAMES]
    full = closeness_forward(*args, P, c["n_in"], c["n_out"], c["period"])
    fast = closeness_forward(*args, P, c["n_in"], c["n_out"], c["period"], exact_v=False)
    assert np.array_equal(fast[0], full[0])
    live = full[0] != 0
    assert np.array_equal(fast[1][live], full[1][live])
    for wv in (np.zeros_like(c["wv"]), c["wv"]):  # no cotangent on v, and one everywhere (forces recomputation)
        G = np.stack([c["wd"], wv])
        g_full = closeness_backward(G, *args, P, c["n_in"], c["n_out"], c["period"], dv=full)
        g_fast = closeness_backward(G, *args, P, c["n_in"], c["n_out"], c["period"], dv=fast)
        for a, b, k in zip(g_fast, g_full, NAMES):
            _close(a, b, f"grad {k}")


@settings(max_examples=15)
@given(cases())
def test_unsigned_closeness_is_the_magnitude_of_the_signed_one(c):
    # the seed text's closeness (l. 52: in [0, 1]) is |d| of the code's, entry for entry, on the same live set
    P, m = positions(c["N"], c["n_in"], c["n_out"]), allowed_mask(c["N"], c["n_in"], c["n_out"])
    d_signed, v, _ = closeness(c["p"], P, m, c["n_in"], c["period"])
    d_unsigned, v_u, _ = closeness(c["p"], P, m, c["n_in"], c["period"], closeness_range="unsigned")
    assert np.array_equal(v, v_u)
    assert np.array_equal(d_unsigned, np.abs(d_signed))
    assert np.all(d_unsigned >= 0) and np.all(d_unsigned[np.abs(v) <= 1] <= 1)

"""Fused L1 / synaptic-length subgradient + Adam kernel of the URN: jitted == uncompiled == NumPy reference ==
engine gradient + minidsn.optim.Adam."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn.engine import grad
from minidsn.models.urn.adam_kernel import adam_l1_update, adam_l1_update_reference
from minidsn.nn.regularizers import l1_weights, synaptic_length
from minidsn.optim import Adam


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31), n=st.integers(1, 7), t=st.integers(1, 50), with_L=st.booleans(),
       zeros=st.booleans())
def test_fused_update_matches_engine_and_optim(seed, n, t, with_L, zeros):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, n))
    if zeros:
        W[rng.random((n, n)) < 0.3] = 0.0  # sign(0) = 0 on both paths
    G = rng.normal(size=(n, n))
    m = rng.normal(size=(n, n))
    v = rng.random((n, n))
    L = rng.random((n, n)) * 3 if with_L else None
    c_w, c_syn, lr = 0.05, (0.02 if with_L else 0.0), 1e-2
    ref = adam_l1_update_reference(W, G, m, v, L, c_w, c_syn, t, lr, 0.9, 0.999, 1e-8)
    for jit in (True, False):
        out = adam_l1_update(W, G, m, v, L, c_w, c_syn, t, lr, 0.9, 0.999, 1e-8, jit=jit)
        for a, b in zip(out[:3], ref[:3]):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(out[3:], ref[3:], rtol=1e-12)

    # against the engine gradient of the penalties and minidsn.optim.Adam
    def penalty(w):
        r = c_w * l1_weights(w)
        return r + c_syn * synaptic_length(w, L) if with_L else r

    g_total = G + grad(penalty)(W)
    opt = Adam(lr=lr)
    p2, s2 = opt.update({"W": g_total}, {"step": t - 1, "m": {"W": m}, "v": {"W": v}}, {"W": W})
    np.testing.assert_allclose(ref[0], p2["W"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ref[1], s2["m"]["W"], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ref[2], s2["v"]["W"], rtol=1e-12, atol=1e-15)
    assert np.isclose(c_w * ref[3] + c_syn * ref[4], float(penalty(W)), rtol=1e-12)


def test_fused_update_into_given_arrays():
    rng = np.random.default_rng(0)
    W, G, m, L = (rng.normal(size=(6, 6)) for _ in range(4))
    v = rng.random((6, 6))
    args = (W, G, m, v, L, 0.05, 0.02, 3, 1e-2, 0.9, 0.999, 1e-8)
    fresh = adam_l1_update(*args)
    out = tuple(np.full((6, 6), np.nan) for _ in range(3))
    got = adam_l1_update(*args, out=out)
    for a, b, o in zip(got[:3], fresh[:3], out):
        assert a is o
        np.testing.assert_array_equal(a, b)
    assert got[3:] == fresh[3:]
    for bad in ((W.copy(), m, np.empty((6, 6))),                     # an input as output
                (np.empty((6, 6)),) * 2 + (np.empty((6, 6)),),       # two outputs are one array
                (np.empty((6, 5)), np.empty((6, 6)), np.empty((6, 6))),
                (np.empty((6, 6), order="F"), np.empty((6, 6)), np.empty((6, 6)))):
        with pytest.raises(ValueError, match="out"):
            adam_l1_update(*args, out=bad)

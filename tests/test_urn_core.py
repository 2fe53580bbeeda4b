"""URN update rule (seed 002 eqs. 2, 3, 6, 7): plain-NumPy forward, its reverse pass, and the sparse path."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn.models.urn.core import (
    PHI_NAMES,
    embed_input,
    states_from_p,
    urn_iterate_forward,
    urn_iterate_vjp,
)


def _net(seed, S, B, d_in, scale=0.6):
    rng = np.random.default_rng(seed)
    W = rng.normal(0, scale, (S, S))
    b = rng.normal(0, 0.3, S)
    h0 = embed_input(rng.normal(0, 1, (B, d_in)), S)
    return W, b, h0, rng


def _direct_loop(W, b, x, n_iter, phi, res_out, res_in):
    """Literal per-sample, per-neuron transcription of eqs. 2, 3, 6, 7 (1-sample vectors, python loops)."""
    S = W.shape[0]
    outs = []
    for xs in x:
        n = np.zeros(S)
        n[: len(xs)] = xs
        traj = []
        for _ in range(n_iter):
            new = np.zeros(S)
            for i in range(S):
                a = sum(W[i, j] * n[j] for j in range(S)) + b[i]
                v = {"relu": max(a, 0.0), "tanh": np.tanh(a), "softplus": np.log1p(np.exp(a)),
                     "leaky_relu": a if a > 0 else 0.01 * a}[phi]
                if res_out and i >= S - 2:
                    v += n[i]
                if res_in and i < len(xs):
                    v += xs[i]
                new[i] = v
            n = new
            traj.append(n)
        outs.append(traj)
    return np.array(outs).transpose(1, 0, 2)  # (I, B, S)


@settings(max_examples=10)
@given(seed=st.integers(0, 10_000), phi=st.sampled_from(PHI_NAMES), res_out=st.booleans(), res_in=st.booleans())
def test_forward_matches_literal_equations(seed, phi, res_out, res_in):
    S, B, d_in, I = 7, 3, 3, 3
    W, b, h0, rng = _net(seed, S, B, d_in)
    x = h0[:, :d_in]
    ro = np.arange(S - 2, S) if res_out else None
    ri = np.arange(d_in) if res_in else None
    p = urn_iterate_forward(W, b, h0, n_iter=I, phi=phi, res_out_idx=ro, res_in_idx=ri)
    hs = states_from_p(p, h0, ro, ri)
    expect = _direct_loop(W, b, x, I, phi, res_out, res_in)
    np.testing.assert_allclose(np.stack(hs[1:]), expect, rtol=1e-10, atol=1e-12)


@settings(max_examples=20)
@given(seed=st.integers(0, 10_000), phi=st.sampled_from(PHI_NAMES), res_out=st.booleans(), res_in=st.booleans(),
       sparse=st.booleans())
def test_vjp_matches_finite_differences(seed, phi, res_out, res_in, sparse):
    S, B, d_in, I = 8, 3, 3, 3
    W, b, h0, rng = _net(seed, S, B, d_in)
    ro = np.arange(S - 2, S) if res_out else None
    ri = np.arange(d_in) if res_in else None
    kw = dict(n_iter=I, phi=phi, res_out_idx=ro, res_in_idx=ri, sparse=sparse)
    g = rng.normal(size=(I, B, S))
    p = urn_iterate_forward(W, b, h0, **kw)
    gW, gb, gh0 = urn_iterate_vjp(g, p, W, b, h0, **kw)
    dW, db, dh = rng.normal(size=W.shape), rng.normal(size=b.shape), rng.normal(size=h0.shape)
    eps = 1e-6
    f = lambda t: np.sum(g * urn_iterate_forward(W + t * dW, b + t * db, h0 + t * dh, **kw))
    fd = (f(eps) - f(-eps)) / (2 * eps)
    an = np.sum(gW * dW) + np.sum(gb * db) + np.sum(gh0 * dh)
    assert abs(fd - an) <= 1e-5 * (1 + abs(an))


@settings(max_examples=15)
@given(seed=st.integers(0, 10_000), res_out=st.booleans(), res_in=st.booleans())
def test_sparse_path_equals_dense(seed, res_out, res_in):
    # a net where most neurons are dead (large negative biases): the sparse path must give the dense results
    S, B, d_in, I = 40, 5, 4, 4
    W, b, h0, rng = _net(seed, S, B, d_in, scale=0.5)
    b[rng.random(S) < 0.8] = -50.0
    ro = np.arange(S - 2, S) if res_out else None
    ri = np.arange(d_in) if res_in else None
    kw = dict(n_iter=I, phi="relu", res_out_idx=ro, res_in_idx=ri)
    pd = urn_iterate_forward(W, b, h0, sparse=False, **kw)
    ps = urn_iterate_forward(W, b, h0, sparse=True, **kw)
    np.testing.assert_allclose(ps, pd, rtol=1e-12, atol=1e-12)
    g = rng.normal(size=pd.shape)
    for a, c in zip(urn_iterate_vjp(g, pd, W, b, h0, sparse=True, **kw),
                    urn_iterate_vjp(g, pd, W, b, h0, sparse=False, **kw)):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


@settings(max_examples=15)
@given(seed=st.integers(0, 10_000), res_out=st.booleans(), res_in=st.booleans(), sparse=st.booleans(),
       dead=st.booleans())
def test_vjp_without_input_gradient_and_into_given_array(seed, res_out, res_in, sparse, dead):
    # need_h0=False (training: N^(0) is data) skips dH_0 and must leave gW, gb bit-identical; gw_out receives gW
    S, B, d_in, I = 30, 4, 3, 3
    W, b, h0, rng = _net(seed, S, B, d_in, scale=0.5)
    if dead:
        b[rng.random(S) < 0.8] = -50.0
    kw = dict(n_iter=I, phi="relu", res_out_idx=np.arange(S - 2, S) if res_out else None,
              res_in_idx=np.arange(d_in) if res_in else None, sparse=sparse)
    p = urn_iterate_forward(W, b, h0, **kw)
    g = rng.normal(size=p.shape)
    gW, gb, gh0 = urn_iterate_vjp(g, p, W, b, h0, **kw)
    gW2, gb2, gh02 = urn_iterate_vjp(g, p, W, b, h0, need_h0=False, **kw)
    assert gh02 is None and gh0.shape == h0.shape
    np.testing.assert_array_equal(gW2, gW)
    np.testing.assert_array_equal(gb2, gb)
    buf = np.full((S, S), np.nan)  # old content must not leak into the result
    gW3, _, _ = urn_iterate_vjp(g, p, W, b, h0, need_h0=False, gw_out=buf, **kw)
    assert gW3 is buf
    np.testing.assert_array_equal(gW3, gW)


def test_vjp_rejects_a_bad_gw_out():
    W, b, h0, rng = _net(0, 6, 2, 2)
    p = urn_iterate_forward(W, b, h0, n_iter=2)
    g = rng.normal(size=p.shape)
    for bad in (np.empty((6, 5)), np.empty((6, 6), dtype=np.float32), np.empty((6, 6), order="F"), W):
        with pytest.raises(ValueError, match="gw_out"):
            urn_iterate_vjp(g, p, W, b, h0, n_iter=2, gw_out=bad)


def test_bad_inputs_are_named():
    W, b, h0, _ = _net(0, 5, 2, 2)
    with pytest.raises(ValueError, match="square"):
        urn_iterate_forward(W[:, :4], b, h0, n_iter=2)
    with pytest.raises(ValueError, match="b must have shape"):
        urn_iterate_forward(W, b[:3], h0, n_iter=2)
    with pytest.raises(ValueError, match="n_iter"):
        urn_iterate_forward(W, b, h0, n_iter=0)
    with pytest.raises(ValueError, match="unknown activation"):
        urn_iterate_forward(W, b, h0, n_iter=1, phi="gelu")
    with pytest.raises(ValueError, match="NaN"):
        embed_input(np.array([[np.nan, 1.0]]), 5)
    with pytest.raises(ValueError, match="exceeds"):
        embed_input(np.ones((1, 6)), 5)

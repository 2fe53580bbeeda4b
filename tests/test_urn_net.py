"""URN loss (seed 002 eqs. 2-9) through the engine: kernel path == engine reference path, check_grads."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn.engine import value_and_grad
from minidsn.models.urn.net import (
    UrnSpec,
    grid_length_weights,
    init_params,
    last_output_nodes,
    loss_terms,
    top_centre_output_nodes,
)
from minidsn.testing import check_grads


def _setup(seed, phi="relu", res_out=False, res_in=False, c_syn=0.03):
    plane, depth = (3,), 4  # 12 neurons on a 3 x 4 grid; inputs = the z = 0 row
    S = 12
    spec = UrnSpec(n_neurons=S, n_iter=3, d_in=3, output_idx=last_output_nodes(S, 2), phi=phi,
                   residual_out=res_out, residual_in=res_in, c_w=0.01, c_n=0.02, c_syn=c_syn,
                   length_weights=grid_length_weights(plane, depth, beta=2.0, gamma=1.5))
    rng = np.random.default_rng(seed)
    params = init_params(spec, rng, init_std=0.6)
    params["b"] = rng.normal(0, 0.2, S)
    x = rng.normal(size=(4, 3))
    y = np.eye(2)[rng.integers(0, 2, 4)]
    return spec, params, x, y


def _loss(path, spec, x, y):
    return lambda p: loss_terms(p, x, y, spec, path)[0]


@settings(max_examples=12)
@given(seed=st.integers(0, 2**31), phi=st.sampled_from(["relu", "leaky_relu", "softplus", "tanh"]),
       res_out=st.booleans(), res_in=st.booleans(), sparse=st.booleans())
def test_kernel_path_equals_reference_path(seed, phi, res_out, res_in, sparse):
    spec, params, x, y = _setup(seed, phi, res_out, res_in)
    spec.sparse = sparse
    vk, gk = value_and_grad(_loss("kernel", spec, x, y))(params)
    vr, gr = value_and_grad(_loss("reference", spec, x, y))(params)
    assert np.isclose(vk, vr, rtol=1e-12)
    for k in ("W", "b"):
        np.testing.assert_allclose(gk[k], gr[k], rtol=1e-9, atol=1e-12)


@settings(max_examples=6)
@given(seed=st.integers(0, 2**31), res_out=st.booleans(), res_in=st.booleans())
def test_check_grads_small_net_every_term(seed, res_out, res_in):
    spec, params, x, y = _setup(seed, "softplus", res_out, res_in)  # smooth phi: finite differences are exact
    check_grads(_loss("kernel", spec, x, y), [params], rtol=1e-5, atol=1e-7)
    check_grads(_loss("reference", spec, x, y), [params], order=2, rtol=1e-4, atol=1e-6)


def test_check_grads_relu():
    spec, params, x, y = _setup(1, "relu", True, True)
    check_grads(_loss("kernel", spec, x, y), [params], rtol=1e-5, atol=1e-7)


def test_loss_terms_values():
    spec, params, x, y = _setup(5)
    total, t = loss_terms(params, x, y, spec, "kernel")
    W = params["W"]
    hs = t["states"]
    assert np.isclose(t["l1_w"], np.abs(W).sum())
    assert np.isclose(t["l1_n"], sum(np.abs(h).sum() for h in hs[1:]) / x.shape[0])
    assert np.isclose(t["syn"], np.sum(np.abs(W) * spec.length_weights))
    z = t["logits"]
    ce = np.mean(np.log(np.exp(z).sum(1)) - (z * y).sum(1))
    assert np.isclose(t["ce"], ce)
    assert np.isclose(total, ce + 0.01 * t["l1_w"] + 0.02 * t["l1_n"] + 0.03 * t["syn"])
    np.testing.assert_array_equal(z, hs[-1][:, [11, 10]])  # eq. 4: yhat_k = N_{S-1-k}


def test_output_nodes_and_errors():
    idx = top_centre_output_nodes((5, 5), 3, 1)
    assert list(idx) == [50 + 12]  # centre of the top 5 x 5 plane
    assert len(top_centre_output_nodes((6, 6), 2, 10)) == 10
    with pytest.raises(ValueError, match="positions"):
        UrnSpec(n_neurons=4, n_iter=1, d_in=2, output_idx=[3], c_syn=1.0)
    with pytest.raises(ValueError, match="d_in"):
        UrnSpec(n_neurons=4, n_iter=1, d_in=5, output_idx=[3])
    spec, params, x, y = _setup(0)
    with pytest.raises(ValueError, match="one-hot"):
        loss_terms(params, x, y[:, :1], spec)
    with pytest.raises(ValueError, match="d_in"):
        loss_terms(params, x[:, :2], y, spec)

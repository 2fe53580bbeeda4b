"""DNM DAG kernels as engine primitives: value and gradient against the engine reference, check_grads, JIT off."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.engine import EngineError, grad, value_and_grad
from minidsn.testing.compare import assert_close_scaled as assert_close
from minidsn.models.dnm import dag_kernels as dag
from minidsn.models.dnm.dag_primitive import dag_dense, dag_engine_reference, dag_sparse
from minidsn.testing import check_grads


@st.composite
def cases(draw, max_comp=8):
    n_in = draw(st.integers(1, 5))
    n_out = draw(st.integers(1, 3))
    n_comp = draw(st.integers(0, max_comp))
    B = draw(st.integers(1, 4))
    density = draw(st.sampled_from([0.0, 0.1, 0.4, 1.0]))
    activation = draw(st.sampled_from(dag.ACTIVATIONS))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    N = n_in + n_comp + n_out
    mask = dag.allowed_mask(N, n_in, n_out)
    shape = (N - n_in, N - n_out)
    d = np.where(mask & (rng.random(shape) < density), rng.uniform(-1, 1, shape), 0.0)
    args = [d, rng.normal(size=shape[1]), rng.normal(size=shape[1]), rng.normal(size=(B, n_in))]
    target = rng.normal(size=(B, n_out))
    return dict(args=args, target=target, n_in=n_in, n_out=n_out, activation=activation)


def losses(c, jit=True):
    n_in, n_out, t, act = c["n_in"], c["n_out"], c["target"], c["activation"]
    ip, ix = dag.live_structure(c["args"][0], n_in, n_out)
    return {
        "dense": lambda d, w, b, x: (
            (dag_dense(d, w, b, x, n_in=n_in, n_out=n_out, jit=jit, activation=act) - t) ** 2
        ).sum(),
        "sparse": lambda d, w, b, x: (
            (dag_sparse(d, w, b, x, n_in=n_in, n_out=n_out, indptr=ip, indices=ix, jit=jit, activation=act) - t) ** 2
        ).sum(),
        "engine": lambda d, w, b, x: ((dag_engine_reference(d, w, b, x, n_in, n_out, activation=act) - t) ** 2).sum(),
    }


@pytest.mark.parametrize("activation", dag.ACTIVATIONS)
@settings(max_examples=15)
@given(c=cases())
def test_primitives_match_engine_reference(c, activation):
    c = dict(c, activation=activation)
    fs = losses(c)
    vg = {k: value_and_grad(f, argnums=(0, 1, 2, 3))(*c["args"]) for k, f in fs.items()}
    ref_val, ref_grads = vg["engine"]
    live = c["args"][0] != 0
    for k in ("dense", "sparse"):
        val, grads = vg[k]
        assert_close(val, ref_val, f"{k} value")
        gd, rgd = grads[0], ref_grads[0]
        if k == "sparse":  # the sparse function ignores d off the live set: its gradient there is 0
            assert np.all(gd[~live] == 0)
            gd, rgd = gd[live], rgd[live]
        assert_close(gd, rgd, f"{k} grad d")
        for name, a, r in zip("wbx", grads[1:], ref_grads[1:]):
            assert_close(a, r, f"{k} grad {name}")


@settings(max_examples=8)
@given(cases(max_comp=5))
def test_primitives_pass_check_grads(c):
    for k, f in losses(c).items():
        check_grads(f, c["args"], rtol=1e-5, atol=1e-7)


@settings(max_examples=8)
@given(cases(max_comp=5))
def test_jit_off_path_matches(c):
    on, off = losses(c, jit=True), losses(c, jit=False)
    for k in ("dense", "sparse"):
        v1, g1 = value_and_grad(on[k], argnums=(0, 1, 2, 3))(*c["args"])
        v0, g0 = value_and_grad(off[k], argnums=(0, 1, 2, 3))(*c["args"])
        assert_close(v0, v1, f"{k} value")
        for a, r in zip(g0, g1):
            assert_close(a, r, f"{k} grads")


def test_second_order_through_kernel_is_a_clear_error():
    rng = np.random.default_rng(0)
    d = np.where(dag.allowed_mask(8, 2, 2), rng.uniform(-1, 1, (6, 6)), 0.0)
    w, b, x = rng.normal(size=6), rng.normal(size=6), rng.normal(size=(3, 2))

    def f(w):
        return (dag_dense(d, w, b, x, n_in=2, n_out=2) ** 2).sum()

    with pytest.raises(EngineError, match="second derivative"):
        grad(lambda w: grad(f)(w).sum())(w)
    # the engine reference supports it
    g2 = grad(lambda w: grad(lambda w: (dag_engine_reference(d, w, b, x, 2, 2) ** 2).sum())(w).sum())(w)
    assert g2.shape == w.shape and np.all(np.isfinite(g2))

"""DNM DAG kernels (minidsn.models.dnm.dag_kernels): compiled dense and sparse kernels against the NumPy references."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.testing.compare import assert_close_scaled as assert_close
from minidsn.models.dnm import dag_kernels as dag


@st.composite
def dags(draw, max_comp=10):
    n_in = draw(st.integers(1, 6))
    n_out = draw(st.integers(1, 4))
    n_comp = draw(st.integers(0, max_comp))
    B = draw(st.integers(1, 5))
    density = draw(st.sampled_from([0.0, 0.05, 0.3, 0.7, 1.0]))
    activation = draw(st.sampled_from(dag.ACTIVATIONS))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    N = n_in + n_comp + n_out
    n_rows, n_src = N - n_in, N - n_out
    mask = dag.allowed_mask(N, n_in, n_out)
    d = rng.uniform(-1, 1, size=(n_rows, n_src)) * (rng.random((n_rows, n_src)) < density)
    d = np.where(mask, d, 0.0)
    w = rng.normal(size=n_src)
    b = rng.normal(size=n_src)
    x = rng.normal(size=(B, n_in))
    g = rng.normal(size=(B, n_out))
    return dict(d=d, w=w, b=b, x=x, g=g, n_in=n_in, n_out=n_out, mask=mask, rng=rng, activation=activation)


def run_dense(c, jit=True):
    act = c["activation"]
    out, cache = dag.dense_forward(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"], jit=jit, activation=act)
    grads = dag.dense_backward(c["g"], c["d"], c["w"], c["n_in"], cache, jit=jit, activation=act)
    return out, grads


def run_sparse(c, jit=True, structure=None):
    ip, ix = structure if structure is not None else dag.live_structure(c["d"], c["n_in"], c["n_out"])
    act = c["activation"]
    out, cache = dag.sparse_forward(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"], ip, ix, jit=jit,
                                    activation=act)
    grads = dag.sparse_backward(c["g"], c["d"], c["w"], c["n_in"], ip, ix, cache, jit=jit, activation=act)
    return out, grads


def reference(c):
    act = c["activation"]
    out = dag.forward_reference(c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"], activation=act)
    grads = dag.backward_reference(c["g"], c["d"], c["w"], c["b"], c["x"], c["n_in"], c["n_out"], activation=act)
    return out, grads


@pytest.mark.parametrize("activation", dag.ACTIVATIONS)
@settings(max_examples=25)
@given(c=dags())
def test_dense_kernel_equals_reference(c, activation):
    c = dict(c, activation=activation)
    out, grads = run_dense(c)
    rout, rgrads = reference(c)
    assert_close(out, rout, "forward")
    for name, a, r in zip("d w b x".split(), grads, rgrads):
        assert_close(a, r, f"grad {name}")


@pytest.mark.parametrize("activation", dag.ACTIVATIONS)
@settings(max_examples=25)
@given(c=dags())
def test_sparse_kernel_equals_reference(c, activation):
    c = dict(c, activation=activation)
    out, grads = run_sparse(c)
    rout, rgrads = reference(c)
    assert_close(out, rout, "forward")
    live = c["d"] != 0
    gd = grads[0]
    assert np.all(gd[~live] == 0.0), "sparse kernel: gradient for d must vanish off the live structure"
    assert_close(gd[live], rgrads[0][live], "grad d on live entries")
    for name, a, r in zip("w b x".split(), grads[1:], rgrads[1:]):
        assert_close(a, r, f"grad {name}")


@settings(max_examples=20)
@given(dags())
def test_sparse_over_all_allowed_entries_equals_dense(c):
    # the full allowed structure (zeros included) makes the sparse function the dense one, gradient included
    mask = c["mask"]
    indptr = np.concatenate([[0], np.cumsum(mask.sum(axis=1))]).astype(np.int64)
    indices = np.nonzero(mask)[1].astype(np.int64)
    out, grads = run_sparse(c, structure=(indptr, indices))
    dout, dgrads = run_dense(c)
    assert_close(out, dout, "forward")
    for name, a, r in zip("d w b x".split(), grads, dgrads):
        assert_close(a, r, f"grad {name}")


@settings(max_examples=15)
@given(dags(max_comp=6))
def test_jit_off_matches_jit_on(c):
    for runner in (run_dense, run_sparse):
        out, grads = runner(c, jit=True)
        out0, grads0 = runner(c, jit=False)
        assert_close(out0, out, f"{runner.__name__} forward, JIT off")
        for a, r in zip(grads0, grads):
            assert_close(a, r, f"{runner.__name__} grads, JIT off")


@settings(max_examples=15)
@given(dags(max_comp=5))
def test_disallowed_entries_are_ignored(c):
    junk = np.where(c["mask"], c["d"], c["rng"].uniform(-1, 1, size=c["d"].shape))
    out, grads = run_dense(dict(c, d=junk))
    rout, rgrads = run_dense(c)
    assert_close(out, rout, "forward")
    assert np.all(grads[0][~c["mask"]] == 0.0)
    assert_close(grads[0], rgrads[0], "grad d")


@pytest.mark.parametrize("activation", dag.ACTIVATIONS)
@settings(max_examples=8)
@given(c=dags(max_comp=5))
def test_reference_backward_matches_finite_differences(c, activation):
    c = dict(c, activation=activation)
    # the reference VJP is itself checked against central differences of the reference forward
    eps = 1e-6
    args = [c["d"], c["w"], c["b"], c["x"]]
    act = c["activation"]
    gref = dag.backward_reference(c["g"], *args, c["n_in"], c["n_out"], activation=act)

    def f(*a):
        return float(np.sum(dag.forward_reference(*a, c["n_in"], c["n_out"], activation=act) * c["g"]))

    rng = c["rng"]
    for k, a in enumerate(args):
        cand = np.argwhere(c["mask"]) if k == 0 else np.argwhere(np.ones(a.shape, bool))
        for idx in cand[rng.choice(len(cand), size=min(3, len(cand)), replace=False)]:
            idx = tuple(idx)
            ap = [x.copy() for x in args]
            am = [x.copy() for x in args]
            ap[k][idx] += eps
            am[k][idx] -= eps
            fd = (f(*ap) - f(*am)) / (2 * eps)
            assert abs(fd - gref[k][idx]) <= 1e-5 * (1 + abs(fd)), (k, idx, fd, gref[k][idx])


def test_sigmoid_network_by_hand():
    # N = 3: input 0, computational 1, output 2. o1 = d10 act(z0); out = d20 z0 + d21 z1 (outputs: no activation)
    d = np.array([[0.7, 0.0], [-0.4, 0.9]])
    w, b, x = np.array([1.3, -0.8]), np.array([0.2, 0.5]), np.array([[0.6], [-2.0]])
    z0 = w[0] * x[:, 0] + b[0]
    for act, f in (("sigmoid", lambda z: 1 / (1 + np.exp(-z))), ("leaky_relu", lambda z: np.where(z > 0, z, 0.2 * z))):
        z1 = w[1] * (0.7 * f(z0)) + b[1]
        want = (-0.4 * z0 + 0.9 * z1)[:, None]
        for out in (dag.forward_reference(d, w, b, x, 1, 1, activation=act),
                    dag.dense_forward(d, w, b, x, 1, 1, activation=act)[0]):
            np.testing.assert_allclose(out, want, rtol=1e-14, atol=1e-15)
    lk = dag.dense_forward(d, w, b, x, 1, 1)[0]
    sg = dag.dense_forward(d, w, b, x, 1, 1, activation="sigmoid")[0]
    assert not np.allclose(lk, sg)  # the option changes the function
    with pytest.raises(ValueError, match="activation must be one of"):
        dag.dense_forward(d, w, b, x, 1, 1, activation="tanh")


def test_allowed_count_closed_form():
    assert dag.allowed_count(25, 5, 4) == 284
    assert dag.allowed_count(1000, 784, 10) == 192_519
    for N, ni, no in [(25, 5, 4), (12, 3, 2), (9, 1, 1), (1000, 784, 10), (7, 3, 4)]:
        assert dag.allowed_mask(N, ni, no).sum() == dag.allowed_count(N, ni, no)


def test_bad_inputs_are_named():
    rng = np.random.default_rng(0)
    d, w, b, x = rng.normal(size=(6, 7)), rng.normal(size=7), rng.normal(size=7), rng.normal(size=(2, 3))
    dag.dense_forward(d, w, b, x, 3, 2)  # N = 9 fits
    with pytest.raises(ValueError, match="does not fit"):
        dag.dense_forward(d, w, b, x, 3, 3)
    with pytest.raises(ValueError, match="w and b"):
        dag.dense_forward(d, w[:-1], b, x, 3, 2)
    with pytest.raises(ValueError, match=r"x must have shape"):
        dag.dense_forward(d, w, b, x[:, :2], 3, 2)
    bad = d.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="d contains NaN"):
        dag.dense_forward(bad, w, b, x, 3, 2)
    with pytest.raises(TypeError, match="float64"):
        dag.dense_forward(d.astype(np.float32), w, b, x, 3, 2)
    ip, ix = dag.live_structure(d, 3, 2)
    with pytest.raises(ValueError, match="indptr"):
        dag.sparse_forward(d, w, b, x, 3, 2, ip[:-1], ix)

"""DiffRNN G1: the first code's multiplier gradient dm = sum_t (Wiy^T dy_t) * m (+ T A sign m), a bug fixed in G2.

The reference below is a literal transcription of G1's lossFun backward loop (ThomasMiconi/DiffRNN@8803ff8
rnn.py:101-120) in NumPy, one time step at a time; minidsn's g1 variant must give the same multiplier gradient from
both backends, and everything else exactly as G2.
"""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.models.diffrnn import cycle as cyc
from minidsn.models.diffrnn.loss import g1_multiplier_gradient, loss_and_grads
from minidsn.models.diffrnn.model import DiffRNNModel

from tests.test_diffrnn import _run, make_params


def g1_lossfun_dm(params, s0, inputs, targets, A):
    """G1's dmultips, step by step as its code computes it (column vectors, the code's names)."""
    Wxh, Whh, Wiy, bh, by, m = (params[k] for k in ("Wxh", "Whh", "Wiy", "bh", "by", "m"))
    V, H = Wiy.shape
    hs, ps = {-1: s0}, {}
    for t, ix in enumerate(inputs):
        x = np.zeros(V)
        x[ix] = 1.0
        hs[t] = np.tanh(Wxh @ x + Whh @ hs[t - 1] + bh)
        y = Wiy @ (m * hs[t]) + by
        ps[t] = np.exp(y - y.max()) / np.sum(np.exp(y - y.max()))
    dm = np.zeros(H)
    for t in reversed(range(len(inputs))):
        dy = ps[t].copy()
        dy[targets[t]] -= 1.0
        dintoy = Wiy.T @ dy
        dm += 1.0 * dintoy * m + A * np.sign(m)
    return dm


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**31), H=st.integers(1, 9), T=st.integers(1, 40), A=st.sampled_from([0.0, 3e-5, 1e-2]))
def test_g1_multiplier_gradient_equals_the_g1_code(seed, H, T, A):
    params, s0, inputs, targets = make_params(seed, H, T=T)
    for path in ("engine", "kernel"):
        _, _, grads = loss_and_grads(params, s0, inputs, targets, l1=A, path=path)
        got = g1_multiplier_gradient(params, grads, A, T)
        want = g1_lossfun_dm(params, s0, inputs, targets, A)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-13)


def test_g1_differs_from_g2_only_in_the_multiplier_gradient():
    params, s0, inputs, targets = make_params(3, 6)
    _, _, grads = loss_and_grads(params, s0, inputs, targets, l1=3e-5, path="kernel")
    g1 = g1_multiplier_gradient(params, grads, 3e-5, len(inputs))
    assert not np.allclose(g1, grads["m"])  # h_t != m: the bug changes the direction
    s1, m1, _ = _run({"variant": "g1", "p_add": 0.5, "p_del": 0.5}, 3)
    s2, m2, _ = _run({"variant": "g2", "p_add": 0.5, "p_del": 0.5}, 3)
    assert m1[0]["loss"] == m2[0]["loss"]  # the first window's loss is computed before any update
    assert not np.array_equal(s1["params"]["m"], s2["params"]["m"])
    # one cycle without structural changes: every parameter but m gets the same (correct) gradient, so after the
    # first update they are equal to the bit, and m is not
    o1, _, _ = _run({"variant": "g1", "structure": False}, 1)
    o2, _, _ = _run({"variant": "g2", "structure": False}, 1)
    for k in ("Wxh", "Whh", "Wiy", "bh", "by"):
        assert s1["params"][k].shape == s2["params"][k].shape
        assert np.array_equal(o1["params"][k], o2["params"][k]), k
    assert not np.array_equal(o1["params"]["m"], o2["params"]["m"])


@pytest.mark.parametrize("backend", ["fused", "kernel"])
def test_g1_runs_and_grows(backend):
    """G1 grows more slowly than G2 (its reserve neuron's multiplier is driven by dq * m, here to the floor), but
    the structural machinery is G2's: an addition happens, the floor holds, shapes stay consistent."""
    state, mets, cfg = _run({"variant": "g1", "backend": backend, "p_add": 0.5, "p_del": 0.5, "l1": 3e-3}, 80)
    H = state["carried"].shape[0]
    assert state["n_added"] >= 1 and max(m["hidden_size"] for m in mets) >= 2
    assert state["params"]["Whh"].shape == (H, H) and state["opt"]["sum_sq"]["m"].shape == (H,)
    assert np.all(state["params"]["m"] >= cfg["m_min"])


def test_g1_fused_and_kernel_backends_agree():
    over = {"variant": "g1", "task": "hard", "p_add": 0.5, "p_del": 0.5, "l1": 3e-3}
    sf, mf, _ = _run(dict(over, backend="fused"), 40)
    sk, mk, _ = _run(dict(over, backend="kernel"), 40)
    assert [m["hidden_size"] for m in mf] == [m["hidden_size"] for m in mk]
    for k in sf["params"]:
        assert np.allclose(sf["params"][k], sk["params"][k], rtol=1e-9, atol=1e-12)


def test_g1_switches_hard_easy_at_100k_as_its_code():
    cfg = DiffRNNModel().validate_config({"variant": "g1", "task": "hard-easy"})
    assert cyc.task_schedule(cfg)[1] == (100_000,)
    cfg = DiffRNNModel().validate_config({"variant": "g2", "task": "hard-easy"})
    assert cyc.task_schedule(cfg)[1] == (150_000,)

"""The DiffRNN window kernel (minidsn.models.diffrnn.window_kernel): Numba == NumPy reference == JIT-off, gradients vs finite
differences (plain NumPy, central differences), bad input named."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.models.diffrnn.window_kernel import check_window_args, window_fwd_bwd, window_fwd_bwd_ref

NAMES = ("Wxh", "Whh", "m", "Wiy", "bh", "by", "s0")


def make_case(seed, H, V=4, T=40, scale=0.5):
    rng = np.random.default_rng(seed)
    args = [
        scale * rng.standard_normal((H, V)),
        scale * rng.standard_normal((H, H)),
        rng.uniform(0.02, 1.5, H),
        scale * rng.standard_normal((V, H)),
        0.1 * rng.standard_normal(H),
        0.1 * rng.standard_normal(V),
        np.tanh(rng.standard_normal(H)),
    ]
    inputs = rng.integers(0, V, T)
    targets = rng.integers(0, V, T)
    return args, inputs, targets, rng


def assert_close(a, b, rtol=1e-12):
    a, b = np.asarray(a), np.asarray(b)
    scale = max(np.max(np.abs(b)), 1e-300)
    assert np.allclose(a, b, rtol=rtol, atol=rtol * scale), np.max(np.abs(a - b)) / scale


@given(seed=st.integers(0, 10**6), H=st.integers(1, 12), T=st.integers(1, 40), gate=st.booleans(),
       gl=st.floats(-2, 2), cot=st.booleans())
@settings(max_examples=40)
def test_kernel_matches_reference(seed, H, T, gate, gl, cot):
    args, inputs, targets, rng = make_case(seed, H, T=T)
    g_s = rng.standard_normal(H) if cot else np.zeros(H)
    lr, sr, gr = window_fwd_bwd_ref(*args, inputs, targets, gate, gl, g_s, True)
    lk, sk, gk = window_fwd_bwd(*args, inputs, targets, gate, gl, g_s, True)
    assert_close(lk, lr)
    assert_close(sk, sr)
    for name, a, b in zip(NAMES, gk, gr):
        assert a.shape == b.shape, name
        assert_close(a, b)
    # forward-only call gives the same loss and state and no gradients
    l2, s2, g2 = window_fwd_bwd(*args, inputs, targets, gate, want_grads=False)
    assert g2 is None and l2 == lk and np.array_equal(s2, sk)


def test_jit_off_matches_jit():
    args, inputs, targets, _ = make_case(3, 5, T=7)
    for gate in (False, True):
        a = window_fwd_bwd(*args, inputs, targets, gate)
        b = window_fwd_bwd.py_func(*args, inputs, targets, gate)
        assert_close(a[0], b[0])
        assert_close(a[1], b[1])
        for x, y in zip(a[2], b[2]):
            assert_close(x, y)


@pytest.mark.parametrize("gate", [False, True])
@pytest.mark.parametrize("H", [1, 3])
def test_gradients_vs_finite_differences(gate, H):
    args, inputs, targets, rng = make_case(11 + H, H, T=9)
    gl = 0.7
    g_s = rng.standard_normal(H)

    def objective(arglist):
        loss, s_last, _ = window_fwd_bwd_ref(*arglist, inputs, targets, gate, 0.0, np.zeros(H), False)
        return gl * loss + g_s @ s_last

    _, _, grads = window_fwd_bwd(*args, inputs, targets, gate, gl, g_s, True)
    eps = 1e-6
    for k, name in enumerate(NAMES):
        num = np.zeros_like(args[k])
        for idx in np.ndindex(args[k].shape):
            plus = [a.copy() for a in args]
            minus = [a.copy() for a in args]
            plus[k][idx] += eps
            minus[k][idx] -= eps
            num[idx] = (objective(plus) - objective(minus)) / (2 * eps)
        assert np.allclose(grads[k], num, rtol=1e-6, atol=1e-8), (name, grads[k], num)


def test_bad_input_is_named():
    args, inputs, targets, _ = make_case(0, 3, T=5)
    bad = list(args)
    bad[1] = np.zeros((3, 2))
    with pytest.raises(ValueError, match="Whh"):
        check_window_args(*bad, inputs, targets)
    bad = list(args)
    bad[2] = args[2].copy()
    bad[2][0] = np.nan
    with pytest.raises(ValueError, match="m contains NaN"):
        check_window_args(*bad, inputs, targets)
    with pytest.raises(ValueError, match="targets"):
        check_window_args(*args, inputs, targets + 4)
    with pytest.raises(ValueError, match="same non-zero length"):
        check_window_args(*args, inputs, targets[:-1])
    check_window_args(*args, inputs, targets)

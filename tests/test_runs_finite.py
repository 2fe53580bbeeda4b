"""The NaN/inf guard's chunked test equals np.all(np.isfinite(...)) and the guard names the first bad entry."""

import numpy as np
from hypothesis import given, settings, strategies as st

from minidsn.runs import finite
from minidsn.runs.finite import all_finite, first_nonfinite_leaf


@settings(max_examples=40)
@given(n=st.integers(0, 3 * finite._CHUNK + 5), bad=st.lists(st.integers(0, 10**9), max_size=3),
       value=st.sampled_from([np.nan, np.inf, -np.inf]), layout=st.sampled_from(["c", "strided", "f32"]))
def test_all_finite_equals_numpy(n, bad, value, layout):
    a = np.linspace(-1e308, 1e308, n)  # huge but finite values must pass
    for i in bad:
        if n:
            a[i % n] = value
    if layout == "strided":
        a = a[::2]
    elif layout == "f32":
        a = (a / 1e300).astype(np.float32)  # NaN and inf survive the cast, the rest stays finite
    assert all_finite(a) == bool(np.all(np.isfinite(a)))


def test_guard_names_the_first_bad_entry_in_a_large_array():
    state = {"W": np.zeros((300, 400)), "m": np.ones(5)}
    state["W"][299, 398] = np.inf
    msg = first_nonfinite_leaf(state)
    assert msg.startswith("state['W'] (shape (300, 400)) has 1 non-finite entries, first at index (299, 398): inf")
    state["W"][299, 398] = 1.0
    assert first_nonfinite_leaf(state) is None

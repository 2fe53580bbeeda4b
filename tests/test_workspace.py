"""SpareArrays: an offered array is handed back for rewriting only when nothing else refers to it."""

import numpy as np

from minidsn.kernels.workspace import SpareArrays


def test_unreferenced_array_is_reused():
    sp = SpareArrays()
    a = np.ones((3, 4))
    ident = id(a)
    sp.offer("x", a)
    del a
    b = sp.take("x", (3, 4))
    assert id(b) == ident
    assert sp.take("x", (3, 4)) is not b  # taken once: the next take allocates


def test_array_still_held_elsewhere_is_not_reused():
    sp = SpareArrays()
    a = np.ones((3, 4))
    kept = {"state": a}
    sp.offer("x", a)
    del a
    b = sp.take("x", (3, 4))
    assert b is not kept["state"]
    np.testing.assert_array_equal(kept["state"], 1.0)

    c = np.ones((3, 4))
    view = c[1:]
    sp.offer("y", c)
    del c
    d = sp.take("y", (3, 4))
    assert not np.may_share_memory(d, view)


def test_shape_dtype_layout_and_avoid_are_respected():
    import weakref

    sp = SpareArrays()
    makers = {"ok": lambda: np.ones((3, 4)), "shape": lambda: np.ones((4, 3)),
              "dtype": lambda: np.ones((3, 4), dtype=np.float32), "layout": lambda: np.ones((3, 4), order="F")}
    for kind, make in makers.items():
        sp.offer("x", make())  # the pool holds the only reference
        ref = weakref.ref(sp._held["x"])
        got = sp.take("x", (3, 4))
        assert got.shape == (3, 4) and got.dtype == np.float64 and got.flags.c_contiguous
        assert (ref() is got) == (kind == "ok"), kind
    a = np.ones(5)
    sp.offer("x", a)
    assert sp.take("x", (5,), avoid=(a,)) is not a

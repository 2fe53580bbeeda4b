"""V-values: vector-space laws, agreement with dense computations, conversions, immutability, errors."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.vvalue import (
    NUMBER,
    VValue,
    add,
    allclose,
    dot,
    from_dense,
    from_dict,
    from_json,
    lincomb,
    max_norm,
    scale,
    to_dense,
    to_dict,
    vsum,
)

LABELS = st.sampled_from(["a", "b", "c", NUMBER])
# Small integers as floats: sums and products are exact, so laws can be tested with ==.
INTS = st.integers(-6, 6).map(float)


def trees(leaf=INTS, depth=3):
    return st.recursive(leaf, lambda kids: st.dictionaries(LABELS, kids, max_size=3), max_leaves=8).map(
        lambda t: VValue(t if isinstance(t, dict) else {"a": t})
    )


def _dense_pair(*vs):
    """Dense vectors of several V-values over the union of their (number-normalised) leaf paths."""
    from minidsn.vvalue.algebra import _vector_paths

    paths = sorted(set().union(*[_vector_paths(v) for v in vs]))
    return paths, [np.array([_vector_paths(v).get(p, 0.0) for p in paths]) for v in vs]


@given(trees(), trees())
def test_sum_commutes(a, b):
    assert a + b == b + a


@given(trees(), trees(), trees())
def test_sum_associates(a, b, c):
    assert (a + b) + c == a + (b + c)


@given(trees())
def test_zero_and_inverse(a):
    assert a + VValue() == a
    assert len(a - a) == 0  # exact cancellation drops every leaf and every emptied subtree
    assert len(scale(0.0, a)) == 0


@given(trees(), trees(), INTS, INTS)
def test_distributive_laws(a, b, c, d):
    assert c * (a + b) == c * a + c * b
    assert (c + d) * a == c * a + d * a
    assert (c * d) * a == c * (d * a)


@given(trees(), trees(), st.floats(-3, 3))
def test_ops_agree_with_dense(a, b, c):
    paths, (da, db) = _dense_pair(a, b)
    s = a + b
    ps, (ds, da2, db2) = _dense_pair(s, a, b)
    np.testing.assert_allclose(ds, da2 + db2)
    pc, (dc, da3) = _dense_pair(scale(c, a), a)
    np.testing.assert_allclose(dc, c * da3, atol=1e-12)
    assert dot(a, b) == pytest.approx(float(da @ db))
    assert max_norm(a) == pytest.approx(max([0.0] + list(np.abs(da))))


@given(st.dictionaries(st.sampled_from(["p", "q", "r"]), trees(), max_size=3),
       st.dictionaries(st.sampled_from(["p", "q", "r", "s"]), INTS, max_size=4))
def test_lincomb_agrees_with_dense(rows, weights):
    m = VValue({k: v for k, v in rows.items()})
    mask = VValue(weights)
    got = lincomb(mask, m)
    want = vsum([scale(w, m[k]) for k, w in mask.items() if k in m])
    assert got == want
    # the same as a dense matrix-vector product over a common path layout
    comps = [m[k] if k in m else VValue() for k in ["p", "q", "r"]]
    paths, dense = _dense_pair(got, *comps)
    w = np.array([mask.number_at(k) if k in mask else 0.0 for k in ["p", "q", "r"]])
    np.testing.assert_allclose(dense[0], sum(wi * di for wi, di in zip(w, dense[1:])), atol=1e-12)


def test_lincomb_prefix_and_number_rules():
    m = VValue({"n": {"f": {"x": 1.0, "y": 2.0}, "g": 3.0}})
    assert lincomb(VValue({"n": {"f": 2.0}}), m) == VValue({"x": 2.0, "y": 4.0})
    assert lincomb(VValue({"n": {"g": 2.0}}), m) == VValue({NUMBER: 6.0})  # a reached leaf is a number
    assert lincomb(VValue({"n": 1.0}), m) == m["n"]  # a mask leaf at a prefix takes the whole subtree
    assert len(lincomb(VValue({"missing": 5.0}), m)) == 0


def test_number_beside_map_and_sparsity():
    v = VValue({"a": 3.5}) + VValue({"a": {"b": 7.0}})
    assert v.to_dict() == {"a": {NUMBER: 3.5, "b": 7.0}}
    assert VValue({"a": 0.0, "b": {"c": 0.0}, "d": np.zeros(3)}).to_dict() == {}
    assert VValue({"a": 1.0}) == VValue({"a": {NUMBER: 1.0}})
    assert VValue(2.0).to_dict() == {NUMBER: 2.0}


def test_array_leaves():
    a = VValue({"w": np.arange(3.0), "s": 1.0})
    b = VValue({"w": np.ones(3)})
    np.testing.assert_array_equal((a + b)["w"], np.arange(3.0) + 1)
    assert dot(a, b) == 3.0
    assert max_norm(a) == 2.0
    with pytest.raises(ValueError, match="shapes"):
        a + VValue({"w": np.ones(2)})
    with pytest.raises(ValueError):  # stored arrays are read-only: immutability from the user's side
        a["w"][0] = 5.0


def test_immutable_and_repr():
    v = VValue({"b": 2.0, "a": {"z": 1.0}})
    with pytest.raises(AttributeError):
        v.x = 1
    assert list(v) == ["a", "b"]  # canonical order
    assert repr(v) == "VValue({'a': {'z': 1.0}, 'b': 2.0})"
    assert v.paths() == [(("a", "z"), 1.0), (("b",), 2.0)]
    assert v.get(("a", "z")) == 1.0 and v.get(("a", "q")) is None
    assert v.get(("b", NUMBER)) == 2.0


@given(trees())
def test_dict_json_dense_roundtrip(a):
    assert from_dict(to_dict(a)) == a
    assert from_json(a.to_json()) == a
    json.loads(a.to_json())
    paths = [p for p, _ in a.paths()]
    assert from_dense(paths, to_dense(a, paths)) == a


def test_json_array_roundtrip():
    a = VValue({"w": np.arange(6.0).reshape(2, 3), "k": {"x": -1.5}})
    b = from_json(a.to_json())
    assert allclose(a, b)
    assert b["w"].shape == (2, 3)


def test_bad_input_errors():
    with pytest.raises(TypeError, match="label"):
        VValue({1.5: 1.0})
    with pytest.raises(TypeError, match="bool"):
        VValue({"a": True})
    with pytest.raises(TypeError, match="unsupported"):
        VValue({"a": "text"})
    with pytest.raises(TypeError, match="not a string"):
        VValue({("t", 1): 1.0}).to_json()
    with pytest.raises(ValueError, match="scalar"):
        lincomb(VValue({"a": np.ones(2)}), VValue({"a": 1.0}))
    with pytest.raises(KeyError, match="layout"):
        to_dense(VValue({"a": 1.0}), [("b",)])


def test_tuple_and_int_labels_sort():
    v = VValue({("x", 2): 1.0, 3: 2.0, "s": 3.0})
    assert list(v) == ["s", 3, ("x", 2)]
    assert from_dict(to_dict(v)) == v

"""Pytrees: flatten/unflatten round trips, ordering, registered types, paths, and deep trees."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minidsn.numpy as mnp
from minidsn.engine import grad, register_pytree_node, tree_flatten, tree_map, tree_paths, tree_unflatten

leaves = st.floats(-5, 5, allow_nan=False).map(np.float64)
trees = st.recursive(
    leaves | st.none(),
    lambda kids: st.lists(kids, max_size=3) | st.tuples(kids, kids) | st.dictionaries(st.text("abc", min_size=1, max_size=2), kids, max_size=3),
    max_leaves=12,
)


@given(trees)
def test_roundtrip(tree):
    flat, treedef = tree_flatten(tree)
    assert tree_unflatten(treedef, flat) == tree
    assert len(tree_paths(tree)) == len(flat)
    assert [leaf for _, leaf in tree_paths(tree)] == flat


def test_dict_order_is_sorted_not_insertion():
    a, _ = tree_flatten({"b": 1.0, "a": 2.0})
    b, _ = tree_flatten({"a": 2.0, "b": 1.0})
    assert a == b == [2.0, 1.0]


def test_paths_name_keys():
    paths = [p for p, _ in tree_paths({"layers": [{"W": 1.0, "b": 2.0}], "o": 3.0})]
    assert paths == [("layers", 0, "W"), ("layers", 0, "b"), ("o",)]


def test_unflatten_wrong_count():
    _, treedef = tree_flatten([1.0, 2.0])
    with pytest.raises(ValueError, match="needs 2 leaves"):
        tree_unflatten(treedef, [1.0])


def test_tree_map_structure_mismatch():
    with pytest.raises(ValueError, match="differ"):
        tree_map(lambda a, b: a + b, [1.0, 2.0], (1.0, 2.0))


def test_deep_tree_no_recursion_limit():
    t = 1.0
    for _ in range(5000):
        t = [t]
    flat, treedef = tree_flatten(t)
    assert flat == [1.0]
    assert tree_flatten(tree_unflatten(treedef, [2.0]))[0] == [2.0]


class Pair:
    def __init__(self, left, right):
        self.left, self.right = left, right


register_pytree_node(Pair, lambda p: ([p.left, p.right], None), lambda aux, ch: Pair(*ch),
                     lambda p, aux: ["left", "right"])


def test_registered_type_differentiates():
    g = grad(lambda p: mnp.sum(p.left * p.right))(Pair(np.array([1.0, 2.0]), np.array([3.0, 4.0])))
    assert isinstance(g, Pair)
    np.testing.assert_array_equal(g.left, [3.0, 4.0])
    np.testing.assert_array_equal(g.right, [1.0, 2.0])
    assert [p for p, _ in tree_paths(Pair(1.0, 2.0))] == [("left",), ("right",)]

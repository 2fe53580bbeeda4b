"""Transforms over pytrees: grad, value_and_grad, vjp, jvp, hvp.

Each argument being differentiated may be a pytree (dict / list / tuple / registered type) of float arrays; the
gradient comes back with the same structure, and every leaf with the shape and dtype of the corresponding input.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from minidsn.engine.core import EngineError, Node, Traced, backward, enter_trace, exit_trace, namespace, new_trace_id
from minidsn.engine.pytree import tree_flatten, tree_unflatten

__all__ = ["grad", "value_and_grad", "vjp", "jvp", "hvp"]


def _as_float_leaf(x, where: str):
    """A leaf to differentiate: a float ndarray (or a traced value of an enclosing trace)."""
    if type(x) is np.ndarray and x.dtype.kind == "f":
        return x  # fast path: the common case
    if isinstance(x, Traced):
        dt = x.dtype
        if not np.issubdtype(dt, np.inexact):
            raise TypeError(f"{where}: cannot differentiate with respect to a traced {dt} value")
        return x
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{where}: cannot differentiate with respect to a bool")
    if isinstance(x, (int, np.integer)):
        raise TypeError(
            f"{where}: cannot differentiate with respect to an integer ({x!r}); pass a float (e.g. {float(x)!r})"
        )
    arr = np.asarray(x)
    if arr.dtype == object:
        raise TypeError(f"{where}: leaf {type(x).__name__} is not an array of numbers")
    if not np.issubdtype(arr.dtype, np.inexact):
        raise TypeError(
            f"{where}: cannot differentiate with respect to an array of dtype {arr.dtype}; "
            "convert it to float64 first (gradients are only defined for floats)"
        )
    return arr


def _box_args(args, argnums, trace):
    """Replace the differentiated arguments by traced leaves; return (new args, leaf nodes, treedefs)."""
    args = list(args)
    leaf_nodes: list[list[Node]] = []
    treedefs = []
    for k in argnums:
        if k >= len(args) or k < -len(args):
            raise TypeError(f"argnums {k} is out of range for {len(args)} positional arguments")
        leaves, treedef = tree_flatten(args[k])
        nodes, boxed = [], []
        for i, leaf in enumerate(leaves):
            if type(leaf) is np.ndarray and leaf.dtype.kind == "f":
                val = leaf  # the common case, without building the error-message location
            else:
                val = _as_float_leaf(leaf, f"argument {k}, leaf {i}")
            node = Node.leaf(val)
            nodes.append(node)
            boxed.append(Traced(val, trace, node))
        args[k] = tree_unflatten(treedef, boxed)
        leaf_nodes.append(nodes)
        treedefs.append(treedef)
    return args, leaf_nodes, treedefs


def _zeros_like_leaf(node: Node):
    return np.zeros(node.shape, dtype=node.dtype)


def _finish(grads, nodes):
    out = []
    for g, node in zip(grads, nodes):
        if type(g) is np.ndarray and g.shape == node.shape and g.dtype == node.dtype:
            out.append(g)
        elif g is None:
            out.append(_zeros_like_leaf(node))
        elif isinstance(g, Traced):
            out.append(g)
        else:
            out.append(np.asarray(g, dtype=node.dtype).reshape(node.shape))
    return out


def _normalize_argnums(argnums):
    if isinstance(argnums, int):
        return (argnums,), True
    argnums = tuple(argnums)
    if not argnums or not all(isinstance(a, int) for a in argnums):
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    return argnums, False


def _unbox_output(out, trace):
    """The value of f's output at `trace` (which may still be traced by an enclosing trace)."""
    if isinstance(out, Traced) and out._trace == trace:
        return out._value, out._node
    return out, None


def vjp(f: Callable, *primals) -> tuple[Any, Callable]:
    """(f(*primals), vjp_fun) with vjp_fun(cotangent) -> tuple of gradients, one pytree per primal.

    f must return an array (not a tree). The backward pass runs each time vjp_fun is called and leaves the
    recorded graph untouched, so calling it twice gives identical results.
    """
    trace = new_trace_id()
    argnums = tuple(range(len(primals)))
    args, leaf_nodes, treedefs = _box_args(primals, argnums, trace)
    tape = enter_trace(trace)
    try:
        out = f(*args)
    finally:
        exit_trace(trace)
    if isinstance(out, (dict, list, tuple)):
        raise TypeError("vjp: f must return a single array; combine tree outputs (e.g. concatenate) first")
    value, out_node = _unbox_output(out, trace)
    out_shape = value.shape if isinstance(value, Traced) else np.shape(value)

    def vjp_fun(cotangent):
        if np.shape(cotangent) != out_shape:
            raise ValueError(f"vjp: cotangent has shape {np.shape(cotangent)}, the output has shape {out_shape}")
        all_nodes = [n for nodes in leaf_nodes for n in nodes]
        flat = [None] * len(all_nodes) if out_node is None else backward(out_node, cotangent, all_nodes, trace,
                                                                          tape)
        flat = _finish(flat, all_nodes)
        results, pos = [], 0
        for nodes, treedef in zip(leaf_nodes, treedefs):  # one backward pass, split per primal
            results.append(tree_unflatten(treedef, flat[pos:pos + len(nodes)]))
            pos += len(nodes)
        return tuple(results)

    return value, vjp_fun


def value_and_grad(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """Return a function computing (f(*args), gradient of f with respect to args[argnums]).

    f must return a scalar (shape () or size 1). argnums: int (gradient is one pytree) or tuple of ints (a tuple of
    pytrees). With has_aux=True f returns (value, aux) and the result is ((value, aux), gradient).
    """
    nums, single = _normalize_argnums(argnums)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        trace = new_trace_id()
        boxed, leaf_nodes, treedefs = _box_args(args, nums, trace)
        tape = enter_trace(trace)
        try:
            out = f(*boxed, **kwargs)
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise TypeError("value_and_grad(has_aux=True): f must return a pair (value, aux)")
                out, aux = out
            value, out_node = _unbox_output(out, trace)
            flat = _backward_all(value, out_node, leaf_nodes, trace, tape)
        finally:
            exit_trace(trace)
        grads, pos = [], 0
        for nodes, treedef in zip(leaf_nodes, treedefs):
            grads.append(tree_unflatten(treedef, flat[pos:pos + len(nodes)]))
            pos += len(nodes)
        g = grads[0] if single else tuple(grads)
        return ((value, aux), g) if has_aux else (value, g)

    return wrapped


def _backward_all(value, out_node, leaf_nodes, trace, tape=None):
    """Check that f's value is a scalar and backpropagate 1 from it to every leaf (zeros where unreached)."""
    if isinstance(value, (dict, list, tuple)):
        raise TypeError("value_and_grad: f must return a scalar, got a container")
    size = value.size if isinstance(value, Traced) else np.size(value)
    if size != 1:
        raise TypeError(
            f"value_and_grad: f must return a scalar, got shape {np.shape(value) if not isinstance(value, Traced) else value.shape}; "
            "sum or average it first, or use vjp"
        )
    all_nodes = [n for nodes in leaf_nodes for n in nodes]
    if out_node is None:
        flat = [None] * len(all_nodes)
    else:
        dtype = out_node.dtype if out_node.dtype.kind in "fc" else np.float64
        flat = backward(out_node, np.ones(out_node.shape, dtype=dtype), all_nodes, trace, tape)
    return _finish(flat, all_nodes)


def grad(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """The gradient of scalar f with respect to args[argnums] (see value_and_grad)."""
    vg = value_and_grad(f, argnums=argnums, has_aux=has_aux)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        out, g = vg(*args, **kwargs)
        return (g, out[1]) if has_aux else g

    return wrapped


def jvp(f: Callable, primals: tuple, tangents: tuple) -> tuple[Any, Any]:
    """Forward-mode product (f(*primals), J tangents), by transposing the (linear) VJP: the VJP of the VJP.

    Needs every VJP on the path to be differentiable (the engine's own rules are; compiled kernels are not).
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError("jvp: primals and tangents must have the same length")
    out, vjp_fun = vjp(f, *primals)
    if isinstance(out, Traced):
        raise EngineError("jvp inside another transform is not supported; use hvp or nested grad")
    zero_ct = np.zeros(np.shape(out), dtype=np.result_type(out))

    def linear(ct):
        grads = vjp_fun(ct)
        leaves = [leaf for gr in grads for leaf in tree_flatten(gr)[0]]
        return leaves

    def pairing(ct):
        mnp = namespace()
        leaves = linear(ct)
        t_leaves = [np.asarray(t, dtype=np.float64) for tan in tangents for t in tree_flatten(tan)[0]]
        if len(leaves) != len(t_leaves):
            raise ValueError("jvp: tangents must have the structure of primals")
        total = 0.0
        for a, b in zip(leaves, t_leaves):
            if np.shape(a) != np.shape(b):
                raise ValueError(f"jvp: tangent of shape {np.shape(b)} for a primal of shape {np.shape(a)}")
            total = mnp.add(total, mnp.sum(mnp.multiply(a, b)))
        return total

    tangent_out = grad(pairing)(zero_ct)
    return out, tangent_out


def hvp(f: Callable, x, v):
    """Hessian-vector product H(x) v of scalar f, as grad(<grad f(x), v>) (reverse over reverse)."""
    mnp = namespace()

    v_leaves, v_def = tree_flatten(v)

    def inner(x_):
        g = grad(f)(x_)
        g_leaves, g_def = tree_flatten(g)
        if g_def != v_def:
            raise ValueError(f"hvp: v has structure {v_def!r}, x has {g_def!r}")
        total = 0.0
        for a, b in zip(g_leaves, v_leaves):
            total = mnp.add(total, mnp.sum(mnp.multiply(a, b)))
        return total

    return grad(inner)(x)

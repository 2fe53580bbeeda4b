"""Transforms over pytrees: grad, value_and_grad, vjp, jvp, linearize, hvp, jacrev / jacfwd / jacobian, hessian,
elementwise_grad.

Each argument being differentiated may be a pytree (dict / list / tuple / registered type) of float arrays; the
gradient comes back with the same structure, and every leaf with the shape and dtype of the corresponding input.
vjp, jvp, linearize and the Jacobians also accept functions whose output is a pytree of arrays.

Every transform nests in every other (traces nest, see core.py): jvp of grad (forward-over-reverse Hessian-vector
products), jvp of jvp, grad of jacrev, ... Forward mode is the transpose of reverse mode: the VJP is linear in its
cotangent, so J t is the gradient, with respect to the cotangent c, of <vjp(c), t> (the VJP of the VJP). It therefore
needs no forward rules, only that every VJP on the path be differentiable (the engine's own rules are).

minidsn is real-only: complex inputs, tangents, cotangents and outputs are refused with ComplexNotSupportedError.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import numpy as np

from minidsn.engine.core import (
    Node,
    Traced,
    backward,
    complex_refusal,
    enter_trace,
    exit_trace,
    namespace,
    new_trace_id,
)
from minidsn.engine.pytree import _REGISTRY as _PYTREE_REGISTRY
from minidsn.engine.pytree import tree_flatten, tree_map, tree_structure, tree_unflatten

__all__ = [
    "grad",
    "value_and_grad",
    "vjp",
    "jvp",
    "linearize",
    "hvp",
    "jacrev",
    "jacfwd",
    "jacobian",
    "hessian",
    "elementwise_grad",
]

_LEAF_DEF = tree_structure(0.0)

# ---------------------------------------------------------------------------------------------------- inputs


def _as_float_leaf(x, where: str):
    """A leaf to differentiate: a real float ndarray (or a traced value of an enclosing trace)."""
    if type(x) is np.ndarray and x.dtype.kind == "f":
        return x  # fast path: the common case
    if isinstance(x, Traced):
        dt = x.dtype
        if dt.kind == "c":
            raise complex_refusal(where, dt)
        if dt.kind != "f":
            raise TypeError(f"{where}: cannot differentiate with respect to a traced {dt} value")
        return x
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{where}: cannot differentiate with respect to a bool")
    if isinstance(x, (int, np.integer)):
        raise TypeError(
            f"{where}: cannot differentiate with respect to an integer ({x!r}); pass a float (e.g. {float(x)!r})"
        )
    if x is None or isinstance(x, (str, bytes)):
        raise TypeError(f"{where}: cannot differentiate with respect to {type(x).__name__} {x!r}")
    arr = np.asarray(x)
    if arr.dtype == object:
        raise TypeError(f"{where}: leaf {type(x).__name__} is not an array of numbers")
    if arr.dtype.kind == "c":
        raise complex_refusal(where, arr.dtype)
    if not np.issubdtype(arr.dtype, np.inexact):
        raise TypeError(
            f"{where}: cannot differentiate with respect to an array of dtype {arr.dtype}; "
            "convert it to float64 first (gradients are only defined for floats)"
        )
    return arr


def _box_args(args, argnums, trace, copy=False):
    """Replace the differentiated arguments by traced leaves; return (new args, leaf nodes, treedefs).

    copy=True (vjp, whose backward pass runs later, when vjp_fun is called): the graph keeps its own copy of each
    ndarray leaf, so that the caller changing its array in place in between cannot change the gradient."""
    args = list(args)
    leaf_nodes: list[list[Node]] = []
    treedefs = []
    _check_argnums(argnums, len(args))
    for k in argnums:
        leaves, treedef = tree_flatten(args[k])
        nodes, boxed = [], []
        for i, leaf in enumerate(leaves):
            if type(leaf) is np.ndarray and leaf.dtype.kind == "f":
                val = leaf.copy() if copy else leaf  # the common case, without building the error-message location
            else:
                val = _as_float_leaf(leaf, f"argument {k}, leaf {i}")
                if copy and isinstance(val, np.ndarray):  # (np.asarray of a subclass may be a view of it)
                    val = val.copy()
            node = Node.leaf(val)
            nodes.append(node)
            boxed.append(Traced(val, trace, node))
        args[k] = tree_unflatten(treedef, boxed)
        leaf_nodes.append(nodes)
        treedefs.append(treedef)
    return args, leaf_nodes, treedefs


def _check_argnums(argnums, nargs):
    """Each argnum in range, and no argument named twice (argnums (0, 0) or (1, -1) would box one argument twice and
    give one of the copies a gradient of 0)."""
    for k in argnums:
        if k >= nargs or k < -nargs:
            raise TypeError(f"argnums {k} is out of range for {nargs} positional arguments")
    positions = [k % nargs for k in argnums]
    if len(set(positions)) != len(positions):
        raise ValueError(f"argnums {tuple(argnums)} names an argument more than once (a repeated position); "
                         "differentiate with respect to each argument once")


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


def _split_grads(flat, leaf_nodes, treedefs):
    """One flat list of leaf gradients -> one pytree per differentiated argument."""
    results, pos = [], 0
    for nodes, treedef in zip(leaf_nodes, treedefs):
        results.append(tree_unflatten(treedef, flat[pos:pos + len(nodes)]))
        pos += len(nodes)
    return results


def _normalize_argnums(argnums):
    if isinstance(argnums, int):
        return (argnums,), True
    argnums = tuple(argnums)
    if not argnums or not all(isinstance(a, int) for a in argnums):
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    return argnums, False


# ---------------------------------------------------------------------------------------------------- outputs


def _shape(x):
    return x.shape if isinstance(x, (Traced, np.ndarray, np.generic)) else np.shape(x)


def _dtype(x):
    return x.dtype if isinstance(x, (Traced, np.ndarray, np.generic)) else np.result_type(x)


def _check_output_leaf(x, who: str, where: str = "f's output") -> None:
    """An output being differentiated must be a real floating array, scalar or traced value; say what it is else."""
    if type(x) is Traced or type(x) is np.ndarray or isinstance(x, (float, np.floating)):
        dt = _dtype(x)
        if dt.kind == "f":
            return
    if x is None:
        raise TypeError(f"{who}: {where} is None (a function without a `return`?); it must return a float array")
    if isinstance(x, (str, bytes)):
        raise TypeError(f"{who}: {where} is a string ({x!r}); it must return a float array")
    if isinstance(x, (bool, np.bool_, int, np.integer)):
        raise TypeError(
            f"{who}: {where} is a {type(x).__name__} ({x!r}): only real floating outputs can be differentiated "
            "(return a float, or pass non-differentiable results out with has_aux=True)"
        )
    try:
        dt = _dtype(x)
    except TypeError:
        dt = None
    if dt is None or dt == object or not isinstance(dt, np.dtype):
        raise TypeError(f"{who}: {where} is a {type(x).__name__}, not an array of floats")
    if dt.kind == "c":
        raise complex_refusal(f"{who}: {where}", dt)
    if dt.kind != "f":
        raise TypeError(
            f"{who}: {where} has dtype {dt}: only real floating outputs can be differentiated "
            "(pass non-differentiable results out with has_aux=True)"
        )


def _unbox_output(out, trace):
    """The value of f's output at `trace` (which may still be traced by an enclosing trace)."""
    if isinstance(out, Traced) and out._trace == trace:
        return out._value, out._node
    return out, None


def _strip_trace(tree, trace, copy=False):
    """`tree` with every value of `trace` replaced by its value (has_aux: auxiliary outputs come back as plain arrays,
    or as values of an enclosing trace when the transform is nested). Containers keep their order and type. With
    copy (vjp, whose backward runs later) an array taken from the graph is copied, so changing it cannot change
    the gradient."""
    if isinstance(tree, Traced):
        if tree._trace != trace:
            return tree
        v = tree._value
        return v.copy() if copy and isinstance(v, np.ndarray) else v
    kind = type(tree)
    if kind is dict:
        return {k: _strip_trace(v, trace, copy) for k, v in tree.items()}
    if kind is list or kind is tuple:
        return kind(_strip_trace(v, trace, copy) for v in tree)
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):  # namedtuple
        return kind(*(_strip_trace(v, trace, copy) for v in tree))
    if kind in _PYTREE_REGISTRY:
        return tree_map(lambda leaf: _strip_trace(leaf, trace, copy), tree)
    return tree


def _split_aux(out, who):
    if not (isinstance(out, tuple) and len(out) == 2):
        raise TypeError(f"{who}(has_aux=True): f must return a pair (value, aux), got {type(out).__name__}")
    return out


# ---------------------------------------------------------------------------------------------------- reverse mode


def vjp(f: Callable, *primals, has_aux: bool = False):
    """(f(*primals), vjp_fun), or (f(*primals), vjp_fun, aux) with has_aux=True.

    f may return an array or a pytree of arrays; vjp_fun(cotangent) takes a cotangent of that structure (each leaf of
    the output's shape) and returns a tuple of gradients, one pytree per primal. The backward pass runs each time
    vjp_fun is called and leaves the recorded graph untouched, so calling it twice gives identical results. The graph
    keeps its own copies of the primal arrays and of the output: changing either in place afterwards (e.g. `out -=
    target` to make a residual cotangent) does not change what vjp_fun returns.
    """
    trace = new_trace_id()
    argnums = tuple(range(len(primals)))
    args, leaf_nodes, treedefs = _box_args(primals, argnums, trace, copy=True)
    tape = enter_trace(trace)
    try:
        out = f(*args)
        aux = None
        if has_aux:
            out, aux = _split_aux(out, "vjp")
        if type(out) is Traced and out._trace == trace and out._node.dtype.kind == "f":
            out_leaves, out_def, end = [out], _LEAF_DEF, out  # fast path: one array traced here
        else:
            if out is None:
                _check_output_leaf(out, "vjp")
            out_leaves, out_def = tree_flatten(out)
            single = out_def.kind is None
            for i, leaf in enumerate(out_leaves):
                _check_output_leaf(leaf, "vjp", "f's output" if single else f"leaf {i} of f's output")
            if single:
                end = out_leaves[0]
            elif out_leaves:  # several outputs: one vector of all of them, recorded on this trace's tape
                ns = namespace()
                end = ns.concatenate([ns.ravel(leaf) for leaf in out_leaves])
            else:
                end = None
    finally:
        exit_trace(trace)
    single = out_def.kind is None
    # the caller gets copies of the output arrays: the graph's own are read by rules such as exp's (g * ans)
    values = [_unbox_output(leaf, trace)[0] for leaf in out_leaves]
    values = [v.copy() if isinstance(v, np.ndarray) else v for v in values]
    value = values[0] if single else tree_unflatten(out_def, values)
    _, end_node = _unbox_output(end, trace)

    def vjp_fun(cotangent):
        ct_leaves, ct_def = tree_flatten(cotangent)
        if ct_def != out_def:
            raise ValueError(f"vjp: the cotangent has structure {ct_def!r}, f's output has {out_def!r}")
        shapes = [_shape(v) for v in values]
        dtypes = [_dtype(v) for v in values]
        all_nodes = [n for nodes in leaf_nodes for n in nodes]
        cts = []
        for i, (c, shape, dt) in enumerate(zip(ct_leaves, shapes, dtypes)):
            if _shape(c) != shape:
                raise ValueError(f"vjp: cotangent leaf {i} has shape {_shape(c)}, the output has shape {shape}")
            cdt = _dtype(c)
            if cdt.kind == "c":
                raise complex_refusal(f"vjp: cotangent leaf {i}", cdt)
            if cdt.kind != "f" and not isinstance(c, Traced):
                c = np.asarray(c, dtype=dt)
            cts.append(c)
        if end_node is None:
            flat = [None] * len(all_nodes)
        else:
            if single:
                ct = cts[0]
            else:
                ns = namespace()
                ct = ns.concatenate([ns.ravel(c) for c in cts])
            flat = backward(end_node, ct, all_nodes, trace, tape)
        return tuple(_split_grads(_finish(flat, all_nodes), leaf_nodes, treedefs))

    if has_aux:
        return value, vjp_fun, _strip_trace(aux, trace, copy=True)
    return value, vjp_fun


def value_and_grad(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """Return a function computing (f(*args), gradient of f with respect to args[argnums]).

    f must return a real floating scalar (shape () or size 1). argnums: int (gradient is one pytree) or tuple of ints
    (a tuple of pytrees). With has_aux=True f returns (value, aux) and the result is ((value, aux), gradient), aux
    with every traced value of this differentiation replaced by its plain value.
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
                out, aux = _split_aux(out, "value_and_grad")
            value, out_node = _unbox_output(out, trace)
            flat = _backward_all(value, out_node, leaf_nodes, trace, tape)
        finally:
            exit_trace(trace)
        grads = _split_grads(flat, leaf_nodes, treedefs)
        g = grads[0] if single else tuple(grads)
        return ((value, _strip_trace(aux, trace)), g) if has_aux else (value, g)

    return wrapped


def _backward_all(value, out_node, leaf_nodes, trace, tape=None):
    """Check that f's value is a real floating scalar and backpropagate 1 from it to every leaf (zeros where
    unreached)."""
    if out_node is None or out_node.dtype.kind != "f":
        _check_output_leaf(value, "grad")
    size = value.size if isinstance(value, Traced) else np.size(value)
    if size != 1:
        raise TypeError(
            f"grad: f must return a scalar, got shape {_shape(value)}; sum or average it first, or use vjp / jacobian"
        )
    all_nodes = [n for nodes in leaf_nodes for n in nodes]
    if out_node is None:
        flat = [None] * len(all_nodes)
    else:
        flat = backward(out_node, np.ones(out_node.shape, dtype=out_node.dtype), all_nodes, trace, tape)
    return _finish(flat, all_nodes)


def grad(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """The gradient of scalar f with respect to args[argnums] (see value_and_grad); with has_aux, (gradient, aux)."""
    vg = value_and_grad(f, argnums=argnums, has_aux=has_aux)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        out, g = vg(*args, **kwargs)
        return (g, out[1]) if has_aux else g

    return wrapped


def elementwise_grad(f: Callable, argnums=0) -> Callable:
    """autograd's elementwise_grad: the VJP of f with a cotangent of ones, i.e. the sum of the Jacobian's rows.
    Equal to the elementwise derivative when each output entry depends on the matching input entry only."""
    nums, single = _normalize_argnums(argnums)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        out, vjp_fun = vjp(_partial_in(f, args, kwargs, nums), *[args[k] for k in nums])
        if not isinstance(out, (Traced, np.ndarray, np.generic, float)):
            raise TypeError("elementwise_grad: f must return a single array (use jacobian for pytree outputs)")
        grads = vjp_fun(np.ones(_shape(out), dtype=_dtype(out)))
        return grads[0] if single else grads

    return wrapped


# ---------------------------------------------------------------------------------------------------- forward mode


def linearize(f: Callable, *primals):
    """(f(*primals), jvp_fun) with jvp_fun(*tangents) -> J tangents (a pytree like f's output).

    f is traced once; each jvp_fun call is one differentiation of the (linear) VJP with respect to its cotangent,
    i.e. one backward pass over the recorded graph and one over that pass.
    """
    out, vjp_fun = vjp(f, *primals)
    out_leaves, out_def = tree_flatten(out)
    shapes = [_shape(v) for v in out_leaves]
    dtypes = [_dtype(v) for v in out_leaves]
    sizes = [int(np.prod(s)) for s in shapes]
    single = out_def.kind is None
    p_leaves, p_def = tree_flatten(list(primals))
    p_shapes = [_shape(p) for p in p_leaves]

    def unpack(flat):
        ns = namespace()
        leaves, pos = [], 0
        for shape, size, dt in zip(shapes, sizes, dtypes):
            leaf = ns.reshape(flat[pos:pos + size], shape)
            leaves.append(leaf if _dtype(leaf) == dt else ns.astype(leaf, dt))
            pos += size
        return tree_unflatten(out_def, leaves)

    def jvp_fun(*tangents):
        t_leaves, t_def = tree_flatten(list(tangents))
        if t_def != p_def:
            raise ValueError(f"jvp: tangents have structure {t_def!r}, primals have {p_def!r}")
        checked = []
        for i, (t, shape) in enumerate(zip(t_leaves, p_shapes)):
            if _shape(t) != shape:
                raise ValueError(f"jvp: tangent leaf {i} has shape {_shape(t)}, its primal has shape {shape}")
            tdt = _dtype(t)
            if tdt.kind == "c":
                raise complex_refusal(f"jvp: tangent leaf {i}", tdt)
            if not isinstance(t, Traced):
                t = np.asarray(t, dtype=np.float64) if tdt.kind != "f" else t
            checked.append(t)

        def pairing(ct):
            mnp = namespace()
            grads = vjp_fun(ct if single else unpack(ct))
            total = 0.0
            for a, b in zip([leaf for gr in grads for leaf in tree_flatten(gr)[0]], checked):
                total = mnp.add(total, mnp.sum(mnp.multiply(a, b)))
            return total

        if single:
            zero = np.zeros(shapes[0], dtype=dtypes[0])
            return grad(pairing)(zero)
        zero = np.zeros(sum(sizes), dtype=np.result_type(*dtypes) if dtypes else np.float64)
        return unpack(grad(pairing)(zero))

    return out, jvp_fun


def jvp(f: Callable, primals, tangents) -> tuple[Any, Any]:
    """Forward-mode product (f(*primals), J tangents): primals and tangents are sequences of pytrees of one
    structure; the output may be a pytree. Nests in every transform (jvp of jvp, jvp of grad, grad of jvp)."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError("jvp: primals and tangents must have the same length")
    out, jvp_fun = linearize(f, *primals)
    return out, jvp_fun(*tangents)


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


# ---------------------------------------------------------------------------------------------------- Jacobians


def _partial_in(f, args, kwargs, nums):
    """f as a function of args[nums] only (the other arguments fixed)."""

    _check_argnums(nums, len(args))

    def g(*diff):
        a = list(args)
        for k, d in zip(nums, diff):
            a[k] = d
        return f(*a, **kwargs)

    return g


def _basis(shape, dtype, flat_index):
    e = np.zeros(int(np.prod(shape)), dtype=dtype)
    e[flat_index] = 1.0
    return e.reshape(shape)


def _assemble(pieces, lead_shape, tail_shape, dtype, tail_last):
    """Stack per-element results into one array of shape lead_shape + tail_shape.

    tail_last=False (reverse mode): pieces are indexed by the lead (output) elements, each of tail_shape.
    tail_last=True (forward mode): pieces are indexed by the tail (input) elements, each of lead_shape.
    """
    ns = namespace()
    if not pieces:
        return np.zeros(tuple(lead_shape) + tuple(tail_shape), dtype=dtype)
    if tail_last:
        stacked = ns.stack(pieces, axis=-1) if lead_shape else ns.stack(pieces)
    else:
        stacked = ns.stack(pieces)
    return ns.reshape(stacked, tuple(lead_shape) + tuple(tail_shape))


def jacrev(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """The Jacobian by reverse mode: one VJP per output entry.

    For an output leaf of shape S and an input leaf of shape T the block has shape S + T; the result has the
    structure of f's output, each leaf replaced by the structure of args[argnums] (a tuple of them for a tuple of
    argnums), as in JAX. With has_aux, (jacobian, aux).
    """
    nums, single = _normalize_argnums(argnums)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        res = vjp(_partial_in(f, args, kwargs, nums), *[args[k] for k in nums], has_aux=has_aux)
        out, vjp_fun = res[0], res[1]
        out_leaves, out_def = tree_flatten(out)
        in_trees = [tree_flatten(args[k]) for k in nums]
        in_shapes = [[_shape(leaf) for leaf in leaves] for leaves, _ in in_trees]
        blocks_per_out = []
        for j, ol in enumerate(out_leaves):
            shape_j = _shape(ol)
            rows = []
            for e in range(int(np.prod(shape_j))):
                ct = [np.zeros(_shape(o), dtype=_dtype(o)) for o in out_leaves]
                ct[j] = _basis(shape_j, _dtype(ol), e)
                grads = vjp_fun(tree_unflatten(out_def, ct))
                rows.append([tree_flatten(gr)[0] for gr in grads])
            per_arg = []
            for a, (leaves, treedef) in enumerate(in_trees):
                blocks = [
                    _assemble([r[a][i] for r in rows], shape_j, in_shapes[a][i], _dtype(ol), tail_last=False)
                    for i in range(len(leaves))
                ]
                per_arg.append(tree_unflatten(treedef, blocks))
            blocks_per_out.append(per_arg[0] if single else tuple(per_arg))
        jac = tree_unflatten(out_def, blocks_per_out)
        return (jac, res[2]) if has_aux else jac

    return wrapped


def jacfwd(f: Callable, argnums=0, has_aux: bool = False) -> Callable:
    """The Jacobian by forward mode: one JVP per input entry (same layout as jacrev)."""
    nums, single = _normalize_argnums(argnums)

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        g = _partial_in(f, args, kwargs, nums)
        aux_box = []
        if has_aux:
            def g_main(*d):
                value, aux = _split_aux(g(*d), "jacfwd")
                aux_box.append(aux)
                return value
        else:
            g_main = g
        primals = [args[k] for k in nums]
        out, jvp_fun = linearize(g_main, *primals)
        out_leaves, out_def = tree_flatten(out)
        in_trees = [tree_flatten(p) for p in primals]
        columns = []  # per argument, per input leaf: list (over its entries) of flattened output-tangent leaves
        for a, (leaves, treedef) in enumerate(in_trees):
            per_leaf = []
            for i, leaf in enumerate(leaves):
                cols = []
                for e in range(int(np.prod(_shape(leaf)))):
                    tangents = [tree_unflatten(td, [np.zeros(_shape(x), dtype=np.float64) for x in lv])
                                for lv, td in in_trees]
                    t_leaves = tree_flatten(tangents[a])[0]
                    t_leaves[i] = _basis(_shape(leaf), np.float64, e)
                    tangents[a] = tree_unflatten(treedef, t_leaves)
                    cols.append(tree_flatten(jvp_fun(*tangents))[0])
                per_leaf.append(cols)
            columns.append(per_leaf)
        blocks_per_out = []
        for j, ol in enumerate(out_leaves):
            per_arg = []
            for a, (leaves, treedef) in enumerate(in_trees):
                blocks = [
                    _assemble([c[j] for c in columns[a][i]], _shape(ol), _shape(leaves[i]), _dtype(ol),
                              tail_last=True)
                    for i in range(len(leaves))
                ]
                per_arg.append(tree_unflatten(treedef, blocks))
            blocks_per_out.append(per_arg[0] if single else tuple(per_arg))
        jac = tree_unflatten(out_def, blocks_per_out)
        if has_aux:
            aux = aux_box[0] if aux_box else None
            return jac, _strip_trace_all(aux)
        return jac

    return wrapped


def _strip_trace_all(tree):
    """Aux of jacfwd: captured inside the traced call, so strip every trace that has exited (is no longer active)."""
    from minidsn.engine.core import _ACTIVE_TRACES

    def strip(x):
        while isinstance(x, Traced) and x._trace not in _ACTIVE_TRACES:
            x = x._value
        return x

    return tree_map(strip, tree)


jacobian = jacrev  # autograd's name (reverse mode)


def hessian(f: Callable, argnums=0) -> Callable:
    """The Hessian of scalar f: jacfwd(jacrev(f)) (forward over reverse, as JAX). For an input leaf of shape T the
    block has shape T + T."""
    return jacfwd(jacrev(f, argnums=argnums), argnums=argnums)

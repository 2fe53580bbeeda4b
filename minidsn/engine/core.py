"""The tracing core of the reverse-mode engine: traced values, graph nodes, primitives and the backward pass.

Design (after HIPS/autograd, see ../shared/notes/autodiff.md):
- A differentiated function runs on `Traced` values. Each carries a raw value, the id of the trace it belongs to and
  a graph `Node`. Traces nest (grad of grad): a primitive applied to values of several traces works at the newest
  trace, and the raw computation below it may itself be traced by an older trace; that is how VJPs written with the
  engine's own primitives give second derivatives.
- Every differentiable operation is a `Primitive` with its VJP rules in one table (minidsn/numpy/_table.py).
- One broadcasting rule, applied by the engine and not by each VJP: a VJP's result is summed back to the shape of
  the argument it belongs to (`unbroadcast`), then its shape is asserted and its dtype cast to the argument's.
- The backward pass is iterative (topological order by child counts): no recursion limit on deep graphs.
- Gradients accumulate out of place (a new array per addition), so no array is ever shared and mutated.
"""

from __future__ import annotations

import contextlib

import itertools
import operator
from typing import Any, Callable

import numpy as np

__all__ = [
    "Traced",
    "Node",
    "Primitive",
    "primitive",
    "nondifferentiable",
    "defvjp",
    "defvjp_joint",
    "defvjp_raw",
    "stop_gradient",
    "is_traced",
    "EngineError",
    "TracedConversionError",
    "NotSupportedError",
    "ComplexNotSupportedError",
]


from minidsn.engine.broadcast import unbroadcast, unbroadcast_raw  # noqa: E402
from minidsn.engine.errors import (  # noqa: E402,F401
    ComplexNotSupportedError,
    EngineError,
    NotSupportedError,
    TracedConversionError,
    complex_refusal,
)


_trace_counter = itertools.count(1)
_node_counter = itertools.count()
_next_seq = _node_counter.__next__
_ndarray = np.ndarray
_F64 = np.dtype(np.float64)  # the common dtype, compared by identity first (the complex check costs nothing then)
_np_scalar_types = (np.ndarray, np.generic)

# Traces whose differentiated function is running now. When no trace other than the one being differentiated is
# active, nothing can differentiate the backward pass itself, so it may use the plain-NumPy rules (raw_vjps).
_ACTIVE_TRACES: set[int] = set()

# Tests set this to run every backward pass through the differentiable rules (to compare both sets of rules).
FORCE_DIFFERENTIABLE_RULES = False


def new_trace_id() -> int:
    return next(_trace_counter)


# The tape of each active trace: its nodes in creation order (a node is always created after its parents, so the
# reversed tape is a topological order of the trace's graph; first-order passes walk it instead of sorting).
_TAPES: dict[int, list] = {}


def enter_trace(trace: int) -> list:
    """Mark ``trace`` active and return its (empty) tape, which records every node made at this trace."""
    _ACTIVE_TRACES.add(trace)
    tape = _TAPES[trace] = []
    return tape


def exit_trace(trace: int) -> None:
    _ACTIVE_TRACES.discard(trace)
    _TAPES.pop(trace, None)


class Node:
    """One recorded operation: ans = prim(*args, **kwargs), with the traced parents at their argument positions."""

    __slots__ = ("prim", "ans", "args", "kwargs", "parents", "shape", "dtype", "seq", "__weakref__")

    def __init__(self, prim, ans, args, kwargs, parents):
        self.seq = _next_seq()  # creation order: a node is always made after its parents
        self.prim = prim
        self.ans = ans
        self.args = args
        self.kwargs = kwargs
        self.parents = parents  # tuple of (argnum, Node)
        if type(ans) is _ndarray or isinstance(ans, _np_scalar_types):  # fast path: the common case
            self.shape = ans.shape
            self.dtype = ans.dtype
        else:
            self.shape = np.shape(ans)
            self.dtype = _dtype_of(ans)
        if self.dtype is not _F64 and self.dtype.kind == "c":  # real only: complex would be silently wrong
            raise complex_refusal(f"'{getattr(prim, 'name', 'input')}' on traced values gave a value that", self.dtype)

    @classmethod
    def leaf(cls, value):
        return cls(None, value, (), {}, ())


def _dtype_of(x):
    if isinstance(x, Traced):
        return x.dtype
    return np.result_type(x)


def stop_gradient(x):
    """The raw value of x with every trace stripped: a constant for all enclosing differentiations."""
    while isinstance(x, Traced):
        x = x._value
    return x


def is_traced(x) -> bool:
    return isinstance(x, Traced)


def _raw_tree(x):
    """Strip traces from x, and from the items of a list/tuple (for non-differentiable functions)."""
    if isinstance(x, Traced):
        return stop_gradient(x)
    if isinstance(x, (list, tuple)):
        return type(x)(_raw_tree(v) for v in x)
    return x


class Primitive:
    """A function of arrays with registered VJP rules; calling it on traced values records a Node."""

    def __init__(self, fun: Callable, name: str | None = None):
        self.fun = fun
        self.name = name or getattr(fun, "__name__", "primitive")
        self.vjps: dict[int, Callable | None] = {}
        self.joint_vjp: Callable | None = None
        self.joint_vjp_wants = False  # True: the joint rule is told which arguments need a gradient (`wanted=`)
        self.differentiable_vjp = True  # False: VJP uses raw NumPy/Numba, no second derivative
        self.raw_vjps: dict[int, Callable] | None = None  # plain-NumPy rules for first-order backward passes
        # per argument: the rule a first-order pass uses (raw where registered, else the differentiable one); None
        # when a joint VJP is registered (then vjp_for is used)
        self.first_order_rules: dict[int, Callable | None] | None = None
        # per argument: (pack, combine) of defvjp_stacked, used by first-order passes before first_order_rules
        self.stacked_rules: dict[int, tuple[Callable, Callable]] | None = None
        self.__doc__ = fun.__doc__
        self.__name__ = self.name
        self.__wrapped__ = fun

    def __repr__(self) -> str:
        return f"<minidsn primitive {self.name}>"

    def __call__(self, *args, **kwargs):
        top = 0
        for a in args:
            if type(a) is Traced and a._trace > top:  # Traced is never subclassed: `type is` is the cheap test
                top = a._trace
        if top == 0:
            for v in kwargs.values() if kwargs else ():
                if isinstance(v, Traced):
                    raise EngineError(
                        f"{self.name}: keyword arguments are never differentiated; pass traced values positionally"
                    )
            return self.fun(*args, **kwargs)
        if top not in _ACTIVE_TRACES:
            raise _leaked_error(self.name)
        argvals = list(args)
        parents = []
        lower = False  # do values of older (enclosing) traces remain after unboxing this one?
        for i, a in enumerate(args):
            if type(a) is Traced:
                if a._trace == top:
                    argvals[i] = a._value
                    parents.append((i, a._node))
                    if type(a._value) is Traced:
                        lower = True
                else:
                    lower = True
        # older traces, if any, record their own nodes in the recursive call
        if lower:
            ans = self(*argvals, **kwargs)
        else:
            ans = self.fun(*argvals, **kwargs) if kwargs else self.fun(*argvals)
        node = Node(self, ans, tuple(argvals), kwargs, tuple(parents))
        tape = _TAPES.get(top)
        if tape is not None:
            tape.append(node)
        return Traced(ans, top, node)

    def vjp_for(self, node: Node, g):
        """Gradients for each parent of `node` (a list aligned with node.parents)."""
        if not self.differentiable_vjp and (
            isinstance(g, Traced) or isinstance(node.ans, Traced) or any(isinstance(a, Traced) for a in node.args)
        ):
            raise EngineError(
                f"second derivative through '{self.name}' is not supported: its VJP is a compiled kernel "
                "(first order only); use the engine reference path for higher-order derivatives"
            )
        if self.joint_vjp is not None:
            if self.joint_vjp_wants:
                wanted = frozenset(a for a, _ in node.parents)
                grads = self.joint_vjp(g, node.ans, *node.args, wanted=wanted, **node.kwargs)
            else:
                grads = self.joint_vjp(g, node.ans, *node.args, **node.kwargs)
            if not isinstance(grads, (tuple, list)) or len(grads) != len(node.args):
                raise EngineError(
                    f"joint VJP of '{self.name}' must return one gradient (or None) per positional argument "
                    f"({len(node.args)}), got {type(grads).__name__}"
                )
            out = []
            for argnum, _ in node.parents:
                if grads[argnum] is None:
                    raise EngineError(f"'{self.name}' is not differentiable in argument {argnum}")
                out.append(grads[argnum])
            return out
        out = []
        for argnum, _ in node.parents:
            rule = self.vjps.get(argnum)
            if rule is None:
                raise EngineError(
                    f"'{self.name}' has no VJP for argument {argnum}: it is not differentiable there "
                    "(wrap that argument in stop_gradient if it is meant as a constant)"
                )
            out.append(rule(g, node.ans, *node.args, **node.kwargs))
        return out


def _leaked_error(name: str) -> EngineError:
    return EngineError(
        f"{name}: an argument is a leaked traced value, kept after the differentiation that made it had returned "
        "(stored from inside the differentiated function, e.g. in a list or an attribute). It belongs to no active "
        "differentiation, so nothing would differentiate the result. Return it (or has_aux=True) instead, or use "
        "minidsn.engine.stop_gradient(x) for its raw value"
    )


def primitive(fun: Callable) -> Primitive:
    """Decorator: make `fun` (ndarrays in, one ndarray out) a primitive; register its VJPs with defvjp."""
    return Primitive(fun)


def nondifferentiable(fun: Callable) -> Callable:
    """Wrap a NumPy function that has no gradient (comparisons, sign, argmax ...): traces are stripped first."""

    def wrapped(*args, **kwargs):
        return fun(*(_raw_tree(a) for a in args), **{k: _raw_tree(v) for k, v in kwargs.items()})

    wrapped.__name__ = getattr(fun, "__name__", "nondifferentiable")
    wrapped.__doc__ = f"{wrapped.__name__} (no gradient: traced inputs are treated as constants)."
    wrapped.__wrapped__ = fun
    return wrapped


def defvjp(prim: Primitive, *rules: Callable | None, differentiable: bool = True) -> None:
    """Register one VJP per positional argument: rule(g, ans, *args, **kwargs) -> gradient for that argument.

    None marks an argument as not differentiable. With differentiable=True the rules must be written with engine
    primitives (minidsn.numpy), which makes grad-of-grad work.
    """
    if not isinstance(prim, Primitive):
        raise TypeError(f"defvjp needs a Primitive (use @primitive), got {prim!r}")
    prim.vjps = {i: r for i, r in enumerate(rules)}
    prim.joint_vjp = None
    prim.differentiable_vjp = differentiable
    _update_first_order_rules(prim)


def defvjp_raw(prim: Primitive, *rules: Callable | None) -> None:
    """Register plain-NumPy versions of the rules of defvjp, used when the backward pass is first order.

    They must compute exactly what the differentiable rules compute (tests/test_engine_core.py compares them); they
    only skip the engine's dispatch. None keeps the differentiable rule for that argument.
    """
    prim.raw_vjps = {i: r for i, r in enumerate(rules) if r is not None}
    _update_first_order_rules(prim)


def defvjp_stacked(prim: Primitive, argnum: int, pack: Callable, combine: Callable) -> None:
    """A first-order rule for argument `argnum` that is summed over all uses of that argument at once.

    pack(g, ans, *args, **kwargs) -> an item (or None: use the ordinary rule for this use); combine(items, shape,
    dtype) -> the sum of the items' gradients (shape and dtype: the argument's). A first-order backward pass collects
    the items of every use of one value and combines them when that value's gradient is needed (the engine's
    broadcasting rule then applies to the result, as to any rule's). Example, matmul's right operand: item (a, g),
    combine = concatenate(a)^T @ concatenate(g): the weight gradient of a net unrolled over T steps becomes one
    product instead of T products and T - 1 additions. The first use met in the pass takes the ordinary rule (so a
    value used once costs nothing extra). The result equals the sum of the ordinary rule over the uses up to
    rounding (summation order); with one item, `combine` must give exactly the ordinary rule's value. The ordinary
    rules (defvjp) stay, for every other pass.
    """
    if not isinstance(prim, Primitive):
        raise TypeError(f"defvjp_stacked needs a Primitive (use @primitive), got {prim!r}")
    if argnum not in prim.vjps:
        raise ValueError(f"defvjp_stacked: '{prim.name}' has no ordinary VJP for argument {argnum}")
    prim.stacked_rules = {**(prim.stacked_rules or {}), argnum: (pack, combine)}
    if prim not in _STACKED_PRIMS:
        _STACKED_PRIMS.append(prim)


_STACKED_PRIMS: list[Primitive] = []


@contextlib.contextmanager
def stacked_rules_off():
    """Within this block first-order passes use the ordinary rules only: the reference the stacked rules are checked
    against (tests/test_engine_core.py, `minidsn selfcheck`)."""
    saved = [(prim, prim.stacked_rules) for prim in _STACKED_PRIMS]
    try:
        for prim, _ in saved:
            prim.stacked_rules = None
        yield
    finally:
        for prim, rules in saved:
            prim.stacked_rules = rules


def _update_first_order_rules(prim: Primitive) -> None:
    if prim.joint_vjp is not None:
        prim.first_order_rules = None
        return
    raw = prim.raw_vjps or {}
    prim.first_order_rules = {i: raw.get(i) or r for i, r in prim.vjps.items()}


def defvjp_joint(prim: Primitive, rule: Callable, differentiable: bool = False, wants: bool = False) -> None:
    """Register one VJP for all arguments at once: rule(g, ans, *args, **kwargs) -> tuple of gradients (None = none).

    Meant for compiled kernels whose backward computes every gradient in one pass. Such a rule is first order only
    unless differentiable=True (it is then written with engine primitives). With wants=True the rule is also called
    with `wanted=` the frozenset of argument positions that are traced (the only gradients the engine will use), so
    it can skip work for the others (return None there); a None for a wanted argument is still an error.
    """
    if not isinstance(prim, Primitive):
        raise TypeError(f"defvjp_joint needs a Primitive (use @primitive), got {prim!r}")
    prim.joint_vjp = rule
    prim.joint_vjp_wants = bool(wants)
    prim.vjps = {}
    prim.differentiable_vjp = differentiable
    _update_first_order_rules(prim)


# ----------------------------------------------------------------------------------------------------------------
# Backward pass


def _toposort(end: Node) -> list:
    """Nodes reachable from `end`, children before parents (iterative; no recursion).

    Nodes are numbered as they are created and every node is created after its parents, so decreasing creation
    number is a topological order of the reverse graph: one walk to find the reachable nodes, then a sort.
    """
    seen = {end}
    stack = [end]
    while stack:
        for _, p in stack.pop().parents:
            if p not in seen:
                seen.add(p)
                stack.append(p)
    return sorted(seen, key=_by_seq, reverse=True)


_by_seq = operator.attrgetter("seq")


def backward(end: Node, g, leaves: list[Node], trace: int | None = None, tape: list | None = None) -> list:
    """Propagate cotangent g from `end` back to `leaves`; returns one gradient per leaf (None where unreached).

    `trace` is the trace being differentiated. If no other trace is active and g is not traced, the pass is first
    order: rules with a plain-NumPy version (raw_vjps) use it, and gradients accumulate with np.add. `tape`, the
    trace's nodes in creation order (from enter_trace), spares that pass the graph walk and sort.
    """
    raw = not FORCE_DIFFERENTIABLE_RULES and not (_ACTIVE_TRACES - {trace}) and not isinstance(g, Traced)
    if raw:
        return _backward_first_order(end, g, leaves, tape)
    ns = namespace()
    add = ns.add
    ndarray = np.ndarray
    leaf_set = set(leaves)
    grads: dict[Node, Any] = {end: g}
    leaf_grads: dict[Node, Any] = {}
    for node in _toposort(end):
        g = grads.pop(node, None)
        if g is None:
            continue
        if node in leaf_set:
            leaf_grads[node] = g
        if not node.parents:
            continue
        prim = node.prim
        parent_grads = prim.vjp_for(node, g)
        for (argnum, parent), pg in zip(node.parents, parent_grads):
            if not (type(pg) is ndarray and pg.shape == parent.shape and pg.dtype == parent.dtype):
                pg = unbroadcast(pg, parent.shape, parent.dtype, prim.name, argnum, ns)
            prev = grads.get(parent)
            grads[parent] = pg if prev is None else add(prev, pg)  # out of place: never mutates a shared array
    return [leaf_grads.get(leaf) for leaf in leaves]


def _backward_first_order(end: Node, g, leaves: list[Node], tape: list | None = None) -> list:
    """The backward pass when nothing will differentiate it: the same rules and the same single broadcasting rule
    as ``backward``, with the plain-NumPy rules (raw_vjps) where a primitive has them, the engine's unbroadcast in its
    NumPy form, and gradients summed with ``+`` (a new array each time: nothing shared is mutated).

    Kept separate because it is the hot loop of every training step: per node it does one dict pop, one rule call
    per parent and one dict update, nothing else.
    """
    unbroadcast = unbroadcast_raw
    ndarray = np.ndarray
    grads: dict[Node, Any] = {end: g}
    pop, get = grads.pop, grads.get
    # stacked rules (defvjp_stacked): node -> {combine: [items]}, combined when the node's gradient is needed
    pending: dict[Node, dict] = {}
    if tape is not None:
        # Reverse creation order: every node after all its children. Leaves (made before the function ran) are not
        # on the tape, so their gradients stay in `grads`; nodes not on a path to `end` have no entry and are skipped.
        order, leaf_set, leaf_grads = reversed(tape), (), grads
    else:
        order, leaf_set, leaf_grads = _toposort(end), set(leaves), {}
    for node in order:
        g = pop(node, None)
        if pending:
            groups = pending.pop(node, None)
            if groups is not None:
                g = _combine_stacked(groups, node, g, unbroadcast)
        if g is None:
            continue
        parents = node.parents
        if node in leaf_set:
            leaf_grads[node] = g
        if not parents:
            continue
        prim = node.prim
        rules = prim.first_order_rules
        if rules is None:  # joint (kernel) VJPs: vjp_for computes them
            pairs = zip(parents, prim.vjp_for(node, g))
        else:
            ans, args, kwargs = node.ans, node.args, node.kwargs
            stacked = prim.stacked_rules
            pairs = []
            for a, parent in parents:
                if stacked is not None:
                    pack_combine = stacked.get(a)
                    # only from the second use on: a value used once (most weights) takes the ordinary path
                    if pack_combine is not None and (parent in grads or parent in pending):
                        item = pack_combine[0](g, ans, *args, **kwargs)
                        if item is not None:
                            groups = pending.get(parent)
                            if groups is None:
                                pending[parent] = {pack_combine[1]: [item]}
                            else:
                                groups.setdefault(pack_combine[1], []).append(item)
                            continue
                rule = rules.get(a)
                if rule is None:
                    prim.vjp_for(node, g)  # reports the missing rule
                    raise EngineError(f"'{prim.name}' has no VJP for argument {a}")
                pairs.append(((a, parent), rule(g, ans, *args, **kwargs) if kwargs else rule(g, ans, *args)))
        for (argnum, parent), pg in pairs:
            if type(pg) is not ndarray or pg.shape != parent.shape or pg.dtype != parent.dtype:
                pg = unbroadcast(pg, parent.shape, parent.dtype, prim.name, argnum)
            prev = get(parent)
            grads[parent] = pg if prev is None else prev + pg
    for node, groups in pending.items():  # leaves: not on the tape, so their stacked items are combined here
        leaf_grads[node] = _combine_stacked(groups, node, pop(node, None), unbroadcast)
    return [leaf_grads.get(leaf) for leaf in leaves]


def _combine_stacked(groups: dict, node: Node, g, unbroadcast):
    """`g` (or None) plus every stacked group's combined gradient, each reduced to the node's shape and dtype."""
    for combine, items in groups.items():
        gs = combine(items, node.shape, node.dtype)
        if type(gs) is not np.ndarray or gs.shape != node.shape or gs.dtype != node.dtype:
            gs = unbroadcast(gs, node.shape, node.dtype, getattr(combine, "__name__", "stacked rule"), -1)
        g = gs if g is None else g + gs
    return g


# ----------------------------------------------------------------------------------------------------------------
# Traced values


_CONVERSION_HELP = (
    "this would cut the graph and give silently wrong gradients. Use minidsn.numpy functions on traced values; "
    "if you really want the raw value as a constant, use minidsn.engine.stop_gradient(x)"
)


class Traced:
    """A value being differentiated. Looks like an ndarray to model code; every operation records a Node."""

    __slots__ = ("_value", "_trace", "_node")
    __array_priority__ = 1000.0

    def __init__(self, value, trace: int, node: Node):
        self._value = value
        self._trace = trace
        self._node = node

    # --- array-like attributes -----------------------------------------------------------------------------------
    @property
    def shape(self):
        return np.shape(self._value)

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def size(self):
        return int(np.prod(self.shape))

    @property
    def dtype(self):
        return _dtype_of(self._value)

    def __len__(self):
        if not self.shape:
            raise TypeError("len() of a 0-d traced value")
        return self.shape[0]

    def __repr__(self):
        return f"Traced(trace={self._trace}, value={stop_gradient(self)!r})"

    # --- conversions that would cut the graph --------------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        raise TracedConversionError(f"np.asarray / np.array of a traced value: {_CONVERSION_HELP}")

    def __float__(self):
        raise TracedConversionError(f"float() of a traced value: {_CONVERSION_HELP}")

    def __int__(self):
        raise TracedConversionError(f"int() of a traced value: {_CONVERSION_HELP}")

    def __complex__(self):
        raise TracedConversionError(f"complex() of a traced value: {_CONVERSION_HELP}")

    def __index__(self):
        raise TracedConversionError(f"using a traced value as an index: {_CONVERSION_HELP}")

    def __bool__(self):
        raise TracedConversionError(
            "truth value of a traced value (an `if` on a differentiated quantity): compare it first "
            "(comparisons return plain arrays), or use minidsn.numpy.where"
        )

    def __setitem__(self, key, value):
        raise TracedConversionError(
            "in-place assignment to a traced value is not supported (it would overwrite a value the backward pass "
            "needs). Build the result functionally: minidsn.numpy.where, concatenate/stack, or x + mnp.zeros..."
        )

    # --- copies and pickling ------------------------------------------------------------------------------------
    # A traced value is immutable (in-place assignment is refused), so a copy may be the value itself: copy.copy and
    # copy.deepcopy (of the value, or of a params dict holding it) keep the graph. A deep copy of the graph instead
    # would give a value connected to nothing, and a gradient of exactly 0.
    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __reduce_ex__(self, protocol):
        raise TracedConversionError(
            "pickling a traced value: the pickle would hold a raw value cut from the graph (a gradient of 0 after "
            "the round trip). Pickle results outside the differentiated function, or stop_gradient(x) for a constant"
        )

    def __reduce__(self):
        return self.__reduce_ex__(2)

    def copy(self):
        return self  # immutable: see __copy__

    def tolist(self):
        raise TracedConversionError(f".tolist() of a traced value: {_CONVERSION_HELP}")

    def item(self):
        raise TracedConversionError(f".item() of a traced value: {_CONVERSION_HELP}")

    # --- NumPy protocol: dispatch to minidsn.numpy where a version exists, else refuse ---------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        mnp = _mnp
        if method == "__call__" and not kwargs.get("out"):
            fn = getattr(mnp, ufunc.__name__, None)
            if fn is not None:
                kwargs.pop("out", None)
                return fn(*inputs, **kwargs)
        raise NotSupportedError(
            f"np.{ufunc.__name__}{'' if method == '__call__' else '.' + method} on a traced value is not supported "
            "by minidsn (it would run untraced). Use the minidsn.numpy version, or stop_gradient(x) for a constant"
        )

    def __array_function__(self, func, types, args, kwargs):
        ns = _mnp
        if (getattr(func, "__module__", None) or "").startswith("numpy.linalg"):  # np.linalg.f -> mnp.linalg.f
            ns = getattr(_mnp, "linalg", None)
        fn = getattr(ns, func.__name__, None)
        if fn is not None and getattr(fn, "_mirrors_numpy", False):
            return fn(*args, **kwargs)
        raise NotSupportedError(
            f"np.{func.__name__} on a traced value is not supported by minidsn (it would run untraced). "
            f"Use minidsn.numpy.{func.__name__} if it exists, or stop_gradient(x) for a constant"
        )

    # --- operators -----------------------------------------------------------------------------------------------
    def __add__(self, o):
        return _mnp.add(self, o)

    def __radd__(self, o):
        return _mnp.add(o, self)

    def __sub__(self, o):
        return _mnp.subtract(self, o)

    def __rsub__(self, o):
        return _mnp.subtract(o, self)

    def __mul__(self, o):
        return _mnp.multiply(self, o)

    def __rmul__(self, o):
        return _mnp.multiply(o, self)

    def __truediv__(self, o):
        return _mnp.divide(self, o)

    def __rtruediv__(self, o):
        return _mnp.divide(o, self)

    def __pow__(self, o):
        return _mnp.power(self, o)

    def __rpow__(self, o):
        return _mnp.power(o, self)

    def __floordiv__(self, o):  # piecewise constant: no gradient (minidsn.numpy.floor_divide)
        return _mnp.floor_divide(self, o)

    def __rfloordiv__(self, o):
        return _mnp.floor_divide(o, self)

    def __mod__(self, o):
        return _mnp.mod(self, o)

    def __rmod__(self, o):
        return _mnp.mod(o, self)

    def __matmul__(self, o):
        return _mnp.matmul(self, o)

    def __rmatmul__(self, o):
        return _mnp.matmul(o, self)

    def __neg__(self):
        return _mnp.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return _mnp.abs(self)

    # Comparisons give plain boolean arrays: no gradient flows through a comparison.
    def __lt__(self, o):
        return stop_gradient(self) < stop_gradient(o)

    def __le__(self, o):
        return stop_gradient(self) <= stop_gradient(o)

    def __gt__(self, o):
        return stop_gradient(self) > stop_gradient(o)

    def __ge__(self, o):
        return stop_gradient(self) >= stop_gradient(o)

    def __eq__(self, o):
        return stop_gradient(self) == stop_gradient(o)

    def __ne__(self, o):
        return stop_gradient(self) != stop_gradient(o)

    __hash__ = object.__hash__

    def __getitem__(self, idx):
        return _mnp._getitem(self, idx)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # --- methods -------------------------------------------------------------------------------------------------
    @property
    def T(self):
        return _mnp.transpose(self)

    def sum(self, axis=None, keepdims=False):
        return _mnp.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return _mnp.mean(self, axis=axis, keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        return _mnp.max(self, axis=axis, keepdims=keepdims)

    def min(self, axis=None, keepdims=False):
        return _mnp.min(self, axis=axis, keepdims=keepdims)

    def prod(self, axis=None, keepdims=False):
        return _mnp.prod(self, axis=axis, keepdims=keepdims)

    def reshape(self, *shape, order="C"):
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _mnp.reshape(self, shape, order=order)

    def transpose(self, *axes):
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _mnp.transpose(self, axes or None)

    def swapaxes(self, a, b):
        return _mnp.swapaxes(self, a, b)

    def squeeze(self, axis=None):
        return _mnp.squeeze(self, axis=axis)

    def ravel(self):
        return _mnp.ravel(self)

    def flatten(self):
        return _mnp.ravel(self)

    def dot(self, o):
        return _mnp.dot(self, o)

    def clip(self, a_min=None, a_max=None):
        return _mnp.clip(self, a_min, a_max)

    def astype(self, dtype):
        return _mnp.astype(self, dtype)

    def var(self, axis=None, keepdims=False, ddof=0):
        return _mnp.var(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def std(self, axis=None, keepdims=False, ddof=0):
        return _mnp.std(self, axis=axis, keepdims=keepdims, ddof=ddof)

    def cumsum(self, axis=None):
        return _mnp.cumsum(self, axis=axis)

    def cumprod(self, axis=None):
        return _mnp.cumprod(self, axis=axis)

    def diagonal(self, offset=0, axis1=0, axis2=1):
        return _mnp.diagonal(self, offset, axis1, axis2)

    def trace(self, offset=0, axis1=0, axis2=1):
        return _mnp.trace(self, offset, axis1, axis2)

    def repeat(self, repeats, axis=None):
        return _mnp.repeat(self, repeats, axis)

    def argmax(self, axis=None):
        return np.argmax(stop_gradient(self), axis=axis)

    def argmin(self, axis=None):
        return np.argmin(stop_gradient(self), axis=axis)


# The array namespace behind Traced's operators and the engine's own sums: minidsn.numpy installs itself here when
# it is imported (install_namespace), so this module never imports it. Until one is installed, a stand-in loads the
# default namespace by its name on first use, so `grad(lambda x: x * x)` works with only minidsn.engine imported.
DEFAULT_NAMESPACE = "minidsn.numpy"


class _NamespaceNotYetLoaded:
    """Placeholder for the array namespace: the first attribute asked for imports DEFAULT_NAMESPACE (which installs
    itself through install_namespace) and answers from it."""

    def __getattr__(self, name):
        import importlib

        importlib.import_module(DEFAULT_NAMESPACE)
        if isinstance(_mnp, _NamespaceNotYetLoaded):
            raise EngineError(f"{DEFAULT_NAMESPACE} was imported but did not install itself as the array namespace")
        return getattr(_mnp, name)


_mnp: Any = _NamespaceNotYetLoaded()


def install_namespace(ns) -> None:
    """Make `ns` (a module with add, sum, astype, multiply, ... as primitives) the namespace behind Traced's operators
    and the engine's own sums. minidsn.numpy calls this when it is imported."""
    global _mnp
    _mnp = ns


def namespace():
    """The installed array namespace (loading the default one if none is installed yet)."""
    if isinstance(_mnp, _NamespaceNotYetLoaded):
        _mnp.add  # noqa: B018 - loads and installs the default namespace
    return _mnp

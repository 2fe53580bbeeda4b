"""V-values as JAX pytrees: nested dicts whose leaves are numbers (Bukatin & Anthony, arXiv 1712.07447;
notes/dmm.md "V-values").

A V-value is a finite prefix tree with numeric leaves, V = R (+) (L -> V). Here it is a plain ``dict`` (labels are
strings) whose values are numbers (Python floats or JAX scalars) or dicts; a number beside a map lives under the
label ``":number"``. Plain dicts are JAX pytrees, so ``jax.grad`` differentiates through every operation below and
returns gradients shaped like the V-values.

Zeros: the operations never drop a leaf because it is zero (a traced value has no value to test), so the structure
of a result depends only on the structures of the arguments, which is what ``jit`` and ``grad`` need. Two V-values are
equal as vectors when their difference has only zero leaves (``vequal``); a missing path reads as 0.
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["NUMBER", "vadd", "vscale", "vsum", "lincomb", "get", "max_norm", "dot", "paths", "vequal", "number",
           "abs0"]

NUMBER = ":number"


def _as_tree(v):
    return v if isinstance(v, dict) else {NUMBER: v}


def vadd(a, b):
    """Recursive sum; a number beside a map is read as {":number": x}."""
    if not isinstance(a, dict) and not isinstance(b, dict):
        return a + b
    a, b = _as_tree(a), _as_tree(b)
    out = dict(a)
    for k, v in b.items():
        out[k] = vadd(out[k], v) if k in out else v
    return out


def vscale(c, a):
    """c * a, leaf by leaf."""
    if isinstance(a, dict):
        return {k: vscale(c, v) for k, v in a.items()}
    return c * a


def vsum(values):
    out = {}
    for v in values:
        out = vadd(out, v)
    return out


def get(v, path):
    """The subtree at ``path`` (a tuple of labels); {} when absent."""
    for label in path:
        if not isinstance(v, dict):
            v = {NUMBER: v}
        if label not in v:
            return {}
        v = v[label]
    return v


def paths(v, prefix=()):
    """[(path, leaf)] in label order."""
    if not isinstance(v, dict):
        return [(prefix, v)]
    out = []
    for k in sorted(v):
        out.extend(paths(v[k], prefix + (k,)))
    return out


def lincomb(mask, M):
    """sum over the leaves (path p, weight w) of ``mask`` of w * subtree(M, p): how a network matrix (the mask) is
    applied to the V-value of all outputs (notes/dmm.md, "Operations")."""
    return vsum(vscale(w, get(M, p)) for p, w in paths(mask))


def abs0(x):
    """|x| with slope sign(x): 0 at 0 (the subgradient minidsn and the notes use; jnp.abs's JAX slope at 0 is 1)."""
    return x * jnp.sign(x)


def max_norm(v):
    """max(0, max over leaves |x|) (ties in the max share the gradient equally, as jnp.max does)."""
    leaves = [leaf for _, leaf in paths(v)]
    if not leaves:
        return 0.0
    return jnp.maximum(0.0, jnp.max(jnp.stack([abs0(jnp.asarray(x)) for x in leaves])))


def dot(a, b):
    """sum over the paths of ``a`` of a_p * b_p (b missing = 0)."""
    total = 0.0
    for p, x in paths(a):
        y = get(b, p)
        if isinstance(y, dict):
            y = y.get(NUMBER, 0.0) if y else 0.0
        total = total + x * y
    return total


def number(v):
    """The scalar of a V-value: its leaf at ":number" (or the value itself), 0 when absent."""
    if not isinstance(v, dict):
        return v
    x = v.get(NUMBER, 0.0)
    return x if not isinstance(x, dict) else number(x)


def vequal(a, b, tol: float = 0.0) -> bool:
    """Equality as vectors: every leaf of a - b is (within ``tol``) zero."""
    diff = vadd(a, vscale(-1.0, b))
    return all(abs(float(x)) <= tol for _, x in paths(diff))

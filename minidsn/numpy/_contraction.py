"""Products and contractions of minidsn.numpy beyond matmul: dot and inner for n-d operands, tensordot, kron, cross,
and einsum in full (ellipsis, a repeated index within one operand, the operand/sublist form).

All are composed from the table's primitives (matmul, the core einsum, transpose, reshape, getitem, ...), so they
are differentiable to any order with no rule of their own.
"""

from __future__ import annotations

import builtins
import string

import numpy as np

from minidsn.engine.core import Traced
from minidsn.numpy import _table as t
from minidsn.numpy._manipulation import diagonal, moveaxis

__all__ = ["dot", "vdot", "inner", "outer", "tensordot", "kron", "cross", "einsum"]


def _ndim(x) -> int:
    return x.ndim if isinstance(x, Traced) else np.ndim(x)


def _shape(x) -> tuple:
    return x.shape if isinstance(x, Traced) else np.shape(x)


def dot(a, b):
    """np.dot: a product with a scalar, matmul up to 2-d, else the sum over a's last and b's second-to-last axis."""
    na, nb = _ndim(a), _ndim(b)
    if na == 0 or nb == 0:
        return t.multiply(a, b)
    if nb == 1 or (na <= 2 and nb <= 2):
        return t.matmul(a, b)
    return tensordot(a, b, axes=([-1], [-2]))


def vdot(a, b):
    return t.sum(t.multiply(t.ravel(a), t.ravel(b)))


def inner(a, b):
    """np.inner: the sum over the last axes of a and b (a product with a scalar)."""
    if _ndim(a) == 0 or _ndim(b) == 0:
        return t.multiply(a, b)
    return tensordot(a, b, axes=([-1], [-1]))


def outer(a, b):
    """np.outer: a.ravel()[:, None] * b.ravel()[None, :]."""
    return t.multiply(t.reshape(a, (-1, 1)), t.reshape(b, (1, -1)))


def tensordot(a, b, axes=2):
    """np.tensordot: the summed axes moved together, one matrix product, then the free axes restored."""
    sa, sb = _shape(a), _shape(b)
    na, nb = len(sa), len(sb)
    if isinstance(axes, (int, np.integer)):
        axes_a, axes_b = list(range(na - axes, na)), list(range(axes))
    else:
        axes_a, axes_b = axes
        axes_a = [axes_a] if isinstance(axes_a, (int, np.integer)) else list(axes_a)
        axes_b = [axes_b] if isinstance(axes_b, (int, np.integer)) else list(axes_b)
    if len(axes_a) != len(axes_b):
        raise ValueError("shape-mismatch for sum")
    axes_a = [x % na for x in axes_a]
    axes_b = [x % nb for x in axes_b]
    for x, y in zip(axes_a, axes_b):
        if sa[x] != sb[y]:
            raise ValueError("shape-mismatch for sum")
    free_a = [i for i in range(na) if i not in axes_a]
    free_b = [i for i in range(nb) if i not in axes_b]
    k = int(np.prod([sa[i] for i in axes_a]))
    at = t.reshape(t.transpose(a, tuple(free_a + axes_a)), (-1, k))
    bt = t.reshape(t.transpose(b, tuple(axes_b + free_b)), (k, -1))
    return t.reshape(t.matmul(at, bt), tuple(sa[i] for i in free_a) + tuple(sb[i] for i in free_b))


def kron(a, b):
    """np.kron: both operands brought to one number of axes, axes interleaved in an outer product, then merged."""
    sa, sb = _shape(a), _shape(b)
    nd = builtins.max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + tuple(sa)
    sb = (1,) * (nd - len(sb)) + tuple(sb)
    ar = t.reshape(a, tuple(x for d in sa for x in (d, 1)))
    br = t.reshape(b, tuple(x for d in sb for x in (1, d)))
    return t.reshape(t.multiply(ar, br), tuple(x * y for x, y in zip(sa, sb)))


def cross(a, b, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """np.cross of 3-vectors (and of two 2-vectors: the scalar z component), along the given axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(a, axisa, -1)
    b = moveaxis(b, axisb, -1)
    na, nb = _shape(a)[-1], _shape(b)[-1]
    if (na, nb) == (2, 2):
        return t.subtract(t.multiply(a[..., 0], b[..., 1]), t.multiply(a[..., 1], b[..., 0]))
    if (na, nb) != (3, 3):
        raise NotImplementedError("minidsn.numpy.cross: 3-vectors (or two 2-vectors) only")
    a0, a1, a2 = a[..., 0], a[..., 1], a[..., 2]
    b0, b1, b2 = b[..., 0], b[..., 1], b[..., 2]
    c = t.stack([
        t.subtract(t.multiply(a1, b2), t.multiply(a2, b1)),
        t.subtract(t.multiply(a2, b0), t.multiply(a0, b2)),
        t.subtract(t.multiply(a0, b1), t.multiply(a1, b0)),
    ], axis=-1)
    return moveaxis(c, -1, axisc)


# ------------------------------------------------------------------------------------------------ einsum

_LETTERS = string.ascii_letters


def _sublist_to_subscripts(args):
    """The operand/sublist form einsum(op0, sub0, op1, sub1, ..., [sub_out]) as (subscripts string, operands)."""

    def letters(sub):
        out = []
        for s in sub:
            if s is Ellipsis:
                out.append("...")
            elif isinstance(s, (int, np.integer)) and 0 <= s < len(_LETTERS):
                out.append(_LETTERS[s])
            else:
                raise ValueError(f"einsum: subscript {s!r} in the sublist form must be an int in [0, 52) or ...")
        return "".join(out)

    args = list(args)
    operands, subs = args[0::2], args[1::2]
    out = None
    if len(operands) > len(subs):  # an odd count: the last item is the output sublist
        out = operands.pop()
    s = ",".join(letters(x) for x in subs)
    if out is not None:
        s += "->" + letters(out)
    return s, operands


def _expand_ellipsis(ins, out, operands):
    """Replace '...' by letters (right-aligned across operands, as NumPy broadcasts), broadcasting size-1 ellipsis
    axes of an operand explicitly (broadcast_to is differentiable) so that every letter has one size."""
    used = set("".join(ins) + (out or ""))
    ell_dims = []
    for sub, op in zip(ins, operands):
        ell_dims.append(_ndim(op) - len(sub.replace("...", "")) if "..." in sub else 0)
    n_ell = builtins.max(ell_dims, default=0)
    free = [c for c in _LETTERS if c not in used]
    if n_ell > len(free):
        raise ValueError("einsum: too many axes for the available index letters")
    ell = "".join(free[:n_ell])
    ell_shapes = [_shape(op)[sub.index("..."): sub.index("...") + e] if "..." in sub else ()
                  for sub, op, e in zip(ins, operands, ell_dims)]
    bshape = np.broadcast_shapes(*ell_shapes) if ell_shapes else ()
    new_ins, new_ops = [], []
    for sub, op, e, es in zip(ins, operands, ell_dims, ell_shapes):
        if "..." in sub:
            pos = sub.index("...")
            if tuple(es) != tuple(bshape[len(bshape) - e:]):
                s = _shape(op)
                op = t.broadcast_to(op, s[:pos] + tuple(bshape[len(bshape) - e:]) + s[pos + e:])
            sub = sub.replace("...", ell[n_ell - e:])
        new_ins.append(sub)
        new_ops.append(op)
    if out is None:
        counts = "".join(new_ins)
        singles = "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell))
        out = ell + singles
    else:
        out = out.replace("...", ell)
    return new_ins, out, new_ops


def _take_repeated_diagonals(sub, op):
    """An operand with a letter repeated in its subscripts ('ii', 'iji'): take that diagonal first, as many times as
    needed, so the core einsum sees distinct letters only (the diagonal's gather has the exact adjoint)."""
    while len(set(sub)) != len(sub):
        c = next(ch for ch in sub if sub.count(ch) > 1)
        p = sub.index(c)
        q = sub.index(c, p + 1)
        op = diagonal(op, 0, p, q)
        sub = sub[:p] + sub[p + 1:q] + sub[q + 1:] + c
    return sub, op


def einsum(*operands, **kwargs):
    """np.einsum: subscripts string (explicit or implicit, with ellipsis) or the operand/sublist form; a letter may
    repeat within one operand (a diagonal). Keyword arguments other than optimize are not supported."""
    kwargs.pop("optimize", None)
    if kwargs:
        raise NotImplementedError(f"minidsn.numpy.einsum: arguments {sorted(kwargs)} are not supported")
    if not operands:
        raise ValueError("einsum: no operands")
    if isinstance(operands[0], str):
        subscripts, ops = operands[0], list(operands[1:])
    else:
        subscripts, ops = _sublist_to_subscripts(operands)
    s = subscripts.replace(" ", "")
    ins_s, arrow, out = s.partition("->")
    ins = ins_s.split(",")
    if len(ins) != len(ops):
        raise ValueError(f"einsum: {len(ins)} subscript groups for {len(ops)} operands")
    out = out if arrow else None
    if "..." in s:
        ins, out, ops = _expand_ellipsis(ins, out, ops)
    if out is None:
        letters = "".join(ins)
        out = "".join(sorted(c for c in set(letters) if letters.count(c) == 1))
    pairs = [_take_repeated_diagonals(sub, op) for sub, op in zip(ins, ops)]
    return t.einsum(",".join(p[0] for p in pairs) + "->" + out, *[p[1] for p in pairs])

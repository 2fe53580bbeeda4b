"""check_grads: compare the engine's derivatives with central finite differences.

Method (as HIPS/autograd and JAX do, see ../shared/notes/autodiff.md):
- reverse mode, adjoint form, for any size: for seeded random directions u (inputs) and v (output cotangent),
  <v, J u> by central differences  (v . (f(x + eps u) - f(x - eps u)) / (2 eps))  against  <vjp(v), u>;
- full Jacobian, for small inputs and outputs: every column by central differences against every row by VJP;
- forward mode (modes includes "fwd"): J u by jvp against the central difference;
- order 2: the same checks applied to the first-order directional derivative x -> <vjp_x(v), u>.
float64 only unless allow_float32=True (single precision cannot resolve the tolerances).
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

from minidsn.engine.pytree import tree_flatten, tree_unflatten
from minidsn.engine.transforms import jvp as _jvp
from minidsn.engine.transforms import vjp as _vjp

__all__ = ["check_grads", "GradientCheckError"]


class GradientCheckError(AssertionError):
    """Analytic and numeric derivatives disagree."""


def _flat(args):
    leaves, treedef = tree_flatten(list(args))
    return leaves, treedef


def _check_dtypes(leaves, allow_float32):
    for i, leaf in enumerate(leaves):
        dt = np.result_type(leaf)
        if dt == np.float64:
            continue
        if allow_float32 and dt == np.float32:
            continue
        raise TypeError(
            f"check_grads: input leaf {i} has dtype {dt}; finite differences need float64 "
            "(pass allow_float32=True to check single precision with loose tolerances)"
        )


def _as_output_array(y):
    if isinstance(y, (dict, list, tuple)):
        raise TypeError("check_grads: f must return a single array")
    return np.asarray(y, dtype=np.float64)


def _perturbed(leaves, treedef, direction, scale):
    new = [np.asarray(x, dtype=np.float64) + scale * d for x, d in zip(leaves, direction)]
    return tree_unflatten(treedef, new)


def _tree_dot(a_leaves, b_leaves):
    return float(sum(np.sum(np.asarray(a) * np.asarray(b)) for a, b in zip(a_leaves, b_leaves)))


def _close(analytic, numeric, rtol, atol):
    return abs(analytic - numeric) <= atol + rtol * max(abs(analytic), abs(numeric))


def check_grads(
    f: Callable,
    args: Sequence,
    order: int = 1,
    modes: Sequence[str] = ("rev",),
    eps: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
    n_directions: int = 3,
    full_jacobian_max: int = 64,
    seed: int = 0,
    allow_float32: bool = False,
) -> float:
    """Check the derivatives of f(*args) (args: a sequence of pytrees of float64 arrays) to the given order.

    Raises GradientCheckError naming the check, the direction or Jacobian entry, and both values; returns the
    largest relative error seen (for reports such as selfcheck's table).
    """
    args = list(args)
    leaves, treedef = _flat(args)
    _check_dtypes(leaves, allow_float32)
    for m in modes:
        if m not in ("rev", "fwd"):
            raise ValueError(f"check_grads: unknown mode {m!r} (allowed: 'rev', 'fwd')")
    rng = np.random.default_rng(seed)
    worst = 0.0

    def call(tree_args):
        return _as_output_array(f(*tree_args))

    y0 = call(tree_unflatten(treedef, leaves))
    sizes = [int(np.size(x)) for x in leaves]

    def rand_like_leaves():
        return [rng.standard_normal(np.shape(x)) for x in leaves]

    def numeric_dir(direction):
        yp = call(_perturbed(leaves, treedef, direction, eps))
        ym = call(_perturbed(leaves, treedef, direction, -eps))
        return (yp - ym) / (2 * eps)

    def record(analytic, numeric, what):
        nonlocal worst
        denom = max(abs(analytic), abs(numeric), atol / max(rtol, 1e-300))
        worst = max(worst, abs(analytic - numeric) / denom if denom else 0.0)
        if not _close(analytic, numeric, rtol, atol):
            raise GradientCheckError(
                f"check_grads (order {order}): {what}: analytic {analytic!r} vs numeric {numeric!r} "
                f"(abs err {abs(analytic - numeric):.3e}, rtol {rtol}, atol {atol})"
            )

    if "rev" in modes:
        _, vjp_fun = _vjp(lambda *a: f(*a), *args)
        for k in range(n_directions):
            u = rand_like_leaves()
            v = rng.standard_normal(y0.shape)
            numeric = float(np.sum(v * numeric_dir(u)))
            g_leaves = [leaf for g in vjp_fun(v) for leaf in tree_flatten(g)[0]]
            analytic = _tree_dot(g_leaves, u)
            record(analytic, numeric, f"reverse mode, random direction {k} <v, J u>")
        if sum(sizes) <= full_jacobian_max and y0.size <= full_jacobian_max:
            rows = []
            for j in range(y0.size):
                e = np.zeros(y0.size)
                e[j] = 1.0
                rows.append(np.concatenate([np.ravel(leaf) for g in vjp_fun(e.reshape(y0.shape))
                                            for leaf in tree_flatten(g)[0]] or [np.zeros(0)]))
            J_ad = np.array(rows).reshape(y0.size, sum(sizes))
            offsets = np.cumsum([0] + sizes)
            for c in range(sum(sizes)):
                direction = [np.zeros(np.shape(x)) for x in leaves]
                li = int(np.searchsorted(offsets, c, side="right") - 1)
                flat = direction[li].reshape(-1)
                flat[c - offsets[li]] = 1.0
                direction[li] = flat.reshape(np.shape(leaves[li]))
                col = np.ravel(numeric_dir(direction))
                for r in range(y0.size):
                    record(float(J_ad[r, c]), float(col[r]),
                           f"Jacobian entry d out[{r}] / d leaf {li}[{c - offsets[li]}]")

    if "fwd" in modes:
        for k in range(n_directions):
            u = rand_like_leaves()
            u_tree = tree_unflatten(treedef, u)
            _, t_out = _jvp(lambda *a: f(*a), tuple(args), tuple(u_tree))
            num = numeric_dir(u)
            for r, (a, n) in enumerate(zip(np.ravel(t_out), np.ravel(num))):
                record(float(a), float(n), f"forward mode, random direction {k}, output entry {r}")

    if order > 1:
        import minidsn.numpy as mnp

        v = rng.standard_normal(y0.shape)
        u = rand_like_leaves()

        def directional(*a):
            _, vf = _vjp(lambda *b: f(*b), *a)
            g_leaves = [leaf for g in vf(v) for leaf in tree_flatten(g)[0]]
            total = 0.0
            for gl, ul in zip(g_leaves, u):
                total = mnp.add(total, mnp.sum(mnp.multiply(gl, ul)))
            return total

        worst = max(worst, check_grads(directional, args, order=order - 1, modes=modes, eps=eps, rtol=rtol,
                                       atol=atol, n_directions=n_directions, full_jacobian_max=full_jacobian_max,
                                       seed=seed + 1, allow_float32=allow_float32))
    return worst

"""The DNM DAG kernels as engine primitives (one primitive per kernel, each with one joint VJP), and the engine
reference: the same forward written with minidsn.numpy operations, differentiated by the engine itself.

    out = dag_dense(d, w, b, x, n_in=..., n_out=...)                       every allowed entry
    out = dag_sparse(d, w, b, x, n_in=..., n_out=..., indptr=..., indices=...)   only the listed (live) entries
    out = dag_engine_reference(d, w, b, x, n_in, n_out)                     mnp operations, engine gradient

Each takes `slope` and `activation` ("leaky_relu", the notebooks' default, or "sigmoid", the seed text's) as
keyword arguments, passed through to the kernels.

Equations and storage: minidsn.models.dnm.dag_kernels (module docstring). The VJPs are compiled kernels: first order only
(the engine raises a clear error for a second derivative; use dag_engine_reference for that).

The kernel forward keeps its intermediates (o, z, act(z) per source) for the backward. The engine hands a
joint VJP only (g, ans, *args), so the intermediates are remembered against the identity of `ans` in a small
bounded cache (holding `ans` itself, so the identity cannot be reused while the entry lives); a miss recomputes
the forward, which gives the same numbers.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

import minidsn.numpy as mnp
from minidsn.engine import defvjp_joint, primitive
from minidsn.models.dnm import dag_kernels as dag
from minidsn.nn.activations import leaky_relu, sigmoid

__all__ = ["dag_dense", "dag_sparse", "dag_engine_reference"]

_CACHE_SIZE = 8
_cache: OrderedDict = OrderedDict()


def _remember(ans, cache):
    _cache[id(ans)] = (ans, cache)
    while len(_cache) > _CACHE_SIZE:
        _cache.popitem(last=False)


def _recall(ans):
    entry = _cache.get(id(ans))
    if entry is not None and entry[0] is ans:
        return entry[1]
    return None


@primitive
def dag_dense(d, w, b, x, *, n_in, n_out, slope=dag.DEFAULT_SLOPE, jit=True, activation=dag.DEFAULT_ACTIVATION):
    """DAG forward (minidsn.models.dnm.dag_kernels equations) over every allowed entry; returns out [B, n_out].

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 197-238 (the DAG
        forward as one engine primitive; VJP dag_kernels.dense_backward).
    """
    out, cache = dag.dense_forward(d, w, b, x, n_in, n_out, slope=slope, jit=jit, activation=activation)
    _remember(out, cache)
    return out


def _dense_vjp(g, ans, d, w, b, x, *, n_in, n_out, slope=dag.DEFAULT_SLOPE, jit=True, activation=dag.DEFAULT_ACTIVATION):
    cache = _recall(ans)
    if cache is None:
        _, cache = dag.dense_forward(d, w, b, x, n_in, n_out, slope=slope, jit=jit, check=False, activation=activation)
    return dag.dense_backward(g, d, w, n_in, cache, slope=slope, jit=jit, activation=activation)


defvjp_joint(dag_dense, _dense_vjp)


@primitive
def dag_sparse(d, w, b, x, *, n_in, n_out, indptr, indices, slope=dag.DEFAULT_SLOPE, jit=True,
               activation=dag.DEFAULT_ACTIVATION):
    """DAG forward over the entries listed in the CSR structure (indptr, indices) only; out [B, n_out].

    The function is out = DAG(d restricted to the structure), so its gradient for d is zero off the structure.
    With the structure of the nonzero entries (dag.live_structure(d)) the value equals dag_dense's.

    Source: seed 000 l. 123; Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l.
        197-238 (the DAG forward on live entries only).
    """
    out, cache = dag.sparse_forward(d, w, b, x, n_in, n_out, indptr, indices, slope=slope, jit=jit,
                                    activation=activation)
    _remember(out, cache)
    return out


def _sparse_vjp(g, ans, d, w, b, x, *, n_in, n_out, indptr, indices, slope=dag.DEFAULT_SLOPE, jit=True,
                activation=dag.DEFAULT_ACTIVATION):
    cache = _recall(ans)
    if cache is None:
        _, cache = dag.sparse_forward(d, w, b, x, n_in, n_out, indptr, indices, slope=slope, jit=jit, check=False,
                                      activation=activation)
    return dag.sparse_backward(g, d, w, n_in, indptr, indices, cache, slope=slope, jit=jit, activation=activation)


defvjp_joint(dag_sparse, _sparse_vjp)


def dag_engine_reference(d, w, b, x, n_in: int, n_out: int, slope: float = dag.DEFAULT_SLOPE,
                         activation: str = dag.DEFAULT_ACTIVATION):
    """The DAG forward with minidsn.numpy operations only (engine gradient, any order). Returns out [B, n_out].

    Input sources contribute to every computational neuron through one matrix product; the computational neurons
    are then evaluated one at a time in index order, each from the stacked activations of the ones before it.
    Disallowed entries of d are masked out, as in the kernels.

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 197-238 (the same
        forward in minidsn.numpy operations); seed 000 l. 68 (activation = "sigmoid").
    """
    dag.activation_code(activation)  # names a bad activation before any work

    def act(z):
        return sigmoid(z) if activation == "sigmoid" else leaky_relu(z, slope)

    n_rows, n_src = d.shape
    n_comp = n_src - n_in
    mask = dag.allowed_mask(n_rows + n_in, n_in, n_out)
    d = mnp.where(mask, d, 0.0)
    z_in = x * w[:n_in] + b[:n_in]  # [B, n_in]
    a_in = act(z_in)
    z_cols = [z_in]
    a_cols = [a_in]
    if n_comp > 0:
        acc = a_in @ d[:n_comp, :n_in].T  # [B, n_comp]: input part of every computational neuron
        comp_z, comp_a = [], []
        for r in range(n_comp):
            i = n_in + r
            o_i = acc[:, r]
            if r > 0:
                prev = mnp.stack(comp_a, axis=1)  # [B, r]
                o_i = o_i + prev @ d[r, n_in:i]
            z_i = o_i * w[i] + b[i]
            comp_z.append(z_i)
            comp_a.append(act(z_i))
        z_cols.append(mnp.stack(comp_z, axis=1))
    z_all = mnp.concatenate(z_cols, axis=1) if len(z_cols) > 1 else z_cols[0]  # [B, n_src]
    return z_all @ d[n_comp:, :].T

"""URN update rule in plain NumPy: the unrolled iteration (forward) and its exact reverse pass (VJP).

Source: seed 002 (Golkar, "Emergent Structures and Lifetime Structure Evolution in Artificial Neural Networks").
  eq. 2  N^(0) = (x, 0, ..., 0): the input in the first d_in neurons              -> `embed_input`
  eq. 3  N^(l+1) = phi(W N^(l) + b), W (S x S), applied I times                     -> `urn_iterate_forward`
  eq. 6  residual output nodes: N_i^(l+1) = N_i^(l) + phi(...) for output nodes     -> `res_out_idx`
  eq. 7  residual input nodes:  N_i^(l+1) = x_i + phi(...) for input nodes          -> `res_in_idx`
Batch layout: rows are samples, so W N becomes H @ W.T (W_ij is the synapse j -> i, as in eq. 1).

The forward returns P (I, B, S) with P_l = phi(A_l), A_l = H_l W^T + b; the states H_l are rebuilt from P and
N^(0) by `states_from_p` (same arithmetic as inside the forward, so the reverse pass sees the exact H_l, and
phi'(A_l) is read from P_l without recomputing the matrix products). Returning P instead of H keeps relu's
derivative exact under the residual rules.

Activation sparsity is used when it pays: a column of H_l that is zero for every sample contributes nothing to
H_l W^T, and a neuron with phi'(A_l) = 0 for every sample receives no gradient; with `sparse=True` the products run
only over the live neurons (the results agree with the dense products up to summation order).
"""

from __future__ import annotations

import numpy as np

PHI_NAMES = ("relu", "leaky_relu", "softplus", "tanh")
# Use the dense products when more than this fraction of the neurons is live (the gather costs more then).
SPARSE_DENSITY_THRESHOLD = 0.5


def phi_forward(name, a, slope=0.01):
    """phi(a) for the named activation (seed 002 eq. 3 leaves phi open; ASSUMPTION: relu by default).

    Source: seed 002 eq. (3) (phi left open); assumption: relu by default (He-normal init, 'inactive = zero
        activation', seed 002 l. 56, l. 77).
    """
    if name == "relu":
        return np.maximum(a, 0.0)
    if name == "leaky_relu":
        return np.where(a > 0, a, slope * a)
    if name == "softplus":
        return np.logaddexp(0.0, a)
    if name == "tanh":
        return np.tanh(a)
    raise ValueError(f"unknown activation phi={name!r}; choose from {PHI_NAMES}")


def phi_derivative_from_output(name, p, slope=0.01):
    """phi'(a) written as a function of p = phi(a) (exact for these four activations; relu'(0) = 0).

    Source: seed 002 eq. (3) (phi' for the reverse pass); assumption: relu'(0) = 0.
    """
    if name == "relu":
        return (p > 0).astype(p.dtype)
    if name == "leaky_relu":
        return np.where(p > 0, 1.0, slope)
    if name == "softplus":
        return -np.expm1(-p)  # sigmoid(a) = 1 - exp(-softplus(a))
    if name == "tanh":
        return 1.0 - p * p
    raise ValueError(f"unknown activation phi={name!r}; choose from {PHI_NAMES}")


def embed_input(x, n_neurons):
    """N^(0) of eq. 2: the (B, d_in) input in the first d_in neurons, zeros elsewhere -> (B, S).

    Source: seed 002 Sec. 2 eq. (2) (N_i^(0) = x_i for i <= d_in, else 0; l. 49).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ValueError(f"embed_input: x must be (batch, d_in), got shape {x.shape}")
    if x.shape[1] > n_neurons:
        raise ValueError(f"embed_input: d_in = {x.shape[1]} exceeds the number of neurons S = {n_neurons}")
    if not np.all(np.isfinite(x)):
        raise ValueError("embed_input: input contains NaN or inf")
    n0 = np.zeros((x.shape[0], n_neurons))
    n0[:, : x.shape[1]] = x
    return n0


def _residual_update(p_l, h_l, h0, res_out_idx, res_in_idx):
    """H_{l+1} from P_l (eqs. 3, 6, 7): P_l plus H_l on residual output nodes plus N^(0) on residual input nodes."""
    h = p_l.copy()
    if res_out_idx is not None and len(res_out_idx):
        h[:, res_out_idx] += h_l[:, res_out_idx]
    if res_in_idx is not None and len(res_in_idx):
        h[:, res_in_idx] += h0[:, res_in_idx]
    return h


def states_from_p(p, h0, res_out_idx=None, res_in_idx=None):
    """[H_0, ..., H_I] from P (I, B, S) and H_0 = N^(0): H_{l+1} = P_l (+ residual terms of eqs. 6, 7).

    Source: seed 002 eq. (3), eq. (6) (residual outputs: N^(l+1) = N^(l) + phi(.)), eq. (7) (residual inputs: x_i +
        phi(.)).
    """
    hs = [h0]
    for l in range(p.shape[0]):
        hs.append(_residual_update(p[l], hs[-1], h0, res_out_idx, res_in_idx))
    return hs


def _live_columns(h):
    return np.flatnonzero(np.any(h != 0, axis=0))


def _times_wt(h, W, b, sparse):
    """A = h @ W.T + b, over the live columns of h only when `sparse` and few are live."""
    if sparse:
        cols = _live_columns(h)
        if cols.size <= SPARSE_DENSITY_THRESHOLD * h.shape[1]:
            return h[:, cols] @ W[:, cols].T + b
    return h @ W.T + b


def _check(W, b, h0):
    W = np.asarray(W)
    if W.ndim != 2 or W.shape[0] != W.shape[1]:
        raise ValueError(f"URN: W must be square (S, S), got {W.shape}")
    S = W.shape[0]
    if np.shape(b) != (S,):
        raise ValueError(f"URN: b must have shape ({S},), got {np.shape(b)}")
    if np.ndim(h0) != 2 or np.shape(h0)[1] != S:
        raise ValueError(f"URN: N^(0) must be (batch, {S}), got {np.shape(h0)}")


def urn_iterate_forward(W, b, h0, *, n_iter, phi="relu", slope=0.01, res_out_idx=None, res_in_idx=None,
                        sparse=False):
    """P (I, B, S): P_l = phi(H_l W^T + b) for l = 0..I-1, H_0 = N^(0), H_{l+1} by eqs. 3/6/7 (seed 002).

    Source: seed 002 Sec. 2 eq. (3) (N^(l+1) = phi(W N^(l) + b), I times), eq. (6), eq. (7).
    """
    _check(W, b, h0)
    if n_iter < 1:
        raise ValueError(f"URN: n_iter (I) must be >= 1, got {n_iter}")
    out = np.empty((n_iter,) + np.shape(h0))
    h = h0
    for l in range(n_iter):
        out[l] = phi_forward(phi, _times_wt(h, W, b, sparse), slope)
        h = _residual_update(out[l], h, h0, res_out_idx, res_in_idx)
    return out


def urn_iterate_vjp(g, p, W, b, h0, *, n_iter, phi="relu", slope=0.01, res_out_idx=None, res_in_idx=None,
                    sparse=False, need_h0=True, gw_out=None):
    """Gradients (gW, gb, gh0) of <g, P> for P = urn_iterate_forward(W, b, h0, ...): reverse pass of eqs. 3/6/7.

    With dH_{l+1} the gradient reaching H_{l+1} from later iterations:
      dP_l = g_l + dH_{l+1};  dA_l = dP_l * phi'(A_l);  gW += dA_l^T H_l;  gb += sum_batch dA_l;
      dH_l = dA_l W  (+ dH_{l+1} on residual output nodes);  gh0 += dH_{l+1} on residual input nodes;  gh0 += dH_0.
    The outer products are done as one product of the stacked (I B, S) matrices; with `sparse`, H_0's few live
    columns (the input nodes) get their own thin product. `need_h0=False` (N^(0) is a constant, as in training)
    skips dH_0 = dA_0 W, a full product that only gh0 uses, and returns gh0 = None. `gw_out`: an (S, S) float64
    C-contiguous array gW is written into (its old content is ignored), to reuse memory across training steps.

    Source: seed 002 eq. (3), eq. (6), eq. (7) (the reverse pass of those iterations; tests/test_urn_core.py checks it
        against the engine and finite differences).
    """
    _check(W, b, h0)
    g = np.asarray(g, dtype=np.float64)
    hs = states_from_p(p, h0, res_out_idx, res_in_idx)
    B, S = h0.shape
    da_all = np.empty((n_iter * B, S))
    gh0 = np.zeros((B, S)) if need_h0 else None
    dh_next = np.zeros((B, S))
    for l in range(n_iter - 1, -1, -1):
        dp = g[l] + dh_next
        da = dp * phi_derivative_from_output(phi, p[l], slope)
        da_all[l * B:(l + 1) * B] = da
        if l == 0 and not need_h0:
            break  # dH_0 feeds gh0 only
        if need_h0 and res_in_idx is not None and len(res_in_idx):
            gh0[:, res_in_idx] += dh_next[:, res_in_idx]
        rows = _live_columns(da) if sparse else None
        if rows is not None and rows.size <= SPARSE_DENSITY_THRESHOLD * S:
            dh = da[:, rows] @ W[rows, :]
        else:
            dh = da @ W
        if res_out_idx is not None and len(res_out_idx):
            dh[:, res_out_idx] += dh_next[:, res_out_idx]
        dh_next = dh
    if need_h0:
        gh0 += dh_next
    gb = da_all.sum(axis=0)
    if gw_out is not None and (gw_out.shape != (S, S) or gw_out.dtype != np.float64
                               or not gw_out.flags.c_contiguous or np.may_share_memory(gw_out, W)):
        raise ValueError(f"URN: gw_out must be a C-contiguous float64 ({S}, {S}) array apart from W")
    if sparse and n_iter > 1:
        cols0 = _live_columns(h0)
        if cols0.size <= SPARSE_DENSITY_THRESHOLD * S:
            gW = _outer_sum(da_all[B:], np.concatenate(hs[1:n_iter], axis=0), sparse, gw_out)
            gW[:, cols0] += da_all[:B].T @ h0[:, cols0]
            return gW, gb, gh0
    return _outer_sum(da_all, np.concatenate(hs[:n_iter], axis=0), sparse, gw_out), gb, gh0


def _outer_sum(da, h, sparse, out):
    """da^T h (S, S), into `out` when given; with `sparse`, only the block of live rows of da and live columns of h."""
    S = da.shape[1]
    if sparse:
        rows, cols = _live_columns(da), _live_columns(h)
        if rows.size * cols.size <= SPARSE_DENSITY_THRESHOLD * S * S:
            gW = np.zeros((S, S)) if out is None else out
            if out is not None:
                gW.fill(0.0)
            gW[np.ix_(rows, cols)] = da[:, rows].T @ h[:, cols]
            return gW
    if out is None:
        return da.T @ h
    return np.matmul(da.T, h, out=out)

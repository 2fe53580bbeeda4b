"""Forward and backward passes of the Dynamic Neural Manifold DAG: NumPy references and Numba kernels.

The network (seed 000_15970d877694e0b4, "Network Structure"; note shared/notes/dnm.md, "Indexing" and "Forward
pass") has N neurons: inputs 0..n_in-1, computational n_in..N-n_out-1, outputs N-n_out..N-1, evaluated in index
order. Each SOURCE neuron j < N-n_out owns a weight w_j and bias b_j shared by all its outgoing edges; the closeness
values d are the only per-edge quantities.

    z_j = w_j o_j + b_j                                   (pre-activation of source j, a B-vector)
    o_j = x_j                                             j < n_in
    o_i = sum_{j<i} d[i,j] act(z_j)                       n_in <= i < N-n_out    (computational)
    o_i = sum_{j<N-n_out} d[i,j] z_j                      i >= N-n_out           (outputs, no activation)

act is the `activation` argument of every function here (ACTIVATIONS):
    "leaky_relu"  act(z) = z if z > 0 else slope z       the notebooks (toy cell 0 l. 201-219), slope 0.2
    "sigmoid"     act(z) = 1 / (1 + e^-z)                 the seed text: "closeness ... multiply that value by the
                                                          typical sigmoid(wx+b) activation of each neuron" (l. 68)
The compiled kernels receive it as an integer code (activation_code) and branch per element; the slope is unused
by the sigmoid.

Storage convention used everywhere in minidsn.models.dnm.model*:
  d   [N - n_in, N - n_out]   row r is neuron i = n_in + r, column j is the source neuron j
  w,b [N - n_out]             the source parameters (the model slices its length-N vectors)
  x   [B, n_in]               out [B, n_out]  (raw output-neuron values, before any squaring)
Allowed entries: computational row r takes columns j < n_in + r; output rows take every column. Entries outside
the allowed set are IGNORED (treated as zero) by every function here, and their gradient is zero.

Two compiled kernels compute the same function:
  dense   every allowed entry (input columns by matrix products, computational columns one row at a time);
  sparse  only the entries listed in a CSR structure (indptr, indices) -- the "live" set, normally the nonzero d.
          The function is then out = DAG(d restricted to the structure); its gradient for d is nonzero only there.
Both have NumPy references (`forward_reference`, `backward_reference`) written independently of the kernels.
Intermediates are kept neuron-major ([n_src, B]) so the inner loops run over the contiguous batch axis.
"""

from __future__ import annotations

import math

import numba
import numpy as np
import scipy.special

__all__ = [
    "DEFAULT_SLOPE",
    "ACTIVATIONS",
    "DEFAULT_ACTIVATION",
    "activation_code",
    "allowed_mask",
    "allowed_count",
    "live_structure",
    "check_dag_inputs",
    "forward_reference",
    "backward_reference",
    "dense_forward",
    "dense_backward",
    "sparse_forward",
    "sparse_backward",
]

DEFAULT_SLOPE = 0.2  # tf.nn.leaky_relu default alpha, used by the notebooks (note, "Forward pass")
ACTIVATIONS = ("leaky_relu", "sigmoid")  # code: leaky_relu (note, "Forward pass"); seed text: sigmoid (l. 68, 125)
DEFAULT_ACTIVATION = "leaky_relu"


def activation_code(activation: str) -> int:
    """The integer the compiled kernels take for `activation` (its index in ACTIVATIONS).

    Source: none (argument encoding for the kernels; no formula)
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"dag: activation must be one of {ACTIVATIONS}, got {activation!r}")
    return ACTIVATIONS.index(activation)


# ----------------------------------------------------------------------------------------------------------------
# layout helpers


def allowed_mask(n_neurons: int, n_in: int, n_out: int) -> np.ndarray:
    """Boolean [N-n_in, N-n_out] mask of the allowed entries (note, "Indexing").

    Computational row i (n_in <= i < N-n_out) takes sources j < i; output rows take every source j < N-n_out.

    Source: seed 000 l. 44-62 (DAG: lower triangle; inputs and outputs do not connect among themselves);
        Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 398-420 (output rows
        read sources j < N - n_out, computational rows j < i).
    """
    n_rows, n_src = n_neurons - n_in, n_neurons - n_out
    i = np.arange(n_in, n_neurons)[:, None]
    j = np.arange(n_src)[None, :]
    return (j < i) | (i >= n_src)


def allowed_count(n_neurons: int, n_in: int, n_out: int) -> int:
    """K = (N^2 - n_in^2 - n_out^2 - n_comp)/2, the number of allowed entries (seed, "Network Structure").

    284 for 25/5/4 and 192,519 for 1000/784/10. Computed as a closed form; tests check it against allowed_mask.

    Source: seed 000 l. 62 ((n_neurons^2 - n_inputs^2 - n_outputs^2 - n_computational)/2);
        Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 254 (max_knex).
    """
    n_comp = n_neurons - n_in - n_out
    twice = n_neurons**2 - n_in**2 - n_out**2 - n_comp
    if twice % 2:
        raise ValueError(f"allowed-entry count is not an integer for N={n_neurons}, n_in={n_in}, n_out={n_out}")
    return twice // 2


def live_structure(d: np.ndarray, n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """CSR structure (indptr [n_rows+1], indices [nnz], int64) of the nonzero ALLOWED entries of d, row by row.

    Source: none (sparse index structure of the nonzero entries; no formula)
    """
    d = np.asarray(d)
    n_rows, n_src = d.shape
    mask = (d != 0) & allowed_mask(n_rows + n_in, n_in, n_out)
    counts = mask.sum(axis=1)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    indices = np.nonzero(mask)[1].astype(np.int64)  # row-major order: sorted within each row
    return indptr, indices


def check_dag_inputs(d, w, b, x, n_in: int, n_out: int) -> None:
    """Raise ValueError naming the problem when shapes, dtypes or values cannot describe a DAG.

    Source: none (argument checks; no formula)
    """
    for name, a in (("d", d), ("w", w), ("b", b), ("x", x)):
        if not isinstance(a, np.ndarray):
            raise TypeError(f"dag: {name} must be a numpy ndarray, got {type(a).__name__}")
        if a.dtype != np.float64:
            raise TypeError(f"dag: {name} must be float64, got {a.dtype}")
    if n_in < 1 or n_out < 1:
        raise ValueError(f"dag: n_in and n_out must be >= 1, got n_in={n_in}, n_out={n_out}")
    if d.ndim != 2:
        raise ValueError(f"dag: d must be 2-D [N-n_in, N-n_out], got shape {d.shape}")
    n_rows, n_src = d.shape
    n_neurons = n_rows + n_in
    if n_src != n_neurons - n_out or n_src < n_in:
        raise ValueError(
            f"dag: d has shape {d.shape}, which does not fit n_in={n_in}, n_out={n_out} "
            f"(expected [N-{n_in}, N-{n_out}] for some N >= n_in + n_out)"
        )
    if w.shape != (n_src,) or b.shape != (n_src,):
        raise ValueError(f"dag: w and b must have shape ({n_src},) (one per source neuron), got {w.shape}, {b.shape}")
    if x.ndim != 2 or x.shape[1] != n_in:
        raise ValueError(f"dag: x must have shape [B, {n_in}], got {x.shape}")
    for name, a in (("d", d), ("w", w), ("b", b), ("x", x)):
        if not np.all(np.isfinite(a)):
            raise ValueError(f"dag: {name} contains NaN or inf")


# ----------------------------------------------------------------------------------------------------------------
# NumPy references: one neuron at a time, exactly the equations in the module docstring


def _act_reference(z, slope, activation):
    activation_code(activation)
    if activation == "sigmoid":
        return scipy.special.expit(z)
    return np.where(z > 0, z, slope * z)


def _act_derivative_reference(z, slope, activation):
    if activation == "sigmoid":
        s = scipy.special.expit(z)
        return s * (1.0 - s)
    return np.where(z > 0, 1.0, slope)


def _reference_values(d, w, b, x, n_in: int, n_out: int, slope: float, activation: str):
    """(o [B, n_src] every source's value, out [B, n_out], dm the masked d), neuron by neuron."""
    n_rows, n_src = d.shape
    dm = np.where(allowed_mask(n_rows + n_in, n_in, n_out), d, 0.0)
    B = x.shape[0]
    o = np.zeros((B, n_src))
    o[:, :n_in] = x
    out = np.zeros((B, n_out))
    for r in range(n_rows):
        i = n_in + r
        if i < n_src:  # computational neuron: only sources j < i
            o[:, i] = _act_reference(o[:, :i] * w[:i] + b[:i], slope, activation) @ dm[r, :i]
        else:
            out[:, i - n_src] = (o * w + b) @ dm[r]
    return o, out, dm


def forward_reference(d, w, b, x, n_in: int, n_out: int, slope: float = DEFAULT_SLOPE,
                      activation: str = DEFAULT_ACTIVATION) -> np.ndarray:
    """Reference forward pass (module docstring equations), neuron by neuron. Returns out [B, n_out].

    Source: seed 000 l. 56-60, l. 86 (neuron-by-neuron evaluation of the DAG); Miej/Dynamic_Neural_Manifold@873268a
        dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 197-198 (inputs), l. 201-219 (computational: sum_j d_ij
        leaky_relu(w_j o_j + b_j)), l. 222-238 (outputs: sum_j d_ij (w_j o_j + b_j)), l. 428-429 (w, b of the source
        neuron); seed 000 l. 68 (activation = "sigmoid": strength times sigmoid(wx+b)).
    """
    return _reference_values(d, w, b, x, n_in, n_out, slope, activation)[1]


def backward_reference(g, d, w, b, x, n_in: int, n_out: int, slope: float = DEFAULT_SLOPE,
                       activation: str = DEFAULT_ACTIVATION):
    """Reference VJP of forward_reference: given g = dL/dout [B, n_out], return (gd, gw, gb, gx).

    Reverse sweep over neurons: g_o[i] is complete once every consumer k > i has been visited.
    gd[r, j] = sum_b g_o[i] act_j;  g_act[j] += d[r,j] g_o[i];  g_z = g_act * act'(z) (+ direct output terms);
    gw_j = sum_b g_z_j o_j;  gb_j = sum_b g_z_j;  g_o[j] += w_j g_z_j.

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 197-238
        (reverse-mode derivative of that forward; TensorFlow's gradient in the original; tests/test_dag_kernels.py
        checks it by finite differences); seed 000 l. 68 (sigmoid: act' = act (1 - act)).
    """
    n_rows, n_src = d.shape
    B = x.shape[0]
    o, _, dm = _reference_values(d, w, b, x, n_in, n_out, slope, activation)  # every source's value
    z = o * w + b
    act = _act_reference(z, slope, activation)
    gd = np.zeros_like(d)
    g_o = np.zeros((B, n_src))
    g_z_direct = np.zeros((B, n_src))  # from output rows (no activation)
    g_act = np.zeros((B, n_src))  # from computational rows (through leaky_relu)
    for r in range(n_rows - 1, -1, -1):
        i = n_in + r
        if i >= n_src:
            gi = g[:, i - n_src]
            gd[r] = gi @ z
            g_z_direct += np.outer(gi, dm[r])
        else:
            gi = g_o[:, i]
            gd[r, :i] = gi @ act[:, :i]
            g_act[:, :i] += np.outer(gi, dm[r, :i])
        # after finishing row r, the source just below it (i-1) has all its consumers if it is computational;
        # completing g_o[j] for j = i-1 here keeps the sweep in one loop.
        j = i - 1
        if n_in <= j < n_src:
            gzj = g_z_direct[:, j] + g_act[:, j] * _act_derivative_reference(z[:, j], slope, activation)
            g_o[:, j] = w[j] * gzj
    g_zall = g_z_direct + g_act * _act_derivative_reference(z, slope, activation)
    gw = np.sum(g_zall * o, axis=0)
    gb = np.sum(g_zall, axis=0)
    gx = g_zall[:, :n_in] * w[:n_in]
    return gd, gw, gb, gx


# ----------------------------------------------------------------------------------------------------------------
# Numba kernels (compiled explicitly; `.py_func` of each is the same code with the JIT off)

_njit = numba.njit(cache=False)


@_njit
def _act(z, slope, act):
    """act(z) for the activation code `act` (0 leaky_relu, 1 sigmoid, two-branch stable)."""
    if act == 0:
        return z if z > 0.0 else slope * z
    if z >= 0.0:
        return 1.0 / (1.0 + math.exp(-z))
    ez = math.exp(z)
    return ez / (1.0 + ez)


@_njit
def _act_back(ga, z, a, slope, act):
    """ga * act'(z), with a = act(z) (sigmoid' = a (1 - a)); the leaky branch is the kernels' original expression."""
    if act == 0:
        return ga if z > 0.0 else slope * ga
    return ga * (a * (1.0 - a))


@_njit
def _sources_forward_inputs(xT, w, b, slope, act, O, Z, A):
    n_in, B = xT.shape
    for j in range(n_in):
        for t in range(B):
            o = xT[j, t]
            z = w[j] * o + b[j]
            O[j, t] = o
            Z[j, t] = z
            A[j, t] = _act(z, slope, act)


@_njit
def _finish_source(i, s, w, b, slope, act, O, Z, A):
    B = s.shape[0]
    for t in range(B):
        z = w[i] * s[t] + b[i]
        O[i, t] = s[t]
        Z[i, t] = z
        A[i, t] = _act(z, slope, act)


@_njit
def _dense_forward_kernel(d, w, b, xT, n_in, slope, act):
    n_rows, n_src = d.shape
    n_comp = n_src - n_in
    B = xT.shape[1]
    O = np.empty((n_src, B))
    Z = np.empty((n_src, B))
    A = np.empty((n_src, B))
    _sources_forward_inputs(xT, w, b, slope, act, O, Z, A)
    # every computational row's input-column part at once (inputs are known before any row is evaluated)
    if n_comp > 0:
        acc = np.dot(np.ascontiguousarray(d[:n_comp, :n_in]), A[:n_in])
    else:
        acc = np.zeros((0, B))
    s = np.empty(B)
    for r in range(n_comp):
        i = n_in + r
        for t in range(B):
            s[t] = acc[r, t]
        for j in range(n_in, i):
            dij = d[r, j]
            for t in range(B):
                s[t] += dij * A[j, t]
        _finish_source(i, s, w, b, slope, act, O, Z, A)
    out = np.dot(np.ascontiguousarray(d[n_comp:, :]), Z)  # [n_out, B]
    return out, O, Z, A


@_njit
def _source_grads(gZ, gA, Z, A, O, w, slope, act, n_in):
    """Gradients of the source-owned w, b and of the inputs x from the accumulated gZ, gA (shared by both backward
    kernels): input sources first complete g_z = gZ + act'(z) gA (computational ones were completed in the row
    sweep), then gw_j = sum_t g_z O_j, gb_j = sum_t g_z, gx_j = w_j g_z."""
    n_src, B = gZ.shape
    gw = np.zeros(n_src)
    gb = np.zeros(n_src)
    gxT = np.empty((n_in, B))
    for j in range(n_src):
        sw = 0.0
        sb = 0.0
        for t in range(B):
            if j < n_in:
                gz = gZ[j, t] + _act_back(gA[j, t], Z[j, t], A[j, t], slope, act)
                gZ[j, t] = gz
                gxT[j, t] = w[j] * gz
            else:
                gz = gZ[j, t]
            sw += gz * O[j, t]
            sb += gz
        gw[j] = sw
        gb[j] = sb
    return gw, gb, gxT


@_njit
def _dense_backward_kernel(G, d, w, slope, act, n_in, O, Z, A):
    """G = dL/dout as [n_out, B]. Returns gd [n_rows, n_src], gw, gb [n_src], gxT [n_in, B]."""
    n_rows, n_src = d.shape
    n_comp = n_src - n_in
    B = G.shape[1]
    gd = np.zeros((n_rows, n_src))
    dout = np.ascontiguousarray(d[n_comp:, :])
    gd[n_comp:, :] = np.dot(G, Z.T)
    gZ = np.dot(dout.T, G)  # [n_src, B]: direct gradient on z_j from the output rows
    gA = np.zeros((n_src, B))
    GO = np.empty((n_comp, B))  # gradient on each computational neuron's value o_i
    for r in range(n_comp - 1, -1, -1):
        i = n_in + r
        # every consumer of i (rows > r) is done: complete g_z_i, then g_o_i = w_i g_z_i
        for t in range(B):
            gz = gZ[i, t] + _act_back(gA[i, t], Z[i, t], A[i, t], slope, act)
            gZ[i, t] = gz
            GO[r, t] = w[i] * gz
        for j in range(n_in, i):
            acc = 0.0
            dij = d[r, j]
            for t in range(B):
                acc += GO[r, t] * A[j, t]
                gA[j, t] += dij * GO[r, t]
            gd[r, j] = acc
    if n_comp > 0:
        Ain = A[:n_in]
        gd[:n_comp, :n_in] = np.dot(GO, Ain.T)
        gA[:n_in] += np.dot(np.ascontiguousarray(d[:n_comp, :n_in]).T, GO)
    gw, gb, gxT = _source_grads(gZ, gA, Z, A, O, w, slope, act, n_in)
    return gd, gw, gb, gxT


@_njit
def _sparse_forward_kernel(d, w, b, xT, n_in, indptr, indices, slope, act):
    n_rows, n_src = d.shape
    n_comp = n_src - n_in
    n_out = n_rows - n_comp
    B = xT.shape[1]
    O = np.empty((n_src, B))
    Z = np.empty((n_src, B))
    A = np.empty((n_src, B))
    _sources_forward_inputs(xT, w, b, slope, act, O, Z, A)
    s = np.empty(B)
    for r in range(n_comp):
        i = n_in + r
        s[:] = 0.0
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            if j >= i:  # outside the allowed set: ignored (see module docstring)
                continue
            dij = d[r, j]
            for t in range(B):
                s[t] += dij * A[j, t]
        _finish_source(i, s, w, b, slope, act, O, Z, A)
    out = np.zeros((n_out, B))
    for q in range(n_out):
        r = n_comp + q
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            dij = d[r, j]
            for t in range(B):
                out[q, t] += dij * Z[j, t]
    return out, O, Z, A


@_njit
def _sparse_backward_kernel(G, d, w, slope, act, n_in, indptr, indices, O, Z, A):
    n_rows, n_src = d.shape
    n_comp = n_src - n_in
    n_out = n_rows - n_comp
    B = G.shape[1]
    gd = np.zeros((n_rows, n_src))
    gZ = np.zeros((n_src, B))
    gA = np.zeros((n_src, B))
    for q in range(n_out):
        r = n_comp + q
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            dij = d[r, j]
            acc = 0.0
            for t in range(B):
                acc += G[q, t] * Z[j, t]
                gZ[j, t] += dij * G[q, t]
            gd[r, j] = acc
    go = np.empty(B)
    for r in range(n_comp - 1, -1, -1):
        i = n_in + r
        for t in range(B):
            gz = gZ[i, t] + _act_back(gA[i, t], Z[i, t], A[i, t], slope, act)
            gZ[i, t] = gz
            go[t] = w[i] * gz
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            if j >= i:
                continue
            dij = d[r, j]
            acc = 0.0
            for t in range(B):
                acc += go[t] * A[j, t]
                gA[j, t] += dij * go[t]
            gd[r, j] = acc
    gw, gb, gxT = _source_grads(gZ, gA, Z, A, O, w, slope, act, n_in)
    return gd, gw, gb, gxT


# ----------------------------------------------------------------------------------------------------------------
# Python entry points: argument checks, layout conversion, JIT on/off


def _pick(kernel, jit: bool):
    return kernel if jit else kernel.py_func


def dense_forward(d, w, b, x, n_in: int, n_out: int, slope: float = DEFAULT_SLOPE, jit: bool = True, check=True,
                  activation: str = DEFAULT_ACTIVATION):
    """Dense kernel forward. Returns (out [B, n_out], cache) where cache feeds dense_backward.

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 197-238
        (compiled; held equal to forward_reference by tests/test_dag_kernels.py and the selfcheck 'dag_dense').
    """
    if check:
        check_dag_inputs(d, w, b, x, n_in, n_out)
    xT = np.ascontiguousarray(x.T)
    act = activation_code(activation)
    out, O, Z, A = _pick(_dense_forward_kernel, jit)(np.ascontiguousarray(d), w, b, xT, n_in, float(slope), act)
    return np.ascontiguousarray(out.T), (O, Z, A)


def dense_backward(g, d, w, n_in: int, cache, slope: float = DEFAULT_SLOPE, jit: bool = True,
                   activation: str = DEFAULT_ACTIVATION):
    """Dense kernel VJP. g = dL/dout [B, n_out]. Returns (gd, gw, gb, gx) for (d, w, b, x).

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 197-238 (compiled
        VJP; tests/test_dag_kernels.py, selfcheck 'dag_dense').
    """
    O, Z, A = cache
    G = np.ascontiguousarray(np.asarray(g, dtype=np.float64).T)
    act = activation_code(activation)
    gd, gw, gb, gxT = _pick(_dense_backward_kernel, jit)(G, np.ascontiguousarray(d), w, float(slope), act, n_in,
                                                          O, Z, A)
    return gd, gw, gb, np.ascontiguousarray(gxT.T)


def _check_structure(indptr, indices, d):
    n_rows, n_src = d.shape
    if indptr.dtype != np.int64 or indices.dtype != np.int64:
        raise TypeError("dag: indptr and indices must be int64 arrays (use live_structure)")
    if indptr.shape != (n_rows + 1,) or indptr[0] != 0 or indptr[-1] != indices.shape[0]:
        raise ValueError(f"dag: indptr must have shape ({n_rows + 1},), start at 0 and end at len(indices)")
    if np.any(np.diff(indptr) < 0):
        raise ValueError("dag: indptr must be non-decreasing")
    if indices.size and (indices.min() < 0 or indices.max() >= n_src):
        raise ValueError(f"dag: indices must lie in [0, {n_src})")


def sparse_forward(d, w, b, x, n_in, n_out, indptr, indices, slope=DEFAULT_SLOPE, jit=True, check=True,
                   activation=DEFAULT_ACTIVATION):
    """Sparse kernel forward over the entries listed in (indptr, indices). Returns (out [B, n_out], cache).

    Source: seed 000 l. 123 (the sparse implementation the text wishes for); Miej/Dynamic_Neural_Manifold@873268a
        dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 197-238 (held equal by tests/test_dag_kernels.py and the
        selfcheck 'dag_sparse').
    """
    if check:
        check_dag_inputs(d, w, b, x, n_in, n_out)
        _check_structure(indptr, indices, d)
    xT = np.ascontiguousarray(x.T)
    out, O, Z, A = _pick(_sparse_forward_kernel, jit)(
        np.ascontiguousarray(d), w, b, xT, n_in, indptr, indices, float(slope), activation_code(activation)
    )
    return np.ascontiguousarray(out.T), (O, Z, A)


def sparse_backward(g, d, w, n_in, indptr, indices, cache, slope=DEFAULT_SLOPE, jit=True,
                    activation=DEFAULT_ACTIVATION):
    """Sparse kernel VJP; gd is nonzero only on the listed entries. Returns (gd, gw, gb, gx).

    Source: seed 000 l. 123; Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l.
        197-238 (compiled VJP on live entries; selfcheck 'dag_sparse').
    """
    O, Z, A = cache
    G = np.ascontiguousarray(np.asarray(g, dtype=np.float64).T)
    gd, gw, gb, gxT = _pick(_sparse_backward_kernel, jit)(
        G, np.ascontiguousarray(d), w, float(slope), activation_code(activation), n_in, indptr, indices, O, Z, A
    )
    return gd, gw, gb, np.ascontiguousarray(gxT.T)

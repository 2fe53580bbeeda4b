"""Shared regularisers: L1 of weights, L1 of activations, synaptic length on an uplifted grid metric.

Source: seed 002 (Golkar, "Emergent Structures and Lifetime Structure Evolution in Artificial Neural Networks"),
eq. 5 (c_W |W| + c_N sum_l |N^(l)|), eq. 8 (uplifted metric ds^2 = ds_input^2 + beta dz^2) and eq. 9
(c_syn sum |W_ij| d_ij^gamma). Any model may use them.

The penalty functions are written with `minidsn.numpy` so that they are differentiable by the engine when their
arguments are traced, and they accept plain ndarrays too. The geometry helpers (positions, distance matrix,
length weights d^gamma) are constants of a model and are plain NumPy.
"""

from __future__ import annotations

import numpy as np

SYN_PAIRS = ("all", "upper")
ACTIVITY_REDUCTIONS = ("mean", "sum")


def _mnp():
    # Imported lazily so the geometry helpers work before/without the engine.
    import minidsn.numpy as mnp

    return mnp


# ----------------------------------------------------------------------------------------------------------------
# penalties (differentiable)
# ----------------------------------------------------------------------------------------------------------------


def l1_weights(W):
    """|W|_1 = sum_ij |W_ij|  (seed 002, eq. 5, the c_W term without its coefficient).

    Gradient: sign(W), the engine's rule for |x|: the subgradient taken is 0 at 0 (so a weight at exactly 0 feels no
    pull; a proximal soft-threshold step is what makes weights exactly 0, see minidsn/models/urn/adam_kernel.py).
    An empty W gives 0.

    Source: seed 002 eq. (5); minidsn choice: the subgradient 0 at 0 (minidsn/numpy/_table.py, abs).
    """
    mnp = _mnp()
    return mnp.sum(mnp.abs(W))


def l1_activations(activations, reduction="mean"):
    """sum_l |N^(l)|_1 over a sequence of activation arrays (seed 002, eq. 5, the c_N term without c_N).

    Each array has the batch on axis 0. The seed does not say how the activity term is normalised over a batch
    (ASSUMPTION, named `reduction`): "mean" = mean over samples of each sample's L1 norm (the same 1/N as the
    cross-entropy of eq. 5), "sum" = plain sum over samples.  Gradient sign(a), the subgradient 0 at 0 (as
    l1_weights).  An empty batch (a.shape[0] == 0) is an error with "mean" (0 / 0) and gives 0 with "sum".

    Source: seed 002 eq. (5); assumption: the batch normalisation `reduction`; minidsn choice: the subgradient 0 at 0.
    """
    if reduction not in ACTIVITY_REDUCTIONS:
        raise ValueError(f"l1_activations: reduction must be one of {ACTIVITY_REDUCTIONS}, got {reduction!r}")
    if isinstance(activations, (list, tuple)):
        if len(activations) == 0:
            raise ValueError("l1_activations: empty sequence of activations")
        arrays = list(activations)
    else:
        arrays = [activations]
    mnp = _mnp()
    total = None
    for i, a in enumerate(arrays):
        if not hasattr(a, "ndim") or not hasattr(a, "shape"):
            raise TypeError(f"l1_activations: activation {i} is a {type(a).__name__}, not an array (pass an array or "
                            "a list / tuple of arrays)")
        if a.ndim < 1:
            raise ValueError("l1_activations: each activation array needs a batch axis (ndim >= 1)")
        term = mnp.sum(mnp.abs(a))
        if reduction == "mean":
            if a.shape[0] == 0:
                raise ValueError(f"l1_activations: activation {i} has an empty batch (shape {tuple(a.shape)}); the "
                                 "'mean' over 0 samples is undefined")
            term = term / a.shape[0]
        total = term if total is None else total + term
    return total


def synaptic_length(W, length_weights):
    """sum_ij |W_ij| * L_ij with L = synaptic_length_weights(D, gamma, pairs) (seed 002, eq. 9, without c_syn).

    `length_weights` is a constant (S, S) ndarray holding d_ij^gamma (masked to i < j for the literal variant); it is
    not re-validated here (synaptic_length_weights checks it once).  W may be an array, a traced value or array-like.

    Source: seed 002 eq. (9).
    """
    L = np.asarray(length_weights)
    w_shape = tuple(W.shape) if hasattr(W, "shape") else np.shape(W)
    if L.shape != w_shape:
        raise ValueError(f"synaptic_length: length_weights shape {L.shape} != W shape {w_shape}")
    mnp = _mnp()
    return mnp.sum(mnp.abs(W) * L)


# ----------------------------------------------------------------------------------------------------------------
# geometry (constants)
# ----------------------------------------------------------------------------------------------------------------


def _whole(what, n) -> int:
    """n as an int when it is a whole number (2, 2.0, np.int64(2)); a clear error for 2.7, True, "2", NaN."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, float, np.integer, np.floating)):
        raise TypeError(f"{what} must be a whole number, got {n!r}")
    if not (np.isfinite(n) and float(n) == int(n)):
        raise ValueError(f"{what} must be a whole number, got {n!r}")
    return int(n)


def grid_positions(plane_shape, depth, spacing=1.0):
    """Positions of the neurons of a grid that uplifts an input plane by one axis z (seed 002, Sec. 3, Fig. 5).

    The input geometry is a regular grid of shape `plane_shape` (1-d, 2-d, ...); the uplift adds an axis z with
    `depth` planes. Neurons are numbered z-major (plane z = 0 first, row-major inside a plane), so the input nodes
    of eq. 2 — the first d_in neurons — are the z = 0 plane. ASSUMPTION (not in the seed): unit spacing `spacing` in
    every in-plane direction and in z, the input plane at z = 0.

    Returns an (S, k + 1) float64 array, S = prod(plane_shape) * depth, last column = z.

    Source: seed 002 Sec. 3; assumption: unit spacing, the input plane at z = 0.
    """
    plane_shape = tuple(_whole("grid_positions: plane_shape", n) for n in np.atleast_1d(plane_shape))
    if len(plane_shape) == 0 or any(n < 1 for n in plane_shape):
        raise ValueError(f"grid_positions: plane_shape must be non-empty with sizes >= 1, got {plane_shape}")
    if _whole("grid_positions: depth", depth) < 1:
        raise ValueError(f"grid_positions: depth must be >= 1, got {depth}")
    if not (np.isfinite(spacing) and spacing > 0):
        raise ValueError(f"grid_positions: spacing must be finite and > 0, got {spacing}")
    grid = np.indices((int(depth),) + plane_shape, dtype=np.float64)  # (k+1, depth, *plane)
    coords = grid.reshape(grid.shape[0], -1).T  # rows in z-major order
    # move z (first column) to the last column
    return spacing * np.concatenate([coords[:, 1:], coords[:, :1]], axis=1)


def uplifted_distance_matrix(positions, beta):
    """d_ij under ds^2 = ds_input^2 + beta dz^2 (seed 002, eq. 8): sqrt(|x_i - x_j|^2 + beta (z_i - z_j)^2).

    `positions` is (S, k + 1) with z in the last column (as from `grid_positions`); `beta` >= 0 weighs the
    perpendicular direction (ASSUMPTION: its value; the seed leaves it a hyperparameter).

    Source: seed 002 eq. (8); assumption: the value of beta.
    """
    P = np.asarray(positions, dtype=np.float64)
    if P.ndim != 2 or P.shape[1] < 2:
        raise ValueError(f"uplifted_distance_matrix: positions must be (S, k+1) with k >= 1, got {P.shape}")
    if not np.all(np.isfinite(P)):
        raise ValueError("uplifted_distance_matrix: positions contain NaN or inf")
    if not (np.isfinite(beta) and beta >= 0):
        raise ValueError(f"uplifted_distance_matrix: beta must be finite and >= 0, got {beta}")
    x, z = P[:, :-1], P[:, -1]
    sq = np.zeros((P.shape[0], P.shape[0]))
    for c in range(x.shape[1]):  # per axis: keeps memory at O(S^2), not O(S^2 k)
        diff = x[:, c][:, None] - x[:, c][None, :]
        sq += diff * diff
    dz = z[:, None] - z[None, :]
    sq += beta * dz * dz
    return np.sqrt(sq)


def synaptic_length_weights(distances, gamma, pairs="all"):
    """L_ij = d_ij^gamma, the per-synapse factor of the eq. 9 penalty (seed 002).

    The printed eq. 9 sums over i < j only; W is not symmetric, so that literally penalises only the synapses
    j -> i with j > i and is not invariant under the grid symmetries the seed names. Both readings are kept
    (named variant `pairs`): "all" = every synapse i != j (ASSUMPTION, default: "penalising the synaptic length
    connecting different neurons"), "upper" = literal i < j. d_ii = 0 so self-synapses cost nothing; gamma must be
    > 0 (0^0 would make self-synapses cost 1).

    Source: seed 002 eq. (9); assumption: pairs="all" (named variant `pairs`).
    """
    D = np.asarray(distances, dtype=np.float64)
    if D.ndim != 2 or D.shape[0] != D.shape[1]:
        raise ValueError(f"synaptic_length_weights: distances must be square (S, S), got {D.shape}")
    if not np.all(np.isfinite(D)) or np.any(D < 0):
        raise ValueError("synaptic_length_weights: distances must be finite and >= 0")
    if not (np.isfinite(gamma) and gamma > 0):
        raise ValueError(f"synaptic_length_weights: gamma must be finite and > 0, got {gamma}")
    if pairs not in SYN_PAIRS:
        raise ValueError(f"synaptic_length_weights: pairs must be one of {SYN_PAIRS}, got {pairs!r}")
    L = D**gamma
    if pairs == "upper":
        L = np.triu(L, k=1)
    return L


def grid_symmetry_permutation(plane_shape, depth, k_rot=0, flip=False):
    """Neuron permutation induced by a symmetry of the input plane (seed 002, Sec. 3: "discrete 90 degree
    rotations" remain a symmetry once the metric is added).

    The plane is (optionally) reflected along its last axis, then rotated by k_rot * 90 degrees in its first two
    axes; every z plane moves alike. Returns perm with perm[new_index] = old_index, so that for positions P and a
    symmetric distance D: D[perm][:, perm] equals D. 2-d planes only; 90/270-degree rotations need a square plane.
    plane sizes, depth and k_rot must be whole numbers.

    Source: seed 002 Sec. 3.
    """
    plane_shape = tuple(_whole("grid_symmetry_permutation: plane_shape", n) for n in plane_shape)
    depth = _whole("grid_symmetry_permutation: depth", depth)
    k_rot = _whole("grid_symmetry_permutation: k_rot", k_rot)
    if len(plane_shape) != 2:
        raise ValueError(f"grid_symmetry_permutation: needs a 2-d plane, got {plane_shape}")
    if k_rot % 2 == 1 and plane_shape[0] != plane_shape[1]:
        raise ValueError("grid_symmetry_permutation: a 90-degree rotation needs a square plane")
    idx = np.arange(int(depth) * plane_shape[0] * plane_shape[1]).reshape((int(depth),) + plane_shape)
    if flip:
        idx = idx[:, :, ::-1]
    idx = np.rot90(idx, k=k_rot, axes=(1, 2))
    return np.ascontiguousarray(idx).reshape(-1)

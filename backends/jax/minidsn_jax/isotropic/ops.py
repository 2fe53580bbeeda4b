"""Structural operations on an isotropic network and its Adam(W) state (note, "Diagonalisation", "Neurogenesis",
"Neurodegeneration"). Host-side (shapes change), on NumPy arrays; pure: each returns new dicts.

Network pytree ``net``: {"W": [W_0..W_H] (out, in), "b": [...], optional "psi": [psi_0..psi_{H-1}] (psi_k added to
layer k+1), optional "log_o" / "o": [one scalar per hidden layer]}. Optimiser state ``opt``: {"m": like net's
trained part, "v": like it, ...}; any other entry (the step count) is left alone.

SVD W_k = R L Q^T, full matrices, singular values descending (numpy.linalg.svd, signs fixed: see svd).
- left-partial (0 <= k <= H-1): W_k <- R^T W_k (= L Q^T), b_k <- R^T b_k, psi_{k-1} <- R^T psi_{k-1},
  W_{k+1} <- W_{k+1} R. Legal because f(R^T h) = R^T f(h) and the norm is unchanged.
- full (1 <= k <= H-1): as left-partial, plus W_k <- W_k Q (so W_k = L), W_{k-1} <- Q^T W_{k-1},
  b_{k-1} <- Q^T b_{k-1}, psi_{k-2} <- Q^T psi_{k-2}.
- neurogenesis(k, n): left-partial, then n zero rows of W_k, zero entries of b_k and psi_{k-1}, and n new columns
  of W_{k+1} = 0.01 N(0, 1) (given as ``new_columns``, shape (out_{k+1}, n)); new moments 0.
- neurodegeneration(k): left-partial, then delete the last (weakest) direction: b* = b_k[-1], W* = W_{k+1}[:, -1];
  o_k += b*^2 (o modes constant / trainable), psi_k += W* b* (psi present), or b_{k+1} += mean_s W* b*
  (expectation mode: ``mean_s`` = mean of s_k over reference inputs, computed once by the caller before removals).
Optimiser moments follow a basis change M of an index exactly for first moments (m <- M m) and by the
elementwise-square rule for second moments (v <- (M o M) v); deleted entries are deleted, new ones are 0, and the
additive compensations (o, psi, next bias) leave the moments alone.
"""

from __future__ import annotations

import copy

import numpy as np


def _copy(tree):
    return copy.deepcopy(tree)


def svd(W):
    """R, singular values (descending), Q^T of W = R L Q^T (full matrices), signs fixed: the entry of largest
    magnitude of each column of R is positive (the row of Q^T paired with it flips with it). An SVD is unique only
    up to these signs; fixing them makes every SVD routine give the same R (docs/oracle.md, isotropic: minidsn
    fixes them the same way), so a rotation is reproducible across backends (degenerate singular values aside)."""
    R, sv, Qt = np.linalg.svd(np.asarray(W), full_matrices=True)
    flip = R[np.argmax(np.abs(R), axis=0), np.arange(R.shape[1])] < 0
    R = np.where(flip[None, :], -R, R)
    n = len(sv)
    Qt = Qt.copy()
    Qt[:n][flip[:n]] *= -1
    return R, sv, Qt


def _moment_slots(opt):
    return [(name, sq) for name, sq in (("m", False), ("v", True)) if opt is not None and name in opt]


def _rows(tree, key, k, M):
    """tree[key][k] <- M tree[key][k] (along the first axis)."""
    if key in tree and tree[key] is not None and 0 <= k < len(tree[key]):
        tree[key][k] = M @ np.asarray(tree[key][k])


def _cols(tree, key, k, M):
    """tree[key][k] <- tree[key][k] M (along the last axis)."""
    if key in tree and tree[key] is not None and 0 <= k < len(tree[key]):
        tree[key][k] = np.asarray(tree[key][k]) @ M


def _left_rotate(tree, k, Rt, square):
    M = Rt * Rt if square else Rt
    _rows(tree, "W", k, M)
    _rows(tree, "b", k, M)
    if k >= 1:
        _rows(tree, "psi", k - 1, M)
    _cols(tree, "W", k + 1, M.T)


def left_partial_diagonalise(net, k, opt=None):
    """(net, opt, info): layer k's output basis rotated by R^T."""
    net, opt = _copy(net), _copy(opt)
    R, sv, _ = svd(net["W"][k])
    Rt = R.T
    _left_rotate(net, k, Rt, False)
    for slot, sq in _moment_slots(opt):
        _left_rotate(opt[slot], k, Rt, sq)
    return net, opt, {"R": R, "singular_values": sv}


def full_diagonalise(net, k, opt=None):
    """(net, opt, info): W_k becomes diagonal (rectangular L); Q^T moves into layer k-1."""
    H = len(net["W"]) - 1
    if not 1 <= k <= H - 1:
        raise ValueError(f"full diagonalisation needs 1 <= k <= H-1 = {H - 1}, got {k}")
    net, opt = _copy(net), _copy(opt)
    R, sv, Qt = svd(net["W"][k])

    def apply(tree, square):
        Rt = R.T * R.T if square else R.T
        Qm = Qt * Qt if square else Qt
        tree["W"][k] = Rt @ np.asarray(tree["W"][k]) @ Qm.T
        _rows(tree, "b", k, Rt)
        _rows(tree, "psi", k - 1, Rt)
        _cols(tree, "W", k + 1, Rt.T)
        _rows(tree, "W", k - 1, Qm)
        _rows(tree, "b", k - 1, Qm)
        if k >= 2:
            _rows(tree, "psi", k - 2, Qm)

    apply(net, False)
    for slot, sq in _moment_slots(opt):
        apply(opt[slot], sq)
    return net, opt, {"R": R, "Qt": Qt, "singular_values": sv}


def _append(tree, k, n, new_columns):
    """n new neurons in hidden layer k: zero rows / entries; new columns of W_{k+1} (zeros when None)."""
    W = np.asarray(tree["W"][k])
    tree["W"][k] = np.concatenate([W, np.zeros((n, W.shape[1]))], axis=0)
    tree["b"][k] = np.concatenate([np.asarray(tree["b"][k]), np.zeros(n)])
    if "psi" in tree and tree["psi"] is not None and k >= 1:
        tree["psi"][k - 1] = np.concatenate([np.asarray(tree["psi"][k - 1]), np.zeros(n)])
    W1 = np.asarray(tree["W"][k + 1])
    cols = np.zeros((W1.shape[0], n)) if new_columns is None else np.asarray(new_columns)
    tree["W"][k + 1] = np.concatenate([W1, cols], axis=1)


def neurogenesis(net, k, new_columns, opt=None, diagonalise=True):
    """(net, opt, info): n = new_columns.shape[1] neurons added to hidden layer k, exactly invariant."""
    info = {}
    if diagonalise:
        net, opt, info = left_partial_diagonalise(net, k, opt)
    else:
        net, opt = _copy(net), _copy(opt)
    n = np.asarray(new_columns).shape[1]
    _append(net, k, n, new_columns)
    for slot, _ in _moment_slots(opt):
        _append(opt[slot], k, n, None)
    return net, opt, {**info, "added": n}


def _delete_last(tree, k):
    tree["W"][k] = np.asarray(tree["W"][k])[:-1]
    tree["b"][k] = np.asarray(tree["b"][k])[:-1]
    if "psi" in tree and tree["psi"] is not None and k >= 1:
        tree["psi"][k - 1] = np.asarray(tree["psi"][k - 1])[:-1]
    tree["W"][k + 1] = np.asarray(tree["W"][k + 1])[:, :-1]


def neurodegeneration(net, k, o_mode, psi_mode, opt=None, mean_s=None):
    """(net, opt, info): the weakest direction of hidden layer k removed, with the compensations."""
    net, opt, info = left_partial_diagonalise(net, k, opt)
    b_star = float(np.asarray(net["b"][k])[-1])
    W_star = np.asarray(net["W"][k + 1])[:, -1].copy()
    _delete_last(net, k)
    for slot, _ in _moment_slots(opt):
        _delete_last(opt[slot], k)
    if o_mode == "constant" or (o_mode == "trainable" and "o" in net):
        net["o"][k] = np.float64(net["o"][k]) + b_star**2
    elif o_mode == "trainable":
        net["log_o"][k] = np.log(np.exp(np.float64(net["log_o"][k])) + b_star**2)
    if psi_mode in ("zeros", "trainable", "trainable_decay"):
        net["psi"][k] = np.asarray(net["psi"][k]) + W_star * b_star
    elif psi_mode == "expectation":
        if mean_s is None:
            raise ValueError("neurodegeneration in expectation mode needs mean_s (mean of s_k over reference inputs)")
        net["b"][k + 1] = np.asarray(net["b"][k + 1]) + mean_s * W_star * b_star
    return net, opt, {**info, "b_star": b_star, "W_star": W_star,
                      "sigma_min": float(info["singular_values"][-1]) if len(info["singular_values"]) else 0.0}

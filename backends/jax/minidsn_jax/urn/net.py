"""URN forward pass and loss (seed 002, eqs. 2-9).

Batch layout: rows are samples, so W N becomes H @ W.T (W_ij is the synapse j -> i, eq. 1).
    N^(0)   = (x, 0, ..., 0)                                         eq. 2
    N^(l+1) = phi(N^(l) W^T + b)                                     eq. 3
            + N^(l) on the last d_out neurons (residual_out)         eq. 6
            + x     on the first d_in neurons (residual_in)          eq. 7
    logits_k = N^(I)_{S-1-k}, k = 0..d_out-1                          eq. 4 (0-based reading of N_{S-i})
    L = mean_batch CE + c_W sum|W| + c_N A + c_syn sum_ij |W_ij| d_ij^gamma        eqs. 5, 9
with A = sum_{l=1..I} |N^(l)|_1 averaged over the batch ("mean") or summed ("sum"), and d_ij the distance under
ds^2 = ds_input^2 + beta dz^2 (eq. 8) on a grid: input plane of shape ``plane`` (default [d_in]) at z = 0, unit
spacing, neurons numbered z-major (the input plane is the first d_in neurons). syn_pairs "upper" sums i < j only.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np


def activation(name: str, leaky_slope: float = 0.01):
    if name == "relu":
        return jax.nn.relu
    if name == "leaky_relu":
        return lambda a: jnp.where(a > 0, a, leaky_slope * a)
    if name == "softplus":
        return jax.nn.softplus
    if name == "tanh":
        return jnp.tanh
    raise ValueError(f"urn phi must be relu, leaky_relu, softplus or tanh, got {name!r}")


def l1_abs(x):
    """|x| with the subgradient sign(0) = 0 at 0 (docs/oracle.md, urn trajectory), where jnp.abs's derivative at 0
    is 1: x * sign(x) has the derivative sign(x) (sign's own derivative is 0)."""
    return x * jnp.sign(x)


def grid_positions(S: int, plane) -> np.ndarray:
    """(S, len(plane) + 1) coordinates: neuron n sits at plane index n mod prod(plane) (row-major), z = n // prod."""
    plane = [int(p) for p in plane]
    per = math.prod(plane)
    if S % per:
        raise ValueError(f"urn grid: S = {S} is not a whole number of input planes of {per} neurons")
    n = np.arange(S)
    coords = np.stack(np.unravel_index(n % per, plane), axis=1).astype(np.float64)
    return np.concatenate([coords, (n // per)[:, None].astype(np.float64)], axis=1)


def synaptic_weights(S: int, plane, beta: float, gamma: float, pairs: str = "all") -> np.ndarray:
    """d_ij^gamma under eq. 8's metric; zero on the diagonal (and below it with pairs='upper' keeps only i < j)."""
    pos = grid_positions(S, plane)
    diff = pos[:, None, :] - pos[None, :, :]
    sq = np.sum(diff[..., :-1] ** 2, axis=-1) + beta * diff[..., -1] ** 2
    dist = np.sqrt(sq) ** gamma
    np.fill_diagonal(dist, 0.0)
    if pairs == "upper":
        dist = np.triu(dist, k=1)
    elif pairs != "all":
        raise ValueError(f"urn syn_pairs must be 'all' or 'upper', got {pairs!r}")
    return dist


def forward(W, b, x, n_iter, d_out, phi, residual_in=False, residual_out=False):
    """States N^(0..I) stacked (I+1, B, S) and the logits (B, d_out)."""
    B, d_in = x.shape
    S = W.shape[0]
    H = jnp.zeros((B, S), x.dtype).at[:, :d_in].set(x)
    states = [H]
    for _ in range(n_iter):
        new = phi(H @ W.T + b)
        if residual_out:
            new = new.at[:, S - d_out:].add(H[:, S - d_out:])
        if residual_in:
            new = new.at[:, :d_in].add(x)
        H = new
        states.append(H)
    logits = H[:, ::-1][:, :d_out]  # logits_k = N_{S-1-k}
    return jnp.stack(states), logits


def loss_terms(params, x, y_onehot, cfg, syn_weights=None):
    """(total, losses, outputs) for one batch."""
    W, b = params["W"], params["b"]
    phi = activation(cfg.get("phi", "relu"), cfg.get("leaky_slope", 0.01))
    if cfg.get("output_nodes", "last") != "last":
        raise NotImplementedError("minidsn_jax urn: output_nodes 'top_centre' is not implemented")
    states, logits = forward(W, b, x, cfg["n_iter"], y_onehot.shape[1], phi,
                             cfg.get("residual_in", False), cfg.get("residual_out", False))
    ce = -jnp.mean(jnp.sum(y_onehot * jax.nn.log_softmax(logits, axis=1), axis=1))
    l1_w = jnp.sum(l1_abs(W))
    per_sample = jnp.sum(l1_abs(states[1:]), axis=(0, 2))
    l1_n = jnp.mean(per_sample) if cfg.get("activity_reduction", "mean") == "mean" else jnp.sum(per_sample)
    total = ce + cfg["c_w"] * l1_w + cfg["c_n"] * l1_n
    losses = {"ce": ce, "l1_w": l1_w, "l1_n": l1_n}
    if cfg.get("geometry", "none") == "grid":
        if syn_weights is None:
            syn_weights = jnp.asarray(syn_weights_for(cfg, W.shape[0], x.shape[1]))
        syn = jnp.sum(l1_abs(W) * syn_weights)
        losses["syn"] = syn
        total = total + cfg["c_syn"] * syn
    elif cfg.get("c_syn", 0.0):
        raise ValueError("urn: c_syn > 0 needs geometry 'grid'")
    losses["total"] = total
    return total, losses, {"logits": logits, "states": states}


def syn_weights_for(cfg, S, d_in):
    plane = list(cfg.get("plane") or []) or [d_in]
    return synaptic_weights(S, plane, cfg.get("beta", 1.0), cfg.get("gamma", 1.0), cfg.get("syn_pairs", "all"))


def loss_and_grads(params, inputs, cfg):
    """The oracle's single-state case."""
    params = {"W": params["W"], "b": params["b"]}

    def total(p):
        t, losses, outputs = loss_terms(p, inputs["x"], inputs["y_onehot"], cfg)
        return t, (losses, outputs)

    (_, (losses, outputs)), grads = jax.value_and_grad(total, has_aux=True)(params)
    return {"losses": losses, "grads": grads, "outputs": outputs}

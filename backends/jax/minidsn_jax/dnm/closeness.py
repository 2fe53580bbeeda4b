"""The DNM closeness (adjacency) matrix: per-neuron closeness functions, the strict cutoff and its rescale.

Layout: row ``r = i - n_in`` for every non-input neuron i (N - n_in rows), column j for every source j < N - n_out.
Allowed entries (seed, "Network Structure"; note, "Indexing"): a computational row i takes sources j < i, an output
row takes every source (outputs never feed outputs). K = (N^2 - n_in^2 - n_out^2 - n_comp)/2 entries.

Equations (note, "Closeness matrix"), for row i and column j:
    P      = j - i + D_r,   D = linspace(n_in, n_out, N - n_in)
    gauss  = exp(-(P - mu_i)^2 / (2 softplus(sigma_i)^2))
    s      = (0.501 + 0.5 sin(2 pi P / (T softplus(theta_i)/ln 2) + phi_i)) ** (beta_i + 1)
    v      = (2 sigmoid(alpha_i) - 1) * gauss * (s - sigmoid(gamma_i))
    c      = sigmoid(kappa)
    d      = sign(v) (|v| - c) / (1 - c)  where |v| > c (strict), else 0
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np


def sizes(n_neurons: int, n_inputs: int, n_outputs: int) -> tuple[int, int, int]:
    """(rows, cols, n_comp): closeness rows N - n_in, columns N - n_out, computational neurons."""
    return n_neurons - n_inputs, n_neurons - n_outputs, n_neurons - n_inputs - n_outputs


def allowed_mask(n_neurons: int, n_inputs: int, n_outputs: int) -> np.ndarray:
    """Boolean (N - n_in, N - n_out): True where row neuron i may take source j (j < i, or any j for an output)."""
    rows, cols, _ = sizes(n_neurons, n_inputs, n_outputs)
    i = np.arange(n_inputs, n_neurons)[:, None]
    j = np.arange(cols)[None, :]
    return (j < i) | (i >= n_neurons - n_outputs)


def allowed_count(n_neurons: int, n_inputs: int, n_outputs: int) -> int:
    """K = (N^2 - n_in^2 - n_out^2 - n_comp)/2 (seed, "Network Structure")."""
    n_comp = n_neurons - n_inputs - n_outputs
    return (n_neurons**2 - n_inputs**2 - n_outputs**2 - n_comp) // 2


def positions(n_neurons: int, n_inputs: int, n_outputs: int) -> np.ndarray:
    """P[r, j] = j - i + D_r with D = linspace(n_in, n_out, N - n_in) (note, "Closeness matrix")."""
    rows, cols, _ = sizes(n_neurons, n_inputs, n_outputs)
    i = np.arange(n_inputs, n_neurons, dtype=np.float64)[:, None]
    j = np.arange(cols, dtype=np.float64)[None, :]
    D = np.linspace(n_inputs, n_outputs, rows)[:, None]
    return j - i + D


def raw_closeness(params, n_neurons, n_inputs, n_outputs, period):
    """v before the cutoff, (rows, cols), zero outside the allowed entries."""
    P = jnp.asarray(positions(n_neurons, n_inputs, n_outputs))
    mask = jnp.asarray(allowed_mask(n_neurons, n_inputs, n_outputs))
    row = lambda name: params[name][n_inputs:, None]  # noqa: E731  per-row parameter of the non-input neurons
    gauss = jnp.exp(-((P - row("mu")) ** 2) / (2.0 * jax.nn.softplus(row("sigma")) ** 2))
    wavelength = period * jax.nn.softplus(row("theta")) / math.log(2.0)
    s = (0.501 + 0.5 * jnp.sin(2.0 * jnp.pi * P / wavelength + row("phi"))) ** (row("beta") + 1.0)
    v = (2.0 * jax.nn.sigmoid(row("alpha")) - 1.0) * gauss * (s - jax.nn.sigmoid(row("gamma")))
    return jnp.where(mask, v, 0.0)


def cut(v, c):
    """d = sign(v)(|v| - c)/(1 - c) where |v| > c (strict), else exactly 0.

    The derivative inside is 1/(1-c) for v and sign(v)(|v| - 1)/(1-c)^2 for c; outside every derivative is 0
    (the double ``where`` keeps the dead branch's gradient out).
    """
    live = jnp.abs(v) > c
    vs = jnp.where(live, v, 0.0)
    return jnp.where(live, jnp.sign(vs) * (jnp.abs(vs) - c) / (1.0 - c), 0.0)


def closeness(params, n_neurons, n_inputs, n_outputs, period):
    """(d, v, c): the cut, rescaled closeness matrix, the raw values and the cutoff c = sigmoid(kappa)."""
    v = raw_closeness(params, n_neurons, n_inputs, n_outputs, period)
    c = jax.nn.sigmoid(params["kappa"])
    return cut(v, c), v, c

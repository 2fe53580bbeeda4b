"""DNM forward pass (the DAG in index order) and losses.

Forward (note, "Forward pass"; batch B, each o a B-vector; w_j, b_j belong to the SOURCE neuron j):
    inputs         o_j = x_j
    computational  o_i = sum_{j<i} d_ij * leaky_relu(w_j o_j + b_j, slope)          (i = n_in .. N-n_out-1)
    outputs        o_i = sum_{j<N-n_out} d_ij * (w_j o_j + b_j)                      (no activation)
    y_hat          = o_out ** 2 when square_outputs (faithful), else o_out (text)

Losses (seed, "Loss functions"; note, "Losses"):
    L_obj  = mean (y_hat - t)^2 (mse) or mean softmax cross-entropy of logits y_hat (cross_entropy)
    F_in   = sum_{computational rows, input columns} |d|,  F_out = sum_{output rows, computational columns} |d|
    L_flow = (F_in - F_out)^2
    pct    = #{allowed d != 0} / K  (a count: no gradient)
    S      = pct ("count"), sum_allowed sigmoid((|v| - c)/tau)/K ("smooth_count"), or sum|d|/K ("mean_abs")
    L      = c_obj L_obj + c_flow L_flow + c_sp S^2
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from minidsn_jax.dnm.closeness import allowed_count, allowed_mask, closeness, sizes


def leaky_relu(z, slope):
    return jnp.where(z > 0, z, slope * z)


def forward(d, w, b, x, n_neurons, n_inputs, n_outputs, slope):
    """Network output o_out (B, n_out) for inputs x (B, n_in): computational neurons one at a time, in index order.

    ``O`` holds the outputs of every possible source (B, N - n_out); a neuron not yet computed holds 0 there and its
    closeness entry in the current row is exactly 0 (j >= i is not allowed), so it contributes nothing.
    """
    rows, cols, n_comp = sizes(n_neurons, n_inputs, n_outputs)
    B = x.shape[0]
    O = jnp.zeros((B, cols), x.dtype).at[:, :n_inputs].set(x)
    wc, bc = w[:cols], b[:cols]

    def one_neuron(O, r):
        o_i = leaky_relu(O * wc + bc, slope) @ d[r]
        return O.at[:, n_inputs + r].set(o_i), None

    O, _ = jax.lax.scan(one_neuron, O, jnp.arange(n_comp))
    return (O * wc + bc) @ d[n_comp:].T


def resolve(cfg: dict) -> dict:
    """The variant's switches with config overrides (None = as the variant says). minidsn's `text_full` variant
    (sigmoid neurons, unsigned closeness) and its process-time term are not built here: refused by name."""
    variant = cfg.get("variant", "faithful")
    if variant not in ("faithful", "text"):
        raise NotImplementedError(f"minidsn_jax dnm: variant {variant!r} is not implemented (faithful, text)")
    for key, ok in (("activation", (None, "leaky_relu")), ("closeness_range", (None, "signed")),
                    ("c_time", (None, 0, 0.0))):
        if cfg.get(key) not in ok:
            raise NotImplementedError(f"minidsn_jax dnm: {key} = {cfg.get(key)!r} is not implemented")
    faithful = variant == "faithful"
    square = cfg.get("square_outputs")
    sparsity = cfg.get("sparsity")
    objective = cfg.get("objective")
    return {
        "square_outputs": faithful if square is None else bool(square),
        "sparsity": ("count" if faithful else "smooth_count") if sparsity is None else sparsity,
        "objective": ("softmax_ce" if cfg.get("dataset") == "mnist" else "mse") if objective is None else objective,
    }


def loss_terms(params, x, target, cfg):
    """Every loss term and the observable outputs: (total, {losses}, {outputs})."""
    N, n_in, n_out = cfg["n_neurons"], cfg["n_inputs"], cfg["n_outputs"]
    sw = resolve(cfg)
    d, v, c = closeness(params, N, n_in, n_out, cfg["period"])
    o_out = forward(d, params["w"], params["b"], x, N, n_in, n_out, cfg.get("slope", 0.2))
    y_hat = o_out**2 if sw["square_outputs"] else o_out
    if sw["objective"] == "mse":
        objective = jnp.mean((y_hat - target) ** 2)
    elif sw["objective"] in ("softmax_ce", "cross_entropy"):
        objective = -jnp.mean(jnp.sum(target * jax.nn.log_softmax(y_hat, axis=1), axis=1))
    else:
        raise ValueError(f"dnm objective must be 'mse' or 'softmax_ce', got {sw['objective']!r}")
    rows, cols, n_comp = sizes(N, n_in, n_out)
    F_in = jnp.sum(jnp.abs(d[:n_comp, :n_in]))
    F_out = jnp.sum(jnp.abs(d[n_comp:, n_in:cols]))
    flow = (F_in - F_out) ** 2
    mask = jnp.asarray(allowed_mask(N, n_in, n_out))
    K = allowed_count(N, n_in, n_out)
    pct = jnp.sum((d != 0) & mask) / K
    if sw["sparsity"] == "count":
        S = pct
    elif sw["sparsity"] == "smooth_count":
        tau = cfg.get("sparsity_temperature", 0.01)
        S = jnp.sum(jnp.where(mask, jax.nn.sigmoid((jnp.abs(v) - c) / tau), 0.0)) / K
    elif sw["sparsity"] == "mean_abs":
        S = jnp.sum(jnp.abs(d)) / K
    else:
        raise ValueError(f"dnm sparsity must be count, smooth_count or mean_abs, got {sw['sparsity']!r}")
    total = cfg["c_obj"] * objective + cfg["c_flow"] * flow + cfg["c_sp"] * S**2
    losses = {"objective": objective, "flow": flow, "F_in": F_in, "F_out": F_out, "pct": pct, "sparsity": S,
              "total": total}
    return total, losses, {"y_hat": y_hat, "closeness": d, "cutoff": c}


PARAM_NAMES = ("alpha", "beta", "gamma", "theta", "phi", "sigma", "mu", "w", "b", "kappa")


def loss_and_grads(params, inputs, cfg):
    """The oracle's single-state case: losses, gradients of ``total`` for every parameter, outputs."""
    params = {k: params[k] for k in PARAM_NAMES}

    def total(p):
        t, losses, outputs = loss_terms(p, inputs["x"], inputs["target"], cfg)
        return t, (losses, outputs)

    (_, (losses, outputs)), grads = jax.value_and_grad(total, has_aux=True)(params)
    return {"losses": losses, "grads": grads, "outputs": {"y_hat": outputs["y_hat"],
                                                          "closeness": outputs["closeness"]}}

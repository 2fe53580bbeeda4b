"""MLP forward, loss terms and gradients (equations in the package docstring)."""

from __future__ import annotations

import jax
import jax.numpy as jnp

from minidsn_jax.trees import as_list


def _layers(params):
    layers = params["layers"]
    return as_list(layers) if isinstance(layers, dict) else list(layers)


def forward(layers, x, activation="tanh"):
    phi = jnp.tanh if activation == "tanh" else jax.nn.relu
    hidden, h = [], x
    for layer in layers[:-1]:
        h = phi(h @ layer["W"] + layer["b"])
        hidden.append(h)
    return hidden, h @ layers[-1]["W"] + layers[-1]["b"]


def loss_terms(params, x, y, cfg):
    layers = _layers(params)
    hidden, z = forward(layers, x, cfg.get("activation", "tanh"))
    logp = jax.nn.log_softmax(z, axis=1)
    ce = -jnp.mean(jnp.take_along_axis(logp, y.astype(jnp.int64)[:, None], axis=1))
    l2 = 0.5 * cfg.get("l2", 0.0) * sum(jnp.sum(layer["W"] ** 2) for layer in layers)
    total = ce + l2
    return total, {"cross_entropy": ce, "l2": l2, "total": total}, {"hidden": hidden, "logits": z,
                                                                     "probs": jnp.exp(logp)}


def loss_and_grads(params, inputs, cfg):
    params = {"layers": _layers(params)}

    def total(p):
        t, losses, outputs = loss_terms(p, inputs["x"], inputs["y"], cfg)
        return t, (losses, outputs)

    (_, (losses, outputs)), grads = jax.value_and_grad(total, has_aux=True)(params)
    return {"losses": losses, "grads": grads, "outputs": outputs}

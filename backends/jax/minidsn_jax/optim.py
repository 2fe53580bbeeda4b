"""Optimisers as pure functions on pytrees: ``update(params, grads, opt_state, ...) -> (params, opt_state)``.

Written from the optimisers' papers, not from minidsn.optim:
- Adam: Kingma & Ba 2015, Algorithm 1. ``eps_form="algorithm1"`` (alias "paper") is Algorithm 1 exactly
  (``m_hat = m / (1 - b1^t)``, ``v_hat = v / (1 - b2^t)``, ``p -= lr * m_hat / (sqrt(v_hat) + eps)``);
  ``eps_form="efficient"`` is the form of section 2's last paragraph, used by TensorFlow / Keras
  (``lr_t = lr * sqrt(1 - b2^t) / (1 - b1^t)``, ``p -= lr_t * m / (sqrt(v) + eps)``), which differs only in where eps
  enters.
- AdamW: Loshchilov & Hutter 2019, in PyTorch's form (adamw_update).
A model whose seed code uses another optimiser writes its own step beside its model and says why (DiffRNN's
Adagrad / RMSProp: minidsn_jax/diffrnn/update.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp


def adam_init(params):
    """Adam state: first and second moments (zeros like params) and the step count t = 0."""
    zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
    return {"m": zeros, "v": jax.tree_util.tree_map(jnp.zeros_like, params), "t": jnp.asarray(0, jnp.int64)}


def adam_update(params, grads, state, lr, b1=0.9, b2=0.999, eps=1e-8, eps_form="paper"):
    """One Adam step (Kingma & Ba 2015, Algorithm 1; ``eps_form`` as in the module docstring)."""
    t = state["t"] + 1
    m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, state["m"], grads)
    v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, state["v"], grads)
    tf = t.astype(jnp.float64)
    if eps_form in ("paper", "algorithm1"):
        c1, c2 = 1 - b1**tf, 1 - b2**tf
        new = jax.tree_util.tree_map(lambda p, m, v: p - lr * (m / c1) / (jnp.sqrt(v / c2) + eps), params, m, v)
    elif eps_form == "efficient":
        lr_t = lr * jnp.sqrt(1 - b2**tf) / (1 - b1**tf)
        new = jax.tree_util.tree_map(lambda p, m, v: p - lr_t * m / (jnp.sqrt(v) + eps), params, m, v)
    else:
        raise ValueError(f"eps_form must be 'algorithm1' ('paper') or 'efficient', got {eps_form!r}")
    return new, {"m": m, "v": v, "t": t}


def adamw_update(params, grads, state, lr, weight_decay, b1=0.9, b2=0.999, eps=1e-8):
    """One AdamW step (Loshchilov & Hutter 2019, Algorithm 2, in PyTorch's form): p <- p (1 - lr wd), then the
    Adam step of Algorithm 1 with bias-corrected moments. Every parameter is decayed."""
    decayed = jax.tree_util.tree_map(lambda p: p * (1 - lr * weight_decay), params)
    return adam_update(decayed, grads, state, lr, b1, b2, eps, eps_form="algorithm1")

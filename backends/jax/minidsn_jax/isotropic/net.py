"""Isotropic MLP forward and loss (note, "Isotropic activation with intrinsic length o", "Network").

Activation of a pre-activation vector h (one sample, one layer): r = sqrt(|o + sum_i h_i^2|), s = tanh(r)/r,
f(h) = s h. Near r = 0 (r <= eps) two guards (docs/models/isotropic.md, "Guard near r = 0"):
  series: s = 1 - u/3 + 2u^2/15 - 17u^3/315 with u = r^2 (the Taylor series of tanh(r)/r: exact limit and slope);
  code:   s = tanh(sqrt|o|)/sqrt|o| if |o| > 0.01 else 1 (the author's constant).
Both evaluate the unselected branch at a safe argument, so it gives neither a NaN value nor a NaN gradient.

Network, sizes [d_in, n_0, ..., n_{H-1}, d_out], W_k of shape (out, in):
    h_0 = W_0 x + b_0,  a_k = s_k h_k,  h_k = W_k a_{k-1} + b_k + psi_{k-1} s_{k-1}  (k >= 1)
    y   = W_H a_{H-1} + b_H + psi_{H-1} s_{H-1}   (no activation on the output)
o per hidden layer: none (0), constant (buffer ``o``), trainable o = exp(log_o) (``log_o``) or o itself (``o``).
psi per hidden layer (added to the next layer): none / expectation (absent), zeros (buffer), trainable.
Loss: mean softmax cross-entropy + psi_decay * sum_k |psi_k|^2 when psi_mode = trainable_decay.
The elementwise control (activation = "elementwise"): a_k = tanh(h_k), no o, no psi.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from minidsn_jax.trees import as_list


def _seq(v):
    return as_list(v) if isinstance(v, dict) else list(v)


def scale(h, o, eps=1e-3, guard="series"):
    """s = tanh(r)/r per sample (rows of h), r = sqrt(|o + |h|^2|), with the guard near r = 0."""
    r2 = jnp.abs(o + jnp.sum(h * h, axis=-1))
    small = jnp.sqrt(r2) <= eps
    r = jnp.sqrt(jnp.where(small, 1.0, r2))
    far = jnp.tanh(r) / r
    if guard == "series":
        u = jnp.where(small, r2, 0.0)
        near = 1.0 - u / 3.0 + 2.0 * u**2 / 15.0 - 17.0 * u**3 / 315.0
    elif guard == "code":
        ao = jnp.abs(o)
        big = ao > 0.01
        so = jnp.sqrt(jnp.where(big, ao, 1.0))
        near = jnp.where(big, jnp.tanh(so) / so, 1.0) * jnp.ones_like(r2)
    else:
        raise ValueError(f"guard must be 'series' or 'code', got {guard!r}")
    return jnp.where(small, near, far)


def layer_o(net, k, o_mode, o_positive=True):
    """o of hidden layer k from the network pytree (0 when there is none)."""
    if o_mode == "none":
        return 0.0 if "o" not in net else _seq(net["o"])[k]
    if o_mode == "constant":
        return _seq(net["o"])[k]
    if o_mode == "trainable":
        return jnp.exp(_seq(net["log_o"])[k]) if o_positive else _seq(net["o"])[k]
    raise ValueError(f"o_mode must be none, constant or trainable, got {o_mode!r}")


def forward(net, x, cfg):
    """Logits (B, d_out) and the per-layer scales s_k (list of (B,))."""
    Ws, bs = _seq(net["W"]), _seq(net["b"])
    H = len(Ws) - 1
    if cfg.get("activation", "isotropic") == "elementwise":
        a = x
        for k in range(H):
            a = jnp.tanh(a @ Ws[k].T + bs[k])
        return a @ Ws[H].T + bs[H], []
    psi = _seq(net["psi"]) if "psi" in net else None
    o_mode = cfg.get("o_mode", "trainable")
    a, scales = x, []
    for k in range(H + 1):
        h = a @ Ws[k].T + bs[k]
        if k > 0 and psi is not None:
            h = h + scales[-1][:, None] * psi[k - 1]
        if k == H:
            return h, scales
        s = scale(h, layer_o(net, k, o_mode, cfg.get("o_positive", True)), cfg.get("eps", 1e-3),
                  cfg.get("guard", "series"))
        scales.append(s)
        a = s[:, None] * h


def loss_terms(params, buffers, x, labels, cfg):
    """(total, {"cross_entropy", "psi_decay", "total"}, logits); psi decay on the trained psi only."""
    net = {**buffers, **params}
    logits, _ = forward(net, x, cfg)
    logp = jax.nn.log_softmax(logits, axis=1)
    ce = -jnp.mean(jnp.take_along_axis(logp, labels.astype(jnp.int64)[:, None], axis=1))
    decay = 0.0
    if cfg.get("psi_mode") == "trainable_decay" and "psi" in params:
        decay = cfg.get("psi_decay", 0.1) * sum(jnp.sum(p * p) for p in _seq(params["psi"]))
    total = ce + decay
    return total, {"cross_entropy": ce, "psi_decay": decay, "total": total}, logits


def sub_case_config(name: str, cfg: dict) -> dict:
    """The o / psi modes of a v1 sub-case name ``o_<o_mode>__psi_<psi_mode>`` (genesis_*: the config's modes)."""
    if name.startswith("o_") and "__psi_" in name:
        o_mode, psi_mode = name[2:].split("__psi_")
        return {**cfg, "o_mode": o_mode, "psi_mode": psi_mode}
    return cfg


def loss_and_grads(params, inputs, cfg):
    """The v1 case: several independent sub-cases; losses/total is their sum, grads each sub-case's own."""
    losses, grads, outputs = {}, {}, {}
    total = 0.0
    for name, p in params.items():
        sub = sub_case_config(name, cfg)
        buffers = inputs.get(name, {}).get("buffers", {})

        def f(p, buffers=buffers, sub=sub):
            t, _, logits = loss_terms(p, buffers, inputs["x"], inputs["labels"], sub)
            return t, logits

        (t, logits), g = jax.value_and_grad(f, has_aux=True)(p)
        losses[name], grads[name], outputs[name] = t, g, logits
        total = total + t
    losses["total"] = total
    return {"losses": losses, "grads": grads, "outputs": outputs}

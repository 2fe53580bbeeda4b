"""One DiffRNN window (T characters): forward under ``lax.scan``, gradients by ``jax.value_and_grad``.

Equations (seed 001 section 2.2; original code ThomasMiconi/DiffRNN, G2 = commit 277c4a6 rnn.py:88-122,
rnnAltern = 277c4a6 rnnAltern.py:97-131, G3 = HEAD c81eb14 rnn.py:94-120, fixed = 277c4a6 min-char-rnn-param.py):

    a_t = Wxh[:, x_t] + Whh r_{t-1} + bh          h_t = tanh(a_t)
    q_t = m * h_t   (g2, altern)     q_t = h_t   (g3, fixed)
    r_t = h_t       (g2, g3, fixed)  r_t = q_t   (altern: the multiplier also gates the recurrence)
    y_t = Wiy q_t + by               ce = sum_t -log softmax(y_t)[target_t]

``r`` is also what is carried to the next window (``s``); no gradient crosses a window boundary.

The L1 term of the multipliers (g2, altern) is ``A T sum|m|``; its gradient ``T A sign(m)`` is added by hand rather
than by differentiating ``jnp.abs``: it is what the original's 40 additions of ``A sign(m)`` inside the time loop
amount to (notes/diffrnn.md, "G2 model"), and ``jax.grad(jnp.abs)(0.0)`` is 1, not 0, which would give the padded
slots (m = 0) a gradient.

Padding: every array may carry a hidden capacity larger than the live size H. Dead slots hold zeros in every
parameter and in the carried state; then h = tanh(0) = 0 there, every gradient entry of a dead slot is exactly 0,
and the live entries are the unpadded network's (only the summation lengths of the products change).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

jax.config.update("jax_enable_x64", True)

__all__ = ["VARIANTS", "has_multipliers", "window_loss", "window_value_and_grad", "l1_term", "l1_grad"]

VARIANTS = ("g2", "altern", "g3", "fixed")


def has_multipliers(variant: str) -> bool:
    if variant not in VARIANTS:
        raise ValueError(f"unknown DiffRNN variant {variant!r}; one of {', '.join(VARIANTS)}")
    return variant in ("g2", "altern")


def window_loss(params: dict, s0, inputs, targets, variant: str):
    """Cross-entropy summed over the window; aux = (probs (T, V), carried state after the window)."""
    mult = has_multipliers(variant)
    params = {k: jnp.asarray(v) for k, v in params.items()}
    Wxh, Whh, bh, Wiy, by = params["Wxh"], params["Whh"], params["bh"], params["Wiy"], params["by"]
    m = params["m"] if mult else None

    def step(r_prev, xt):
        x, tgt = xt
        h = jnp.tanh(Wxh[:, x] + Whh @ r_prev + bh)
        q = m * h if mult else h
        y = Wiy @ q + by
        logp = jax.nn.log_softmax(y)
        r = q if variant == "altern" else h
        return r, (-logp[tgt], jnp.exp(logp))

    s_last, (ce_t, probs) = lax.scan(step, s0, (inputs, targets))
    return jnp.sum(ce_t), (probs, s_last)


_vg = jax.value_and_grad(window_loss, argnums=(0, 1), has_aux=True)


def window_value_and_grad(params: dict, s0, inputs, targets, variant: str):
    """(ce, probs, s_last, grads of ce w.r.t. params, grad w.r.t. s0)."""
    (ce, (probs, s_last)), (g, gs0) = _vg(params, s0, inputs, targets, variant)
    return ce, probs, s_last, g, gs0


def l1_term(m, l1: float, T: int):
    """A T sum|m| (the reported loss excludes it, as in the original)."""
    return l1 * T * jnp.sum(jnp.abs(m))


def l1_grad(m, l1: float, T: int):
    """T A sign(m): the original adds A sign(m) to dm at each of the T steps (277c4a6 rnn.py:110-111)."""
    return T * l1 * jnp.sign(m)

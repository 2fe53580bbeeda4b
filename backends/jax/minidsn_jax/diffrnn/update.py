"""The parameter update of one DiffRNN cycle: clip + Adagrad (g2, altern, fixed) or RMSProp + weight penalty (g3).

Adagrad (277c4a6 rnn.py:120-121 and 175-179; seed 001 section 2.2, inherited from min-char-rnn):
    d = clip(g, -5, 5);   M += d^2;   theta -= lr d / sqrt(M + 1e-8)            (lr 0.1, memories start at 0)
then the multiplier floor m = max(m, M_min) (rnn.py:188).

RMSProp of G3 (HEAD c81eb14 rnn.py:174-185; notes/diffrnn.md "G3 differences"), no gradient clipping:
    M += rho (g^2 - M);   delta = clip(-lr g / sqrt(M + 1e-8), -max_step, max_step);   theta += delta
    Wiy -= c sign(Wiy);   Whh -= c sign(Whh)                                        (rho 0.01, lr 0.01, c 1e-4)
and the score that replaces m (rnn.py:189), with H the live size:
    n_j = 0.5 (sum_o |Wiy_oj| + 4 sum_i |Whh_ij| / H)

All functions work on padded arrays: ``live`` masks the floor (dead slots keep m = 0); every other formula maps the
zeros of a dead slot to zeros (sign(0) = 0, a zero gradient gives a zero step).
"""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["adagrad", "rmsprop_g3", "floor_multipliers", "g3_norms", "ADAGRAD_EPS"]

ADAGRAD_EPS = 1e-8


def adagrad(params: dict, mem: dict, grads: dict, lr: float, clip: float):
    """(new params, new memories, clipped gradients)."""
    new_p, new_m, clipped = {}, {}, {}
    for k in params:
        d = jnp.clip(grads[k], -clip, clip)
        M = mem[k] + d * d
        new_p[k] = params[k] - lr * d / jnp.sqrt(M + ADAGRAD_EPS)
        new_m[k], clipped[k] = M, d
    return new_p, new_m, clipped


def rmsprop_g3(params: dict, mem: dict, grads: dict, lr: float, rho: float, max_step: float, penalty: float):
    """(new params, new memories): RMSProp with a clipped step, then the L1 shrinkage of Wiy and Whh."""
    new_p, new_m = {}, {}
    for k in params:
        g = grads[k]
        M = mem[k] + rho * (g * g - mem[k])
        delta = jnp.clip(-lr * g / jnp.sqrt(M + ADAGRAD_EPS), -max_step, max_step)
        new_p[k], new_m[k] = params[k] + delta, M
    for k in ("Wiy", "Whh"):
        new_p[k] = new_p[k] - penalty * jnp.sign(new_p[k])
    return new_p, new_m


def floor_multipliers(m, m_min: float, live):
    """m = max(m, M_min) on live slots; dead slots stay 0."""
    return jnp.where(live, jnp.maximum(m, m_min), 0.0)


def g3_norms(Wiy, Whh, H):
    """n_j = 0.5 (sum_o |Wiy_oj| + 4 sum_i |Whh_ij| / H): the L1 norm of neuron j's outgoing weights."""
    return 0.5 * (jnp.sum(jnp.abs(Wiy), axis=0) + 4.0 * jnp.sum(jnp.abs(Whh), axis=0) / H)

"""One DiffRNN training cycle on the device: window forward + BPTT, gradient of the objective, update, floor/score.

How the changing size H is compiled: every array is padded to a capacity ``cap`` (a power of two, at least 8) and the
live size is a traced int32 argument, so the jitted cycle is compiled once per (variant, hyper-parameters,
capacity) - at most five capacities (8 ... 128) for H <= 99 - not once per H. Dead slots hold zeros (see
window.py), which every formula keeps at zero. The structural step (structure.py) runs on the host between two
cycles from the score vector; when it edits the network (about 0.4 % of cycles in a G2 run) the state is brought to
the host, edited, and re-padded; otherwise nothing leaves the device but the score and the loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from minidsn_jax.diffrnn.update import adagrad, floor_multipliers, g3_norms, rmsprop_g3
from minidsn_jax.diffrnn.window import has_multipliers, l1_grad, l1_term, window_value_and_grad

__all__ = ["CycleConfig", "device_cycle", "device_cycle_at", "capacity_for", "pad_params", "unpad_params",
           "param_names", "init_memories"]


@dataclass(frozen=True)
class CycleConfig:
    """The hyper-parameters the compiled cycle depends on (hashable: a static jit argument)."""

    variant: str = "g2"
    seq_length: int = 40
    lr: float = 0.1
    clip: float = 5.0
    l1: float = 3e-5
    m_min: float = 0.025
    g3_lr: float = 0.01
    g3_rho: float = 0.01
    g3_max_step: float = 0.01
    g3_weight_penalty: float = 1e-4


def param_names(variant: str) -> tuple[str, ...]:
    base = ("Wxh", "Whh", "bh", "Wiy", "by")
    return base + ("m",) if has_multipliers(variant) else base


def init_memories(params: dict, variant: str) -> dict:
    """Adagrad memories start at 0; G3's RMSProp memories of Wxh and bh at 0.01, the others at 0 (HEAD
    rnn.py:141-142: ``.01 * np.zeros_like`` for Whh, Why, by)."""
    mem = {k: np.zeros_like(v) for k, v in params.items()}
    if variant == "g3":
        mem["Wxh"] = np.full_like(params["Wxh"], 0.01)
        mem["bh"] = np.full_like(params["bh"], 0.01)
    return mem


def capacity_for(H: int, current: int | None = None) -> int:
    """Smallest power of two >= H (at least 8); a shrinking network keeps its capacity until H <= cap / 4."""
    if current is not None and H <= current and H > current // 4:
        return current
    cap = 8
    while cap < H:
        cap *= 2
    return cap


def _pad(a: np.ndarray, name: str, cap: int) -> np.ndarray:
    H = a.shape[1] if name == "Wiy" else (a.shape[0] if name != "by" else 0)
    if name == "by":
        return np.asarray(a, dtype=np.float64)
    if name == "Whh":
        out = np.zeros((cap, cap))
        out[:H, :H] = a
    elif name == "Wiy":
        out = np.zeros((a.shape[0], cap))
        out[:, :H] = a
    elif name == "Wxh":
        out = np.zeros((cap, a.shape[1]))
        out[:H] = a
    else:  # bh, m, s
        out = np.zeros(cap)
        out[:H] = a
    return out


def pad_params(tree: dict, cap: int) -> dict:
    return {k: _pad(np.asarray(v, dtype=np.float64), k, cap) for k, v in tree.items()}


def unpad_params(tree: dict, H: int) -> dict:
    out = {}
    for k, v in tree.items():
        v = np.asarray(v)
        if k == "Whh":
            out[k] = v[:H, :H].copy()
        elif k == "Wiy":
            out[k] = v[:, :H].copy()
        elif k == "by":
            out[k] = v.copy()
        else:
            out[k] = v[:H].copy()
    return out


def _cycle(params, mem, s0, H, inputs, targets, cc: CycleConfig):
    cap = s0.shape[0]
    live = jnp.arange(cap) < H
    ce, probs, s_last, g, gs0 = window_value_and_grad(params, s0, inputs, targets, cc.variant)
    T = cc.seq_length
    out = {"ce": ce, "probs": probs, "s_last": s_last, "grad_s0": gs0}
    if has_multipliers(cc.variant):
        g = dict(g)
        g["m"] = g["m"] + l1_grad(params["m"], cc.l1, T)
        out["l1_term"] = l1_term(params["m"], cc.l1, T)
    else:
        out["l1_term"] = jnp.zeros(())
    out["grads"] = g
    if cc.variant == "g3":
        new_p, new_m = rmsprop_g3(params, mem, g, cc.g3_lr, cc.g3_rho, cc.g3_max_step, cc.g3_weight_penalty)
        out["score"] = jnp.where(live, g3_norms(new_p["Wiy"], new_p["Whh"], H.astype(jnp.float64)), 0.0)
    else:
        new_p, new_m, _ = adagrad(params, mem, g, cc.lr, cc.clip)
        if has_multipliers(cc.variant):
            new_p["m"] = floor_multipliers(new_p["m"], cc.m_min, live)
            out["score"] = new_p["m"]
        else:
            out["score"] = jnp.zeros(cap)
    out["params"], out["mem"] = new_p, new_m
    return out


@partial(jax.jit, static_argnames=("cc",))
def device_cycle(params, mem, s0, H, inputs, targets, cc: CycleConfig):
    """One cycle on given inputs/targets (T,) int arrays: a dict with the new params/mem, ``s_last``, ``ce``,
    ``l1_term``, ``grads`` (of the objective, before clipping), ``grad_s0``, ``probs`` and ``score``."""
    return _cycle(params, mem, s0, H, inputs, targets, cc)


@partial(jax.jit, static_argnames=("cc",))
def device_cycle_at(params, mem, s0, H, data, p, cc: CycleConfig):
    """Same, on the window data[p : p+T] -> data[p+1 : p+T+1] of a device-resident text (no per-cycle upload);
    returns only what the run loop needs."""
    T = cc.seq_length
    inputs = lax.dynamic_slice(data, (p,), (T,))
    targets = lax.dynamic_slice(data, (p + 1,), (T,))
    out = _cycle(params, mem, s0, H, inputs, targets, cc)
    return out["params"], out["mem"], out["s_last"], out["ce"], out["score"]

"""A DiffRNN run on the device: the jitted cycle, the host-side structural step, the data pointer and task switches.

The loop of the original (277c4a6 rnn.py:148-262; notes/diffrnn.md "Data pointer"), one call of ``cycle()`` per
cycle:
- if p + T + 1 >= len(data) or on the first cycle: s = 0, p = 0; window data[p : p+T] -> data[p+1 : p+T+1];
- the jitted cycle (cycle.device_cycle_at): loss, gradients, update, floor, score;
- smooth = decay * smooth + (1 - decay) * loss (starting at T ln V);
- the structural step (structure.py) on the host from the score;
- p += T; at a task switch the text changes and p = 0 (the carried state is kept).

The device keeps a padded copy of the network (cycle.py); ``host_state()`` gives the unpadded NumPy arrays.
"""

from __future__ import annotations

from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from minidsn_jax.diffrnn.cycle import (CycleConfig, capacity_for, device_cycle_at, pad_params,
                                       param_names, unpad_params)
from minidsn_jax.diffrnn.structure import StructureConfig, apply_decision, decide
from minidsn_jax.diffrnn.window import has_multipliers, window_loss

__all__ = ["Trainer", "init_params", "cycle_config", "structure_config"]

V = 4


def cycle_config(cfg: dict) -> CycleConfig:
    return CycleConfig(variant=cfg["variant"], seq_length=int(cfg["seq_length"]), lr=float(cfg["lr"]),
                       clip=float(cfg["clip"]), l1=float(cfg["l1"]), m_min=float(cfg["m_min"]),
                       g3_lr=float(cfg["g3_lr"]), g3_rho=float(cfg["g3_rho"]), g3_max_step=float(cfg["g3_max_step"]),
                       g3_weight_penalty=float(cfg["g3_weight_penalty"]))


def structure_config(cfg: dict) -> StructureConfig:
    return StructureConfig(k=int(cfg["k"]), t_d=float(cfg["t_d"]), p_add=float(cfg["p_add"]),
                           p_del=float(cfg["p_del"]), max_hidden=int(cfg["max_hidden"]),
                           p_spontaneous=float(cfg["p_spontaneous"]), init_scale=float(cfg["init_scale"]),
                           variant=cfg["variant"])


def init_params(H: int, variant: str, rng: np.random.Generator, scale: float = 0.01) -> dict:
    """Wxh (H, V), Whh (H, H), Wiy (V, H) ~ scale N(0,1) drawn in that order (277c4a6 rnn.py:68-74), biases 0,
    multipliers 1 (g2, altern)."""
    p = {"Wxh": scale * rng.standard_normal((H, V)), "Whh": scale * rng.standard_normal((H, H))}
    p["Wiy"] = scale * rng.standard_normal((V, H))
    p["bh"], p["by"] = np.zeros(H), np.zeros(V)
    if has_multipliers(variant):
        p["m"] = np.ones(H)
    return {k: p[k] for k in param_names(variant)}


class Trainer:
    """Holds the device state of one run; ``cycle(rng)`` runs one cycle and returns its metrics."""

    def __init__(self, cfg: dict, params: dict, mem: dict, s: np.ndarray, texts: list, p: int, n: int,
                 smooth: float, phase: int):
        self.cfg, self.cc, self.sc = cfg, cycle_config(cfg), structure_config(cfg)
        self.structure = bool(cfg["structure"]) and cfg["variant"] != "fixed"
        self.texts = [jnp.asarray(t, dtype=jnp.int32) for t in texts]
        self.text_lens = [int(t.shape[0]) for t in texts]
        self.p, self.n, self.smooth, self.phase = int(p), int(n), float(smooth), int(phase)
        self.n_added = self.n_deleted = 0
        self.cap = None
        self._upload(params, mem, s)

    # -- host <-> device -----------------------------------------------------------------------------------------
    def _upload(self, params: dict, mem: dict, s: np.ndarray) -> None:
        self.H = int(s.shape[0])
        self.cap = capacity_for(self.H, self.cap)
        self.params = jax.device_put(pad_params(params, self.cap))
        self.mem = jax.device_put(pad_params(mem, self.cap))
        self.s = jax.device_put(pad_params({"s": s}, self.cap)["s"])

    def host_state(self):
        """(params, mem, s) as unpadded NumPy arrays."""
        params = unpad_params(jax.device_get(self.params), self.H)
        mem = unpad_params(jax.device_get(self.mem), self.H)
        s = np.asarray(self.s)[: self.H].copy()
        return params, mem, s

    def evaluate_loss(self, n_windows: int) -> float:
        """Mean cross-entropy per window over the next ``n_windows`` windows of the current text, from the carried
        state, without updates and without touching the run's state."""
        T = self.cc.seq_length
        text, L = self.texts[self.phase], self.text_lens[self.phase]
        s, p, total = self.s, self.p, 0.0
        for _ in range(n_windows):
            if p + T + 1 >= L:
                s, p = jnp.zeros_like(s), 0
            ce, s = _eval_window(self.params, s, text, np.int32(p), self.cc.variant, T)
            total += float(ce)
            p += T
        return total / n_windows

    # -- one cycle -----------------------------------------------------------------------------------------------
    def switch_phase(self, phase: int) -> None:
        """A task switch: the text changes and p = 0; the carried state is kept."""
        self.phase, self.p = phase, 0

    def cycle(self, rng) -> dict:
        T = self.cc.seq_length
        if self.p + T + 1 >= self.text_lens[self.phase] or self.n == 0:
            self.s = jnp.zeros_like(self.s)
            self.p = 0
        self.params, self.mem, self.s, ce, score = device_cycle_at(
            self.params, self.mem, self.s, np.int32(self.H), self.texts[self.phase], np.int32(self.p), self.cc)
        ce, score = jax.device_get((ce, score))
        loss = float(ce)
        decay = float(self.cfg["smooth_decay"])
        self.smooth = self.smooth * decay + loss * (1.0 - decay)
        score = np.asarray(score)[: self.H]
        added = deleted = 0
        if self.structure:
            added, deleted, score = self._structural(score, rng)
        self.p += T
        self.n += 1
        metrics = {"loss": loss, "smooth_loss": self.smooth, "hidden_size": float(self.H), "added": float(added),
                   "deleted": float(deleted), "phase": float(self.phase)}
        if has_multipliers(self.cc.variant):
            metrics["sum_m"] = float(np.sum(np.abs(score)))
        metrics["n_above_threshold"] = float(np.sum(score > self.sc.t_d)) if self.structure else float(self.H)
        return metrics

    def _structural(self, score: np.ndarray, rng):
        """All draws on the host from the score; the network comes over only when it changes."""
        d = decide(score, rng, self.sc, V)
        if not d.changes:
            return 0, 0, score
        params, mem, s = self.host_state()
        params, mem, s, ev = apply_decision(params, mem, s, d, self.sc)
        self._upload(params, mem, s)
        self.n_added += int(ev.added)
        self.n_deleted += len(ev.deleted)
        new_score = d.score_kept if self.sc.variant == "g3" else params["m"]
        return int(ev.added), len(ev.deleted), new_score


@partial(jax.jit, static_argnames=("variant", "T"))
def _eval_window(params, s0, text, p, variant: str, T: int):
    inputs = lax.dynamic_slice(text, (p,), (T,))
    targets = lax.dynamic_slice(text, (p + 1,), (T,))
    ce, (_, s_last) = window_loss(params, s0, inputs, targets, variant)
    return ce, s_last

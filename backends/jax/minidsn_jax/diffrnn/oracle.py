"""DiffRNN as a backend of minidsn's conformance kit (minidsn.oracle.conformance; docs/oracle.md, "diffrnn").

One trajectory step is the training part of one cycle: read the window (``reset``: carried state 0 and p = 0;
``task_switch``: p = 0), the jitted cycle (window, gradient of CE + A T sum|m|, clip + Adagrad or G3's RMSProp, floor),
then the structural step on the recorded draws. The kit's layout, as minidsn records it:

    state   {"params": {Wxh, Whh, bh, Wiy, by[, m]}, "opt": {"step", "sum_sq" | "mean_sq" (g3): like params},
             "carried": (H,), "p": int}
    inputs  {"inputs": (T,), "targets": (T,), "reset": 0|1, "task_switch": 0|1}
    draws   delete_order (permutation of the sub-threshold indices), delete_coins (random(n)), add_coin,
            spontaneous_coin (random()), new_Whh_row / new_Whh_col / new_Wxh_row / new_Wiy_col (standard_normal)
    events  {"kind": "delete", "indices", "size"}, {"kind": "add", "index", "size", "Whh_row", "Whh_col",
             "Wxh_row", "Wiy_col", "bh", "carried", "memory"[, "m"]}
    losses  {"ce", "total"[, "l1_term"]};  grads: the unclipped gradient of losses["total"]

Nothing here computes: it converts between that layout and minidsn_jax.diffrnn's functions.
"""

from __future__ import annotations

import numpy as np

from minidsn_jax.diffrnn.cycle import CycleConfig, capacity_for, device_cycle, pad_params, unpad_params
from minidsn_jax.diffrnn.structure import apply_decision, decide
from minidsn_jax.diffrnn.trainer import cycle_config, structure_config
from minidsn_jax.diffrnn.window import has_multipliers

__all__ = ["DiffRNNBackend", "RecordedDraws"]


class RecordedDraws:
    """Hands an oracle step's recorded draws back in order, in place of a numpy Generator; each call must match the
    recorded method (and shape), and ``finish()`` checks that every draw was used."""

    def __init__(self, draws):
        self.draws, self.i = list(draws), 0

    def _next(self, method: str, shape=None):
        if self.i >= len(self.draws):
            raise RuntimeError(f"draw {self.i} ({method}) asked for, only {len(self.draws)} recorded")
        d = self.draws[self.i]
        if d.method != method:
            raise RuntimeError(f"draw {self.i}: {method} asked for, {d.method} ({d.label}) recorded")
        v = np.asarray(d.value)
        if shape is not None and int(np.prod(shape)) != v.size:
            raise RuntimeError(f"draw {self.i} ({d.label}): {shape} asked for, {v.shape} recorded")
        self.i += 1
        return v

    def permutation(self, x):
        v = self._next("permutation").astype(np.int64)
        x = np.asarray(x)
        if sorted(v.tolist()) != sorted(x.tolist()):
            raise RuntimeError(f"recorded permutation {v} is not one of {x}")
        return v

    def random(self, size=None):
        v = self._next("random", size)
        return float(v) if size is None else v.reshape(size)

    def standard_normal(self, size):
        return self._next("standard_normal", size).reshape(size)

    def finish(self):
        if self.i != len(self.draws):
            raise RuntimeError(f"the step used {self.i} of {len(self.draws)} recorded draws")


def _events(ev, mem_fill: float, multipliers: bool, t_d: float) -> list:
    out = []
    if ev.deleted:
        out.append({"kind": "delete", "indices": np.array(ev.deleted, dtype=np.int64),
                    "size": ev.h_before - len(ev.deleted)})
    if ev.added:
        e = {"kind": "add", "index": ev.added_index, "size": ev.h_after, "bh": 0.0, "carried": 0.0,
             "memory": mem_fill}
        e |= {k: np.asarray(v) for k, v in ev.new_values.items()}
        if multipliers:
            e["m"] = t_d
        out.append(e)
    return out


# minidsn's DiffRNN extensions (its Sec. 5 options) this backend does not build, with the value that means "off"
UNBUILT = {"age_bias": "none", "inherit_pool": 0}


def refuse_unbuilt(cfg: dict) -> None:
    """Raise NotImplementedError naming any option of minidsn's DiffRNN this backend does not build that a case sets
    to something other than off: computing the paper's rule instead would be a silent wrong answer."""
    for key, off in UNBUILT.items():
        if key in cfg and cfg[key] != off:
            raise NotImplementedError(f"minidsn_jax diffrnn: {key} = {cfg[key]!r} is not implemented (only {off!r})")


class DiffRNNBackend:
    """The kit's backend: ``setup(meta)`` reads the case's config, ``step(state, inputs, draws)`` runs one step."""

    def __init__(self):
        self.cfg = None

    def setup(self, meta):
        self.cfg = dict(meta["config"])
        refuse_unbuilt(self.cfg)
        self.cc: CycleConfig = cycle_config(self.cfg)
        self.sc = structure_config(self.cfg)
        self.structure = bool(self.cfg["structure"]) and self.cfg["variant"] != "fixed"

    def step(self, state, inputs, draws):
        variant = self.cc.variant
        opt_key = "mean_sq" if variant == "g3" else "sum_sq"
        params = {k: np.asarray(v, dtype=np.float64) for k, v in state["params"].items()}
        mem = {k: np.asarray(v, dtype=np.float64) for k, v in state["opt"][opt_key].items()}
        s = np.asarray(state["carried"], dtype=np.float64)
        p = int(np.asarray(state["p"]))
        if int(np.asarray(inputs["reset"])):
            s, p = np.zeros_like(s), 0
        elif int(np.asarray(inputs["task_switch"])):
            p = 0
        H = s.shape[0]
        cap = capacity_for(H)
        x = np.asarray(inputs["inputs"]).astype(np.int32)
        y = np.asarray(inputs["targets"]).astype(np.int32)
        out = device_cycle(pad_params(params, cap), pad_params(mem, cap), pad_params({"s": s}, cap)["s"],
                           np.int32(H), x, y, self.cc)
        new_p = unpad_params({k: np.asarray(v) for k, v in out["params"].items()}, H)
        new_m = unpad_params({k: np.asarray(v) for k, v in out["mem"].items()}, H)
        grads = unpad_params({k: np.asarray(v) for k, v in out["grads"].items()}, H)
        carried = np.asarray(out["s_last"])[:H].copy()
        ce, l1 = float(out["ce"]), float(out["l1_term"])
        losses = {"ce": ce, "total": ce + l1}
        if has_multipliers(variant):
            losses["l1_term"] = l1
        events = []
        if self.structure:
            rec = RecordedDraws(draws)
            d = decide(np.asarray(out["score"])[:H], rec, self.sc, new_p["Wxh"].shape[1])
            rec.finish()
            new_p, new_m, carried, ev = apply_decision(new_p, new_m, carried, d, self.sc)
            events = _events(ev, 0.01 if variant == "g3" else 0.0, has_multipliers(variant), self.sc.t_d)
        new_state = {"params": new_p, "opt": {"step": int(np.asarray(state["opt"]["step"])) + 1, opt_key: new_m},
                     "carried": carried, "p": p + self.cc.seq_length}
        return new_state, losses, grads, events

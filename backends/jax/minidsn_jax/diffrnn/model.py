"""``jax-diffrnn``: DiffRNN for minidsn's run harness (``minidsn.runs``), one ``step`` = one cycle.

The options carry the same names and defaults as minidsn's ``diffrnn`` (docs/models/diffrnn.md), so a reference-run
file runs unchanged except for ``model = "jax-diffrnn"``; ``backend`` is accepted and ignored (it picks one of
minidsn's code paths). Metrics and final figures have minidsn's names, so run folders compare line by line.

The state the harness sees (and checkpoints) is plain NumPy: the unpadded parameters, memories and carried state,
data pointer, cycle count, smoothed loss, task phase and event counters. The device copy lives in a Trainer kept
by the model object and reused while the harness hands back the state it was given last (a resumed run rebuilds it).
"""

from __future__ import annotations

import math

import numpy as np

from minidsn.runs import Model, Option, register_model

from minidsn_jax.diffrnn.cycle import init_memories
from minidsn_jax.diffrnn.task import lowest_loss_per_window, make_task
from minidsn_jax.diffrnn.trainer import V, Trainer, init_params
from minidsn_jax.diffrnn.window import VARIANTS, has_multipliers

__all__ = ["JaxDiffRNN"]


def _pos(v):
    return None if v > 0 else "must be > 0"


def _prob(v):
    return None if 0.0 <= v <= 1.0 else "must be a probability in [0, 1]"


TASKS = ("easy", "hard", "easy-hard-easy", "hard-easy")


def _phases(cfg) -> tuple[list[str], list[int]]:
    """Texts in order and the cycles at which the task switches (notes/diffrnn.md: 100k/200k, 150k)."""
    task = cfg["task"]
    if task in ("easy", "hard"):
        return [task], []
    names = task.split("-")
    default = [100_000, 200_000] if task == "easy-hard-easy" else [150_000]
    at = list(cfg["switch_at"]) if cfg["switch_at"] is not None else default
    if len(at) != len(names) - 1:
        raise ValueError(f"switch_at must list {len(names) - 1} cycle(s) for task {task!r}")
    return names, at


@register_model
class JaxDiffRNN(Model):
    name = "jax-diffrnn"
    description = "DiffRNN (Miconi) in JAX: jitted 40-step window, host-side structural step (minidsn_jax)"
    options = {
        "variant": Option(str, "g2", "g2 | altern | g3 | fixed", choices=VARIANTS),
        "task": Option(str, "hard", "character task", choices=TASKS),
        "switch_at": Option(list, None, "cycles of the task switches (default 100k/200k or 150k)"),
        "backend": Option(str, "jax", "accepted for minidsn's run files; ignored"),
        "structure": Option(bool, True, "add and delete neurons"),
        "k": Option(int, 1, "sub-threshold neurons kept", check=lambda v: None if v >= 0 else "must be >= 0"),
        "t_d": Option(float, 0.05, "deletion threshold", check=_pos),
        "m_min": Option(float, 0.025, "multiplier floor", check=_pos),
        "p_add": Option(float, 0.05, "addition probability", check=_prob),
        "p_del": Option(float, 0.25, "deletion probability", check=_prob),
        "l1": Option(float, 3e-5, "L1 strength A on the multipliers"),
        "max_hidden": Option(int, 99, "no addition at H >= max_hidden", check=_pos),
        "p_spontaneous": Option(float, 1e-4, "spontaneous addition probability", check=_prob),
        "hidden_size": Option(int, None, "initial H (default 1; the fixed variant's size, default 27)"),
        "init_scale": Option(float, 0.01, "scale of the initial and new weights", check=_pos),
        "seq_length": Option(int, 40, "characters per window", check=_pos),
        "lr": Option(float, 0.1, "Adagrad learning rate", check=_pos),
        "clip": Option(float, 5.0, "elementwise gradient clip", check=_pos),
        "g3_lr": Option(float, 0.01, "G3 RMSProp learning rate", check=_pos),
        "g3_rho": Option(float, 0.01, "G3 RMSProp decay", check=_pos),
        "g3_max_step": Option(float, 0.01, "G3 step clip", check=_pos),
        "g3_weight_penalty": Option(float, 1e-4, "G3 L1 shrinkage of Wiy and Whh"),
        "smooth_decay": Option(float, 0.999, "smoothed-loss decay", check=_prob),
        "data_seed": Option(int, 0, "seed of the generated task texts"),
        "p_continue": Option(float, 0.6, "easy task: continue probability", check=_prob),
        "group_letters": Option(int, 6, "hard task: letters per group", check=_pos),
        "eval_cycles": Option(int, 1000, "windows of the update-free evaluation", check=_pos),
    }

    def __init__(self):
        self._trainer: Trainer | None = None
        self._last_state = None

    # -- harness interface ---------------------------------------------------------------------------------------
    def init(self, cfg, rng, data_dir):
        H = cfg["hidden_size"] if cfg["hidden_size"] is not None else (27 if cfg["variant"] == "fixed" else 1)
        params = init_params(int(H), cfg["variant"], rng, cfg["init_scale"])
        T = cfg["seq_length"]
        return {"params": params, "mem": init_memories(params, cfg["variant"]), "s": np.zeros(int(H)),
                "p": 0, "n": 0, "smooth": float(T * math.log(V)), "phase": 0, "n_added": 0, "n_deleted": 0}

    def _texts(self, cfg):
        names, _ = _phases(cfg)
        return [make_task(t, cfg["data_seed"], cfg["p_continue"], cfg["group_letters"]) for t in names]

    def _trainer_for(self, state, cfg) -> Trainer:
        if self._trainer is not None and state is self._last_state:
            return self._trainer
        tr = Trainer(cfg, state["params"], state["mem"], np.asarray(state["s"], dtype=np.float64), self._texts(cfg),
                     state["p"], state["n"], state["smooth"], state["phase"])
        tr.n_added, tr.n_deleted = int(state["n_added"]), int(state["n_deleted"])
        self._trainer = tr
        return tr

    def step(self, state, cfg, rng, step):
        tr = self._trainer_for(state, cfg)
        _, at = _phases(cfg)
        if tr.n in at:  # the original switches after incrementing n, before the next window
            tr.switch_phase(at.index(tr.n) + 1)
        metrics = tr.cycle(rng)
        params, mem, s = tr.host_state()
        new = {"params": params, "mem": mem, "s": s, "p": tr.p, "n": tr.n, "smooth": tr.smooth, "phase": tr.phase,
               "n_added": tr.n_added, "n_deleted": tr.n_deleted}
        self._last_state = new
        return new, metrics

    def evaluate(self, state, cfg, rng, data_dir):
        """Final figures: size, smoothed loss, event counts, and the mean cross-entropy per window over
        ``eval_cycles`` further windows of the current text without updates (from the carried state)."""
        tr = self._trainer_for(state, cfg)
        params, mem, s = tr.host_state()
        out = {"hidden_size": float(tr.H), "smooth_loss": float(tr.smooth), "cycles": float(tr.n),
               "n_added": float(tr.n_added), "n_deleted": float(tr.n_deleted)}
        names, _ = _phases(cfg)
        out["lowest_reachable_loss"] = lowest_loss_per_window(names[tr.phase], cfg["seq_length"], cfg["p_continue"],
                                                              cfg["group_letters"])
        out["eval_loss"] = float(tr.evaluate_loss(int(cfg["eval_cycles"])))
        if has_multipliers(cfg["variant"]):
            out["n_above_threshold"] = float(np.sum(params["m"] > cfg["t_d"]))
            out["sum_m"] = float(np.sum(np.abs(params["m"])))
        return out

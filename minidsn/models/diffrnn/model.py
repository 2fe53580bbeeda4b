"""DiffRNN: a recurrent network that grows and prunes its own hidden neurons (Miconi 2016), registered as `diffrnn`.

Seed 001_678d4d4066cd8cbb.txt ("Neural networks with differentiable structure"); the exact algorithm of the
original code (generation G2, which the seed text describes; rnnAltern; G3) is in ../shared/notes/diffrnn.md.
One Model.step = one cycle (a window of 40 characters, one update, one structural update).

Pieces: minidsn.data.charseq (tasks), minidsn.models.diffrnn.window_kernel (+ window_primitive) (window forward + BPTT),
minidsn.models.diffrnn.loss (objective, engine and kernel paths), structure (deletion / addition),
cycle (the training cycle), oracle (oracle case). docs/models/diffrnn.md explains the choices.
"""

from __future__ import annotations

from minidsn.models.api import ConfigError, Model, Option, register_model
from minidsn.models.api import non_negative as _nonneg, positive as _positive, probability as _prob

from . import cycle as _cycle
from .lineage import AGE_BIASES, lineage_wanted
from .trajectory import TRAJECTORY_DEFAULTS, TRAJECTORY_STEPS

__all__ = ["DiffRNNModel"]


def _switches(v):
    if v is None:
        return None
    if not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in v):
        return "must be positive integers (cycle numbers)"
    if list(v) != sorted(set(v)):
        return "must be strictly increasing"
    return None


# When an option has an effect (Option.only_when), from cycle.py: g3 trains with RMSProp (g3_*), the others with
# clipped Adagrad (lr, clip); only the multiplier variants have m (l1, m_min); "fixed" has no structural update, and
# with structure = false the whole update is skipped (k, p_add, p_del, max_hidden, p_spontaneous; t_d is still read
# by the metrics then).
_G3 = {"variant": ("g3",)}
_ADAGRAD = {"variant": tuple(v for v in _cycle.VARIANTS if v != "g3")}
_MULTIPLIERS = {"variant": _cycle.MULTIPLIER_VARIANTS}
_GROWS = {"variant": tuple(v for v in _cycle.VARIANTS if v != "fixed")}
_STRUCTURAL = {**_GROWS, "structure": (True,)}


@register_model
class DiffRNNModel(Model):
    """The ``diffrnn`` model: options and the run-harness adapter around cycle.py.

    Source: none (registry glue of the diffrnn model; the formulas are cited in cycle.py, loss.py and structure.py)
    """

    name = "diffrnn"
    description = "DiffRNN: RNN with L1-regularised neuron multipliers that adds and deletes hidden neurons"
    trajectory_defaults = TRAJECTORY_DEFAULTS  # config of a trajectory case unless set (see .trajectory)
    trajectory_steps = TRAJECTORY_STEPS
    options = {
        "variant": Option(str, "g2", "g2 = code the seed describes; g1 = the first code, whose multiplier gradient "
                          "is dq * m instead of dq * h (bug); altern = multiplier also gates the recurrence; "
                          "g3 = no multipliers, RMSProp, outgoing-weight norm; fixed = plain min-char-rnn",
                          choices=_cycle.VARIANTS),
        "task": Option(str, "hard", "task schedule", choices=_cycle.TASKS),
        "switch_at": Option(tuple, None, "cycles at which the task switches (None: 100000, 200000 for "
                            "easy-hard-easy; 150000 for hard-easy)", check=_switches),
        "backend": Option(str, "fused", "fused = compiled kernel called directly; kernel = through the engine "
                          "primitive; engine = minidsn.numpy reference (slow)", choices=_cycle.BACKENDS),
        "structure": Option(bool, True, "add / delete neurons (False: multipliers kept, size fixed)"),
        # the six structural parameters, paper defaults (seed section 2.2)
        "k": Option(int, 1, "sub-threshold neurons kept in reserve (NBMARGIN)", check=_nonneg, only_when=_STRUCTURAL),
        "t_d": Option(float, 0.05, "deletion threshold T_D (on m; on the outgoing norm for g3)", check=_positive,
                      only_when=_GROWS),
        "m_min": Option(float, 0.025, "floor M_min of the multipliers", check=_positive, only_when=_MULTIPLIERS),
        "p_add": Option(float, 0.05, "probability of an addition when no neuron is in reserve (g3 code: 0.01)",
                        check=_prob, only_when=_STRUCTURAL),
        "p_del": Option(float, 0.25, "probability of deleting each excess sub-threshold neuron (g3 code: 0.05)",
                        check=_prob, only_when=_STRUCTURAL),
        "l1": Option(float, 3e-5, "A_L1reg, added to dm at each of the T steps (objective A T sum|m|)",
                     check=_nonneg, only_when=_MULTIPLIERS),
        # code constants
        "max_hidden": Option(int, 99, "no addition once H reaches this (original: H < 100 - 1)", check=_positive,
                             only_when=_STRUCTURAL),
        "p_spontaneous": Option(float, 1e-4, "per-cycle probability of an unconditional addition (code only)",
                                check=_prob, only_when=_STRUCTURAL),
        "hidden_size": Option(int, None, "initial H (None: 1; 100 for fixed)", check=_positive),
        "init_scale": Option(float, 0.01, "std of the initial and new weights", check=_positive),
        "seq_length": Option(int, 40, "characters per cycle T", check=_positive),
        "lr": Option(float, 0.1, "Adagrad learning rate (g2, altern, fixed)", check=_positive, only_when=_ADAGRAD),
        "clip": Option(float, 5.0, "elementwise gradient clip before Adagrad (0: none)", check=_nonneg,
                       only_when=_ADAGRAD),
        "g3_lr": Option(float, 0.01, "g3 RMSProp learning rate", check=_positive, only_when=_G3),
        "g3_rho": Option(float, 0.01, "g3 RMSProp: M += rho (d^2 - M)", check=_prob, only_when=_G3),
        "g3_max_step": Option(float, 0.01, "g3: each RMSProp step clipped to +- this", check=_positive, only_when=_G3),
        "g3_weight_penalty": Option(float, 1e-4, "g3: W -= c sign(W) on Wiy and Whh after each update",
                                    check=_nonneg, only_when=_G3),
        "smooth_decay": Option(float, 0.999, "smooth <- d smooth + (1 - d) loss (g3 code: 0.99)", check=_prob),
        "data_seed": Option(int, 0, "seed of the task texts (shared by all run seeds, as the original's files)",
                            check=_nonneg),
        "p_continue": Option(float, 0.6, "easy task: probability of another 'ab' (code and data; G3 text 0.75)",
                             check=lambda v: None if 0 <= v < 1 else "must be in [0, 1)"),
        "group_letters": Option(int, 6, "hard task: letters per group (code and data 6; paper text 5)",
                                check=_positive),
        # extensions proposed in the seed's conclusion (Sec. 5; minidsn.models.diffrnn.lineage), off by default
        "age_bias": Option(str, "none", "which sub-threshold neurons form the k reserve: none = random (paper); "
                           "delete_old = the youngest are kept, older ones face P_del; delete_young = the reverse",
                           choices=AGE_BIASES),
        "inherit_pool": Option(int, 0, "keep the last N deleted neurons; a new neuron inherits the newest one's "
                               "connectivity (0: random init, paper)", check=_nonneg),
        "inherit_recurrent": Option(bool, True, "with inherit_pool: also inherit the recurrent weights (Whh row "
                                    "and column); false: input, bias and output weights only"),
        "eval_cycles": Option(int, 1000, "evaluate: mean CE over this many further windows, no updates",
                              check=_nonneg),
    }

    def init(self, cfg, rng, data_dir=None):
        """Source: none (run-harness adapter; the state is built by cycle.init_state)"""
        self.check_config(cfg)
        return _cycle.init_state(cfg, rng)

    @classmethod
    def check_config(cls, cfg):
        """Config combinations a single option cannot check.

        Source: none (configuration checks; no formula)
        """
        if cfg["m_min"] >= cfg["t_d"] and cfg["variant"] in _cycle.MULTIPLIER_VARIANTS:
            raise ConfigError(f"config key 'm_min': {cfg['m_min']} must be below t_d ({cfg['t_d']}): a floored "
                              "neuron must stay deletable")
        _cycle.task_schedule(cfg)  # validates switch_at against the task
        if lineage_wanted(cfg) and (cfg["variant"] == "fixed" or not cfg["structure"]):
            raise ConfigError(f"config keys 'age_bias' / 'inherit_pool': age_bias = {cfg['age_bias']!r} / "
                              f"inherit_pool = {cfg['inherit_pool']} change the structural update: they need a "
                              "variant that adds and deletes neurons (not 'fixed') and structure = true")

    def step(self, state, cfg, rng, step):
        """Source: none (run-harness adapter; the rule is cycle.cycle)"""
        return _cycle.cycle(state, cfg, rng)

    def evaluate(self, state, cfg, rng, data_dir=None):
        """Final figures: size, smoothed loss, and the mean CE per window over ``eval_cycles`` further windows of
        the current task without updates (state carried on), with the note's lowest reachable loss for the task.

        Source: none (reporting; the lowest reachable losses follow from ThomasMiconi/DiffRNN@8b2491f gentext.py:3-24)
        """
        from minidsn.data import charseq

        from .eval import eval_windows

        phases, _ = _cycle.task_schedule(cfg)
        task = phases[state["phase"]]
        out = {
            "hidden_size": float(state["carried"].shape[0]),
            "smooth_loss": float(state["smooth"]),
            "cycles": float(state["n"]),
            "n_added": float(state["n_added"]),
            "n_deleted": float(state["n_deleted"]),
            "lowest_reachable_loss": charseq.lowest_loss_per_window(task, cfg["seq_length"], cfg["p_continue"],
                                                                     cfg["group_letters"]),
        }
        if cfg["eval_cycles"] > 0:
            out["eval_loss"] = eval_windows(state, cfg, cfg["eval_cycles"])
        if "m" in state["params"]:
            m = state["params"]["m"]
            out["n_above_threshold"] = float((m > cfg["t_d"]).sum())
            out["sum_m"] = float(m.sum())
        if "lineage" in state:
            out["n_inherited"] = float(state["lineage"]["n_inherited"])
            out["mean_age"] = float(state["lineage"]["age"].mean())
        return out

    def oracle_case(self, cfg, rng, data_dir=None):
        """Source: none (oracle export; the formulas are in loss.py)"""
        from .oracle import oracle_case

        return oracle_case(cfg, rng)

    def trajectory(self, cfg, rng, data_dir=None, steps=None):
        """K consecutive cycles with everything each reads, draws and changes (minidsn.models.diffrnn.trajectory).

        Source: none (model interface; the formulas are in cycle.py)
        """
        from .trajectory import trajectory

        self.check_config(cfg)
        if lineage_wanted(cfg):
            raise ValueError("diffrnn trajectory cases record the paper's structural update; the extensions "
                             "age_bias / inherit_pool keep extra state (ages, pool of deleted neurons) that the case "
                             "format does not record: set them to 'none' / 0")
        return trajectory(cfg, rng, steps)

    def trajectory_step(self, cfg, state_before, inputs, draws):
        """One recorded cycle replayed from its state, inputs and draws: (state_after, losses, grads, events).

        Source: none (model interface; the formulas are in cycle.py)
        """
        from .trajectory import trajectory_step

        return trajectory_step(cfg, state_before, inputs, draws)

    def plot(self, state, metrics, out_dir):
        """Source: none (figures of a run; no formula)"""
        return None

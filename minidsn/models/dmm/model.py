"""Dataflow Matrix Machines (seed 004; notes/dmm.md): the `dmm` model for minidsn runs.

variant = "handcrafted": runs the 11-link duplicate-character detector and reports its output step cycles.
variant = "synthesis": trains the 1,486-gate network against the hand-crafted one (loss over n_cycles + lambda L1,
Adam, one step per episode) with the automatic sparsification schedule of minidsn.models.dmm.synthesis.
"""

from __future__ import annotations

import numpy as np

import minidsn.numpy as mnp
from minidsn.engine import value_and_grad
from minidsn.models.api import non_negative as _nonneg, positive as _pos
from minidsn.models.api import Model, Option, register_model

from .compiled import episode_loss
from .handcrafted import handcrafted_traces, step_cycles
from .synthesis import DEFAULTS, cfg_plan, generalisation, link_table, new_state, synthesis_step
from .trainable import NETWORKS, init_gates
from .trajectory import TRAJECTORY_DEFAULTS, TRAJECTORY_STEPS

# When an option has an effect (Option.only_when). The hand-crafted variant runs the fixed 11-link net from string and
# n_cycles alone; its oracle case still builds the trainable net (n_layers, n_per_layer, network, init_scale,
# lam_base), so those apply to both variants. The ES settings are read only by the ES gradient (step_settings).
_SYNTHESIS = {"variant": ("synthesis",)}
_ES = {"variant": ("synthesis",), "gradient": ("es",)}


@register_model
class DMMModel(Model):
    """The ``dmm`` model: options and the run-harness adapter around handcrafted.py and synthesis.py.

    Source: none (registry glue of the dmm model; the formulas are cited in lite.py, trainable.py, compiled.py and
        synthesis.py)
    """

    name = "dmm"
    description = "Dataflow Matrix Machines on V-values: hand-crafted duplicate detector, synthesis by sparsifying training"
    trajectory_defaults = TRAJECTORY_DEFAULTS  # config of a trajectory case unless set (see .trajectory)
    trajectory_steps = TRAJECTORY_STEPS
    options = {
        "variant": Option(str, "synthesis", "handcrafted = run the 11-link net; synthesis = train and prune",
                          choices=("handcrafted", "synthesis")),
        "string": Option(str, DEFAULTS["string"], "training string (one character every 10 cycles)",
                         check=lambda v: None if v else "must be non-empty"),
        "n_cycles": Option(int, DEFAULTS["n_cycles"], "cycles per episode", check=_pos),
        "n_layers": Option(int, DEFAULTS["n_layers"], "interneuron layers", check=_pos),
        "n_per_layer": Option(int, DEFAULTS["n_per_layer"], "instances of each type per layer", check=_pos),
        "init_scale": Option(float, DEFAULTS["init_scale"], "gate init std (w = scale N(0,1))", check=_pos),
        "lr": Option(float, DEFAULTS["lr"], "Adam learning rate of the base phase", check=_pos, only_when=_SYNTHESIS),
        "lr_rounds": Option(float, DEFAULTS["lr_rounds"], "Adam learning rate of the prune rounds", check=_pos,
                            only_when=_SYNTHESIS),
        "lr_final": Option(float, DEFAULTS["lr_final"], "Adam learning rate of the final phase", check=_pos,
                           only_when=_SYNTHESIS),
        "lam_base": Option(float, DEFAULTS["lam_base"], "L1 weight in the base phase", check=_nonneg),
        "base_steps": Option(int, DEFAULTS["base_steps"], "Adam steps before pruning starts", check=_nonneg,
                             only_when=_SYNTHESIS),
        "round_steps": Option(int, DEFAULTS["round_steps"], "Adam steps per prune round", check=_pos,
                              only_when=_SYNTHESIS),
        "lam_growth": Option(float, DEFAULTS["lam_growth"], "lambda ramp factor per round", check=_pos,
                             only_when=_SYNTHESIS),
        "lam_max": Option(float, DEFAULTS["lam_max"], "lambda ceiling", check=_nonneg, only_when=_SYNTHESIS),
        "prune_fraction": Option(float, DEFAULTS["prune_fraction"], "fraction of links pruned per accepted round",
                                 check=lambda v: None if 0 < v < 1 else "must be in (0, 1)", only_when=_SYNTHESIS),
        "loss_guard": Option(float, DEFAULTS["loss_guard"], "absolute data-loss guard", check=_pos,
                             only_when=_SYNTHESIS),
        "guard_ratio": Option(float, DEFAULTS["guard_ratio"], "guard relative to the base data loss", check=_pos,
                              only_when=_SYNTHESIS),
        "guard_ref": Option(str, DEFAULTS["guard_ref"], "guard reference: base = data loss after the base phase; "
                            "last = data loss of the last accepted round", choices=("base", "last"),
                            only_when=_SYNTHESIS),
        "loss_cap": Option(float, DEFAULTS["loss_cap"], "absolute ceiling of the guard", check=_pos,
                           only_when=_SYNTHESIS),
        "guard_window": Option(int, DEFAULTS["guard_window"], "a round's data loss = min over its last N steps",
                               check=_pos, only_when=_SYNTHESIS),
        "prune_rule": Option(str, DEFAULTS["prune_rule"], "magnitude = smallest |w| first; ablation = smallest "
                             "data-loss increase when the link is zeroed first; cutoff = only links below "
                             "prune_cutoff", choices=("magnitude", "ablation", "cutoff"), only_when=_SYNTHESIS),
        "ablation_links": Option(int, DEFAULTS["ablation_links"], "ablate every link when at most this many remain "
                                 "(else the 2k smallest)", check=_pos, only_when=_SYNTHESIS),
        "max_single_tries": Option(int, DEFAULTS["max_single_tries"], "failed single-link prunes before stopping",
                                   check=_pos, only_when=_SYNTHESIS),
        "target_links": Option(int, DEFAULTS["target_links"], "stop pruning at this many soft links", check=_pos,
                               only_when=_SYNTHESIS),
        "final_steps": Option(int, DEFAULTS["final_steps"], "steps of the final phase", check=_nonneg,
                              only_when=_SYNTHESIS),
        "lam_final": Option(float, DEFAULTS["lam_final"], "lambda of the final phase", check=_nonneg,
                            only_when=_SYNTHESIS),
        "lam_schedule": Option(tuple, DEFAULTS["lam_schedule"], "lambda of prune round k, held as listed (last entry "
                               "repeats); empty = the lam_growth ramp",
                               check=lambda v: None if all(float(x) >= 0 for x in v) else "entries must be >= 0",
                               only_when=_SYNTHESIS),
        "round_steps_schedule": Option(tuple, DEFAULTS["round_steps_schedule"], "steps of prune round k (last entry "
                                       "repeats); empty = round_steps",
                                       check=lambda v: None if all(int(x) > 0 for x in v) else "entries must be > 0",
                                       only_when=_SYNTHESIS),
        "lam_backoff": Option(float, DEFAULTS["lam_backoff"], "lambda factor per failed round (recovers by its "
                              "inverse per accepted round); 1 = no back-off",
                              check=lambda v: None if 0 < v <= 1 else "must be in (0, 1]", only_when=_SYNTHESIS),
        "prune_growth": Option(float, DEFAULTS["prune_growth"], "prune_fraction factor after an accepted round (up "
                               "to its configured value); 1 = halved fractions never grow back",
                               check=lambda v: None if v >= 1 else "must be >= 1", only_when=_SYNTHESIS),
        "recover_steps": Option(int, DEFAULTS["recover_steps"], "last steps of each prune round trained at "
                                "lam_final before the guard is measured; 0 = none", check=_nonneg,
                                only_when=_SYNTHESIS),
        "prune_cutoff": Option(float, DEFAULTS["prune_cutoff"], "an accepted round removes every link with |w| "
                               "below this first (the fraction rule only when none is); 0 = off", check=_nonneg,
                               only_when=_SYNTHESIS),
        "lam_target": Option(float, DEFAULTS["lam_target"], "lambda as a controller: x lam_growth after a round "
                             "whose data loss is <= this, / lam_growth otherwise (within [lam_base, lam_max]); "
                             "0 = the ramp or lam_schedule", check=_nonneg, only_when=_SYNTHESIS),
        "lam_floor_growth": Option(float, DEFAULTS["lam_floor_growth"], "with lam_target: lambda's floor grows "
                                   "as lam_base * this**round (a pressure ramp under the controller); 1 = floor "
                                   "lam_base", check=lambda v: None if v >= 1 else "must be >= 1",
                                   only_when=_SYNTHESIS),
        "max_rounds": Option(int, DEFAULTS["max_rounds"], "prune rounds before the tail (or the final phase); "
                             "0 = until pruning stops", check=_nonneg, only_when=_SYNTHESIS),
        "tail_guard": Option(float, DEFAULTS["tail_guard"], "after max_rounds: remove one link at a time (ablation "
                             "order), retrain, keep it only if the data loss is <= this; 0 = no tail", check=_nonneg,
                             only_when=_SYNTHESIS),
        "tail_round_steps": Option(int, DEFAULTS["tail_round_steps"], "retraining steps per tail removal",
                                   check=_pos, only_when=_SYNTHESIS),
        "tail_lam": Option(float, DEFAULTS["tail_lam"], "lambda during the tail", check=_nonneg, only_when=_SYNTHESIS),
        "tail_tries": Option(int, DEFAULTS["tail_tries"], "failed removals in a row that end the tail", check=_pos,
                             only_when=_SYNTHESIS),
        "extra_strings": Option(tuple, DEFAULTS["extra_strings"], "more training strings, one episode each per step "
                                "(loss = sum over episodes); empty = the original's single string",
                                check=lambda v: None if all(isinstance(x, str) and x for x in v)
                                else "entries must be non-empty strings", only_when=_SYNTHESIS),
        "gradient": Option(str, DEFAULTS["gradient"], "exact = reverse-mode gradient of the episode; es = OpenAI-ES "
                           "antithetic estimate (seed 004's fallback when autodiff is too slow)",
                           choices=("exact", "es"), only_when=_SYNTHESIS),
        "es_population": Option(int, DEFAULTS["es_population"], "ES: antithetic pairs per step (2x episodes)",
                                check=_pos, only_when=_ES),
        "es_sigma": Option(float, DEFAULTS["es_sigma"], "ES: perturbation scale", check=_pos, only_when=_ES),
        "network": Option(str, DEFAULTS["network"], "start network: feedforward = the note's 1,486-link net; "
                          "compare-free = layers of accum, norm, dot only (the note's 942-link variant at n_layers 6); "
                          "recurrent = every input field from every output, no hand-wired link but the timer (the "
                          "seed's prior-free start)", choices=("feedforward", "compare-free", "recurrent")),
        "n_starts": Option(int, DEFAULTS["n_starts"], "independent starts (fresh gates each) run for start_steps "
                           "steps; the best (data loss <= start_guard first, then fewest links, then data loss) "
                           "continues the schedule; 1 = one start", check=_pos, only_when=_SYNTHESIS),
        "start_steps": Option(int, DEFAULTS["start_steps"], "steps of each start before it is scored (n_starts > 1)",
                              check=_pos, only_when=_SYNTHESIS),
        "start_guard": Option(float, DEFAULTS["start_guard"], "data loss a start's machine must meet to rank by its "
                              "link count (n_starts > 1)", check=_pos, only_when=_SYNTHESIS),
        "prune_optimizer": Option(str, DEFAULTS["prune_optimizer"], "trim = delete Adam moments with the links; "
                                  "reset = fresh Adam (the original)", choices=("trim", "reset"), only_when=_SYNTHESIS),
    }

    def init(self, cfg, rng, data_dir):
        """Source: none (run-harness adapter; state from synthesis.new_state)"""
        if cfg["variant"] == "handcrafted":
            t = handcrafted_traces(cfg["string"], cfg["n_cycles"])
            return {"traces": t}
        return new_state(cfg, rng)

    def step(self, state, cfg, rng, step):
        """Source: none (run-harness adapter; the rule is synthesis.synthesis_step)"""
        if cfg["variant"] == "handcrafted":
            return state, {"y1_final": float(state["traces"][-1, 0]), "y2_final": float(state["traces"][-1, 1])}
        return synthesis_step(state, cfg, rng)

    def evaluate(self, state, cfg, rng, data_dir):
        """Source: none (reporting: step cycles of the hand-crafted net, link counts, generalisation)"""
        if cfg["variant"] == "handcrafted":
            out = {}
            for j in (0, 1):
                for i, (c, v) in enumerate(step_cycles(state["traces"][:, j])):
                    out[f"y{j + 1}_step{i + 1}_cycle"] = float(c)
                    out[f"y{j + 1}_step{i + 1}_value"] = float(v)
            return out
        plan = cfg_plan(cfg)
        out = {"n_links": float(len(state["link_ids"]))}
        out.update({f"sse {k}": float(v) for k, v in generalisation(cfg, state).items()})
        return out

    def oracle_case(self, cfg, rng, data_dir):
        """The trainable network's loss and gradient at initialisation (all gates, lambda = lam_base).

        losses: data = sum over the episode's cycles of both outputs' squared errors against the hand-crafted net
        (note, "Trainable network"), l1 = lam_base * sum |gates|, total = data + l1 (the differentiated loss).

        Source: none (oracle export; formulas in trainable.py and compiled.py)
        """
        plan = cfg_plan(cfg)
        gates = init_gates(rng, len(plan.links), cfg["init_scale"])
        lam = cfg["lam_base"]
        val, g = value_and_grad(lambda p: episode_loss(p["gates"], plan=plan)
                                + lam * mnp.sum(mnp.abs(p["gates"])))({"gates": gates})
        data = float(episode_loss(gates, plan=plan))
        l1 = lam * float(np.sum(np.abs(gates)))
        return {"params": {"gates": gates}, "inputs": {"targets": plan.targets.copy()},
                "outputs": {"y": plan.outputs(gates).copy()},
                "losses": {"data": np.asarray(data), "l1": np.asarray(l1), "total": np.asarray(float(val))},
                "grads": {"gates": np.asarray(g["gates"])}}

    def trajectory(self, cfg, rng, data_dir=None, steps=None):
        """K consecutive synthesis steps with everything each reads and changes (minidsn.models.dmm.trajectory).

        Source: none (oracle trajectory record; formulas in synthesis.py)
        """
        from .trajectory import trajectory

        return trajectory(cfg, rng, steps)

    def trajectory_step(self, cfg, state_before, inputs, draws):
        """One recorded step replayed from its state and inputs: (state_after, losses, grads, events).

        Source: none (replay of a recorded step; formulas in synthesis.py)
        """
        from .trajectory import trajectory_step

        return trajectory_step(cfg, state_before, inputs, draws)

    def plot(self, state, metrics, out_dir):
        """Writes the output traces (handcrafted) or the final link table (synthesis) as text.

        Source: none (figures / tables of a run; no formula)
        """
        import os

        os.makedirs(out_dir, exist_ok=True)
        if "traces" in state:
            with open(os.path.join(out_dir, "traces.txt"), "w") as f:
                f.write("cycle y1 y2\n")
                for c, (a, b) in enumerate(state["traces"], start=1):
                    f.write(f"{c} {a:g} {b:g}\n")
        elif "link_ids" in state:
            cfg = dict(DEFAULTS)
            if "net_size" in state:  # the run's network size (states saved before it was kept: the defaults)
                cfg.update(n_layers=int(state["net_size"][0]), n_per_layer=int(state["net_size"][1]))
            if "network_id" in state:  # a start network other than the default feed-forward one
                cfg["network"] = NETWORKS[int(state["network_id"])]
            with open(os.path.join(out_dir, "links.txt"), "w") as f:
                for r in link_table(cfg, state):
                    f.write(f"{r[0]}.{r[1]} <- {r[2]}.{r[3]}  {r[4]:+.4f}\n")

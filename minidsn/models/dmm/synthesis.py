"""Synthesis by sparsifying training: an automatic L1 ramp with magnitude pruning under a loss guard.

The original (notes/dmm.md "Sparsification") pruned links with |w| < cutoff, re-created Adam and retrained 100 steps,
raising lambda by hand.  Here every choice is a config value fixed before the run:

1. base phase: ``base_steps`` Adam steps at lambda = ``lam_base``, learning rate ``lr``.
2. rounds of ``round_steps`` steps at learning rate ``lr_rounds``; round k trains at
   lambda_k = min(lam_max, lam_base * lam_growth**k), or, when ``lam_schedule`` is given, at lam_schedule[k] held as
   listed (the original's hand schedule written down before the run: 0.01 x2, 0.03, 0.06 x4, 0.1 x5, 0.2 x4, ...;
   the last entry repeats), with round lengths ``round_steps_schedule`` (same rule; e.g. one long round of 2,500).
   ``lam_backoff`` < 1 multiplies lambda by that factor after each failed round and divides it back (up to the
   scheduled value) after each accepted round.
   With ``recover_steps`` = r > 0 the last r steps of every round train at lambda = ``lam_final`` (a recovery from
   the shrinkage the L1 term causes, so that the guard below measures damage done by pruning, not shrinkage).
   At the end of a round the data loss D (summed squared error, no L1) is measured against the guard
   G = min(loss_cap, max(loss_guard, guard_ratio * D_ref)), where D_ref is (``guard_ref``) "base": the data loss at
   the end of the base phase, or "last": the data loss of the last accepted round (the L1 ramp itself raises the
   data loss round by round through shrinkage, which a fixed reference mistakes for damage).  D is the smallest
   data loss over the last ``guard_window`` steps of the round (1 = the last step only): one Adam spike at the last
   step does not count as a failed round.
   - D <= G: the round is accepted (snapshot), then the ``prune_fraction`` smallest-|w| links are removed
     (at least one); the end of the base phase is always accepted;
   - D > G: the state returns to the last accepted snapshot and prune_fraction is halved (after an accepted round it
     grows back by the factor ``prune_growth``, at most to its configured value; 1 = it never grows); once it would prune less
     than one link, single links are tried in order of |w| (skipping those whose removal failed), and pruning
     stops after ``max_single_tries`` failed single-link attempts.
   With ``prune_cutoff`` = c > 0, an accepted round first removes every link with |w| < c (the original's rule: the
   links the L1 term has already driven to about zero, however many); the fraction rule applies when no link is
   below c, and after a failed round until a round is accepted again.
   Pruning stops as well when the link count reaches ``target_links``.
   Which links are removed (``prune_rule``):
   - "magnitude": the smallest |w|;
   - "ablation": every candidate link is set to 0 in turn and the episode's data loss measured (one forward pass
     each); the links whose removal raises the data loss least go first.  Candidates are all links when there are
     at most ``ablation_links`` of them, else the 2k smallest-|w| (k the number to prune).  This keeps a small
     link that carries a whole output path from being cut just because it is small.
   ``lam_target`` > 0 replaces the ramp and the schedule by a controller (dual ascent on "data loss <= lam_target"):
   after each round lambda is multiplied by ``lam_growth`` when the round's data loss met the target and divided by
   it otherwise, within [lam_base, lam_max].  With ``prune_rule = "cutoff"`` a round removes exactly the links with
   |w| < ``prune_cutoff`` (possibly none), with ``loss_guard``/``loss_cap`` large the rounds are always accepted;
   with a finite guard a failed round is undone (the last accepted snapshot, lambda divided by ``lam_growth``) and
   the round after the revert removes no link.
   ``max_rounds`` > 0 ends the rounds after that many.
2b. tail (``tail_guard`` > 0, after ``max_rounds``): one link at a time in ablation order, ``tail_round_steps`` steps
   of retraining at lambda ``tail_lam``, kept only if the data loss is <= ``tail_guard`` (else reverted and the next
   candidate tried); ``tail_tries`` failures in a row, or every remaining link tried, end it.  Known quirk (kept so
   the recorded runs stay reproducible): the tail's first round retrains the machine the rounds left without removing
   a link; if that machine already fails ``tail_guard``, the round counts as a failed removal and the first
   candidate is skipped.
3. final phase: ``final_steps`` steps at lambda = ``lam_final`` and learning rate ``lr_final`` (no pruning), the
   machine that is reported.

``extra_strings`` (a departure from the original, which trained on "test string." only): each step runs one episode
per string with the same gates; the data loss is the sum over the episodes.

Pruning removes the links' entries from the Adam moments too (minidsn.optim.delete_entries) or, with
``prune_optimizer = "reset"`` (the original's choice), starts a fresh Adam state.
Loss (notes): L = sum_t |y_t - T_t|^2 + lambda * sum |w|; one Adam step per episode.
"""

from __future__ import annotations

import numpy as np

import minidsn.numpy as mnp
import minidsn.optim as optim
from minidsn.engine import value_and_grad

from .compiled import EpisodePlan, episode_loss
from .handcrafted import handcrafted_traces
from .trainable import NETWORKS, init_gates, network_links

__all__ = ["DEFAULTS", "TRAINING_STATE", "new_state", "training_state", "step_settings", "adam_update", "remove_links",
           "es_gradient", "GRADIENTS",
           "train_step", "synthesis_step", "make_plan", "cfg_plan", "link_table", "generalisation"]

DEFAULTS = dict(
    string="test string.", n_cycles=140, n_layers=5, n_per_layer=2, init_scale=0.01, lr=1e-3, lr_rounds=1e-3,
    lr_final=1e-3, lam_base=0.001, base_steps=2500, round_steps=100, lam_growth=1.5, lam_max=0.2,
    prune_fraction=0.12, loss_guard=0.05, guard_ratio=3.0, guard_ref="base", loss_cap=1e9, guard_window=1, max_single_tries=5, target_links=19,
    final_steps=1000, lam_final=0.0, prune_optimizer="trim", prune_rule="magnitude", ablation_links=200,
    lam_schedule=(), round_steps_schedule=(), lam_backoff=1.0, prune_growth=1.0, recover_steps=0, prune_cutoff=0.0, lam_target=0.0, max_rounds=0,
    tail_guard=0.0, tail_round_steps=500, tail_lam=0.003, tail_tries=15, extra_strings=(),
    gradient="exact", es_population=50, es_sigma=1e-2, network="feedforward",
    n_starts=1, start_steps=20000, start_guard=0.05, lam_floor_growth=1.0,
)
GRADIENTS = ("exact", "es")
PRUNE_RULES = ("magnitude", "ablation", "cutoff")
GUARD_REFS = ("base", "last")

_PLANS: dict = {}


def make_plan(s, n_cycles, n_layers, n_per_layer, network="feedforward") -> EpisodePlan:
    """Full plan (all 1,486 links for the default sizes and network), cached per configuration; ``network`` names
    the start network (trainable.network_links).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/feedforward_with_accums.jl:20-130 (the
        trainable machine), anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:32-42.
    """
    key = (s, n_cycles, n_layers, n_per_layer, network)
    if key not in _PLANS:
        targets = handcrafted_traces(s, n_cycles)
        _PLANS[key] = EpisodePlan(s, *network_links(network, n_layers, n_per_layer), targets)
    return _PLANS[key]


def cfg_plan(cfg, s=None) -> EpisodePlan:
    """make_plan for the run config ``cfg`` (its string unless ``s`` is given).

    Source: none (looks up make_plan's arguments in a run config)
    """
    return make_plan(cfg["string"] if s is None else s, cfg["n_cycles"], cfg["n_layers"], cfg["n_per_layer"],
                     cfg.get("network", "feedforward"))


def new_state(cfg: dict, rng: np.random.Generator) -> dict:
    """Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/feedforward_with_accums.jl:120-130 (gates
        0.01 N(0,1)); anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/TreeADAM.jl:184-186 (Adam state per leaf, lr
        0.001, betas 0.9 / 0.999).
    """
    plan = cfg_plan(cfg)
    gates = init_gates(rng, len(plan.links), cfg["init_scale"])
    params = {"gates": gates}
    opt = optim.Adam(lr=cfg["lr"])
    extra = {}
    if cfg.get("network", "feedforward") != "feedforward":  # (the default state keeps its keys: runs unchanged)
        extra["network_id"] = np.array(NETWORKS.index(cfg["network"]), dtype=np.int64)
    if cfg.get("n_starts", 1) > 1:  # multi-start bookkeeping (see _next_start)
        extra.update(start=0, start_step=0, best={})
    return {**extra,
        "params": params, "opt": opt.init(params), "link_ids": np.arange(len(plan.links), dtype=np.int64),
        "phase": "base", "phase_step": 0, "round": 0, "lam": float(cfg["lam_base"]),
        "prune_fraction": float(cfg["prune_fraction"]), "pruning": True,
        "snapshot": {}, "base_data_loss": -1.0, "ref_data_loss": -1.0, "skip": 0, "window_min": -1.0,
        "lam_scale": 1.0, "cutoff_blocked": False,
        "net_size": np.array([cfg["n_layers"], cfg["n_per_layer"]], dtype=np.int64),  # for link tables from a state
    }


def _string_plan(s, cfg, ids) -> EpisodePlan:
    full = cfg_plan(cfg, s)
    if len(ids) == len(full.links):
        return full
    cache = _PLANS.setdefault(("subset", id(full)), {})
    key = ids.tobytes()
    if key not in cache:
        cache.clear()
        cache[key] = full.subset(ids)
    return cache[key]


class _Episodes:
    """The training episodes of a step: ``string`` and every ``extra_strings`` entry, same links and gates.

    loss(w) = sum over the episodes of the data loss (one episode: the note's loss; several: the multi-string
    variant, a departure from the original, which trained on "test string." only)."""

    def __init__(self, plans):
        self.plans = plans
        self.links = plans[0].links

    def loss(self, w) -> float:
        return float(sum(p.loss(w) for p in self.plans))

    def differentiable_loss(self, w):
        total = episode_loss(w, plan=self.plans[0])
        for p in self.plans[1:]:
            total = total + episode_loss(w, plan=p)
        return total


def _plan_for(cfg, state) -> _Episodes:
    ids = state["link_ids"]
    return _Episodes([_string_plan(s, cfg, ids) for s in (cfg["string"], *cfg.get("extra_strings", ()))])


_START_KEYS = ("start", "start_step", "best")  # the multi-start bookkeeping: never part of a snapshot or a candidate


def _copy_state(state):
    return {k: (_copy_tree(v) if k != "snapshot" else {}) for k, v in state.items() if k not in _START_KEYS}


def _copy_tree(x):
    if isinstance(x, dict):
        return {k: _copy_tree(v) for k, v in x.items()}
    if isinstance(x, np.ndarray):
        return x.copy()
    return x


def _phase_cfg(cfg: dict, phase: str) -> dict:
    """The settings in force in ``phase``: in the tail, single-link ablation pruning under an absolute guard."""
    if phase != "tail":
        return cfg
    return dict(cfg, prune_rule="ablation", loss_guard=cfg["tail_guard"], loss_cap=cfg["tail_guard"], guard_ref="base",
                guard_ratio=1.0, lam_target=0.0, lam_schedule=(cfg["tail_lam"],), round_steps=cfg["tail_round_steps"],
                round_steps_schedule=(), max_single_tries=cfg["tail_tries"], prune_cutoff=0.0, max_rounds=0,
                recover_steps=0, lam_backoff=1.0, prune_fraction=1e-9, prune_growth=1.0)


TRAINING_STATE = ("params", "opt", "link_ids")


def training_state(state: dict) -> dict:
    """The part of the run state one training step reads and writes: the gates, their Adam state, the ids of the
    links still present (positions in ``make_plan(...).links``). The schedule's state (phase, round, lambda, guard
    references, snapshot) is the controller around the step (what a trajectory case records).

    Source: none (the part of the run state a step reads and writes; no formula)
    """
    return {k: state[k] for k in TRAINING_STATE}


def step_settings(state: dict, cfg: dict) -> tuple[float, float]:
    """(lambda, learning rate) of the next step, as the schedule sets them.

    Source: none (the schedule's lambda and learning rate for the next step; a minidsn schedule, the original set both
        by hand)
    """
    cfg = _phase_cfg(cfg, state["phase"])
    lam = state["lam"]
    if state["phase"] == "rounds" and state["phase_step"] >= _round_steps(cfg, state["round"]) - cfg.get(
            "recover_steps", 0):
        lam = cfg["lam_final"]  # recovery at the end of a round: the guard judges damage, not L1 shrinkage
    return lam, _phase_lr(cfg, state["phase"])


def es_gradient(loss, w, rng: np.random.Generator, population: int, sigma: float) -> np.ndarray:
    """The OpenAI evolution-strategies estimate of grad loss(w), with antithetic pairs:

        g = 1 / (2 P sigma) * sum_{i=1..P} (loss(w + sigma eps_i) - loss(w - sigma eps_i)) eps_i,  eps_i ~ N(0, I)

    (2P evaluations of ``loss``, no backward pass; the eps_i are drawn in one call, a (P, n) array, from ``rng``).
    Unbiased for the gradient of the Gaussian-smoothed loss E[loss(w + sigma eps)], which tends to grad loss(w) as
    sigma -> 0; its variance falls as 1/P and grows with the dimension n.

    Source: seed 004 l. 23 ("switch to the stochastic approximation of gradient computations via OpenAI flavor of
        evolution strategies", citing Zhang, Clune and Stanley, arXiv 1712.06564); minidsn choice: plain antithetic
        sampling without fitness shaping (the estimator that paper relates to the gradient).
    """
    if not (isinstance(population, (int, np.integer)) and population >= 1):
        raise ValueError(f"es_population must be an int >= 1, got {population!r}")
    if not (sigma > 0 and np.isfinite(sigma)):
        raise ValueError(f"es_sigma must be finite and > 0, got {sigma!r}")
    w = np.asarray(w, dtype=np.float64)
    eps = rng.standard_normal((int(population), w.size))
    diffs = np.array([loss(w + sigma * e) - loss(w - sigma * e) for e in eps])
    return (diffs @ eps) / (2.0 * population * sigma)


def adam_update(plan, tstate: dict, lam: float, lr: float, es=None):
    """One Adam step (lr) on L(w) = data(w) + lam * sum |w| (module doc, "Loss"): (new training state, losses
    {"total", "data", "l1"} at the gates before the step, grads {"gates": dL/dw}).  ``es`` = (rng, population,
    sigma) replaces the exact data-loss gradient by the ES estimate (``es_gradient``; option gradient = "es").

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:32-69 (L = data + lambda sum |w|);
        anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/TreeADAM.jl:188-237 (leaf-wise Adam step).
    """
    opt = optim.Adam(lr=lr)
    w = tstate["params"]["gates"]
    if es is not None:  # (rng, population, sigma): the data-loss gradient estimated by ES, the L1 term exact
        rng, population, sigma = es
        g = es_gradient(plan.loss, w, rng, population, sigma) + lam * np.sign(w)
        grads = {"gates": g}
        data = plan.loss(w)  # last: leaves the plan's cached forward pass at the current parameters
        total = data + lam * float(np.sum(np.abs(w)))
    else:
        def loss(params):
            v = params["gates"]
            return plan.differentiable_loss(v) + lam * mnp.sum(mnp.abs(v))

        total, grads = value_and_grad(loss)(tstate["params"])
        data = plan.loss(w)
    params, opt_state = opt.update(grads, tstate["opt"], tstate["params"])
    losses = {"total": float(total), "data": float(data), "l1": float(lam * np.sum(np.abs(w)))}
    return dict(tstate, params=params, opt=opt_state), losses, grads


def remove_links(cfg: dict, tstate: dict, drop):
    """Remove the links at positions ``drop`` (sorted, into the current gate vector) from the gates, the Adam moments
    m and v (``prune_optimizer`` "trim"; "reset": a fresh Adam state, the original's choice) and link_ids.
    Returns (new training state, the event {"kind": "prune", "positions", "link_ids", "n_links", "optimizer"}).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/compare-free/sparsify/utilities.jl:92-102 (sparsecopy: drop
        links with |w| < cutoff); anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/compare-free/sparsify/utilities.jl:105-121 (the moments trimmed
        with the weights, the 'trim' option).
    """
    drop = np.asarray(drop, dtype=np.int64)
    if cfg["prune_optimizer"] == "trim":
        params, opt_state = optim.delete_entries(tstate["params"], tstate["opt"], ("gates",), 0, drop)
    else:
        params = {"gates": np.delete(tstate["params"]["gates"], drop)}
        opt_state = optim.Adam(lr=cfg["lr"]).init(params)
    link_ids = np.delete(tstate["link_ids"], drop)
    event = {"kind": "prune", "positions": drop, "link_ids": tstate["link_ids"][drop], "n_links": int(len(link_ids)),
             "optimizer": cfg["prune_optimizer"]}
    return dict(tstate, params=params, opt=opt_state, link_ids=link_ids), event


def train_step(cfg: dict, tstate: dict, inputs: dict, rng=None):
    """One training step as a pure function (the trajectory case's step): ``adam_update`` at inputs["lam"] and
    inputs["lr"], then ``remove_links`` at inputs["drop"] (the positions the schedule prunes after this update; empty:
    none). Draws nothing. Returns (training state, losses, grads, events).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/TreeADAM.jl:188-237 (Adam step),
        anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/compare-free/sparsify/utilities.jl:92-102 (pruning after it).
    """
    plan = _plan_for(cfg, tstate)
    tstate, losses, grads = adam_update(plan, tstate, float(inputs["lam"]), float(inputs["lr"]))
    events = []
    drop = np.asarray(inputs["drop"]).astype(np.int64)
    if drop.size:
        tstate, event = remove_links(cfg, tstate, drop)
        events.append(event)
    return tstate, losses, grads, events


def synthesis_step(state: dict, cfg: dict, rng=None) -> tuple[dict, dict]:
    """One Adam step (one episode) plus any scheduled structural event; returns (state, metrics).

    Source: seed 004 l. 15 (train, then prune weak gates); anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/TreeADAM.jl:188-237 (leaf-wise Adam step);
        anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/compare-free/sparsify/utilities.jl:92-102 (prune |w| < cutoff);
        minidsn choice: the automatic lambda / pruning schedule (the original tuned both by hand).
    """
    lam, lr = step_settings(state, cfg)
    cfg = _phase_cfg(cfg, state["phase"])
    plan = _plan_for(cfg, state)
    tstate, losses, _ = adam_update(plan, training_state(state), lam, lr, es=_es_settings(cfg, rng))
    total, data = losses["total"], losses["data"]
    params = tstate["params"]
    state = dict(state, **tstate, phase_step=state["phase_step"] + 1)
    if state["phase"] in ("base", "rounds", "tail"):
        end = cfg["base_steps"] if state["phase"] == "base" else _round_steps(cfg, state["round"])
        if state["phase_step"] > end - cfg["guard_window"]:
            # data loss of the parameters after this step (the forward pass is cached for the next step)
            d = plan.loss(params["gates"])
            state["window_min"] = d if state["window_min"] < 0 else min(state["window_min"], d)
    metrics = {"loss": float(total), "data_loss": float(data), "lam": float(lam),
               "n_links": float(len(state["link_ids"])), "event": 0.0}

    if state["phase"] == "base" and state["phase_step"] >= cfg["base_steps"]:
        state = dict(state, phase="rounds", phase_step=0, round=0)
        state = _end_of_round(state, cfg, metrics)
    elif state["phase"] in ("rounds", "tail") and state["phase_step"] >= _round_steps(cfg, state["round"]):
        state = dict(state, phase_step=0, round=state["round"] + 1)
        state = _end_of_round(state, cfg, metrics)
    if "start" in state:
        metrics["start"] = float(state["start"])
        if state["start"] < cfg["n_starts"]:
            state = _next_start(state, cfg, rng)
    return state, metrics


def _next_start(state, cfg, rng):
    """Multi-start (``n_starts`` > 1): after ``start_steps`` steps of a start its machine is scored
    (data loss D > ``start_guard``, soft links, D) — lexicographically, smallest best — and kept if it beats the best
    so far; then fresh gates are drawn for the next start (new_state, from the run's generator), or, after the last
    start, the best start's state (its gates, Adam state, links and schedule position) continues the schedule.
    Every seed runs the same starts; the first start is the single-start run's opening ``start_steps`` steps."""
    state = dict(state, start_step=state["start_step"] + 1)
    if state["start_step"] < cfg["start_steps"]:
        return state
    d = _plan_for(cfg, state).loss(state["params"]["gates"])
    score = np.array([float(d > cfg["start_guard"]), float(len(state["link_ids"])), float(d)])
    best = state["best"]
    if not best or tuple(score) < tuple(best["score"]):
        best = {"score": score, "start": np.array(state["start"], dtype=np.int64),
                "state": {k: _copy_tree(v) for k, v in state.items() if k not in _START_KEYS}}
    start = state["start"] + 1
    if start < cfg["n_starts"]:
        if rng is None:
            raise ValueError("n_starts > 1 draws fresh gates: synthesis_step needs the run's rng")
        return dict(new_state(cfg, rng), start=start, start_step=0, best=best)
    return dict(_copy_tree(best["state"]), start=start, start_step=0,
                best={"score": best["score"], "start": best["start"]})


def _es_settings(cfg, rng):
    """(rng, population, sigma) when the config asks for the ES gradient, else None."""
    if cfg.get("gradient", "exact") == "exact":
        return None
    if rng is None:
        raise ValueError("gradient = 'es' draws its perturbations: synthesis_step needs the run's rng")
    return rng, int(cfg["es_population"]), float(cfg["es_sigma"])


def _round_steps(cfg, k):
    """Length of prune round k: ``round_steps_schedule[k]`` (its last entry repeats), else ``round_steps``."""
    sched = cfg.get("round_steps_schedule", ())
    return int(sched[min(k, len(sched) - 1)]) if len(sched) else cfg["round_steps"]


def _round_lam(cfg, k, scale=1.0):
    """Lambda of the k-th lambda step (k = 1 is prune round 0, the one after the base phase): ``lam_schedule[k-1]``
    held as listed (its last entry repeats), else the ramp min(lam_max, lam_base * lam_growth**k); times the back-off scale (``lam_backoff``**failures, recovering by
    1/lam_backoff per accepted round, at most 1)."""
    sched = cfg.get("lam_schedule", ())
    lam = float(sched[min(k - 1, len(sched) - 1)]) if len(sched) else min(cfg["lam_max"], cfg["lam_base"] * cfg["lam_growth"] ** k)
    return lam * scale


def _phase_lr(cfg, phase):
    return cfg["lr"] if phase == "base" else cfg["lr_rounds"] if phase in ("rounds", "tail") else cfg["lr_final"]


def _end_of_round(state, cfg, metrics):
    plan = _plan_for(cfg, state)
    d = plan.loss(state["params"]["gates"])
    if state["window_min"] >= 0:  # -1 = no window value yet (the harness keeps state finite)
        d = min(d, state["window_min"])
    state = dict(state, window_min=-1.0)
    if state["base_data_loss"] < 0:
        state = dict(state, base_data_loss=float(d), ref_data_loss=float(d))
    if cfg["guard_ref"] not in GUARD_REFS:
        raise ValueError(f"guard_ref must be one of {GUARD_REFS}, got {cfg['guard_ref']!r}")
    ref = state["base_data_loss"] if cfg["guard_ref"] == "base" else state["ref_data_loss"]
    guard = min(cfg["loss_cap"], max(cfg["loss_guard"], cfg["guard_ratio"] * ref))
    if d > guard and state["snapshot"]:
        snap = state["snapshot"]
        frac = state["prune_fraction"] * 0.5
        skip = state["skip"]
        single = frac * len(snap["link_ids"]) < 1.0
        if single:
            skip += 1
        state = dict(_copy_tree(snap), **{k: state[k] for k in _START_KEYS if k in state}, snapshot=snap,
                     prune_fraction=frac, skip=skip, round=state["round"],
                     phase=state["phase"], phase_step=0, base_data_loss=state["base_data_loss"],
                     lam_scale=state.get("lam_scale", 1.0) * cfg.get("lam_backoff", 1.0),
                     cutoff_blocked=True)  # the same cutoff cut from the same snapshot would fail again
        metrics["event"] = -1.0  # reverted
        if skip >= cfg["max_single_tries"]:
            state["pruning"] = False
    else:
        if d <= guard:
            scale = min(1.0, state.get("lam_scale", 1.0) / cfg.get("lam_backoff", 1.0))
            # after a success the cut size may grow back (prune_growth > 1), never above the configured fraction
            frac = min(cfg["prune_fraction"], state["prune_fraction"] * cfg.get("prune_growth", 1.0))
            state = dict(state, ref_data_loss=float(d), lam_scale=scale, prune_fraction=frac, cutoff_blocked=False)
        state = dict(state, snapshot=_copy_state(state), skip=0 if d <= guard else state["skip"])
    n = len(state["link_ids"])
    out_of_rounds = cfg.get("max_rounds", 0) > 0 and state["round"] >= cfg["max_rounds"]
    if out_of_rounds and state["phase"] == "rounds" and cfg.get("tail_guard", 0.0) > 0 and n > cfg["target_links"]:
        # the tail: one retrained single-link ablation at a time, from the state now (accepted as the snapshot)
        state = dict(state, phase="tail", phase_step=0, round=0, pruning=True, skip=0, lam=float(cfg["tail_lam"]),
                     prune_fraction=1e-9, cutoff_blocked=False)
        return dict(state, snapshot=_copy_state(state))
    if not state["pruning"] or n <= cfg["target_links"] or out_of_rounds:
        return dict(state, phase="final", phase_step=0, lam=float(cfg["lam_final"]))
    w = state["params"]["gates"]
    below = np.flatnonzero(np.abs(w) < cfg.get("prune_cutoff", 0.0))
    if cfg["prune_rule"] == "cutoff":
        # only links already at about zero, possibly none; none right after a revert (the same cut from the same
        # snapshot: the retry retrains at the backed-off lambda first)
        drop = below[:n - cfg["target_links"]] if not state.get("cutoff_blocked", False) else below[:0]
    elif below.size and not state.get("cutoff_blocked", False):
        # links the L1 term has already driven to (about) zero go first, all at once (the original's rule)
        drop = below[:n - cfg["target_links"]]
    else:
        # prune the smallest links (in single-link mode: the (skip+1)-th smallest)
        k = max(1, int(np.floor(state["prune_fraction"] * n)))
        k = min(k, n - cfg["target_links"])
        if k == 1 and state["skip"] >= n:  # every remaining link has been tried and failed: pruning is over
            return dict(state, phase="final", phase_step=0, lam=float(cfg["lam_final"]), pruning=False)
        order = _prune_order(_plan_for(cfg, state), w, k, cfg)  # the plan of the state after a possible revert
        drop = np.sort(order[state["skip"]:state["skip"] + 1] if k == 1 else order[:k])
    tstate, _ = remove_links(cfg, training_state(state), drop)
    if cfg.get("lam_target", 0.0) > 0:
        # lambda as a controller (dual ascent on the constraint D <= lam_target): up while the data loss meets the
        # target, down when it does not
        up = d <= cfg["lam_target"]
        lam = state["lam"] * cfg["lam_growth"] if up else state["lam"] / cfg["lam_growth"]
        # the floor: lam_base, or with lam_floor_growth > 1 a pressure ramp lam_base * growth**round that the
        # controller cannot go below (every start is pushed to sparsify, whatever its data loss)
        floor = cfg["lam_base"] * cfg.get("lam_floor_growth", 1.0) ** state["round"]
        lam = min(cfg["lam_max"], max(floor, lam))
    else:
        lam = _round_lam(cfg, state["round"] + 1, state.get("lam_scale", 1.0))
    metrics["event"] = float(len(drop))
    return dict(state, **tstate, lam=float(lam))


def _prune_order(plan, w, k, cfg) -> np.ndarray:
    """Link positions in the order they should be removed (see the module docstring, ``prune_rule``)."""
    order = np.argsort(np.abs(w), kind="stable")
    if cfg["prune_rule"] in ("magnitude", "cutoff"):
        return order
    if cfg["prune_rule"] != "ablation":
        raise ValueError(f"prune_rule must be one of {PRUNE_RULES}, got {cfg['prune_rule']!r}")
    n = len(w)
    cand = order if n <= cfg["ablation_links"] else order[:min(n, 2 * k)]
    ablated = np.empty(len(cand))
    for j, i in enumerate(cand):
        v = w.copy()
        v[i] = 0.0
        ablated[j] = plan.loss(v)
    plan.loss(w)  # leave the cache at the current parameters
    first = cand[np.argsort(ablated, kind="stable")]
    return np.concatenate([first, order[~np.isin(order, first)]])


def link_table(cfg, state) -> list[tuple[str, str, str, str, float]]:
    """The current soft links with their gates, largest |w| first.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:45-52 (the soft links of
        network_matrix, timer and input rows excluded).
    """
    links = network_links(cfg.get("network", "feedforward"), cfg["n_layers"], cfg["n_per_layer"])[0]
    rows = [(*links[i], float(w)) for i, w in zip(state["link_ids"], state["params"]["gates"])]
    return sorted(rows, key=lambda r: -abs(r[4]))


GENERALISATION = (("test string.", 140), ("test string.", 150), ("teest string.", 140), ("tets string.", 140),
                  ("tets. str.ingtb str.ingtb", 140), ("tets. str.ingtb str.ingtb", 180),
                  ("tets. str.ingtb str.ingtb", 250))


def generalisation(cfg, state, cases=GENERALISATION) -> dict[str, float]:
    """Summed squared error of the current machine against the hand-crafted net on other strings / windows.

    Source: seed 004 l. 29 (generalisation from a tiny training set); minidsn figure: summed squared error against the
        hand-crafted net on other strings.
    """
    full_links, hard = network_links(cfg.get("network", "feedforward"), cfg["n_layers"], cfg["n_per_layer"])
    links = [full_links[i] for i in state["link_ids"]]
    out = {}
    for s, n in cases:
        plan = EpisodePlan(s, links, hard, handcrafted_traces(s, n))
        out[f"{s!r}@{n}"] = plan.loss(state["params"]["gates"])
    return out

"""One DiffRNN training cycle (read a window of T characters, update, change structure) and the initial state.

Source: seed 001 Sec. 2.1-2.2, Sec. 4.2; ThomasMiconi/DiffRNN@8b2491f rnn.py:148-259 (the training loop of G2),
min-char-rnn-param.py:34-36,78,131-132 (fixed size); ThomasMiconi/DiffRNN@5b95733 rnn.py:146-284 (G3).
Line-level citations are in each function's docstring.

Cycle n (G2 and rnnAltern):
  1. data pointer: if p + T + 1 >= len(data) or n == 0: carried state <- 0, p <- 0
  2. inputs = data[p : p+T], targets = data[p+1 : p+T+1]
  3. CE and gradient of CE + A T sum|m| (minidsn.models.diffrnn.loss), carried state <- s_last
  4. smooth <- 0.999 smooth + 0.001 CE   (starts at T ln V)
  5. every gradient clipped elementwise to [-5, 5]; Adagrad: M += d^2, theta -= 0.1 d / sqrt(M + 1e-8)
  6. floor m <- max(m, M_min) (always, structure = false included); structural update
     (minidsn.models.diffrnn.structure): threshold, deletion, addition
  7. p += T; n += 1; when n reaches a switch point: next task, p <- 0 (the carried state is NOT reset)
Fixed-size min-char-rnn: steps 1-5 without multipliers, no structural update.
G3: no multipliers, no gradient clipping; RMSProp M += 0.01 (d^2 - M), step -0.01 d / sqrt(M + 1e-8) clipped to
+-0.01 (memories of Wxh and bh start at 0.01, the others at 0, as the HEAD code); then Wiy -= 1e-4 sign(Wiy),
Whh -= 1e-4 sign(Whh); the structural update uses the outgoing-weight norm instead of m and no floor.

Backends (all compute the same numbers; tests check it):
  "engine": value_and_grad of the minidsn.numpy reference (slow: one engine node per operation);
  "kernel": value_and_grad through the rnn_window primitive (one node; compiled forward + BPTT);
  "fused":  the same compiled kernel called directly with cotangent (1, 0) plus the L1 gradient A T sign(m) added
            by hand -- what the engine does with the primitive, without the tracing overhead (for 300k-cycle runs).
"""

from __future__ import annotations

import math

import numpy as np

import minidsn.optim as optim
from minidsn.models.api import ConfigError
from minidsn.data import charseq
from minidsn.models.diffrnn.window_kernel import window_fwd_bwd
from minidsn.models.diffrnn.adagrad_kernel import clip_adagrad

from . import lineage as lineage_mod
from . import structure as structure
from .loss import g1_multiplier_gradient, loss_and_grads

__all__ = ["VARIANTS", "TASKS", "BACKENDS", "task_schedule", "task_data", "init_state", "read_window", "train_window",
           "TRAINING_STATE", "training_state", "advance", "cycle", "make_optimizer"]

VARIANTS = ("g2", "g1", "altern", "g3", "fixed")
MULTIPLIER_VARIANTS = ("g1", "g2", "altern")  # the variants with per-neuron multipliers m
TASKS = ("easy", "hard", "easy-hard-easy", "hard-easy")
BACKENDS = ("fused", "kernel", "engine")
DEFAULT_SWITCHES = {"easy": (), "hard": (), "easy-hard-easy": (100_000, 200_000), "hard-easy": (150_000,)}
G3_MEMORY_INIT = {"Wxh": 0.01, "bh": 0.01, "Whh": 0.0, "Wiy": 0.0, "by": 0.0}
G3_NEW_MEMORY = 0.01  # a new neuron's RMSProp memories, every parameter (HEAD code)

_DATA_CACHE: dict = {}


def task_schedule(cfg):
    """(list of task names per phase, switch cycles).

    Source: seed 001 Sec. 4.2 (easy-hard-easy, hard-easy); ThomasMiconi/DiffRNN@8b2491f rnn.py:251-259 (switches at
        NBSTEPS/3, NBSTEPS/2, 2 NBSTEPS/3 set p = 0, h is not reset).
    """
    task = cfg["task"]
    phases = task.split("-")
    default = DEFAULT_SWITCHES[task]
    if task == "hard-easy" and cfg.get("variant") == "g1":
        default = (100_000,)  # G1 switched at cycle 100,000 (ThomasMiconi/DiffRNN@8803ff8 rnn.py:253), G2 at NBSTEPS/2
    switches = tuple(default if cfg.get("switch_at") is None else cfg["switch_at"])
    if len(switches) != len(phases) - 1:
        raise ConfigError(f"config key 'switch_at': task {task!r} has {len(phases)} phase(s) and needs "
                          f"{len(phases) - 1} switch cycle(s), got {list(switches)}")
    if list(switches) != sorted(set(switches)) or any(s <= 0 for s in switches):
        raise ConfigError(f"config key 'switch_at': must be increasing positive cycle numbers, got {list(switches)}")
    return phases, switches


def task_data(name, cfg):
    """The text of task ``name`` (int64 indices into "()ab"), generated once per (task, data_seed, ...) and cached.

    All runs share one text per task, as the original's 20 seeds shared the committed data files; the text depends
    on ``data_seed`` only, not on the run's rng.

    Source: seed 001 Sec. 3.1; ThomasMiconi/DiffRNN@8b2491f gentext.py:3-18 (hard: reverse, flip one of six letters),
        gentext.py:19-24 (easy: '(ab', more 'ab' while random() < 0.6, ')'); minidsn choice: generated from data_seed
        (the original's files were generated unseeded and committed).
    """
    key = (name, cfg["data_seed"], cfg["p_continue"], cfg["group_letters"])
    if key not in _DATA_CACHE:
        rng = np.random.default_rng([cfg["data_seed"], 0 if name == "easy" else 1])
        data = charseq.task_text(name, rng, p_continue=cfg["p_continue"], group_letters=cfg["group_letters"])
        data.setflags(write=False)
        _DATA_CACHE[key] = data
    return _DATA_CACHE[key]


def make_optimizer(cfg):
    """Source: seed 001 Sec. 2.2; ThomasMiconi/DiffRNN@8b2491f rnn.py:175-179 (Adagrad, lr 0.1, memories start at 0);
        ThomasMiconi/DiffRNN@5b95733 rnn.py:141-142,174-181 (G3: RMSProp M += 0.01 (d^2 - M), step clipped to
        +-MAXDW).
    """
    if cfg["variant"] == "g3":
        return optim.RMSProp(lr=cfg["g3_lr"], rho=cfg["g3_rho"], eps=1e-8, max_step=cfg["g3_max_step"])
    return optim.Adagrad(lr=cfg["lr"], eps=1e-8)


def init_state(cfg, rng):
    """Parameters (Wxh, Whh, Wiy ~ 0.01 N(0,1) drawn in that order; bh, by = 0; m = 1), optimiser memories, carried
    state 0, data pointer 0, cycle 0, smoothed loss T ln V.

    Source: seed 001 Sec. 2.1 (start from one node); ThomasMiconi/DiffRNN@8b2491f rnn.py:62-74 (H = 1; Wxh, Whh, Wiy ~
        0.01 N(0,1); bh, by = 0; m = 1), rnn.py:143-145 (Adagrad memories 0; smooth = T ln V);
        ThomasMiconi/DiffRNN@5b95733 rnn.py:141-142 (G3 memories of Wxh, bh start at 0.01).
    """
    V = len(charseq.VOCAB)
    H = cfg["hidden_size"]
    if H is None:
        H = 100 if cfg["variant"] == "fixed" else 1
    s = cfg["init_scale"]
    params = {
        "Wxh": s * rng.standard_normal((H, V)),
        "Whh": s * rng.standard_normal((H, H)),
        "Wiy": s * rng.standard_normal((V, H)),
        "bh": np.zeros(H),
        "by": np.zeros(V),
    }
    if cfg["variant"] in MULTIPLIER_VARIANTS:
        params["m"] = np.ones(H)
    opt_state = make_optimizer(cfg).init(params)
    if cfg["variant"] == "g3":
        opt_state["mean_sq"] = {k: np.full_like(v, G3_MEMORY_INIT[k]) for k, v in params.items()}
    state = {
        "params": params,
        "opt": opt_state,
        "carried": np.zeros(H),
        "p": 0,
        "n": 0,
        "phase": 0,
        "smooth": cfg["seq_length"] * math.log(V),
        "n_added": 0,
        "n_deleted": 0,
    }
    if lineage_mod.lineage_wanted(cfg):  # extensions only: the paper's runs keep exactly the state above
        state["lineage"] = lineage_mod.init_lineage(H)
    return state


def _grads_fused(params, carried, inputs, targets, l1, gate):
    m = params.get("m")
    m_in = np.ones(carried.shape[0]) if m is None else m
    # no per-cycle argument check here: shapes hold by construction and a NaN anywhere reaches the loss, which
    # cycle() checks; the engine paths check through the primitive.
    ce, s_last, g = window_fwd_bwd(params["Wxh"], params["Whh"], m_in, params["Wiy"], params["bh"], params["by"],
                                   carried, inputs, targets, gate, 1.0, None, True)
    grads = {"Wxh": g[0], "Whh": g[1], "Wiy": g[3], "bh": g[4], "by": g[5]}
    if m is not None:
        # d/dm of l1 * T * sum|m| = l1 * T * sign(m), added to dCE/dm (the original adds l1 sign(m) at each step)
        grads["m"] = g[2] + (l1 * inputs.shape[0]) * np.sign(m)
    return ce, s_last, grads


def _clip_adagrad_fused(params, grads, opt_state, cfg):
    """clip_elementwise + Adagrad.update on the minidsn.optim.Adagrad state, compiled per leaf (bit-identical)."""
    new_p, new_M = {}, {}
    M = opt_state["sum_sq"]
    for k in params:
        new_p[k], new_M[k] = clip_adagrad(params[k], grads[k], M[k], cfg["lr"], 1e-8, cfg["clip"])
    return new_p, {"step": opt_state["step"] + 1, "sum_sq": new_M}


def read_window(state, cfg):
    """The data of the next cycle (steps 1-2 and the switch of step 7, module doc), as the oracle's step inputs:
    {"inputs", "targets": (T,) int64 character codes, "reset": 1 when the carried state and the data pointer are
    set to 0 before the window, "task_switch": 1 when the task switches after it}.

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:150-154 (data pointer), rnn.py:249-259 (pointer, task switches).
    """
    T = cfg["seq_length"]
    phases, switches = task_schedule(cfg)
    data = task_data(phases[state["phase"]], cfg)
    p, n = state["p"], state["n"]
    reset = p + T + 1 >= data.shape[0] or n == 0
    if reset:
        p = 0
    return {"inputs": data[p:p + T], "targets": data[p + 1:p + T + 1], "reset": int(reset),
            "task_switch": int(n + 1 in switches)}


def train_window(cfg, tstate, window, rng):
    """Steps 1-7 of one cycle on the training state ``tstate`` = {"params", "opt", "carried", "p"} and the data
    ``window`` (``read_window``): the step a trajectory case records.

    Returns (new tstate, losses, grads, events): losses {"ce", "total"} (+ "l1_term" with multipliers; total = CE +
    A T sum|m|, the objective the gradient is of); grads the unclipped gradient of total; events the structural
    changes in order: {"kind": "delete", "indices": sorted indices in the size before the deletion, "size": new H}
    and {"kind": "add", "index": H (appended), the values written ("Whh_row", "Whh_col", "Wxh_row", "Wiy_col",
    "bh", "m", "carried", "memory" = every optimiser memory's new entries), "size": H + 1}.

    Source: seed 001 Sec. 2.1-2.2; ThomasMiconi/DiffRNN@8b2491f rnn.py:163-164 (loss), rnn.py:175-179 (Adagrad),
        rnn.py:188 (floor M_min), rnn.py:192-222 (deletion), rnn.py:224-245 (addition); ThomasMiconi/DiffRNN@5b95733
        rnn.py:178-181 (RMSProp), rnn.py:184-185 (weight L1 step), rnn.py:189 (G3 score); minidsn choice: the floor
        also applies with structure = false.
    """
    variant = cfg["variant"]
    T = cfg["seq_length"]
    params, opt_state, carried, p = tstate["params"], tstate["opt"], tstate["carried"], tstate["p"]
    lin = tstate.get("lineage")  # extensions (lineage.py): ages and the pool of deleted neurons
    if lin is not None:
        lin = dict(lin, age=lin["age"] + 1)
    # C-ordered arrays, as a case file gives them back: a structural edit can leave a matrix Fortran-ordered, and
    # NumPy's matrix products (the engine paths) sum in another order for another layout; the fused path's explicit
    # loops do not depend on the layout, so this changes no number there
    params = {k: np.ascontiguousarray(v) for k, v in params.items()}
    carried = np.ascontiguousarray(carried)
    if window["reset"]:
        carried = np.zeros_like(carried)
        p = 0
    inputs, targets = window["inputs"], window["targets"]

    gate = variant == "altern"
    l1 = cfg["l1"] if variant in MULTIPLIER_VARIANTS else 0.0
    if cfg["backend"] == "fused":
        ce, carried, grads = _grads_fused(params, carried, inputs, targets, l1, gate)
    else:
        ce, carried, grads = loss_and_grads(params, carried, inputs, targets, l1=l1, path=cfg["backend"], gate=gate)
    if variant == "g1":
        grads = dict(grads, m=g1_multiplier_gradient(params, grads, l1, T))
    if not math.isfinite(ce):
        raise FloatingPointError(f"diffrnn: loss is {ce} at data position {p}")
    losses = {"ce": ce, "total": ce}
    if "m" in params:
        losses["l1_term"] = l1 * T * float(np.sum(np.abs(params["m"])))
        losses["total"] = ce + losses["l1_term"]

    if cfg["backend"] == "fused" and variant != "g3":
        params, opt_state = _clip_adagrad_fused(params, grads, opt_state, cfg)
    else:
        opt = make_optimizer(cfg)
        clipped = grads
        if variant != "g3" and cfg["clip"] > 0:
            clipped = optim.clip_elementwise(grads, cfg["clip"])
        params, opt_state = opt.update(clipped, opt_state, params)

    events = []
    if variant == "g3":
        params = dict(params)
        params["Wiy"] = params["Wiy"] - cfg["g3_weight_penalty"] * np.sign(params["Wiy"])
        params["Whh"] = params["Whh"] - cfg["g3_weight_penalty"] * np.sign(params["Whh"])
    if variant in MULTIPLIER_VARIANTS:
        # 1. floor, also with structure = false: the L1 term A T sum|m| is only the intended penalty while m > 0
        params = dict(params)
        params["m"] = np.maximum(params["m"], cfg["m_min"])
    if variant != "fixed" and cfg["structure"]:
        score = structure.g3_outgoing_norm(params) if variant == "g3" else params["m"]
        idx = structure.choose_deletions(score, cfg["t_d"], cfg["k"], cfg["p_del"], rng,  # 2-3.
                                         age=None if lin is None else lin["age"], age_bias=cfg["age_bias"])
        if idx.size:
            if lin is not None:
                lin = lineage_mod.pool_deletions(lin, params, idx, t_d=cfg["t_d"], gate=gate,
                                                 capacity=cfg["inherit_pool"])
            params, opt_state, carried = structure.delete_neurons(params, opt_state, carried, idx)
            score = np.delete(score, idx)
            events.append({"kind": "delete", "indices": idx, "size": int(carried.shape[0])})
        if structure.addition_wanted(score, cfg["t_d"], cfg["k"], cfg["p_add"], rng,  # 4.
                                     max_hidden=cfg["max_hidden"], p_spontaneous=cfg["p_spontaneous"]):
            H, V = carried.shape[0], params["Wxh"].shape[1]
            slots = None
            if variant == "g3":
                blocks = structure.new_neuron_g3(H, V, rng, cfg["t_d"])
                memory = G3_NEW_MEMORY
                slots = structure.g3_memory_values(opt_state, blocks, memory)
            else:
                blocks = structure.new_neuron_g2(H, V, rng, cfg["t_d"])
                memory = 0.0
            inherited = lin is not None and len(lin["pool"]) > 0
            if inherited:  # extension: the newest deleted neuron's connectivity over the fresh draws
                entry, lin = lin["pool"][-1], dict(lin, pool=lin["pool"][:-1])
                blocks = lineage_mod.inherit_blocks(blocks, entry, recurrent=cfg["inherit_recurrent"])
            params, opt_state, carried = structure.insert_neuron(params, opt_state, carried, blocks, slots)
            if lin is not None:
                lin = lineage_mod.pool_addition(lin, inherited)
            event = {"kind": "add", "index": H}
            for (name, axis), values in blocks.items():
                key = name if name in ("bh", "m") else f"{name}_{'row' if axis == 0 else 'col'}"
                event[key] = float(values.reshape(-1)[0]) if key in ("bh", "m") else values.reshape(-1).copy()
            event.update(carried=0.0, memory=memory, size=H + 1)
            if lin is not None:
                event["inherited"] = int(inherited)
            events.append(event)

    p = p + T
    if window["task_switch"]:
        p = 0
    out = {"params": params, "opt": opt_state, "carried": carried, "p": p}
    if lin is not None:
        out["lineage"] = lin
    return out, losses, grads, events


TRAINING_STATE = ("params", "opt", "carried", "p")


def cycle(state, cfg, rng):
    """One cycle (module doc). Returns (new state, metrics). ``state`` is not modified.

    Source: seed 001 Sec. 2.1-2.2; ThomasMiconi/DiffRNN@8b2491f rnn.py:150-259 (one pass of the training loop: the
        pieces are cited in read_window, train_window, advance).
    """
    window = read_window(state, cfg)
    tstate, losses, _, events = train_window(cfg, training_state(state), window, rng)
    return advance(state, cfg, window, tstate, losses, events)


def training_state(state):
    """The part of the run state one cycle's training reads and writes (what a trajectory case records).

    Source: none (bookkeeping for the oracle's trajectory cases; no formula)
    """
    out = {k: state[k] for k in TRAINING_STATE}
    if "lineage" in state:  # extensions only (lineage.py)
        out["lineage"] = state["lineage"]
    return out


def advance(state, cfg, window, tstate, losses, events):
    """The run state and metrics after a cycle whose training part (``train_window``) returned ``tstate``, ``losses``
    and ``events``: cycle count, task phase, smoothed loss (step 4), addition / deletion counts.

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:163-164 (smoothed loss), rnn.py:249-259 (cycle count, task switches).
    """
    ce = losses["ce"]
    smooth = cfg["smooth_decay"] * state["smooth"] + (1.0 - cfg["smooth_decay"]) * ce
    params = tstate["params"]
    added = any(e["kind"] == "add" for e in events)
    n_del = sum(len(e["indices"]) for e in events if e["kind"] == "delete")
    phase = state["phase"] + window["task_switch"]
    new_state = {
        **tstate,
        "n": state["n"] + 1,
        "phase": phase,
        "smooth": smooth,
        "n_added": state["n_added"] + int(added),
        "n_deleted": state["n_deleted"] + n_del,
    }
    H = tstate["carried"].shape[0]
    metrics = {
        "loss": float(ce),
        "smooth_loss": float(smooth),
        "hidden_size": float(H),
        "added": float(added),
        "deleted": float(n_del),
        "phase": float(phase),
    }
    if "m" in params:
        metrics["sum_m"] = float(params["m"].sum())
        metrics["n_above_threshold"] = float((params["m"] > cfg["t_d"]).sum())
    if "lineage" in tstate:  # extensions only: how many additions inherited, the mean age of the neurons
        metrics["inherited"] = float(any(e.get("inherited", 0) for e in events))
        metrics["mean_age"] = float(tstate["lineage"]["age"].mean())
    return new_state, metrics

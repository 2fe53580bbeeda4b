"""The trainable DMM-Lite network and its loss (notes/dmm.md "Trainable network"; julia-flux-drafts
feedforward_with_accums.jl facts).

Structure
- layer 0: input.char, eos.char, const_1.const_1; then layers 1..5 with 2 instances each of accum, norm, dot,
  compare, named ``<type>-<layer>-<k>``.
- hard links (weight 1, never trained): timer <- timer, input.timer <- timer, and accum-L-k.dict-1 <- accum-L-k.dict.
- soft links ("gates"): every soft input field of layer L (accum.dict-2, norm.dict, dot.dict-1/2, compare.dict-1/2:
  12 per layer) reads from every output of layers 0..L-1; output.dict-1/2 read from every output of layers 0..5.
  3*12 + 13*12 + 23*12 + 33*12 + 43*12 + 53*2 = 1,486 gates, initialised 0.01 N(0, 1).

Loss per episode (reset, run hand-crafted and trainable side by side for n cycles):
    L = sum_t [(y1_t - T1_t)^2 + (y2_t - T2_t)^2] + lambda * sum_soft |w|
"""

from __future__ import annotations

import numpy as np

import minidsn.numpy as mnp
from minidsn.vvalue import VValue

from .handcrafted import handcrafted_traces, read_outputs
from .lite import DMMLite
from .neurons import LIBRARY, make_input

__all__ = ["N_LAYERS", "N_PER_LAYER", "INTER_TYPES", "N_GATES", "soft_links", "hard_links", "trainable_machine",
           "init_gates", "gates_to_matrix", "matrix_to_gates", "vvalue_episode_outputs", "vvalue_loss",
           "neuron_type_of"]

N_LAYERS = 5
N_PER_LAYER = 2
INTER_TYPES = ("accum", "norm", "compare", "dot")
N_GATES = 1486

_IN_TEMPLATE = (("accum", "dict-2"), ("norm", "dict"), ("dot", "dict-1"), ("dot", "dict-2"),
                ("compare", "dict-1"), ("compare", "dict-2"))
_OUT_TEMPLATE = (("accum", "dict"), ("norm", "norm"), ("dot", "dot"), ("compare", "true"), ("compare", "false"))
LAYER0_OUTPUTS = (("input", "char"), ("eos", "char"), ("const_1", "const_1"))
FINAL_INPUTS = (("output", "dict-1"), ("output", "dict-2"))


def _name(t, layer, k):
    return f"{t}-{layer}-{k}"


def neuron_type_of(name: str) -> str:
    """Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/feedforward_with_accums.jl:27-37 (instance
        names <type>-<layer>-<k>).
    """
    return name.split("-")[0] if "-" in name and name.split("-")[0] in INTER_TYPES else name


def _layer_inputs(layer, n_per_layer):
    return [(_name(t, layer, k), f) for k in range(1, n_per_layer + 1) for t, f in _IN_TEMPLATE]


def _layer_outputs(layer, n_per_layer):
    return [(_name(t, layer, k), f) for k in range(1, n_per_layer + 1) for t, f in _OUT_TEMPLATE]


def soft_links(n_layers: int = N_LAYERS, n_per_layer: int = N_PER_LAYER) -> list[tuple[str, str, str, str]]:
    """All gated links (to_neuron, to_field, from_neuron, from_field) in the original's loop order.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/feedforward_with_accums.jl:71-130 (every
        input field of a layer from every output of every earlier layer, skip connections; 1,486 links).
    """
    outs = [list(LAYER0_OUTPUTS)] + [_layer_outputs(l, n_per_layer) for l in range(1, n_layers + 1)]
    ins = [_layer_inputs(l, n_per_layer) for l in range(1, n_layers + 1)] + [list(FINAL_INPUTS)]
    links = []
    for li, fields in enumerate(ins):  # input layer li+1 reads outputs of layers 0..li
        for to_n, to_f in fields:
            for lo in range(li + 1):
                for from_n, from_f in outs[lo]:
                    links.append((to_n, to_f, from_n, from_f))
    return links


def hard_links(n_layers: int = N_LAYERS, n_per_layer: int = N_PER_LAYER) -> list[tuple[str, str, str, str, float]]:
    """Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/feedforward_with_accums.jl:43-53 (timer links
        and the accumulators' self links, weight 1, not trained).
    """
    links = [("timer", "timer", "timer", "timer", 1.0), ("input", "timer", "timer", "timer", 1.0)]
    for l in range(1, n_layers + 1):
        for k in range(1, n_per_layer + 1):
            a = _name("accum", l, k)
            links.append((a, "dict-1", a, "dict", 1.0))
    return links


def trainable_machine(s: str = "test string.", n_layers: int = N_LAYERS, n_per_layer: int = N_PER_LAYER,
                      period: int = 10) -> DMMLite:
    """Source: seed 004 l. 15, 27 (start from a fully connected feedforward machine with skip connections);
        anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/feedforward_with_accums.jl:20-53.
    """
    neurons = {n: LIBRARY[n] for n in ("timer", "const_1", "eos", "output")}
    neurons["input"] = make_input(s, period)
    for l in range(1, n_layers + 1):
        for k in range(1, n_per_layer + 1):
            for t in INTER_TYPES:
                neurons[_name(t, l, k)] = LIBRARY[t]
    return DMMLite(neurons)


def init_gates(rng: np.random.Generator, n: int, scale: float = 0.01) -> np.ndarray:
    """w ~ scale * N(0, 1), float64.

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/feedforward_with_accums.jl:120-130 (0.01
        N(0,1) per link; Random.seed!(123) there, an explicit rng here).
    """
    return scale * rng.standard_normal(n)


def gates_to_matrix(links, gates) -> VValue:
    """The rank-4 V-value of soft links with gate values (traced gates are kept as leaves).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:265-276 (the soft links as a
        rank-4 network_matrix).
    """
    if len(links) != len(gates):
        raise ValueError(f"{len(links)} links but {len(gates)} gates")
    d: dict = {}
    for (to_n, to_f, from_n, from_f), w in zip(links, gates):
        d.setdefault(to_n, {}).setdefault(to_f, {}).setdefault(from_n, {})[from_f] = w
    return VValue._raw({k: _raw_tree(v) for k, v in d.items()})


def _raw_tree(d):
    return VValue._raw({k: _raw_tree(v) for k, v in d.items()}) if isinstance(d, dict) else d


def matrix_to_gates(matrix: VValue, links) -> np.ndarray:
    """Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/dmm-lite.jl:265-276 (the inverse reading of
        the network_matrix).
    """
    return np.array([float(matrix.get(tuple(l)) or 0.0) for l in links])


def _hard_matrix(hard) -> dict:
    d: dict = {}
    for to_n, to_f, from_n, from_f, w in hard:
        d.setdefault(to_n, {}).setdefault(to_f, {}).setdefault(from_n, {})[from_f] = w
    return d


def vvalue_episode_outputs(machine: DMMLite, soft: VValue, hard, n_cycles: int):
    """Run the trainable machine with matrix = soft + hard; returns per-cycle (y1, y2) lists (maybe traced).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:34-41 (run trainable and handcrafted
        side by side, 140 cycles).
    """
    matrix = soft + VValue(_hard_matrix(hard))
    reads = machine.run(matrix, n_cycles)
    out = []
    for r in reads:
        row = []
        for f in ("dict-1", "dict-2"):
            sub = r.get(f)
            row.append(0.0 if sub is None else sub.number_at())
        out.append(row)
    return out


def vvalue_loss(soft: VValue, machine: DMMLite, hard, targets: np.ndarray, lam: float):
    """Reference loss on V-values: sum_t sum_j (y_j,t - T_j,t)^2 + lam * sum |soft leaves|.

    Source: seed 004 l. 15 (gated connections, sparsifying training); anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/loss.jl:32-69 (L = sum_t [(y1 - T1)^2 + (y2 -
        T2)^2] + 0.001 sum |w|, timer and input rows excluded).
    """
    ys = vvalue_episode_outputs(machine, soft, hard, len(targets))
    data = 0.0
    for (y1, y2), (t1, t2) in zip(ys, targets):
        data = data + (y1 - t1) ** 2 + (y2 - t2) ** 2
    l1 = 0.0
    for x in soft.leaves():
        l1 = l1 + mnp.abs(x)
    return data + lam * l1

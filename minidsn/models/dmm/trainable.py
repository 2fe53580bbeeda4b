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

__all__ = ["N_LAYERS", "N_PER_LAYER", "INTER_TYPES", "N_GATES", "NETWORKS", "soft_links", "hard_links",
           "network_links", "recurrent_links", "trainable_machine", "init_gates", "gates_to_matrix", "matrix_to_gates",
           "vvalue_episode_outputs", "vvalue_loss", "neuron_type_of"]

N_LAYERS = 5
N_PER_LAYER = 2
INTER_TYPES = ("accum", "norm", "compare", "dot")
N_GATES = 1486
COMPARE_FREE_TYPES = ("accum", "norm", "dot")
NETWORKS = ("feedforward", "compare-free", "recurrent")

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


def _layer_inputs(layer, n_per_layer, types=INTER_TYPES):
    return [(_name(t, layer, k), f) for k in range(1, n_per_layer + 1) for t, f in _IN_TEMPLATE if t in types]


def _layer_outputs(layer, n_per_layer, types=INTER_TYPES):
    return [(_name(t, layer, k), f) for k in range(1, n_per_layer + 1) for t, f in _OUT_TEMPLATE if t in types]


def soft_links(n_layers: int = N_LAYERS, n_per_layer: int = N_PER_LAYER,
               types: tuple = INTER_TYPES) -> list[tuple[str, str, str, str]]:
    """All gated links (to_neuron, to_field, from_neuron, from_field) in the original's loop order.

    ``types`` = the interneuron types of every layer: all four (the note's trainable network; 1,486 links at 5 layers
    of 2), or ("accum", "norm", "dot") for the note's compare-free variant (942 links at 6 layers of 2:
    8 * (3 + 9 + 15 + 21 + 27 + 33) + 2 * 39).

    Source: anhinga/julia-flux-drafts@6527aa0
        arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/feedforward_with_accums.jl:71-130 (every
        input field of a layer from every output of every earlier layer, skip connections; 1,486 links); notes/dmm.md
        "Variant without compare neurons (6 layers, 942 links)" for the compare-free count.
    """
    outs = [list(LAYER0_OUTPUTS)] + [_layer_outputs(l, n_per_layer, types) for l in range(1, n_layers + 1)]
    ins = [_layer_inputs(l, n_per_layer, types) for l in range(1, n_layers + 1)] + [list(FINAL_INPUTS)]
    links = []
    for li, fields in enumerate(ins):  # input layer li+1 reads outputs of layers 0..li
        for to_n, to_f in fields:
            for lo in range(li + 1):
                for from_n, from_f in outs[lo]:
                    links.append((to_n, to_f, from_n, from_f))
    return links


def recurrent_links(n_layers: int = N_LAYERS, n_per_layer: int = N_PER_LAYER) -> list[tuple[str, str, str, str]]:
    """The prior-free fully connected recurrent start: every input field of every interneuron (the accumulators'
    dict-1 included) and both output fields read from every output of every neuron, its own and later layers' too.
    The layer numbers only name the instances; nothing is hand-wired but the timer (5 x 2 x 4 interneurons: 72 input
    fields x 53 outputs = 3,816 links; each link is a one-cycle delay, so feedback loops are allowed).

    Source: seed 004 l. 25 ("the most ambitious prior-free manner starting with a fully-connected recurrent machine
        with long backpropagation through time"); the original abandoned it for the feed-forward start, so there is
        no original code for it: the link order is minidsn's (to fields in soft_links' order, accum.dict-1 first; from
        outputs layer by layer).
    """
    outs = list(LAYER0_OUTPUTS) + [o for l in range(1, n_layers + 1) for o in _layer_outputs(l, n_per_layer)]
    ins = []
    for l in range(1, n_layers + 1):
        for k in range(1, n_per_layer + 1):
            ins.append((_name("accum", l, k), "dict-1"))  # the memory link is learned too (no prior)
            ins += [(_name(t, l, k), f) for t, f in _IN_TEMPLATE]
    ins += list(FINAL_INPUTS)
    return [(to_n, to_f, from_n, from_f) for to_n, to_f in ins for from_n, from_f in outs]


def network_links(network: str = "feedforward", n_layers: int = N_LAYERS, n_per_layer: int = N_PER_LAYER):
    """(soft links, hard links) of a named start network (option ``network``):

    - "feedforward": the note's trainable network (soft_links, hard_links; the default);
    - "compare-free": the note's variant without compare neurons (layers of accum, norm, dot; 942 soft links at
      n_layers = 6), the same hard links;
    - "recurrent": the seed's prior-free fully connected recurrent start (recurrent_links), hard links = the timer's
      two only.

    Source: notes/dmm.md "Trainable network" and "Variant without compare neurons"; seed 004 l. 25-27.
    """
    if network == "feedforward":
        return soft_links(n_layers, n_per_layer), hard_links(n_layers, n_per_layer)
    if network == "compare-free":
        return soft_links(n_layers, n_per_layer, COMPARE_FREE_TYPES), hard_links(n_layers, n_per_layer)
    if network == "recurrent":
        return recurrent_links(n_layers, n_per_layer), hard_links(n_layers, n_per_layer)[:2]
    raise ValueError(f"network must be one of {NETWORKS}, got {network!r}")


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

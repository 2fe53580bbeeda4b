"""Structural operations on a trained isotropic MLP, each a pure function returning a new network and the
transformed optimiser state (note isotropic.md, sections "Diagonalisation", "Neurogenesis", "Neurodegeneration",
"Automatic neuro-adaptation"; author's code Dependencies/IsotropicFunctions.py, IsotropicTanhMLP methods).

Notation as in net.py: hidden layers k = 0..H-1, W_k of shape (n_k, n_{k-1}), SVD W_k = R L Q^T with full
matrices and singular values descending (numpy.linalg.svd), each singular pair's sign fixed by ``svd_layer``.
Every function returns ``(net, opt_state, info)``; the inputs are never modified.  ``opt_state`` may be None.
``events``, when a list is passed, receives the structural events in the order they happen (the oracle's trajectory
cases, docs/oracle.md "isotropic"): {"kind": "diagonalise", "layer", "R", "singular_values"},
{"kind": "neurogenesis", "layer", "count", "new_column", "width"}, {"kind": "neurodegeneration", "layer", "sigma",
"b_star", "W_star", "width"}, {"kind": "prune", "layer", "index", "width"}.
"""

from __future__ import annotations

import numpy as np

from minidsn.models.draws import draw_label

from .net import forward_with_scales, hidden_count, psi_location
from .state import SECOND_MOMENT_SLOTS, Editor

__all__ = [
    "svd_layer",
    "neuron_singular_values",
    "left_partial_diagonalise",
    "right_partial_diagonalise",
    "full_diagonalise",
    "neurogenesis",
    "neurodegeneration",
    "prune_elementwise",
    "alternating_diagonalisation",
    "count_parameters",
    "resize_hidden",
    "auto_neuroadapt",
    "grow_inputs",
    "shrink_inputs",
    "grow_outputs",
    "shrink_outputs",
]


def _check_layer(net, k, lo, hi, what):
    if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
        raise TypeError(f"{what}: layer must be an int, got {type(k).__name__}")
    if not lo <= k <= hi:
        raise ValueError(f"{what}: layer must be in [{lo}, {hi}] for a network with {hidden_count(net)} hidden "
                         f"layers, got {k}")


def _require_isotropic(cfg, what):
    if cfg["activation"] != "isotropic":
        raise ValueError(f"{what} needs isotropic activations: a change of basis does not commute with an "
                         f"elementwise tanh")


def svd_layer(W: np.ndarray):
    """W = R L Q^T with full R (m x m), Q^T (n x n), L (m x n) diagonal, singular values descending.

    Sign convention (so that another implementation of the SVD gives the same R and Q, which the oracle's trajectory
    cases need): each column i of R is multiplied by the sign of its entry of largest magnitude (the first such entry
    on a tie; +1 if the column is 0), and row i of Q^T by the same sign for i < min(m, n), so R L Q^T is unchanged.
    The remaining columns of R (m > n) or rows of Q^T (n > m) span a null space whose basis no convention fixes.

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.singular_value_decompose (R, S, QT = svd(W,
        full_matrices=True); L = diag(S) padded).
    """
    if not np.all(np.isfinite(W)):
        raise ValueError("svd_layer: weight matrix contains NaN or inf")
    R, S, QT = np.linalg.svd(W, full_matrices=True)
    signs = np.sign(R[np.argmax(np.abs(R), axis=0), np.arange(R.shape[1])])
    signs[signs == 0] = 1.0
    R = R * signs
    QT[:S.size] *= signs[:S.size, None]
    L = np.zeros_like(W)
    L[np.arange(S.size), np.arange(S.size)] = S
    return R, L, QT


def neuron_singular_values(W: np.ndarray) -> np.ndarray:
    """One value per output neuron of W (m values): the singular values, descending, padded with zeros when the
    layer has more neurons than inputs (those neurons are exact scaffold neurons after left diagonalisation).

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.get_singular_values.
    """
    S = np.linalg.svd(W, compute_uv=False)
    return np.concatenate([S, np.zeros(W.shape[0] - S.size)])


def _psi_key(cfg):
    loc = psi_location(cfg)
    return None if loc is None else loc[1]


def _left_diag_edits(ed: Editor, cfg, k, events=None):
    """Left-partial diagonalisation of layer k inside an Editor; returns (R, L, QT).

    W_k <- L Q^T (= R^T W_k); b_k <- R^T b_k; psi_{k-1} <- R^T psi_{k-1}; W_{k+1} <- W_{k+1} R
    (note "Diagonalisation", left-partial).  Legal because h_k becomes R^T h_k and f(R^T h) = R^T f(h).
    """
    R, L, QT = svd_layer(ed.get("W", k))
    ed.left("W", k, R.T, value=L @ QT)
    ed.left("b", k, R.T)
    psi = _psi_key(cfg)
    if psi is not None and k >= 1:
        ed.left(psi, k - 1, R.T)
    ed.right("W", k + 1, R)
    if events is not None:
        events.append({"kind": "diagonalise", "layer": k, "R": R, "singular_values": np.diag(L).copy()})
    return R, L, QT


def left_partial_diagonalise(net, cfg, k, opt_state=None, second_moment_slots=SECOND_MOMENT_SLOTS):
    """Left-partial diagonalisation of hidden layer k (0 <= k <= H-1); info holds R, L, QT.

    Source: seed 003 Fig. 2; GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.left_partial_diagonalise (W_k <- L Q^T, b_k <- R^T b_k,
        psi_{k-1} <- R^T psi_{k-1}, W_{k+1} <- W_{k+1} R; Adam moments m <- R^T m, v <- (R^T)^2 v).
    """
    _require_isotropic(cfg, "left_partial_diagonalise")
    _check_layer(net, k, 0, hidden_count(net) - 1, "left_partial_diagonalise")
    ed = Editor(net, opt_state, second_moment_slots)
    R, L, QT = _left_diag_edits(ed, cfg, k)
    return (*ed.result(), {"R": R, "L": L, "QT": QT})


def right_partial_diagonalise(net, cfg, k, opt_state=None, second_moment_slots=SECOND_MOMENT_SLOTS):
    """Right-partial diagonalisation of W_k, 1 <= k <= H (the output matrix W_H included): with W_k = R L Q^T,

    W_k <- R L (= W_k Q); W_{k-1} <- Q^T W_{k-1}; b_{k-1} <- Q^T b_{k-1}; psi_{k-2} <- Q^T psi_{k-2} (k >= 2).
    Legal because h_{k-1} becomes Q^T h_{k-1}, the isotropic layer k-1 gives Q^T a_{k-1} with the same s_{k-1}, and
    W_k Q Q^T a_{k-1} = W_k a_{k-1}; psi_{k-1} (added to h_k) and everything from layer k on are unchanged.
    This is the prior-layer half of the full diagonalisation (note "Diagonalisation", full: W_{k-1} <- Q^T W_{k-1},
    b_{k-1} <- Q^T b_{k-1}, psi_{k-2} <- Q^T psi_{k-2}; author's IsotropicTanhMLP.full_diagonalise) without its
    left rotation; the seed's text names left-partial and full diagonalisation, this completes the set. Moments:
    m <- m Q, v <- v (Q*Q) for W_k; Q^T, (Q^T)^2 on the left for the layer-(k-1) entries.  info: R, L, QT.

    Source: seed 003 Fig. 1 (diagonalisation); GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.full_diagonalise (the prior-layer rotation by Q^T
        and its moment transforms); minidsn choice: the right half alone, as an operation of its own.
    """
    _require_isotropic(cfg, "right_partial_diagonalise")
    _check_layer(net, k, 1, hidden_count(net), "right_partial_diagonalise")
    ed = Editor(net, opt_state, second_moment_slots)
    R, L, QT = svd_layer(ed.get("W", k))
    ed.right("W", k, QT.T, value=R @ L)
    ed.left("W", k - 1, QT)
    ed.left("b", k - 1, QT)
    psi = _psi_key(cfg)
    if psi is not None and k >= 2:
        ed.left(psi, k - 2, QT)
    return (*ed.result(), {"R": R, "L": L, "QT": QT})


def full_diagonalise(net, cfg, k, opt_state=None, second_moment_slots=SECOND_MOMENT_SLOTS):
    """Full diagonalisation of W_k, 1 <= k <= H-1 (isotropic activations on both sides; note "Diagonalisation"):

    W_k <- L; b_k, psi_{k-1} <- R^T (.); W_{k-1} <- Q^T W_{k-1}; b_{k-1} <- Q^T b_{k-1};
    psi_{k-2} <- Q^T psi_{k-2}; W_{k+1} <- W_{k+1} R.
    Neuron i of layer k then connects one-to-one to neuron i of layer k-1 with strength sigma_i.

    Source: seed 003 Fig. 1; GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.full_diagonalise (W_k <- L; W_{k-1} <- Q^T W_{k-1},
        b_{k-1}, psi_{k-2} likewise; W_{k+1} <- W_{k+1} R; moments likewise).
    """
    _require_isotropic(cfg, "full_diagonalise")
    _check_layer(net, k, 1, hidden_count(net) - 1, "full_diagonalise")
    ed = Editor(net, opt_state, second_moment_slots)
    R, L, QT = svd_layer(ed.get("W", k))
    psi = _psi_key(cfg)
    ed.both("W", k, R.T, QT.T, value=L)
    ed.left("b", k, R.T)
    if psi is not None:
        ed.left(psi, k - 1, R.T)
    ed.left("W", k - 1, QT)
    ed.left("b", k - 1, QT)
    if psi is not None and k >= 2:
        ed.left(psi, k - 2, QT)
    ed.right("W", k + 1, R)
    return (*ed.result(), {"R": R, "L": L, "QT": QT})


def neurogenesis(net, cfg, k, n=1, rng=None, opt_state=None, *, diagonalise=True, out_scale=0.01,
                 second_moment_slots=SECOND_MOMENT_SLOTS, events=None):
    """Add n scaffold neurons to hidden layer k (R^a -> R^m becomes R^a -> R^{m+n}); exactly function-preserving.

    Note "Neurogenesis": W_k <- [L; 0] Q^T; b_k <- [R^T b_k; 0]; psi_{k-1} <- [R^T psi_{k-1}; 0];
    W_{k+1} <- [W_{k+1} R, c], c = out_scale * N(0, 1) (a nonzero outgoing column, else every gradient into the new
    neuron is zero); new optimiser moments 0.  With ``diagonalise=False`` the rotation is skipped (zero incoming row
    and zero bias, also exact; the only form legal for the elementwise-tanh control, since tanh(0) = 0).

    Source: seed 003 abstract (analytically invariant neurogenesis); GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurogenerate (W_k <- [L; 0] Q^T, b_k <- [R^T b_k; 0],
        psi <- [R^T psi; 0], W_{k+1} <- [W_{k+1} R, 0.01 N(0,1)]; new moments 0).
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"neurogenesis: n must be an int >= 1, got {n!r}")
    _check_layer(net, k, 0, hidden_count(net) - 1, "neurogenesis")
    if rng is None:
        raise ValueError("neurogenesis needs an explicit numpy Generator rng (the new outgoing column is random)")
    if diagonalise:
        _require_isotropic(cfg, "neurogenesis with diagonalise=True")
    ed = Editor(net, opt_state, second_moment_slots)
    info = {}
    if diagonalise:
        R, L, QT = _left_diag_edits(ed, cfg, k, events)
        info = {"R": R, "L": L, "QT": QT}
    a = ed.get("W", k).shape[1]
    ed.append("W", k, 0, np.zeros((n, a)))
    ed.append("b", k, 0, np.zeros(n))
    psi = _psi_key(cfg)
    if psi is not None and k >= 1:
        ed.append(psi, k - 1, 0, np.zeros(n))
    m_out = ed.get("W", k + 1).shape[0]
    with draw_label(rng, f"new_column_{k}"):
        c = out_scale * rng.standard_normal((m_out, n))
    ed.append("W", k + 1, 1, c)
    info["new_column"] = c
    if events is not None:
        events.append({"kind": "neurogenesis", "layer": k, "count": n, "new_column": c,
                       "width": int(ed.get("W", k).shape[0])})
    return (*ed.result(), info)


def _add_to_o(ed: Editor, cfg, k, delta):
    """o_k <- o_k + delta, in whichever form o is stored (buffer, trained o, or trained log o)."""
    if "log_o" in ed.net["params"]:
        ed.set("log_o", k, np.log(np.exp(ed.get("log_o", k)) + delta))
    elif "o" in ed.net["params"] or "o" in ed.net["buffers"]:
        ed.set("o", k, ed.get("o", k) + delta)


def neurodegeneration(net, cfg, k, n=1, opt_state=None, *, x_ref=None, second_moment_slots=SECOND_MOMENT_SLOTS,
                      events=None):
    """Remove the n weakest directions of hidden layer k, with compensation (note "Neurodegeneration"):

    repeat n times: left-diagonalise layer k (last row = smallest singular value sigma_min);
    b* = (R^T b_k)_last, W* = (W_{k+1} R)[:, last]; delete that row, bias entry, psi_{k-1} entry and column;
    o_k <- o_k + b*^2 (o_mode constant / trainable; the removed pre-activation, if it was the constant b*, kept
    adding b*^2 to the norm); psi_k <- psi_k + W* b* (psi modes zeros / trainable / trainable_decay: the next layer
    still receives W* b* s_k); psi_mode expectation: b_{k+1} += mean(s_k) W* b*, the mean over ``x_ref`` (the
    author's code uses the last training batch) computed once before the removals.
    Exact when sigma_min = 0 and the removed direction's psi_{k-1} component is 0; otherwise the error is
    O(sigma_min |a_{k-1}|).  Moments of o / psi / b_{k+1} are left as they are (as in the author's code).
    info: "sigma" (removed singular values), "b_star", "W_star".

    Source: seed 003 abstract (neurodegeneration well approximated); GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurodegenerate (b* = (R^T b)_last, W* = (W_{k+1} R)[:,
        last]; o += b*^2; psi_k += W* b*; expectation: b_{k+1} += mean(s_k) W* b*).
    """
    _require_isotropic(cfg, "neurodegeneration")
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"neurodegeneration: n must be an int >= 1, got {n!r}")
    _check_layer(net, k, 0, hidden_count(net) - 1, "neurodegeneration")
    width = net["params"]["W"][k].shape[0]
    if n >= width:
        raise ValueError(f"neurodegeneration: cannot remove {n} of the {width} neurons of layer {k}")
    s_mean = None
    if cfg["psi_mode"] == "expectation":
        if x_ref is None:
            raise ValueError("neurodegeneration with psi_mode='expectation' needs x_ref (a batch to average s_k over)")
        _, scales = forward_with_scales(net["params"], net["buffers"], np.asarray(x_ref, dtype=np.float64), cfg,
                                        xp=np)
        s_mean = float(np.mean(scales[k]))
    psi = _psi_key(cfg)
    ed = Editor(net, opt_state, second_moment_slots)
    info = {"sigma": [], "b_star": [], "W_star": []}
    for _ in range(n):
        R, L, QT = _left_diag_edits(ed, cfg, k, events)
        last = ed.get("W", k).shape[0] - 1
        sigma = float(L[last, last]) if last < min(L.shape) else 0.0
        b_star = float(ed.get("b", k)[last])
        W_star = ed.get("W", k + 1)[:, last].copy()
        ed.delete("W", k, 0, last)
        ed.delete("b", k, 0, last)
        if psi is not None and k >= 1:
            ed.delete(psi, k - 1, 0, last)
        ed.delete("W", k + 1, 1, last)
        if cfg["o_mode"] in ("constant", "trainable"):
            _add_to_o(ed, cfg, k, b_star ** 2)
        if psi is not None:
            ed.set(psi, k, ed.get(psi, k) + W_star * b_star)
        elif s_mean is not None:
            ed.set("b", k + 1, ed.get("b", k + 1) + s_mean * W_star * b_star)
        info["sigma"].append(sigma)
        info["b_star"].append(b_star)
        info["W_star"].append(W_star)
        if events is not None:
            events.append({"kind": "neurodegeneration", "layer": k, "sigma": sigma, "b_star": b_star,
                           "W_star": W_star, "width": int(ed.get("W", k).shape[0])})
    return (*ed.result(), info)


def prune_elementwise(net, cfg, k, n=1, opt_state=None, second_moment_slots=SECOND_MOMENT_SLOTS, events=None):
    """Shrink layer k of the elementwise-tanh control (no basis freedom, so no exact form exists): remove, one at a
    time, the neuron with the smallest |incoming row| * |outgoing column| (our choice of magnitude pruning; the
    seed does not say how its anisotropic control changed width).

    Source: seed 003 Fig. 4, Fig. 5 (the anisotropic control changes width too); minidsn choice: magnitude pruning
        (the seed does not say how).
    """
    _check_layer(net, k, 0, hidden_count(net) - 1, "prune_elementwise")
    width = net["params"]["W"][k].shape[0]
    if not isinstance(n, (int, np.integer)) or not 1 <= n < width:
        raise ValueError(f"prune_elementwise: n must be in [1, {width - 1}], got {n!r}")
    ed = Editor(net, opt_state, second_moment_slots)
    removed = []
    for _ in range(n):
        score = np.linalg.norm(ed.get("W", k), axis=1) * np.linalg.norm(ed.get("W", k + 1), axis=0)
        j = int(np.argmin(score))
        ed.delete("W", k, 0, j)
        ed.delete("b", k, 0, j)
        ed.delete("W", k + 1, 1, j)
        removed.append(j)
        if events is not None:
            events.append({"kind": "prune", "layer": k, "index": j, "width": int(ed.get("W", k).shape[0])})
    return (*ed.result(), {"removed": removed})


def alternating_diagonalisation(net, cfg, opt_state=None, second_moment_slots=SECOND_MOMENT_SLOTS):
    """Fully diagonalise every odd hidden layer k = 1, 3, 5, ... <= H-1 (note "Diagonalisation": 50% sparsity;
    author's Exp 5 valid_odd_full_diagonal_layers).  Layers two apart do not interfere: full diagonalisation of k
    changes W_{k-1} on the left and W_{k+1} on the right only.  info: "layers".

    Source: seed 003 abstract (asymptotic 50% sparsity); GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.full_diagonalise on every odd hidden layer (cf. the
        author's 'Experiment 5 - Sparsification' notebook).
    """
    layers = list(range(1, hidden_count(net), 2))
    for k in layers:
        net, opt_state, _ = full_diagonalise(net, cfg, k, opt_state, second_moment_slots)
    return net, opt_state, {"layers": layers}


def count_parameters(net, threshold=1e-4):
    """(count of trained parameters and psi buffers with |p| > threshold, total slots).  The author's Exp 5
    count_nonzero_parameters: sum over model.parameters() of (|p| > 1e-4).

    Source: seed 003 abstract (sparsity factor); minidsn count of |p| > 1e-4 (the threshold of the author's
        'Experiment 5 - Sparsification' notebook).
    """
    nonzero = total = 0
    trees = [net["params"]] + ([{"psi": net["buffers"]["psi"]}] if "psi" in net["buffers"] else [])
    for tree in trees:
        for leaves in tree.values():
            for v in leaves:
                nonzero += int(np.sum(np.abs(v) > threshold))
                total += int(np.size(v))
    return nonzero, total


def resize_hidden(net, cfg, k, target, rng, opt_state=None, *, x_ref=None, second_moment_slots=SECOND_MOMENT_SLOTS,
                  events=None):
    """Bring hidden layer k to ``target`` neurons: neurogenesis if it is narrower, neurodegeneration (isotropic) or
    magnitude pruning (elementwise control) if it is wider.  info: "added", "removed".

    Source: seed 003 Fig. 3, Fig. 4 (neurogenesis to grow, neurodegeneration to shrink);
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurogenerate,
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurodegenerate.
    """
    width = net["params"]["W"][k].shape[0]
    if not isinstance(target, (int, np.integer)) or target < 1:
        raise ValueError(f"resize_hidden: target width must be an int >= 1, got {target!r}")
    if target > width:
        iso = cfg["activation"] == "isotropic"
        net, opt_state, _ = neurogenesis(net, cfg, k, target - width, rng, opt_state, diagonalise=iso,
                                         second_moment_slots=second_moment_slots, events=events)
        return net, opt_state, {"added": target - width, "removed": 0}
    if target < width:
        if cfg["activation"] == "isotropic":
            net, opt_state, _ = neurodegeneration(net, cfg, k, width - target, opt_state, x_ref=x_ref,
                                                  second_moment_slots=second_moment_slots, events=events)
        else:
            net, opt_state, _ = prune_elementwise(net, cfg, k, width - target, opt_state, second_moment_slots,
                                                  events=events)
        return net, opt_state, {"added": 0, "removed": width - target}
    return net, opt_state, {"added": 0, "removed": 0}


def auto_neuroadapt(net, cfg, tau, K, rng, opt_state=None, *, x_ref=None, second_moment_slots=SECOND_MOMENT_SLOTS,
                    events=None):
    """Automatic neuro-adaptation (note "Automatic neuro-adaptation"; author's auto_neuroadapation), from the
    deepest hidden layer down: count the neurons with singular value <= tau (scaffold neurons; neurons beyond the
    layer's input width count as value 0); add K - count neurons if fewer than K, else remove count - K, smallest
    first.  info: "changes" = [(layer, +added or -removed), ...].  The experiments used tau = 0.95, K = 5.

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.auto_neuroadapation (count singular values <= threshold;
        add or remove to keep the scaffold count).
    """
    _require_isotropic(cfg, "auto_neuroadapt")
    if not tau > 0:
        raise ValueError(f"auto_neuroadapt: tau must be > 0, got {tau!r}")
    if not isinstance(K, (int, np.integer)) or K < 1:
        raise ValueError(f"auto_neuroadapt: K must be an int >= 1, got {K!r}")
    changes = []
    for k in range(hidden_count(net) - 1, -1, -1):
        sig = neuron_singular_values(net["params"]["W"][k])
        count = int(np.sum(sig <= tau))
        diff = K - count
        if diff > 0:
            net, opt_state, _ = neurogenesis(net, cfg, k, diff, rng, opt_state,
                                             second_moment_slots=second_moment_slots, events=events)
        elif diff < 0:
            diff = -min(-diff, sig.size - 1)  # never empty a layer
            if diff < 0:
                net, opt_state, _ = neurodegeneration(net, cfg, k, -diff, opt_state, x_ref=x_ref,
                                                      second_moment_slots=second_moment_slots, events=events)
        changes.append((k, diff))
    return net, opt_state, {"changes": changes}


# ---------------------------------------------------------------- input and output coordinates
def _check_count(n, what):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{what}: n must be an int >= 1, got {n!r}")


def grow_inputs(net, cfg, n, opt_state=None, second_moment_slots=SECOND_MOMENT_SLOTS):
    """Append n input coordinates: W_0 <- [W_0, 0] (zero columns; new moments 0).  The function of the old inputs
    is unchanged whatever the new inputs hold (author's IsotropicTanhMLP.add_first_layer_neurons, zero-initialised
    columns).  Legal for either activation.

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.add_first_layer_neurons (zero columns appended to
        the first weight matrix and its moments).
    """
    _check_count(n, "grow_inputs")
    ed = Editor(net, opt_state, second_moment_slots)
    ed.append("W", 0, 1, np.zeros((ed.get("W", 0).shape[0], n)))
    return (*ed.result(), {"d_in": ed.get("W", 0).shape[1]})


def shrink_inputs(net, cfg, n, opt_state=None, second_moment_slots=SECOND_MOMENT_SLOTS):
    """Remove the last n input coordinates: delete the last n columns of W_0 and of its moments (author's
    remove_first_layer_neurons).  Exact iff those columns are zero (as after grow_inputs with no training since);
    otherwise the removed inputs' contribution W_0[:, -n:] x[-n:] is lost.  info: "removed_norm" = the Frobenius
    norm of the removed columns (0 means exactly function-preserving).

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.remove_first_layer_neurons (the last columns
        deleted, with their moments).
    """
    _check_count(n, "shrink_inputs")
    d_in = net["params"]["W"][0].shape[1]
    if n >= d_in:
        raise ValueError(f"shrink_inputs: cannot remove {n} of the {d_in} input coordinates")
    ed = Editor(net, opt_state, second_moment_slots)
    removed = float(np.linalg.norm(ed.get("W", 0)[:, d_in - n:]))
    ed.delete("W", 0, 1, np.arange(d_in - n, d_in))
    return (*ed.result(), {"d_in": d_in - n, "removed_norm": removed})


def grow_outputs(net, cfg, n, opt_state=None, second_moment_slots=SECOND_MOMENT_SLOTS):
    """Append n output coordinates: W_H <- [W_H; 0], b_H <- [b_H; 0], psi_{H-1} <- [psi_{H-1}; 0] (author's
    add_last_layer_neurons, zero initialised).  The old outputs are unchanged and the new ones are 0 until trained.
    A classifier gains n classes this way (their logits start at 0).

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.add_last_layer_neurons (zero rows, bias and psi
        entries appended, with zero moments).
    """
    _check_count(n, "grow_outputs")
    H = hidden_count(net)
    ed = Editor(net, opt_state, second_moment_slots)
    ed.append("W", H, 0, np.zeros((n, ed.get("W", H).shape[1])))
    ed.append("b", H, 0, np.zeros(n))
    psi = _psi_key(cfg)
    if psi is not None and H >= 1:
        ed.append(psi, H - 1, 0, np.zeros(n))
    return (*ed.result(), {"d_out": ed.get("W", H).shape[0]})


def shrink_outputs(net, cfg, n, opt_state=None, second_moment_slots=SECOND_MOMENT_SLOTS):
    """Remove the last n output coordinates: the last n rows of W_H, entries of b_H and psi_{H-1}, with their
    moments (author's remove_last_layer_neurons).  The remaining outputs are unchanged exactly.

    Source: GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.remove_last_layer_neurons (the last rows / entries
        deleted, with their moments).
    """
    _check_count(n, "shrink_outputs")
    H = hidden_count(net)
    d_out = net["params"]["W"][H].shape[0]
    if n >= d_out:
        raise ValueError(f"shrink_outputs: cannot remove {n} of the {d_out} outputs")
    idx = np.arange(d_out - n, d_out)
    ed = Editor(net, opt_state, second_moment_slots)
    ed.delete("W", H, 0, idx)
    ed.delete("b", H, 0, idx)
    psi = _psi_key(cfg)
    if psi is not None and H >= 1:
        ed.delete(psi, H - 1, 0, idx)
    return (*ed.result(), {"d_out": d_out - n})

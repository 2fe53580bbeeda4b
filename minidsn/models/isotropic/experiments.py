"""Evaluation figures of the isotropic reference runs (note isotropic.md, "Experiments"):

* invariance_table — v2 Exp 1: after training, fully diagonalise one hidden layer, then add or remove n neurons;
  accuracy, mean |logit change| and change in the sum of that layer's singular values for each n.
* sparsify_figures — v2 Exp 5: alternating full diagonalisation of the odd hidden layers; parameter count with
  |p| > threshold before / after, accuracy, output change (the author's scaled epsilon,
  100/N sum_i |z_post - z_pre| / |z_pre|, and the largest relative change) and the count the 50% argument predicts.
"""

from __future__ import annotations

import numpy as np

from .net import accuracy, forward, hidden_count, sizes_of
from .ops import (
    alternating_diagonalisation,
    count_parameters,
    full_diagonalise,
    left_partial_diagonalise,
    neurodegeneration,
    neurogenesis,
)

__all__ = ["invariance_table", "sparsify_figures", "logits"]


def logits(net, cfg, x, batch=2000):
    """Source: none (batched evaluation of net.forward; no formula)"""
    return np.concatenate([forward(net["params"], net["buffers"], x[i:i + batch], cfg, xp=np)
                           for i in range(0, len(x), batch)])


def _sum_sv(W):
    return float(np.sum(np.linalg.svd(W, compute_uv=False)))


def invariance_table(net, cfg, x, y, layer, counts, rng, x_ref_size=480):
    """Figures keyed "inv/<what>" (see module doc).  ``layer`` is fully diagonalised when 1 <= layer <= H-1,
    else left-partially.  Removal uses x[:x_ref_size] as the expectation-mode reference batch.

    Source: seed 003 abstract (neurogenesis invariant, neurodegeneration approximate);
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.full_diagonalise,
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurogenerate,
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.neurodegenerate (the operations tabulated; cf. the
        author's 'Experiment 1 - Neuroadaptive Invariance' notebook).
    """
    H = hidden_count(net)
    if not 0 <= layer <= H - 1:
        raise ValueError(f"invariance_layer must be a hidden layer in [0, {H - 1}], got {layer}")
    z0 = logits(net, cfg, x)
    if 1 <= layer <= H - 1:
        diag, _, _ = full_diagonalise(net, cfg, layer)
    else:
        diag, _, _ = left_partial_diagonalise(net, cfg, layer)
    zd = logits(diag, cfg, x)
    sv0 = _sum_sv(diag["params"]["W"][layer])
    out = {"inv/acc_trained": accuracy(net["params"], net["buffers"], x, y, cfg),
           "inv/diag_mean_abs_logit_change": float(np.mean(np.abs(zd - z0))),
           "inv/diag_max_abs_logit_change": float(np.max(np.abs(zd - z0))),
           "inv/sum_sv": sv0}
    width = sizes_of(diag)[layer + 1]
    for n in counts:
        n = int(n)
        ops = [("add", lambda: neurogenesis(diag, cfg, layer, n, rng)[0])]
        if n < width:
            ops.append(("remove", lambda: neurodegeneration(diag, cfg, layer, n, x_ref=x[:x_ref_size])[0]))
        for what, op in ops:
            new = op()
            z = logits(new, cfg, x)
            out[f"inv/{what}_{n}/acc"] = float(np.mean(np.argmax(z, axis=1) == y))
            out[f"inv/{what}_{n}/mean_abs_logit_change"] = float(np.mean(np.abs(z - zd)))
            out[f"inv/{what}_{n}/d_sum_sv"] = _sum_sv(new["params"]["W"][layer]) - sv0
    return out


def sparsify_figures(net, cfg, x, y, threshold=1e-4):
    """Figures keyed "sparse/<what>" (see module doc).

    Source: seed 003 abstract (50% sparsity by alternating diagonalisation);
        GeorgeBird1/Isotropic-Adaptive-MLPs@8f8ebd0
        Dependencies/IsotropicFunctions.py::IsotropicTanhMLP.full_diagonalise (cf. the author's 'Experiment 5 -
        Sparsification' notebook: odd layers, |p| > 1e-4).
    """
    z0 = logits(net, cfg, x)
    nz0, total = count_parameters(net, threshold)
    new, _, info = alternating_diagonalisation(net, cfg)
    z1 = logits(new, cfg, x)
    nz1, _ = count_parameters(new, threshold)
    sizes = sizes_of(net)
    # the 50% argument: each fully diagonalised W_k (n_k x n_{k-1}) keeps min(n_k, n_{k-1}) entries
    removed = sum(sizes[k + 1] * sizes[k] - min(sizes[k + 1], sizes[k]) for k in info["layers"])
    hidden_w = sum(sizes[k + 1] * sizes[k] for k in range(1, hidden_count(net)))
    hidden_w_after = hidden_w - removed
    norm0 = np.linalg.norm(z0, axis=1)
    return {
        "sparse/acc_before": float(np.mean(np.argmax(z0, axis=1) == y)),
        "sparse/acc_after": float(np.mean(np.argmax(z1, axis=1) == y)),
        "sparse/params_total": float(total),
        "sparse/params_nonzero_before": float(nz0),
        "sparse/params_nonzero_after": float(nz1),
        "sparse/params_nonzero_predicted": float(nz0 - removed),
        "sparse/fraction_after": nz1 / max(1, nz0),
        "sparse/hidden_weights_fraction_after": hidden_w_after / max(1, hidden_w),
        "sparse/diagonalised_layers": float(len(info["layers"])),
        "sparse/scaled_epsilon_percent": float(100.0 * np.mean(np.linalg.norm(z1 - z0, axis=1)
                                                              / np.where(norm0 > 0, norm0, 1.0))),
        "sparse/max_rel_logit_change": float(np.max(np.abs(z1 - z0)) / max(np.max(np.abs(z0)), 1e-300)),
    }

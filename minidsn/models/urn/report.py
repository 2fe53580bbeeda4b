"""Activity profile of a URN run: how strongly its active neurons are active, and what keeps them on.

    minidsn report urn RUN_DIR [--thresholds 0 1e-3 1e-2 1e-1] [--samples N]

Seed 002 Sec. 2 counts 123 +- 15 active neurons of 5000 on the spheres task. The run's evaluation counts a neuron
active when |N_i^(l)| > active_threshold (default 0) for some training sample and some iteration l (docs/models/
urn.md). This report reads the run's newest checkpoint and, for each threshold t, counts the neurons whose largest
|N_i^(l)| over the training set (or its first N samples) exceeds t, with the emergent layer sizes at that threshold
(structure.structure_summary, the same read-out as the run's evaluation). It adds the figures that explain the
count: the biases b_i, each neuron's input-node weight mass sum_{j < d_in} |W_ij| (eq. 2 puts the input in the
first d_in neurons), and quantiles of |W|. Prints a table and writes RUN_DIR/activity_profile.json.
"""

from __future__ import annotations

import numpy as np

__all__ = ["activity_profile", "format_profile", "peak_activity"]


def peak_activity(params, x, spec, batch_size=500) -> np.ndarray:
    """(I+1, S): the largest |N_i^(l)| over the samples x, for l = 0..I (eq. 3 iterated, no gradients).

    Source: seed 002 eq. (3) (iterated without gradient); l. 79 (active = nonzero activation).
    """
    from .net import states

    peak = None
    for s in range(0, x.shape[0], batch_size):
        p = np.stack([np.abs(h).max(axis=0) for h in states(params, x[s:s + batch_size], spec)])
        peak = p if peak is None else np.maximum(peak, p)
    return peak


def activity_profile(state, raw_config, thresholds=(0.0, 1e-3, 1e-2, 1e-1), samples=0) -> dict:
    """The report of the module docstring as a dict, for a trained URN state and the run's config (the "config"
    table of its config.json); thresholds as given; `samples` = 0: the whole training set. Reading the run folder
    is the command line's job (minidsn report urn RUN_DIR), so this module never imports the run harness.

    Source: seed 002 l. 79 (active neurons); assumption: activity thresholds (the seed says 'zero activation').
    """
    from .model import URNModel
    from .structure import structure_summary

    thresholds = [float(t) for t in thresholds]
    for t in thresholds:
        if not (t >= 0 and np.isfinite(t)):
            raise ValueError(f"thresholds must be finite and >= 0, got {t}")
    model = URNModel()
    cfg = model.validate_config(raw_config)
    x, _, _, _ = model._data(state, cfg)
    if samples:
        x = x[:samples]
    spec = model._spec(cfg, x, state["n_classes"])
    params = state["params"]
    peak = peak_activity(params, x, spec)
    inputs = np.arange(spec.d_in)
    rows = []
    for t in thresholds:
        summ = structure_summary(peak > t, params["W"], inputs, spec.output_idx)
        rows.append({"threshold": t, "n_active": summ["n_active"], "n_active_hidden": summ["n_active_hidden"],
                     "hidden_layer_sizes": summ["hidden_layer_sizes"][1:]})
    W, b = params["W"], params["b"]
    w_in = np.abs(W[:, :spec.d_in]).sum(axis=1)
    q = (0.5, 0.9, 0.99)
    return {
        "samples": int(x.shape[0]), "rows": rows,
        "bias": {"min": float(b.min()), "median": float(np.median(b)), "max": float(b.max()),
                 "fraction_positive": float(np.mean(b > 0))},
        "input_weight_mass": {f"q{int(100 * k)}": float(np.quantile(w_in, k)) for k in q},
        "abs_W": {f"q{int(100 * k)}": float(np.quantile(np.abs(W), k)) for k in q} | {"max": float(np.abs(W).max())},
    }


def format_profile(rep) -> str:
    """The printed table of an activity profile.

    Source: none (text formatting; no formula)
    """
    lines = [f"{rep['run']} at step {rep['step']}, {rep['samples']} training samples",
             f"{'threshold':>10}  {'active':>7}  {'hidden':>7}  hidden layer sizes (iteration 1..I)"]
    for r in rep["rows"]:
        sizes = "/".join(str(n) for n in r["hidden_layer_sizes"])
        lines.append(f"{r['threshold']:>10g}  {r['n_active']:>7d}  {r['n_active_hidden']:>7d}  {sizes}")
    b, w = rep["bias"], rep["input_weight_mass"]
    lines.append(f"bias: min {b['min']:.3g}, median {b['median']:.3g}, max {b['max']:.3g}, "
                 f"positive {100 * b['fraction_positive']:.1f}%")
    lines.append(f"input-node weight mass sum_j<d_in |W_ij|: median {w['q50']:.3g}, 90% {w['q90']:.3g}, "
                 f"99% {w['q99']:.3g}")
    a = rep["abs_W"]
    lines.append(f"|W|: median {a['q50']:.3g}, 90% {a['q90']:.3g}, 99% {a['q99']:.3g}, max {a['max']:.3g}")
    return "\n".join(lines)

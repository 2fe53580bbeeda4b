"""DiffRNN oracle case: G2 (or rnnAltern) objective and gradients for one window at a given size.

Params are drawn from the rng at a scale where every gradient is far from zero and the window is well conditioned
at every size H: Wxh 0.3 N(0,1) (one column per character), Whh (0.5 / sqrt(H)) N(0,1) and Wiy (1 / sqrt(H))
N(0,1), biases 0.1 N(0,1), multipliers uniform in [M_min, 1.5], carried state tanh(N(0,1)). Whh is scaled with
1/sqrt(H) because its spectral norm grows like 2 sigma sqrt(H): at a fixed 0.3 the 40-step window turns chaotic from
H of about 50 on (a one-ulp difference between two summation orders then grows past 1e-12 relative), and kernel and
engine could no longer be compared (issue 13, item 5). Size H = cfg["hidden_size"] (5 when None) and window
T = cfg["seq_length"]; the text is the configured task at a random offset. Values come from the
engine reference path (minidsn.models.diffrnn.loss, path "engine"); the kernel path is checked against it before
export. Gradients are of the objective CE + A T sum|m| (before clipping), so grads["m"] includes the L1 part
T A sign(m) that the original adds inside its time loop.
"""

from __future__ import annotations

import numpy as np

from minidsn.engine import grad

from .cycle import task_data, task_schedule
from .loss import loss_and_grads, objective

__all__ = ["oracle_case"]


def oracle_case(cfg, rng):
    """Source: none (oracle export of one window; the formulas are in loss.py)"""
    if cfg["variant"] not in ("g2", "altern"):
        from minidsn.models.api import ConfigError

        # g1 (its dm bug), g3 (no multipliers) and fixed have no one-window case; their steps are in trajectory cases
        raise ConfigError(f"config key 'variant': the one-window diffrnn oracle case exports g2 or altern, not "
                          f"{cfg['variant']!r}; a trajectory case (oracle export --steps K) covers every variant")
    H = cfg["hidden_size"] or 5
    T = cfg["seq_length"]
    V = 4
    gate = cfg["variant"] == "altern"
    params = {
        "Wxh": 0.3 * rng.standard_normal((H, V)),
        "Whh": (0.5 / np.sqrt(H)) * rng.standard_normal((H, H)),
        "Wiy": (1.0 / np.sqrt(H)) * rng.standard_normal((V, H)),
        "bh": 0.1 * rng.standard_normal(H),
        "by": 0.1 * rng.standard_normal(V),
        "m": rng.uniform(cfg["m_min"], 1.5, H),
    }
    s0 = np.tanh(rng.standard_normal(H))
    data = task_data(task_schedule(cfg)[0][0], cfg)
    p = int(rng.integers(0, data.shape[0] - T - 1))
    inputs, targets = data[p:p + T], data[p + 1:p + T + 1]

    ce, s_last, grads = loss_and_grads(params, s0, inputs, targets, l1=cfg["l1"], path="engine", gate=gate)
    ce_k, s_k, grads_k = loss_and_grads(params, s0, inputs, targets, l1=cfg["l1"], path="kernel", gate=gate)
    for k in grads:
        scale = max(float(np.abs(grads[k]).max()), 1e-300)
        err = float(np.abs(grads_k[k] - grads[k]).max())
        if err > 1e-12 * scale:
            raise AssertionError(f"diffrnn oracle: kernel and engine gradients of {k} differ by {err:.3g} "
                                 f"(max |grad| {scale:.3g}, H = {H})")
    grad_s0 = grad(lambda s: objective(params, s, inputs, targets, l1=cfg["l1"], path="engine", gate=gate)[0])(s0)

    # per-step output probabilities (plain forward of the engine reference, no gradient needed)
    probs = []
    s = s0
    m = params["m"]
    for t in range(T):
        h = np.tanh(params["Wxh"][:, inputs[t]] + params["Whh"] @ s + params["bh"])
        y = params["Wiy"] @ (m * h) + params["by"]
        e = np.exp(y - y.max())
        probs.append(e / e.sum())
        s = m * h if gate else h
    l1_term = cfg["l1"] * T * float(np.abs(m).sum())
    return {
        "params": params,
        "inputs": {"s0": s0, "inputs": inputs.astype(np.float64), "targets": targets.astype(np.float64)},
        "outputs": {"probs": np.array(probs), "s_last": s_last,
                    "grad_s0": np.asarray(grad_s0, dtype=np.float64)},  # d objective / d carried state
        # total = objective (the differentiated loss, under the oracle format's common name)
        "losses": {"ce": np.float64(ce), "l1_term": np.float64(l1_term), "objective": np.float64(ce + l1_term),
                   "total": np.float64(ce + l1_term)},
        "grads": grads,
    }

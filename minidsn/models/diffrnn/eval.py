"""DiffRNN evaluation: mean cross-entropy per window on further text, without updates.

The original reports only the smoothed training loss (smooth <- 0.999 smooth + 0.001 L, note "G2 model"); this adds
an update-free figure: the network reads ``n_windows`` further windows of the current task from the current data
pointer (carrying its state, resetting at the end of the text as in training) and the mean CE per window is
returned. Same units as the note's losses (nats per 40 characters).
"""

from __future__ import annotations

import numpy as np

from minidsn.models.diffrnn.window_kernel import window_fwd_bwd

from .cycle import task_data, task_schedule

__all__ = ["eval_windows"]


def eval_windows(state, cfg, n_windows):
    """Source: none (minidsn's update-free evaluation: mean CE per window, the forward of ThomasMiconi/DiffRNN@8b2491f
        rnn.py:88-96 without updates; the original reports only the smoothed training loss)
    """
    phases, _ = task_schedule(cfg)
    data = task_data(phases[state["phase"]], cfg)
    T = cfg["seq_length"]
    prm = state["params"]
    H = state["carried"].shape[0]
    m = prm.get("m", np.ones(H))
    s, p = state["carried"].copy(), state["p"]
    total = 0.0
    for _ in range(int(n_windows)):
        if p + T + 1 >= data.shape[0]:
            s, p = np.zeros(H), 0
        ce, s, _ = window_fwd_bwd(prm["Wxh"], prm["Whh"], m, prm["Wiy"], prm["bh"], prm["by"], s,
                                  data[p:p + T], data[p + 1:p + T + 1], cfg["variant"] == "altern", 1.0, None, False)
        total += ce
        p += T
    return float(total / max(int(n_windows), 1))

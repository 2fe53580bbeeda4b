"""A whole DiffRNN run against minidsn's, cycle by cycle: minidsn's registered ``diffrnn`` and minidsn_jax's Trainer,
same seed, same generator, on minidsn's own hard-task text. The windows are chaotic (one ulp grows over a few hundred
cycles), so the two agree only until rounding differences grow; for the first 600 cycles (H from 1 to about 10,
additions and deletions included) they must take the same structural decisions and report the same losses
(to 1e-6 relative: the difference is 1e-16 at first and 2e-9 by cycle 477). This checks
what the per-step kit cannot: the run loop around the step (data pointer, resets, the order of the draws across
cycles). The test reads minidsn's model and text (minidsn as the oracle); minidsn_jax itself imports neither."""

import math

import numpy as np

from minidsn.models.api import get_model
from minidsn.data import charseq
from minidsn_jax.diffrnn.cycle import init_memories
from minidsn_jax.diffrnn.model import JaxDiffRNN
from minidsn_jax.diffrnn.trainer import Trainer, init_params


def test_first_600_cycles_match_minidsn():
    cls = get_model("diffrnn")
    ref, cfg = cls(), cls.validate_config({"task": "hard"})
    text = charseq.task_text("hard", np.random.default_rng([cfg["data_seed"], 1]))  # minidsn's text for hard
    rng_a, rng_b = np.random.default_rng(0), np.random.default_rng(0)
    state = ref.init(cfg, rng_a, None)
    p = init_params(1, "g2", rng_b)
    tr = Trainer(JaxDiffRNN.validate_config({"task": "hard"}), p, init_memories(p, "g2"), np.zeros(1),
                 [np.asarray(text)], 0, 0, 40 * math.log(4), 0)
    events = 0
    for i in range(600):
        state, a = ref.step(state, cfg, rng_a, i)
        b = tr.cycle(rng_b)
        assert a["hidden_size"] == b["hidden_size"] and a["added"] == b["added"] and a["deleted"] == b["deleted"], \
            (i + 1, a, b)
        assert abs(a["loss"] - b["loss"]) <= 1e-6 * abs(a["loss"]), (i + 1, a["loss"], b["loss"])
        events += int(a["added"]) + int(a["deleted"])
    assert tr.H >= 5 and events >= 5 and tr.n_deleted >= 1, (tr.H, events, tr.n_deleted)

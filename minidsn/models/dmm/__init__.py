"""Dataflow Matrix Machines (seed 004, M. Bukatin): V-values, gated links, sparsifying training, pruning.

neurons.py          the neuron library over V-values
lite.py             DMM Lite: the two-stroke cycle over a link matrix
self_modifying.py   the self-modifying form (the network's matrix as a V-value it updates)
handcrafted.py      the hand-written duplicate-character detector
trainable.py        gates over the candidate links
compiled.py         the episode as one differentiable primitive (NumPy reference path)
kernels.py          the Numba episode forward / backward
synthesis.py        sparsifying training and link pruning schedules
model.py            the registered model
selfchecks.py       kernel-versus-reference checks for `minidsn selfcheck`
"""

from . import selfchecks  # noqa: F401  (registers this model's kernel checks)

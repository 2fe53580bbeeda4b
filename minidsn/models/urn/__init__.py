"""Unrestricted Recursive Network (seed 002, S. Golkar): one S x S matrix iterated; L1 and synaptic length.

core.py          the iterated map: forward and its vector-Jacobian product
net.py           the network: embedding, logits, losses and regularisers, the joint VJP primitive
adam_kernel.py   the fused L1 / synaptic-length subgradient + Adam step (Numba) and its NumPy reference
structure.py     emergent structure: active neurons, layers, used synapses, pruning masks
data.py          the concentric-spheres task and the image sets
plot.py          structure figures
report.py        activity profile of a trained state (command line: minidsn report urn RUN_DIR)
model.py         the registered model
selfchecks.py    kernel-versus-reference checks for `minidsn selfcheck`
"""

from . import selfchecks  # noqa: F401  (registers this model's kernel checks)

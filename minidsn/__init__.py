"""minidsn: a NumPy-only reference implementation of neural networks that change their own structure.

Five systems on one small engine: Dynamic Neural Manifold, DiffRNN, URN, isotropic networks, Dataflow Matrix Machines.
See README.md and docs/.
"""

__version__ = "0.1.0"

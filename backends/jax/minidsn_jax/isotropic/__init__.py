"""Isotropic networks (G. Bird, seed 003_65f8765f7dcd8253.txt; v2 algebra in shared/notes/isotropic.md) in JAX.

net.py: the isotropic activation with intrinsic length o and the per-connection psi, forward and loss.
ops.py: diagonalisation (left-partial, full), neurogenesis, neurodegeneration, and the optimiser-state rotations.
"""

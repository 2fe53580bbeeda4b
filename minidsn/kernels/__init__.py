"""Numba kernels; each module keeps the plain NumPy reference of the same computation beside the compiled one."""

"""Data: IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary loaders, `minidsn data fetch`, synthetic generators.

Model-specific generators (charseq, spheres, grid_embed) live beside these modules and are imported by their models
directly, not from here.
"""

from minidsn.data.synthetic import gaussian_blobs, spirals

__all__ = ["gaussian_blobs", "spirals"]

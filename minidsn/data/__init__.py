"""Data: IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary loaders, `minidsn data fetch`, synthetic generators.

Model-specific generators (charseq, spheres, grid_embed) live beside these modules and are imported by their models
directly, not from here.  The data directory comes from an argument (--data-dir) or $MINIDSN_DATA.
"""

from minidsn.data.cifar import load_cifar10, read_cifar_batch, to_monochrome
from minidsn.data.errors import DataError
from minidsn.data.idx import read_idx
from minidsn.data.mnist import dataset_dir, load_mnist, resolve_data_dir
from minidsn.data.synthetic import gaussian_blobs, spirals

__all__ = ["DataError", "read_idx", "load_mnist", "load_cifar10", "read_cifar_batch", "to_monochrome",
           "resolve_data_dir", "dataset_dir", "gaussian_blobs", "spirals"]

"""URN (S. Golkar, arXiv 1911.11691) in JAX: one dense S x S matrix iterated I times, every regulariser.

Written from seed 002_ecb1844e91ce390b.txt and shared/notes/urn.md; the seed leaves choices open (activation, grid,
reductions), and this package takes the ones docs/models/urn.md names as minidsn's assumptions, each a config option.
"""

from minidsn_jax.urn.net import forward, loss_terms  # noqa: F401

"""DNM (M. Woods 2018) in JAX: closeness matrix with the strict cutoff, DAG forward in index order, the three losses.

Written from seed 000_15970d877694e0b4.txt and shared/notes/dnm.md. Variants (note, "Text versus code"):
"faithful" (the notebooks: squared outputs, counted sparsity without gradient) and "text" (unsquared outputs, a
differentiable smooth count).
"""

from minidsn_jax.dnm.closeness import allowed_mask, closeness, positions  # noqa: F401
from minidsn_jax.dnm.net import forward, loss_terms  # noqa: F401

"""Dynamic Neural Manifold (seed 000, M. Woods 2018): a DAG whose edges are per-neuron closeness functions.

closeness.py         the closeness matrix (sin^p x gaussian), cutoff and rescale (engine and NumPy paths)
closeness_kernel.py  the fused Numba closeness kernel (checked against closeness.py)
dag_kernels.py       DAG forward / backward in index order: plain references and Numba dense / sparse kernels
dag_primitive.py     the kernels as one differentiable engine primitive each
losses.py            objective, flow-conservation and sparsity terms
net.py               the network: forward, loss terms, gradients
guards.py            input and state guards
data.py              the toy add/subtract set and MNIST split
model.py             the registered model (options, init, step, evaluate, oracle case)
selfchecks.py        kernel-versus-reference checks for `minidsn selfcheck`
"""

from . import selfchecks  # noqa: F401  (registers this model's kernel checks)

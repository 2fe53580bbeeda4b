"""DiffRNN (seed 001, T. Miconi 2016): a recurrent net whose size is learned through L1-regularised multipliers.

loss.py              the 40-step window loss and gradients (engine reference path and kernel path)
window_kernel.py     the fused Numba forward + BPTT window kernel, with its plain reference
window_primitive.py  the window kernel as one differentiable engine primitive
adagrad_kernel.py    the fused clip + Adagrad step (Numba) and its NumPy reference
structure.py         growth and deletion of hidden neurons (parameters, Adagrad memories, carried state)
cycle.py             one training cycle: window, update, structural step
eval.py              evaluation windows
oracle.py            the oracle case
report.py            run summaries and curves (python -m minidsn.models.diffrnn.report)
model.py             the registered model
selfchecks.py        kernel-versus-reference checks for `minidsn selfcheck`
"""

from . import selfchecks  # noqa: F401  (registers this model's kernel checks)

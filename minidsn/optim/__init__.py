"""Functional optimisers over pytrees, with pure, inspectable state, and structural edits of params + state.

    opt = Adam(lr=1e-3)                               # SGD(lr, momentum), Adam, AdamW, Adagrad, RMSProp
    state = opt.init(params)                          # {"step": 0, "m": tree like params, "v": ...}
    params, state = opt.update(grads, state, params)  # new objects; inputs untouched
    grads = clip_elementwise(grads, 5.0)
    params, state = delete_entries(params, state, ("Whh",), 0, [j])
    params, state = insert_entries(params, state, ("Whh",), 0, H, row)
    params, state = change_basis(params, state, ("layers", 1, "W"), 0, Q)

Update rules and their sources are in each class's docstring and in docs/optim.md.
"""

from .adagrad import Adagrad
from .adam import Adam, AdamW
from .base import SLOT_MOMENTS, Optimizer
from .clip import clip_elementwise
from .edits import change_basis, delete_entries, insert_entries
from .rmsprop import RMSProp
from .sgd import SGD

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "Adagrad",
    "RMSProp",
    "clip_elementwise",
    "delete_entries",
    "insert_entries",
    "change_basis",
    "SLOT_MOMENTS",
]

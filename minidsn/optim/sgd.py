"""Stochastic gradient descent with heavy-ball momentum."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import SLOT_MOMENTS, Optimizer, check_hyper

__all__ = ["SGD"]

SLOT_MOMENTS["velocity"] = 1


@dataclass(frozen=True)
class SGD(Optimizer):
    """SGD, optionally with momentum (Polyak's heavy ball, in the form of torch.optim.SGD with dampening 0).

    momentum = 0:   p <- p - lr g                            (state: {"step"})
    momentum = mu:  v <- mu v + g;   p <- p - lr v           (state: {"step", "velocity"}; v starts at 0)

    The velocity is a first moment (linear in the gradients), so change_basis rotates it exactly like p.

    Source: lit sutskever-2013 Sec. 2, eqs. (1)-(2) (classical momentum v <- mu v - eps g, p <- p + v);
    minidsn choice: the torch.optim.SGD parametrisation v <- mu v + g, p <- p - lr v (dampening 0, no Nesterov),
    which is the paper's rule with v_paper = -lr v, identical for a constant lr and different under an lr schedule
    (the paper's velocity carries the old lr, this one is rescaled by the new lr); momentum 0 is plain gradient
    descent p <- p - lr g with no slot.
    """

    lr: float
    momentum: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_hyper("lr", self.lr, lo=0.0, lo_open=True)
        check_hyper("momentum", self.momentum, lo=0.0, hi=1.0, hi_open=True)

    def slot_names(self) -> tuple[str, ...]:
        """("velocity",) with momentum, () without.

        Source: none (state layout).
        """
        return ("velocity",) if self.momentum > 0 else ()

    def _leaf_update(self, g: np.ndarray, p: np.ndarray, slots: tuple, step: int):
        if self.momentum > 0:
            (v,) = slots
            v = self.momentum * v + g
            return p - self.lr * v, (v,)
        return p - self.lr * g, ()

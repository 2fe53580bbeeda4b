"""RMSProp, in the DiffRNN G3 form (default) and the torch.optim.RMSprop form."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import SLOT_MOMENTS, Optimizer, check_hyper

__all__ = ["RMSProp"]

SLOT_MOMENTS["mean_sq"] = 2

EPS_PLACEMENTS = ("inside", "outside")


@dataclass(frozen=True)
class RMSProp(Optimizer):
    """RMSProp (Tieleman & Hinton 2012, lecture 6e): divide the gradient by a running root-mean-square.

        M <- M + rho (g**2 - M)                          (= (1 - rho) M + rho g**2; rho = 1 - alpha of torch)
        eps_placement="inside" (default; DiffRNN G3 form, note /work/shared/notes/diffrnn.md, "G3 differences"):
            step = -lr g / sqrt(M + eps)
        eps_placement="outside" (torch.optim.RMSprop):
            step = -lr g / (sqrt(M) + eps)
        max_step (optional; G3 uses 0.01 with lr 0.01): step <- clip(step, -max_step, +max_step) elementwise
        p <- p + step

    Slot "mean_sq" (M, a second moment), initialised to `initial_mean_sq` (0 by default). G3's own code starts
    some memories at 0.01 and some at 0 (see docs/optim.md); build such a state by hand if needed - it is a dict.

    Source: ThomasMiconi/DiffRNN@5b95733 rnn.py:174-181 (G3: mem += .01 * (dparam * dparam - mem); RMSdelta =
    -learning_rate * dparam / np.sqrt(mem + 1e-8); np.clip(RMSdelta, -MAXDW, MAXDW); param += RMSdelta), rnn.py:17,19
    (ETA = .01, MAXDW = .01), rnn.py:141-142 (memories of Wxh, bh start at 0.01, the others at 0);
    lit tieleman-hinton-2012 lecture 6e (MeanSquare <- 0.9 MeanSquare + 0.1 g**2, divide the gradient by
    sqrt(MeanSquare));
    minidsn choice: the default rho = 0.01 is G3's, not the lecture's 0.1; the lecture has no eps, G3 adds it inside
    the square root (eps_placement="inside", default) and torch.optim.RMSprop outside (eps_placement="outside");
    max_step (G3's MAXDW clip of the step, not in the lecture) is off by default; initial_mean_sq is one value for
    all leaves (0 by default), where G3 starts some memories at 0.01.
    """

    lr: float = 0.01
    rho: float = 0.01
    eps: float = 1e-8
    eps_placement: str = "inside"
    max_step: float | None = None
    initial_mean_sq: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        check_hyper("lr", self.lr, lo=0.0, lo_open=True)
        check_hyper("rho", self.rho, lo=0.0, hi=1.0, lo_open=True)
        check_hyper("eps", self.eps, lo=0.0, lo_open=True)
        check_hyper("initial_mean_sq", self.initial_mean_sq, lo=0.0)
        if self.eps_placement not in EPS_PLACEMENTS:
            raise ValueError(f"eps_placement must be one of {EPS_PLACEMENTS}, got {self.eps_placement!r}")
        if self.max_step is not None:
            check_hyper("max_step", self.max_step, lo=0.0, lo_open=True)

    def slot_names(self) -> tuple[str, ...]:
        """("mean_sq",): the running mean of squared gradients.

        Source: none (state layout).
        """
        return ("mean_sq",)

    def _init_slot(self, name: str, p: np.ndarray) -> np.ndarray:
        return np.full_like(p, self.initial_mean_sq)

    def _leaf_update(self, g: np.ndarray, p: np.ndarray, slots: tuple, step: int):
        M = slots[0] + self.rho * (g * g - slots[0])
        if self.eps_placement == "inside":
            s = -self.lr * g / np.sqrt(M + self.eps)
        else:
            s = -self.lr * g / (np.sqrt(M) + self.eps)
        if self.max_step is not None:
            s = np.clip(s, -self.max_step, self.max_step)
        return p + s, (M,)

"""Adagrad in the form of Karpathy's min-char-rnn, as used by DiffRNN (G2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .base import SLOT_MOMENTS, Optimizer, check_hyper

__all__ = ["Adagrad"]

SLOT_MOMENTS["sum_sq"] = 2


@dataclass(frozen=True)
class Adagrad(Optimizer):
    """Adagrad, min-char-rnn form (DiffRNN note /work/shared/notes/diffrnn.md, "Adagrad" line of the G2 model;
    the rule of Duchi, Hazan & Singer 2011 with eps inside the square root):

        M <- M + g**2;     p <- p - lr g / sqrt(M + eps)          (M starts at 0; lr 0.1, eps 1e-8 there)

    Slot "sum_sq" (M, a second moment).

    Source: ThomasMiconi/DiffRNN@8b2491f rnn.py:175-179 (G2: mem += dparam * dparam; param += -learning_rate *
    dparam / np.sqrt(mem + 1e-8)), rnn.py:65 (learning_rate = 1e-1), rnn.py:143-144 (memories start at 0);
    lit duchi-hazan-singer-2011 Sec. 1.1 (the diagonal update x <- x - eta diag(G_t)^(-1/2) g_t, G_t the sum of
    g g^T up to and including step t; Fig. 1: with delta I added to diag(G_t)^(1/2));
    minidsn choice: eps inside the square root, sqrt(M + eps), as min-char-rnn / DiffRNN write it, where the paper
    adds delta outside it (delta + sqrt(M)); the two differ only while M is of the order of eps.
    """

    lr: float = 0.1
    eps: float = 1e-8

    def __post_init__(self) -> None:
        super().__post_init__()
        check_hyper("lr", self.lr, lo=0.0, lo_open=True)
        check_hyper("eps", self.eps, lo=0.0, lo_open=True)

    def slot_names(self) -> tuple[str, ...]:
        """("sum_sq",): the running sum of squared gradients.

        Source: none (state layout).
        """
        return ("sum_sq",)

    def _leaf_update(self, g: np.ndarray, p: np.ndarray, slots: tuple, step: int):
        M = slots[0] + g * g
        return p - self.lr * g / np.sqrt(M + self.eps), (M,)

"""Adam (Kingma & Ba 2015) and AdamW (Loshchilov & Hutter 2019)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .base import SLOT_MOMENTS, Optimizer, check_hyper

__all__ = ["Adam", "AdamW"]

SLOT_MOMENTS["m"] = 1
SLOT_MOMENTS["v"] = 2

EPS_FORMS = ("algorithm1", "efficient")


@dataclass(frozen=True)
class Adam(Optimizer):
    """Adam, Kingma & Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015, Algorithm 1.

    With t the 1-based step (state["step"] after the update) and m, v starting at 0:

        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g**2
        eps_form="algorithm1" (default; the paper's Algorithm 1, also torch.optim.Adam):
            p <- p - lr * (m / (1 - beta1**t)) / (sqrt(v / (1 - beta2**t)) + eps)
        eps_form="efficient" (the paper's Section 2, last paragraph; the form of TensorFlow 1.x AdamOptimizer,
        which the Dynamic Neural Manifold code used):
            lr_t = lr * sqrt(1 - beta2**t) / (1 - beta1**t);   p <- p - lr_t * m / (sqrt(v) + eps)

    The two forms differ only in where eps enters (eps_hat = eps * sqrt(1 - beta2**t) in the first's terms).
    Slots: "m" (first moment), "v" (second moment).

    Source: lit kingma-ba-2015 Algorithm 1 (eps_form="algorithm1": mhat = m / (1 - beta1**t), vhat = v /
    (1 - beta2**t), p <- p - lr mhat / (sqrt(vhat) + eps); defaults lr 1e-3, betas 0.9 / 0.999, eps 1e-8 as there);
    lit kingma-ba-2015 Sec. 2 (eps_form="efficient": its last paragraph, alpha_t = alpha sqrt(1 - beta2**t) /
    (1 - beta1**t), p <- p - alpha_t m / (sqrt(v) + eps_hat); here eps plays eps_hat);
    anhinga/julia-flux-drafts@6527aa0 arxiv-1606-09470-section3/May-August-2022/v0-1/feedforward-run-3/TreeADAM.jl:184-222 (DMM's leaf-wise
    Adam: the Algorithm 1 form, eps 1e-8 outside the square root, m and v starting empty = 0, beta powers beta**1 at
    the first step);
    Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 569 (DNM:
    tf.train.AdamOptimizer(learning_rate=0.001), the "efficient" form);
    cf. seed 002 l. 77 (URN: "Adam Optimizer", lr 7e-4; no code, the form is not stated);
    minidsn choice: t is the optimiser's global step (state["step"] + 1) for every entry, so entries inserted by
    insert_entries at step t are bias-corrected with the global t, not their own age (docs/optim.md, "Notes");
    minidsn choice: the default is Algorithm 1's placement of eps, which is not the DNM / TensorFlow placement.
    """

    lr: float = 1e-3
    beta1: float = 0.9
    beta2: float = 0.999
    eps: float = 1e-8
    eps_form: str = "algorithm1"

    def __post_init__(self) -> None:
        super().__post_init__()
        check_hyper("lr", self.lr, lo=0.0, lo_open=True)
        check_hyper("beta1", self.beta1, lo=0.0, hi=1.0, hi_open=True)
        check_hyper("beta2", self.beta2, lo=0.0, hi=1.0, hi_open=True)
        check_hyper("eps", self.eps, lo=0.0, lo_open=True)
        if self.eps_form not in EPS_FORMS:
            raise ValueError(f"eps_form must be one of {EPS_FORMS}, got {self.eps_form!r}")

    def slot_names(self) -> tuple[str, ...]:
        """("m", "v"): first and second moment.

        Source: none (state layout; the moments are Algorithm 1's m and v).
        """
        return ("m", "v")

    def _adam_step(self, g: np.ndarray, m: np.ndarray, v: np.ndarray, t: int):
        """New (m, v) and the step direction d such that the Adam update is p <- p - d."""
        m = self.beta1 * m + (1.0 - self.beta1) * g
        v = self.beta2 * v + (1.0 - self.beta2) * (g * g)
        c1 = 1.0 - self.beta1**t
        c2 = 1.0 - self.beta2**t
        if self.eps_form == "algorithm1":
            d = self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)
        else:
            d = (self.lr * math.sqrt(c2) / c1) * m / (np.sqrt(v) + self.eps)
        return m, v, d

    def _leaf_update(self, g: np.ndarray, p: np.ndarray, slots: tuple, step: int):
        m, v, d = self._adam_step(g, slots[0], slots[1], step)
        return p - d, (m, v)


@dataclass(frozen=True)
class AdamW(Adam):
    """AdamW: Adam with decoupled weight decay, Loshchilov & Hutter, "Decoupled Weight Decay Regularization",
    ICLR 2019, Algorithm 2, in the parametrisation of torch.optim.AdamW (used by the isotropic-networks code):

        p <- p - lr * weight_decay * p - lr * mhat / (sqrt(vhat) + eps)

    i.e. Algorithm 2's theta <- theta - eta_t (alpha mhat / (sqrt(vhat) + eps) + lambda theta) with eta_t = lr,
    alpha = 1, lambda = weight_decay. The decay uses p before the step and never enters m or v.
    Default weight_decay 1e-2 as in torch.optim.AdamW.

    Source: lit loshchilov-hutter-2019 Algorithm 2 (decoupled weight decay: theta <- theta - eta_t (alpha mhat /
    (sqrt(vhat) + eps) + lambda theta), the moments built from the loss gradient only); the Adam part as Adam above
    (lit kingma-ba-2015 Algorithm 1, or Sec. 2 with eps_form="efficient");
    minidsn choice: the torch.optim.AdamW parametrisation eta_t = lr, alpha = 1, lambda = weight_decay (so the
    decay per step is lr * weight_decay, coupled to lr, where the paper keeps alpha and lambda separate and eta_t a
    schedule multiplier); cf. notes/isotropic.md (the isotropic experiments train with torch AdamW, lr 1e-3,
    weight decay 1e-3; the author's optimiser call was not read here, so no code line is cited).
    """

    weight_decay: float = 1e-2

    def __post_init__(self) -> None:
        super().__post_init__()
        check_hyper("weight_decay", self.weight_decay, lo=0.0)

    def _leaf_update(self, g: np.ndarray, p: np.ndarray, slots: tuple, step: int):
        m, v, d = self._adam_step(g, slots[0], slots[1], step)
        return p - (self.lr * self.weight_decay) * p - d, (m, v)

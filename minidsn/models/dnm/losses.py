"""DNM loss terms: objective, flow, sparsity (exact count and differentiable surrogates), and the total.

Source: seed 000 l. 92-110 ("Loss functions"); Miej/Dynamic_Neural_Manifold@873268a
dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 476-563 (flow, pct, objective, total).

    F_in    = sum_{computational rows i, input columns j} |d[i,j]|
    F_out   = sum_{output rows i, computational columns j} |d[i,j]|         (input->output entries excluded)
    L_flow  = (F_in - F_out)^2
    pct     = #{allowed entries with d != 0} / K                            (an exact count: zero gradient)
    L       = c_obj L_obj + c_flow L_flow + c_sp S^2,
              S = pct (faithful; constant for the gradient) or a differentiable surrogate (text variant):
              "mean_abs":     S = sum_allowed |d| / K
              "smooth_count": S = sum_allowed sigmoid((|v| - c) / tau) / K  -> pct as tau -> 0 (|v| != c)
    L_obj   = mean squared error (toy) or mean softmax cross-entropy with logits y_hat (MNIST);
    y_hat   = out**2 (faithful: both notebooks square the outputs) or out (text).

Every function takes an `ops` namespace (NumPy by default; minidsn.models.dnm.closeness.engine_ops() inside the
engine) so the NumPy reference and the differentiated code are the same expressions.
"""

from __future__ import annotations

import numpy as np

from minidsn.models.dnm.closeness import NUMPY_OPS

__all__ = [
    "flow_terms",
    "flow_loss",
    "neuron_imbalance",
    "pct_live",
    "sparsity_value",
    "SPARSITY_SURROGATES",
    "mse",
    "softmax_cross_entropy",
]

SPARSITY_SURROGATES = ("count", "mean_abs", "smooth_count")


def flow_terms(d, n_in: int, n_out: int, ops=NUMPY_OPS):
    """(F_in, F_out) of the module docstring. d: [N-n_in, N-n_out] closeness values.

    Source: seed 000 l. 94-100 (flow conservation between the chunks); Miej/Dynamic_Neural_Manifold@873268a
        dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 483-492 (F_in: computational rows, input columns of |d|),
        l. 496-505 (F_out: output rows, computational columns).
    """
    n_rows, n_src = d.shape
    n_comp = n_src - n_in
    f_in = ops.abs(d[:n_comp, :n_in]).sum()
    f_out = ops.abs(d[n_comp:, n_in:]).sum()
    return f_in, f_out


def flow_loss(d, n_in: int, n_out: int, ops=NUMPY_OPS):
    """L_flow = (F_in - F_out)^2 (note, "Losses"; the notebook's reduce_mean of a scalar is the scalar).

    Source: seed 000 l. 94-100; Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0
        l. 508 (reduce_mean of (F_in - F_out)^2).
    """
    f_in, f_out = flow_terms(d, n_in, n_out, ops)
    return (f_in - f_out) ** 2


def neuron_imbalance(d: np.ndarray, n_in: int, n_out: int) -> np.ndarray:
    """Per computational neuron: incoming minus outgoing |d| (the seed's neuron-level form of flow conservation).

    incoming_i = sum_{j<i} |d[i,j]| (inputs and computational sources); outgoing_i = sum over consumers k > i
    (computational and output rows) of |d[k,i]|. The seed argues the computational-to-computational terms cancel
    in the sum over i, leaving F_in - F_out. NumPy only (a diagnostic, not differentiated).

    Source: seed 000 l. 94-96 (the neuron-level flow conservation the text starts from); minidsn diagnostic.
    """
    n_rows, n_src = d.shape
    n_comp = n_src - n_in
    a = np.abs(np.asarray(d))
    out = np.empty(n_comp)
    for r in range(n_comp):
        i = n_in + r
        incoming = a[r, :i].sum()
        outgoing = a[r + 1 :, i].sum()  # rows below r are exactly the consumers k > i
        out[r] = incoming - outgoing
    return out


def pct_live(d, mask: np.ndarray, K: int) -> float:
    """pct = #{allowed d != 0} / K, a plain float (note, "Losses"; the notebook's tf.where count).

    Source: seed 000 l. 102-106; Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0
        l. 516-525 (count of |d| > 0 over max_knex).
    """
    d = np.asarray(d)
    return float(np.count_nonzero((d != 0) & mask)) / K


def sparsity_value(kind: str, d, v, c, mask: np.ndarray, K: int, tau: float = 0.01, ops=NUMPY_OPS):
    """S of the module docstring for `kind` in SPARSITY_SURROGATES.

    "count" returns the exact pct as a plain float: it carries no gradient, exactly like the notebooks (note,
    "Losses"). "mean_abs" and "smooth_count" are differentiable stand-ins the seed text intends (note, "Text versus
    code", 4). smooth_count is the default for the text variant because it measures the same thing as pct (a
    fraction of live connections, each counted once whatever its strength) and moves both the closeness
    parameters and the cutoff; mean_abs instead penalises strength, which the flow term already couples to.

    Source: seed 000 l. 102-110 (sparsity as the speed lever); Miej/Dynamic_Neural_Manifold@873268a
        dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 516-525 (count: no gradient), l. 560 (c_sp pct^2); minidsn
        choice: differentiable stand-ins mean_abs, smooth_count.
    """
    if kind == "count":
        return pct_live(ops.stop_gradient(d), mask, K)
    if kind == "mean_abs":
        return ops.where(mask, ops.abs(d), 0.0).sum() / K
    if kind == "smooth_count":
        if not tau > 0:
            raise ValueError(f"sparsity temperature must be > 0, got {tau}")
        return ops.where(mask, ops.sigmoid((ops.abs(v) - c) / tau), 0.0).sum() / K
    raise ValueError(f"sparsity surrogate must be one of {SPARSITY_SURROGATES}, got {kind!r}")


def mse(y_hat, target):
    """mean((target - y_hat)^2) over batch and outputs (toy notebook's loss_metric).

    Source: seed 000 l. 108; Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l.
        533-538 (mean (target - y_hat)^2).
    """
    return ((target - y_hat) ** 2).mean()


def softmax_cross_entropy(logits, labels_onehot, log_softmax):
    """mean over the batch of -sum_k t_k log softmax(logits)_k (MNIST notebook: softmax CE with logits = y_hat).

    Source: seed 000 l. 108; Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-mnist.ipynb cell 0 l.
        533-538 (softmax_cross_entropy_with_logits, logits = y_hat).
    """
    return -(labels_onehot * log_softmax(logits)).sum() / logits.shape[0]

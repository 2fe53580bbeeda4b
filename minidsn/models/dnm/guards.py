"""Guards against the DNM failure modes the note names (shared/notes/dnm.md, "Text versus code" 7; seed, "Loss
functions": the network can "lobotomise" itself).

1. A non-positive sine exponent beta_i + 1 <= 0: the base 0.501 + 0.5 sin(.) reaches 0.001, so base**(beta+1) grows
   to 1000**|beta+1| and beyond, and its gradient with it (the original has no guard).
2. A network cut off from its outputs: no path of live (nonzero) connections from any input to an output. The outputs
   then no longer depend on the data, and no gradient reaches the dead closeness values to reopen them.
3. A non-finite loss or gradient.

`check_*` functions return a message (str) describing the problem, or None; the model turns a message into a
DNMGuardError (on_guard = "raise") or a recorded metric (on_guard = "record").
"""

from __future__ import annotations

import numba
import numpy as np

from minidsn.models.api import ModelGuardError

__all__ = ["DNMGuardError", "check_exponent", "reachable_outputs", "check_connected", "check_finite"]


class DNMGuardError(ModelGuardError):
    """A DNM training guard fired; the message names the failure, the neurons involved and the step.

    Source: none (error class of the dnm guards; the checks are this module's check_* functions, cited there)
    """


def check_exponent(beta: np.ndarray, n_in: int) -> str | None:
    """Message if any non-input neuron has beta_i + 1 <= 0 (the exponent of the powered sine).

    Source: Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 73 (beta + 1
        unconstrained), l. 120-146 (base 0.501 + 0.5 sin >= 0.001); minidsn guard (the original has none).
    """
    expo = np.asarray(beta)[n_in:] + 1.0
    bad = np.nonzero(~(expo > 0))[0]
    if bad.size == 0:
        return None
    idx = bad + n_in
    shown = ", ".join(f"neuron {i}: beta+1={e:.4g}" for i, e in zip(idx[:5], expo[bad[:5]]))
    more = f" (and {bad.size - 5} more)" if bad.size > 5 else ""
    return f"sine exponent beta+1 <= 0 for {bad.size} neuron(s): {shown}{more}"


@numba.njit(cache=False)
def _reachable_kernel(indptr, indices, n_in, n_src, n_rows):
    reached = np.zeros(n_src, dtype=np.bool_)
    reached[:n_in] = True
    n_comp = n_src - n_in
    out = np.zeros(n_rows - n_comp, dtype=np.bool_)
    for r in range(n_rows):
        i = n_in + r
        hit = False
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            if (i >= n_src or j < i) and reached[j]:
                hit = True
                break
        if i < n_src:
            reached[i] = hit
        else:
            out[r - n_comp] = hit
    return out


def reachable_outputs(indptr, indices, n_in: int, n_src: int) -> np.ndarray:
    """Boolean per output neuron: is it reached from some input along live connections? (one forward sweep)

    Source: seed 000 l. 88-90 (the network can sever every end-to-end path); minidsn guard.
    """
    n_rows = indptr.shape[0] - 1
    return _reachable_kernel(indptr, indices, n_in, n_src, n_rows)


def check_connected(reach: np.ndarray) -> str | None:
    """Message if no output neuron is reachable from any input (the network is cut off from its outputs).

    Source: seed 000 l. 88-90 (lobotomisation); minidsn guard.
    """
    if reach.any():
        return None
    return (
        "network cut off from its outputs: no live path from any input neuron to any output neuron "
        "(every path crosses a closeness value below the cutoff)"
    )


def check_finite(named_values: dict) -> str | None:
    """Message naming every non-finite scalar or array in `named_values`.

    Source: none (a guard against NaN / inf; no formula)
    """
    bad = [k for k, v in named_values.items() if not np.all(np.isfinite(np.asarray(v, dtype=np.float64)))]
    return None if not bad else "non-finite values in: " + ", ".join(bad)

"""Structure read-out of a trained URN: active neurons, emergent layers, re-ordered weights, pruning check.

Source: seed 002, Sec. 2 "Emergent structures": inactive neurons (zero activation) are discarded, the rest are
sorted "according to the iteration number at which they are first activated"; the weight matrix in that order
shows the block sub-diagonal pattern of eq. 1; "we manually set all other weights of the network to zero and verify
there is no change in the network output".

ASSUMPTIONS (named parameters):
  - a neuron is active at iteration l if |N_i^(l)| > `threshold` (default 0) for at least one sample of the data
    the read-out is given (the run uses the training set: `active_on`);
  - a neuron's layer is the first iteration l (0..I) at which it is active; the input nodes with non-zero input are
    layer 0 (N^(0) of eq. 2); never-active neurons get layer -1;
  - "the emergent structure" is read three ways: `active` keeps W_ij with i and j both active; `used` keeps W_ij
    where j is active at some iteration l and i at l + 1 (the synapses the computation can use); `layered` keeps
    only W_ij with layer(i) = layer(j) + 1 (the sub-diagonal blocks of eq. 1, strict MLP reading). Biases are
    never changed.
"""

from __future__ import annotations

import numpy as np


def activity_map(states, threshold=0.0):
    """(I+1, S) bool: neuron i active at iteration l on any sample; `states` = [H_0, ..., H_I], each (B, S).

    Source: seed 002 l. 79 (inactive neurons: zero activation); assumption: active = nonzero on any training sample at
        that iteration.
    """
    if threshold < 0 or not np.isfinite(threshold):
        raise ValueError(f"activity threshold must be finite and >= 0, got {threshold}")
    return np.stack([np.any(np.abs(h) > threshold, axis=0) for h in states])


def merge_activity(a, b):
    """Activity maps of two batches of the same data set combine by OR.

    Source: seed 002 l. 79 (activity over the whole data set = OR over batches).
    """
    return a if b is None else (b if a is None else (a | b))


def layer_of_neurons(active_at):
    """(S,) int: first iteration at which each neuron is active, -1 if never.

    Source: seed 002 Sec. 2, eq. (1) (layer l of the embedded MLP = iteration l); assumption: a neuron's layer is the
        first iteration at which it is active.
    """
    active_at = np.asarray(active_at, dtype=bool)
    first = np.argmax(active_at, axis=0)
    return np.where(active_at.any(axis=0), first, -1)


def order_by_layer(layer):
    """Indices of the active neurons sorted by (layer, index): the neuron order of the seed's Fig. 3.

    Source: seed 002 Fig. 3 (neurons sorted by layer).
    """
    active = np.flatnonzero(layer >= 0)
    return active[np.lexsort((active, layer[active]))]


def reorder_weights(W, order):
    """W restricted to the neurons `order`, rows and columns in that order.

    Source: seed 002 Fig. 3 (the weight matrix re-ordered by layer), eq. (1) (block sub-diagonal).
    """
    return np.asarray(W)[np.ix_(order, order)]


def structure_masks(layer):
    """(active_mask, layered_mask), each (S, S) bool, for the two readings of "the emergent structure".

    Source: seed 002 l. 79 (zeroing every other weight leaves the output unchanged), eq. (1) (the layered reading).
    """
    act = layer >= 0
    active_mask = act[:, None] & act[None, :]
    layered_mask = active_mask & (layer[:, None] == layer[None, :] + 1)
    return active_mask, layered_mask


def used_synapse_mask(active_at):
    """(S, S) bool: W_ij can carry signal, i.e. j active at some iteration l and i active at l + 1.

    Source: seed 002 eq. (3) (W_ij carries signal only from an active j at l to an active i at l + 1).
    """
    a = np.asarray(active_at, dtype=np.float64)
    return (a[1:].T @ a[:-1]) > 0


def structure_summary(active_at, W, input_idx, output_idx):
    """Figures of the emergent structure: counts, layer sizes, how MLP-like the weights are.

    Source: seed 002 l. 79 (active count, hidden layer sizes 115 / 4 / 3), eq. (1).
    """
    layer = layer_of_neurons(active_at)
    n_iter = active_at.shape[0] - 1
    is_io = np.zeros(layer.shape, dtype=bool)
    is_io[np.asarray(input_idx)] = True
    is_io[np.asarray(output_idx)] = True
    hidden = (layer >= 0) & ~is_io
    sizes = [int(np.sum(layer == l)) for l in range(n_iter + 1)]
    hidden_sizes = [int(np.sum(hidden & (layer == l))) for l in range(n_iter + 1)]
    active_mask, layered_mask = structure_masks(layer)
    absW = np.abs(np.asarray(W))
    used = used_synapse_mask(active_at)
    mass_active = float(absW[active_mask].sum())
    mass_layered = float(absW[layered_mask].sum())
    return {
        "n_active": int(np.sum(layer >= 0)),
        "n_active_hidden": int(hidden.sum()),
        "layer_sizes": sizes,
        "hidden_layer_sizes": hidden_sizes,
        "n_multi_iteration": int(np.sum(active_at[1:].sum(axis=0) > 1)),
        "n_outputs_active": int(np.sum(layer[np.asarray(output_idx)] >= 0)),
        # fraction of the active-block |W| mass on the sub-diagonal blocks (1.0 = a clean MLP, eq. 1)
        "subdiagonal_mass_fraction": mass_layered / mass_active if mass_active > 0 else float("nan"),
        "n_used_synapses": int(used.sum()),
        "n_used_synapses_subdiagonal": int((used & layered_mask).sum()),
    }

"""Structure read-out (seed 002 Sec. 2): an MLP embedded by eq. 1 is recovered exactly, and pruning outside it
changes nothing."""

import numpy as np
from hypothesis import given, settings, strategies as st

from minidsn.models.urn.net import UrnSpec, forward_logits, states
from minidsn.models.urn.structure import (
    activity_map,
    layer_of_neurons,
    order_by_layer,
    reorder_weights,
    structure_masks,
    structure_summary,
)


def _embedded_mlp(rng, sizes, n_extra):
    """W of eq. 1 for an MLP with layer widths `sizes` (input first, output last), positive weights, zero biases;
    `n_extra` unused neurons sit between the hidden layers and the outputs; outputs are the last neurons."""
    S = sum(sizes) + n_extra
    starts = np.cumsum([0] + list(sizes[:-1]))
    starts[-1] += n_extra  # the output block is at the end (eq. 4)
    W = np.zeros((S, S))
    for l in range(len(sizes) - 1):
        r0, c0 = starts[l + 1], starts[l]
        W[r0:r0 + sizes[l + 1], c0:c0 + sizes[l]] = rng.uniform(0.1, 1.0, (sizes[l + 1], sizes[l]))
    return W, starts


@settings(max_examples=15)
@given(seed=st.integers(0, 2**31), hidden=st.lists(st.integers(1, 5), min_size=1, max_size=3),
       d_in=st.integers(1, 4), d_out=st.integers(1, 3), n_extra=st.integers(0, 6))
def test_embedded_mlp_is_recovered(seed, hidden, d_in, d_out, n_extra):
    rng = np.random.default_rng(seed)
    sizes = [d_in, *hidden, d_out]
    W, starts = _embedded_mlp(rng, sizes, n_extra)
    S = W.shape[0]
    I = len(sizes) - 1
    out_idx = S - 1 - np.arange(d_out)
    spec = UrnSpec(n_neurons=S, n_iter=I, d_in=d_in, output_idx=out_idx)
    params = {"W": W, "b": np.zeros(S)}
    x = rng.uniform(0.5, 1.0, (6, d_in))  # positive inputs, positive weights: every MLP neuron is active
    amap = activity_map(states(params, x, spec))
    layer = layer_of_neurons(amap)
    for l, (s0, n) in enumerate(zip(starts, sizes)):
        np.testing.assert_array_equal(layer[s0:s0 + n], l)
    summ = structure_summary(amap, W, np.arange(d_in), out_idx)
    assert summ["layer_sizes"] == sizes
    assert summ["n_active"] == sum(sizes) and summ["n_multi_iteration"] == 0
    assert np.isclose(summ["subdiagonal_mass_fraction"], 1.0, rtol=1e-12)
    order = order_by_layer(layer)
    Ws = reorder_weights(W, order)
    # block sub-diagonal pattern of eq. 1 in the sorted order
    edges = np.cumsum([0] + sizes)
    for a in range(len(sizes)):
        for c in range(len(sizes)):
            block = Ws[edges[a]:edges[a + 1], edges[c]:edges[c + 1]]
            assert (np.count_nonzero(block) > 0) == (a == c + 1)
    # pruning outside the structure (after adding noise there) is checked by the model's report; here: the masks
    # keep exactly the MLP weights
    active_mask, layered_mask = structure_masks(layer)
    np.testing.assert_array_equal(layered_mask, W != 0)
    noisy = W + np.where(active_mask, 0.0, rng.normal(0, 1.0, W.shape))
    l0, _ = forward_logits(params, x, spec)
    l1, _ = forward_logits({"W": np.where(layered_mask, noisy, 0.0), "b": np.zeros(S)}, x, spec)
    np.testing.assert_allclose(l1, l0, rtol=1e-12, atol=1e-12)


def test_inactive_neurons_get_layer_minus_one():
    amap = np.array([[1, 0, 0], [0, 1, 0], [0, 1, 0]], dtype=bool)
    np.testing.assert_array_equal(layer_of_neurons(amap), [0, 1, -1])
    np.testing.assert_array_equal(order_by_layer(np.array([2, -1, 1, 1, 0])), [4, 2, 3, 0])

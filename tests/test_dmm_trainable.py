"""The trainable DMM-Lite network: structure, compiled episode vs the V-value reference, kernels vs NumPy."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidsn.numpy as mnp
from minidsn.engine import value_and_grad
from minidsn.models.dmm.compiled import EpisodePlan, backward_numpy, episode_loss, forward_numpy
from minidsn.models.dmm.handcrafted import handcrafted_traces
from minidsn.models.dmm.trainable import (
    N_GATES,
    gates_to_matrix,
    hard_links,
    init_gates,
    matrix_to_gates,
    soft_links,
    trainable_machine,
    vvalue_loss,
)
from minidsn.testing import check_grads
from minidsn.vvalue import VValue


def test_link_counts():
    links = soft_links()
    assert len(links) == N_GATES == 1486
    assert len(set(links)) == 1486
    assert len(hard_links()) == 12
    assert sum(1 for l in links if l[0] == "output") == 2 * 53
    trainable_machine().check_matrix(gates_to_matrix(links, np.ones(1486)))


def _small(n_cycles=45, n_layers=2, scale=0.4, seed=0):
    s = "test string."
    links, hard = soft_links(n_layers), hard_links(n_layers)
    targets = handcrafted_traces(s, n_cycles)
    plan = EpisodePlan(s, links, hard, targets)
    gates = init_gates(np.random.default_rng(seed), len(links), scale)
    return s, links, hard, targets, plan, gates


def test_compiled_matches_vvalue_reference_value_and_grad():
    s, links, hard, targets, plan, gates = _small()
    machine = trainable_machine(s, n_layers=2)
    lam = 0.01
    ref_val, ref_grad = value_and_grad(vvalue_loss)(gates_to_matrix(links, gates), machine, hard, targets, lam)
    assert isinstance(ref_grad, VValue)
    val, g = value_and_grad(lambda w: episode_loss(w, plan=plan) + lam * mnp.sum(mnp.abs(w)))(gates)
    assert float(val) == pytest.approx(float(ref_val), rel=1e-12)
    np.testing.assert_allclose(g, matrix_to_gates(ref_grad, links), rtol=1e-9, atol=1e-12)
    assert np.abs(g).max() > 1e-3  # the comparison is not vacuous


@given(st.integers(0, 10_000), st.floats(0.05, 1.5), st.integers(5, 40))
@settings(max_examples=8)
def test_kernels_match_numpy_reference(seed, scale, n_cycles):
    *_, plan, gates = _small(n_cycles=n_cycles, scale=scale, seed=seed)
    A = plan.matrix(gates)
    ref_loss, X, Y, y = forward_numpy(plan, A)
    ref_g = backward_numpy(plan, A, X, Y, y)[plan.to_idx, plan.from_idx]
    assert plan.loss(gates) == pytest.approx(ref_loss, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(plan.grad(gates), ref_g, rtol=1e-8, atol=1e-10)
    plan.use_jit = False  # the .py_func path (JIT off)
    plan._cache_gates = None
    np.testing.assert_allclose(plan.grad(gates), ref_g, rtol=1e-8, atol=1e-10)


def test_episode_primitive_check_grads():
    *_, plan, gates = _small(n_cycles=30, scale=0.3, seed=3)
    check_grads(lambda w: episode_loss(w, plan=plan), (gates,), rtol=1e-4, atol=1e-6)


def test_full_size_init_loss_matches_targets_scale():
    s = "test string."
    targets = handcrafted_traces(s, 140)
    plan = EpisodePlan(s, soft_links(), hard_links(), targets)
    g = init_gates(np.random.default_rng(0), 1486)
    loss = plan.loss(g)
    assert abs(loss - float(np.sum(targets ** 2))) < 50  # small gates: outputs near 0, loss near sum T^2 = 447


def test_bad_gates():
    *_, plan, gates = _small(n_cycles=5)
    with pytest.raises(ValueError, match="NaN"):
        plan.loss(np.full_like(gates, np.nan))
    with pytest.raises(ValueError, match="shape"):
        plan.loss(gates[:-1])


@pytest.mark.slow
def test_full_size_vvalue_reference_loss():
    s = "test string."
    targets = handcrafted_traces(s, 140)
    links, hard = soft_links(), hard_links()
    g = init_gates(np.random.default_rng(1), 1486)
    plan = EpisodePlan(s, links, hard, targets)
    ref = vvalue_loss(gates_to_matrix(links, g), trainable_machine(s), hard, targets, 0.0)
    assert plan.loss(g) == pytest.approx(ref, rel=1e-12)


def test_handcrafted_detector_embeds_with_eight_soft_links_at_zero_loss():
    """The search space contains an exact solution: the hand-crafted chain on layers 1-3 (weights 1)."""
    s = "test string."
    plan = EpisodePlan(s, soft_links(), hard_links(), handcrafted_traces(s, 140))
    chain = [("accum-1-1", "dict-2", "input", "char"), ("norm-2-1", "dict", "accum-1-1", "dict"),
             ("compare-3-1", "dict-1", "norm-2-1", "norm"), ("compare-3-1", "dict-2", "const_1", "const_1"),
             ("output", "dict-1", "compare-3-1", "true"), ("dot-2-1", "dict-1", "accum-1-1", "dict"),
             ("dot-2-1", "dict-2", "eos", "char"), ("output", "dict-2", "dot-2-1", "dot")]
    index = {l: i for i, l in enumerate(plan.links)}
    g = np.zeros(len(plan.links))
    g[[index[l] for l in chain]] = 1.0
    assert plan.loss(g) == 0.0

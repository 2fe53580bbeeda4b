"""The mlp model and the synthetic generators: gradients, training progress, determinism, config checks."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minidsn.models.mlp.model as mlp
from minidsn.data import gaussian_blobs, spirals
from minidsn.engine import grad
from minidsn.models.api import ConfigError, get_model
from minidsn.testing import check_grads


@settings(max_examples=15)
@given(st.lists(st.integers(1, 5), min_size=0, max_size=2), st.sampled_from(["tanh", "relu"]),
       st.floats(0.0, 0.5), st.integers(0, 10**6))
def test_gradient_matches_finite_differences(hidden, activation, l2, seed):
    rng = np.random.default_rng(seed)
    params = mlp.init_params(rng, [3, *hidden, 4])
    x = rng.normal(size=(5, 3))
    y = rng.integers(0, 4, 5)

    def f(p):
        return mlp.loss_terms(p, x, y, activation, l2)[0]

    # relu has a kink at 0: random inputs almost surely avoid it by more than the FD step
    check_grads(f, (params,), order=1, rtol=1e-5, atol=1e-7)


def test_gradient_equals_hand_backprop():
    rng = np.random.default_rng(0)
    params = mlp.init_params(rng, [2, 5, 3])
    x, y = rng.normal(size=(6, 2)), rng.integers(0, 3, 6)
    g = grad(lambda p: mlp.loss_terms(p, x, y, "tanh", 0.1)[0])(params)
    W1, b1, W2, b2 = (params["layers"][0]["W"], params["layers"][0]["b"], params["layers"][1]["W"],
                      params["layers"][1]["b"])
    h = np.tanh(x @ W1 + b1)
    z = h @ W2 + b2
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    dz = (p - np.eye(3)[y]) / 6
    dh = dz @ W2.T * (1 - h ** 2)
    np.testing.assert_allclose(g["layers"][1]["W"], h.T @ dz + 0.1 * W2, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g["layers"][1]["b"], dz.sum(0), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g["layers"][0]["W"], x.T @ dh + 0.1 * W1, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(g["layers"][0]["b"], dh.sum(0), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dataset,acc", [("blobs", 0.9), ("spirals", 0.9)])
def test_training_learns(dataset, acc):
    M = get_model("mlp")
    cfg = M.validate_config({"dataset": dataset, "noise": 0.3 if dataset == "blobs" else 0.02, "n_train": 256,
                             "hidden": [32, 32], "lr": 0.02, "n_classes": 3 if dataset == "blobs" else 2})
    m, rng = M(), np.random.default_rng(0)
    state = m.init(cfg, rng, None)
    first = m.evaluate(state, cfg, rng, None)
    for i in range(400 if dataset == "blobs" else 1500):
        state, met = m.step(state, cfg, rng, i)
    last = m.evaluate(state, cfg, rng, None)
    assert last["train_loss"] < 0.5 * first["train_loss"]
    assert last["test_acc"] >= acc, last


def test_step_does_not_mutate_its_input():
    M = get_model("mlp")
    cfg = M.validate_config({"n_train": 32, "hidden": [4]})
    m, rng = M(), np.random.default_rng(0)
    s0 = m.init(cfg, rng, None)
    W = s0["params"]["layers"][0]["W"].copy()
    m.step(s0, cfg, rng, 0)
    assert np.array_equal(W, s0["params"]["layers"][0]["W"])  # the harness relies on this for Ctrl-C


def test_epochs_and_config_checks():
    M = get_model("mlp")
    assert M().steps_per_epoch(M.validate_config({"n_train": 100, "batch_size": 32})) == 4
    assert M().steps_per_epoch(M.validate_config({"n_train": 100, "batch_size": 0})) == 1
    with pytest.raises(ConfigError, match="spirals are 2-dimensional"):
        M.validate_config({"dataset": "spirals", "n_features": 3})
    with pytest.raises(ConfigError, match="'hidden'.*positive integers"):
        M.validate_config({"hidden": [4, 0]})


@settings(max_examples=20)
@given(st.integers(1, 200), st.integers(2, 6), st.integers(0, 2**32))
def test_generators_balanced_and_deterministic(n, k, seed):
    x, y, c = gaussian_blobs(np.random.default_rng(seed), n, k, 3)
    x2, y2, _ = gaussian_blobs(np.random.default_rng(seed), n, k, 3)
    assert x.shape == (n, 3) and x.dtype == np.float64 and np.array_equal(x, x2) and np.array_equal(y, y2)
    counts = np.bincount(y, minlength=k)
    assert counts.max() - counts.min() <= 1
    xs, ys = spirals(np.random.default_rng(seed), n, k, noise=0.0)
    assert xs.shape == (n, 2) and np.all(np.linalg.norm(xs, axis=1) <= 1.0 + 1e-12)


def test_generator_errors():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match="n_classes"):
        gaussian_blobs(rng, 10, 1)
    with pytest.raises(ValueError, match="spread"):
        gaussian_blobs(rng, 10, 2, spread=0.0)
    with pytest.raises(ValueError, match="centers must have shape"):
        gaussian_blobs(rng, 10, 2, 2, centers=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="noise"):
        spirals(rng, 10, noise=-1.0)

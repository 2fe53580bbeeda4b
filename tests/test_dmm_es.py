"""DMM synthesis with the OpenAI-ES gradient estimate (seed 004's fallback when autodiff is too slow)."""

import numpy as np
import pytest

from minidsn.models.api import get_model
from minidsn.models.dmm.synthesis import DEFAULTS, es_gradient, make_plan, new_state, synthesis_step


def test_es_estimate_converges_to_the_gradient_of_a_quadratic():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((5, 5))
    A = A @ A.T
    b = rng.standard_normal(5)
    loss = lambda w: 0.5 * w @ A @ w + b @ w  # noqa: E731
    w = rng.standard_normal(5)
    exact = A @ w + b
    g = es_gradient(loss, w, np.random.default_rng(1), 20000, 1e-2)
    # antithetic differences are exact for a quadratic: the only error is the sampling of eps eps^T (~ 1/sqrt(P))
    assert np.linalg.norm(g - exact) <= 0.05 * np.linalg.norm(exact)
    assert np.array_equal(g, es_gradient(loss, w, np.random.default_rng(1), 20000, 1e-2))  # deterministic


def test_es_estimate_points_along_the_exact_episode_gradient():
    cfg = dict(DEFAULTS)
    plan = make_plan(cfg["string"], cfg["n_cycles"], cfg["n_layers"], cfg["n_per_layer"])
    w = new_state(cfg, np.random.default_rng(0))["params"]["gates"]
    exact = plan.grad(w)
    g = es_gradient(plan.loss, w, np.random.default_rng(2), 400, 1e-3)
    cos = float(g @ exact / (np.linalg.norm(g) * np.linalg.norm(exact)))
    # n = 1486 gates, P = 400 pairs: a random direction would give |cos| ~ 0.03; measured 0.463 here
    assert cos > 0.3, cos


def test_the_es_option_trains_and_exact_mode_draws_nothing():
    model = get_model("dmm")()
    for grad_mode, draws in (("exact", False), ("es", True)):
        cfg = model.validate_config({"gradient": grad_mode, "es_population": 4, "base_steps": 10})
        rng = np.random.default_rng(0)
        state = model.init(cfg, rng, None)
        before = rng.bit_generator.state
        losses = []
        for i in range(5):
            state, met = model.step(state, cfg, rng, i)
            losses.append(met["data_loss"])
        assert all(np.isfinite(losses))
        assert (rng.bit_generator.state != before) == draws  # exact runs stay bit-identical to recorded runs


def test_es_needs_an_rng_and_sane_settings():
    cfg = dict(DEFAULTS, gradient="es")
    state = new_state(cfg, np.random.default_rng(0))
    with pytest.raises(ValueError, match="needs the run's rng"):
        synthesis_step(state, cfg)
    with pytest.raises(ValueError, match="es_population"):
        es_gradient(lambda w: 0.0, np.zeros(2), np.random.default_rng(0), 0, 0.1)
    with pytest.raises(ValueError, match="es_sigma"):
        es_gradient(lambda w: 0.0, np.zeros(2), np.random.default_rng(0), 2, 0.0)

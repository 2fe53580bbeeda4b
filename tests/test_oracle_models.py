"""Every registered model's oracle case: deterministic under its seed, and following the format's conventions
(losses/total is the differentiated loss; every grads/<path> has a params/<path> of the same shape)."""

import numpy as np
import pytest

from minidsn.oracle import conformance_notes
from minidsn.oracle.export import make_case

MODELS = ["mlp", "dnm", "diffrnn", "diffrnn-ff", "urn", "isotropic", "dmm"]


@pytest.mark.parametrize("model", MODELS)
def test_oracle_case_is_deterministic_and_conforms(model):
    arrays, meta = make_case(model, seed=3)
    again, _ = make_case(model, seed=3)
    assert set(arrays) == set(again)
    for k in arrays:
        np.testing.assert_array_equal(arrays[k], again[k], err_msg=k)
        assert arrays[k].dtype == np.float64, k
    assert conformance_notes(arrays) == [], conformance_notes(arrays)
    assert "losses/total" in arrays and arrays["losses/total"].shape == ()
    assert any(k.startswith("grads/") for k in arrays)
    other, _ = make_case(model, seed=4)
    assert any(not np.array_equal(arrays[k], other[k]) for k in arrays if k.startswith("params/") and k in other)

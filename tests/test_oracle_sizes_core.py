"""Oracle cases of mlp, dnm and urn at their smallest, default and a large allowed size (issue 13, item 5; the other
three models are in test_oracle_model_sizes.py): every array finite, gradients that do not vanish, and the same
case again from the same seed (deterministic)."""

import numpy as np
import pytest

from minidsn.oracle.export import make_case

# urn on the grid needs S to be a whole number of 10-neuron input planes: 20 is the smallest with an output plane
SIZES = [
    ("mlp", {"hidden": [1]}), ("mlp", {}), ("mlp", {"hidden": [256, 256, 256]}),
    ("dnm", {"n_neurons": 9}), ("dnm", {}), ("dnm", {"n_neurons": 120}),
    ("dnm", {"n_neurons": 9, "variant": "text"}), ("dnm", {"n_neurons": 120, "variant": "text"}),
    ("urn", {"n_neurons": 20, "oracle_n_neurons": 0}), ("urn", {}), ("urn", {"n_neurons": 400, "oracle_n_neurons": 0}),
]


@pytest.mark.parametrize("model,config", SIZES, ids=[f"{m}-{c}" for m, c in SIZES])
def test_single_case_exports_at_every_size(model, config):
    arrays, meta = make_case(model, seed=1, config=config)
    assert all(np.all(np.isfinite(a)) for a in arrays.values())
    grads = [a for k, a in arrays.items() if k.startswith("grads/")]
    assert grads and any(np.abs(a).max() > 1e-8 for a in grads), "gradients vanish: the case checks nothing"
    again, _ = make_case(model, seed=1, config=config)
    assert all(np.array_equal(again[k], arrays[k]) for k in arrays)

"""Options minidsn has and this backend does not build are refused by name, not computed as something else."""

import pytest

from minidsn_jax.dmm.oracle import DMMBackend
from minidsn_jax.dnm.net import resolve


@pytest.mark.parametrize("cfg", [{"variant": "text_full"}, {"variant": "text", "activation": "sigmoid"},
                                 {"variant": "text", "closeness_range": "unsigned"}, {"c_time": 0.1}])
def test_dnm_refuses_what_it_does_not_build(cfg):
    with pytest.raises(NotImplementedError, match="not implemented"):
        resolve(cfg)


def test_dnm_accepts_its_variants():
    assert resolve({"variant": "faithful"})["square_outputs"] is True
    assert resolve({"variant": "text", "activation": "leaky_relu", "closeness_range": "signed", "c_time": 0.0})[
        "square_outputs"] is False


@pytest.mark.parametrize("network", ["compare-free", "recurrent"])
def test_dmm_refuses_other_start_networks(network):
    with pytest.raises(NotImplementedError, match=network):
        DMMBackend().setup({"config": {"network": network, "string": "test string.", "n_cycles": 140,
                                       "n_layers": 5, "n_per_layer": 2}})

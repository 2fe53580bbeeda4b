"""Every model of minidsn_jax (jax-a's part) against minidsn's version-1 oracle cases (one state: outputs, losses,
gradients), at the format's default tolerances (rtol 1e-7, atol 1e-12; docs/oracle.md, "Compare").

The cases are made fresh by minidsn.oracle.make_case, so a change on either side shows here.
"""

import pytest

from minidsn.oracle import compare_arrays, make_case
from minidsn_jax import dnm, isotropic, mlp, urn  # noqa: F401
from minidsn_jax.dnm import net as dnm_net
from minidsn_jax.isotropic import net as iso_net
from minidsn_jax.mlp import net as mlp_net
from minidsn_jax.oracle_adapter import replay_single_state_case
from minidsn_jax.urn import net as urn_net

# (model, config overrides, loss_and_grads)
CASES = {
    "mlp": ("mlp", {}, mlp_net.loss_and_grads),
    "mlp-relu-l2": ("mlp", {"activation": "relu", "l2": 0.01, "hidden": [7, 5, 3]}, mlp_net.loss_and_grads),
    "dnm-faithful": ("dnm", {"variant": "faithful"}, dnm_net.loss_and_grads),
    "dnm-text": ("dnm", {"variant": "text"}, dnm_net.loss_and_grads),
    "dnm-mean_abs": ("dnm", {"variant": "text", "sparsity": "mean_abs"}, dnm_net.loss_and_grads),
    # minidsn's v1 urn case turns on the grid and c_syn = 1e-3 whatever the config says (its meta records the
    # config, not the forced values); the overrides make the config say what the case does.
    "urn": ("urn", {"geometry": "grid", "c_syn": 1e-3}, urn_net.loss_and_grads),
    "urn-residual": ("urn", {"geometry": "grid", "c_syn": 1e-3, "residual_out": True, "residual_in": True,
                             "n_neurons": 60}, urn_net.loss_and_grads),
    "urn-tanh-sum": ("urn", {"geometry": "grid", "c_syn": 1e-3, "phi": "tanh", "activity_reduction": "sum",
                             "syn_pairs": "upper", "n_neurons": 60}, urn_net.loss_and_grads),
    "isotropic": ("isotropic", {}, iso_net.loss_and_grads),
    "isotropic-code-guard": ("isotropic", {"guard": "code"}, iso_net.loss_and_grads),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_v1_case(name):
    model, config, fn = CASES[name]
    arrays, meta = make_case(model, seed=0, config=config)
    answer = replay_single_state_case(arrays, meta, fn)
    report = compare_arrays(arrays, answer)
    assert report.ok, report.format()

"""Every model and variant of jax-a's part of minidsn_jax against minidsn's trajectory cases (oracle format 2),
through the conformance kit (minidsn.oracle.conformance) at its default float64 tolerances.

Each case is recorded fresh by minidsn (make_trajectory, with minidsn's own bit-for-bit replay check off: that is
minidsn's test, not ours) and replayed step by step, each step from minidsn's recorded state. A case that cannot
pass fails here with the kit's report; none is skipped.
"""

import pytest

from minidsn.oracle.conformance import verify_arrays
from minidsn.oracle.export import make_trajectory

from minidsn_jax.dnm.kit import Backend as DNMBackend
from minidsn_jax.isotropic.kit import Backend as IsotropicBackend
from minidsn_jax.mlp.kit import Backend as MLPBackend
from minidsn_jax.urn.kit import Backend as URNBackend

ISO_MODES = [(o, p) for o in ("none", "constant", "trainable")
             for p in ("none", "zeros", "trainable", "trainable_decay", "expectation")]

# name -> (model, steps, config overrides, backend class)
CASES = {
    "mlp": ("mlp", 5, {}, MLPBackend),
    "mlp-relu-l2": ("mlp", 4, {"activation": "relu", "l2": 0.01}, MLPBackend),
    "dnm-faithful": ("dnm", 6, {"variant": "faithful"}, DNMBackend),
    "dnm-text": ("dnm", 6, {"variant": "text"}, DNMBackend),
    "dnm-algorithm1-mean_abs": ("dnm", 4, {"adam_eps_form": "algorithm1", "sparsity": "mean_abs"}, DNMBackend),
    "urn": ("urn", 4, {}, URNBackend),
    "urn-residual-out": ("urn", 4, {"residual_out": True}, URNBackend),
    "urn-residual-in": ("urn", 4, {"residual_in": True}, URNBackend),
    "urn-no-syn": ("urn", 4, {"c_syn": 0.0, "geometry": "none"}, URNBackend),
    "urn-sum-upper-leaky": ("urn", 4, {"activity_reduction": "sum", "syn_pairs": "upper", "phi": "leaky_relu"},
                            URNBackend),
    "urn-three-shells": ("urn", 4, {"shells": [[1.0, 1.5], [2.0, 2.5], [3.0, 3.5]]}, URNBackend),  # 3 outputs
    **{f"isotropic-o_{o}-psi_{p}": ("isotropic", 4, {"o_mode": o, "psi_mode": p}, IsotropicBackend)
       for o, p in ISO_MODES},
    "isotropic-code-guard": ("isotropic", 4, {"guard": "code"}, IsotropicBackend),
    "isotropic-o-not-positive": ("isotropic", 4, {"o_positive": False}, IsotropicBackend),
}


@pytest.mark.parametrize("name", list(CASES))
def test_trajectory_case(name):
    model, steps, config, backend = CASES[name]
    arrays, meta = make_trajectory(model, steps, seed=0, config=config, check_replay=False)
    kinds = {e["kind"] for s in meta["steps"] for e in s["events"]}
    report = verify_arrays(arrays, meta, backend(), case=name)
    assert report.ok, report.format()
    if model == "isotropic":  # the default case must show every structural event it is built for
        assert {"diagonalise", "neurogenesis", "neurodegeneration"} <= kinds, kinds

"""Models, one module per model (mlp, dnm, diffrnn, urn, isotropic, dmm).

Modules are imported lazily through the registry in minidsn.models.api (get_model / list_models), so this package
imports none of them: a missing or broken model never breaks the others.
"""

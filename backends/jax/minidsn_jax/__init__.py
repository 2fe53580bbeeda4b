"""minidsn_jax: an independent JAX implementation of minidsn's models, checked against minidsn's oracle.

Layout (one subpackage per model, each written from the seeds in ../shared/seeds and the notes in ../shared/notes,
never by translating minidsn's modules):

    minidsn_jax/mlp/         the multilayer perceptron (the kit's worked example)
    minidsn_jax/dnm/         DNM (Woods), variants "faithful" and "text"
    minidsn_jax/urn/         URN (Golkar)
    minidsn_jax/isotropic/   isotropic networks (Bird)
    minidsn_jax/diffrnn/     DiffRNN (Miconi)
    minidsn_jax/dmm/         Dataflow Matrix Machines (Bukatin)
    minidsn_jax/optim.py     Adam and Adagrad as pure functions on pytrees (shared by the models)
    minidsn_jax/oracle_adapter.py   turns a model into the conformance kit's backend functions

Importing this package turns on float64 (``jax_enable_x64``): every model computes in float64, as the oracle does.
The only minidsn modules this package may import are ``minidsn.oracle`` and ``minidsn.runs``
(tests/test_independence.py checks it).
"""

import jax

jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

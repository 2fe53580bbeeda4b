"""Isotropic networks (seed 003, G. Bird): isotropic activations, diagonalisation, neurogenesis, neurodegeneration.

activation.py    the isotropic activation (o, psi) and its guards near 0
net.py           the network forward pass
state.py         edits of parameters and optimiser moments together
ops.py           diagonalisation, neurogenesis, neurodegeneration, resizing
experiments.py   the invariance table and the sparsification figures
data.py          MNIST / CIFAR-10
report.py        width-change curves (python -m minidsn.models.isotropic.report)
model.py         the registered model
"""

"""Activation functions as stable engine primitives (rules in minidsn/numpy/_table.py).

- relu(x) = max(x, 0), gradient 0 at 0.
- leaky_relu(x, negative_slope) = x for x > 0 else negative_slope * x (DNM uses slope 0.2: seed 000, notebooks).
- softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|) (finite at +-1000); d/dx = sigmoid(x).
- sigmoid = scipy.special.expit, two-branch stable.
"""

from minidsn.numpy._table import expit as sigmoid
from minidsn.numpy._table import leaky_relu, relu, softplus

__all__ = ["relu", "leaky_relu", "softplus", "sigmoid"]

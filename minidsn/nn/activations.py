"""Activation functions as stable engine primitives (rules in minidsn/numpy/_table.py).

- relu(x) = max(x, 0), gradient 0 at 0.
- leaky_relu(x, negative_slope) = x for x > 0 else negative_slope * x (DNM uses slope 0.2: seed 000, notebooks).
- softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^-|x|) (finite at +-1000); d/dx = sigmoid(x).
- sigmoid = scipy.special.expit, two-branch stable.

No function is defined in this module (they are the engine primitives of minidsn/numpy/_table.py, where their rules
live), so tests/test_citations.py has nothing to check here. Where a model's use comes from: DNM's leaky_relu is
Miej/Dynamic_Neural_Manifold@873268a dynamic_neural_manifold-toy_dataset.ipynb cell 0 l. 206-214 (tf.nn.leaky_relu
with TensorFlow's default alpha 0.2).
"""

from minidsn.numpy._table import expit as sigmoid
from minidsn.numpy._table import leaky_relu, relu, softplus

__all__ = ["relu", "leaky_relu", "softplus", "sigmoid"]

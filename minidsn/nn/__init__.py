"""Neural-network building blocks shared by the models: activations (and, in regularizers.py, penalty terms)."""

from minidsn.nn.activations import leaky_relu, relu, sigmoid, softplus

__all__ = ["relu", "leaky_relu", "softplus", "sigmoid"]

"""Testing tools: the finite-difference gradient checker (also run by `minidsn selfcheck`)."""

from minidsn.testing.gradcheck import GradientCheckError, check_grads

__all__ = ["check_grads", "GradientCheckError"]

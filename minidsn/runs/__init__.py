"""Runs: config validation, the run loop, checkpoints, metrics, progress line, plots and the model registry.

The model interface lives in minidsn.models.api (Model, Option, register_model, get_model, list_models); it is
re-exported here so that a backend outside minidsn (backends/jax) can run its models through this harness while
importing nothing of minidsn's models.
"""

from minidsn.models.api import ConfigError, Model, Option, get_model, register_model

__all__ = ["ConfigError", "Model", "Option", "get_model", "register_model"]

"""Runs: config validation, the run loop, checkpoints, metrics, progress line, plots and the model registry.

The model interface lives in minidsn.models.api (Model, Option, register_model, get_model, list_models).
"""

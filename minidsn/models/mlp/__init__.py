"""A plain MLP on synthetic data: the smallest model, used to test the harness and the oracle.

model.py   the registered model
"""

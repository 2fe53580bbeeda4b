"""Test setup: float64 on (importing minidsn_jax does it) and JAX on the CPU with one thread of XLA's own pool."""

import os

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("XLA_FLAGS", "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1")

import jax  # noqa: E402

import minidsn_jax  # noqa: E402,F401  (enables float64)


def pytest_configure(config):
    assert jax.config.jax_enable_x64, "minidsn_jax must run in float64"

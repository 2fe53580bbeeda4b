"""Shared pytest configuration: a derandomised, bounded hypothesis profile for CI and default runs."""

import os
import signal
import subprocess

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.register_profile(
    "thorough",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def spawn():
    """subprocess.Popen in a session of its own; at teardown a process still running is killed with its whole
    group (a sweep's workers included), so a test that fails while a long run is going leaves nothing behind."""
    procs = []

    def start(*args, **kwargs):
        p = subprocess.Popen(*args, start_new_session=True, **kwargs)
        procs.append(p)
        return p

    yield start
    for p in procs:
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            p.wait()

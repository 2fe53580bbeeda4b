"""Deferred Ctrl-C / SIGTERM: a signal during a step (or an evaluation, or a checkpoint write) is held until the
step boundary, where the run loop stops cleanly.

Why: a KeyboardInterrupt raised inside a Numba kernel surfaces as a SystemError and loses the step; one raised
inside a periodic evaluation loses that evaluation's metrics line.  Holding it to the boundary makes every stop
land on a committed step, so the resumed run equals the uninterrupted one.

A *second* signal at least ``FORCE_AFTER_S`` seconds after the first raises KeyboardInterrupt at once (for a step
that takes too long); the harness then saves the last completed step.  Signals arriving closer together are one
event: a terminal's Ctrl-C reaches every process of the group, a scheduler may send SIGTERM to each of them.
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from contextlib import contextmanager

__all__ = ["DeferredInterrupts", "deferred_interrupts", "FORCE_AFTER_S", "stop_requested"]

FORCE_AFTER_S = 0.5
_stop_in_worker = False  # a worker process (not the main one) that was told to stop starts no further run


def _in_child_process() -> bool:
    import multiprocessing

    return multiprocessing.parent_process() is not None


def stop_requested() -> bool:
    """True in a worker process (a sweep's pool worker) after a stop signal: a seed queued to it after the sweep
    was stopped must not start (the main process is never marked: a later run there starts normally)."""
    return _stop_in_worker


class DeferredInterrupts:
    """State of the held signal: ``pending`` (signal number or None), ``forced`` (a second signal raised)."""

    def __init__(self, stream=None, on_first=None):
        self.pending: int | None = None
        self.forced = False
        self._t_first = 0.0
        self._stream = stream
        self._on_first = on_first

    def handler(self, signum, frame):
        global _stop_in_worker
        if _in_child_process():
            _stop_in_worker = True
        now = time.monotonic()
        if self.pending is None:
            self.pending, self._t_first = signum, now
            print(f"\n{signal.Signals(signum).name}: stopping after the current step "
                  f"(press Ctrl-C again to stop at once)", file=self._stream or sys.stderr)
            if self._on_first is not None:
                self._on_first(signum)
            return
        if now - self._t_first >= FORCE_AFTER_S:
            self.forced = True
            raise KeyboardInterrupt

    def check(self) -> None:
        """At a step boundary: raise KeyboardInterrupt when a signal is held."""
        if self.pending is not None:
            raise KeyboardInterrupt


@contextmanager
def deferred_interrupts(stream=None, on_first=None):
    """Hold SIGINT and SIGTERM inside the block (main thread only; elsewhere signals keep their handlers and the
    yielded object never holds anything)."""
    state = DeferredInterrupts(stream, on_first)
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    old = {}
    try:
        for sig in (signal.SIGINT, signal.SIGTERM):
            try:
                old[sig] = signal.signal(sig, state.handler)
            except (ValueError, OSError):
                pass
        yield state
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)

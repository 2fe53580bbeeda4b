"""A one-line live progress display (step, rate, ETA, main metrics), shown only when stderr is a terminal."""

from __future__ import annotations

import sys
import time


def _fmt_duration(s: float) -> str:
    if s != s or s == float("inf"):
        return "?"
    s = int(round(s))
    h, rem = divmod(s, 3600)
    m, sec = divmod(rem, 60)
    return f"{h}h{m:02d}m" if h else (f"{m}m{sec:02d}s" if m else f"{sec}s")


class Progress:
    """``update(done, metrics)`` redraws at most every ``interval`` seconds; ``close()`` ends the line.

    ``enabled=None`` means: on when ``stream.isatty()`` (so piped output stays clean).
    """

    def __init__(self, total: int, start: int = 0, enabled: bool | None = None, stream=None, interval: float = 0.2,
                 max_metrics: int = 3):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.total, self.start = total, start
        self.interval, self.max_metrics = interval, max_metrics
        self.t0 = time.monotonic()
        self._last_draw = -1e9
        self._width = 0

    def line(self, done: int, metrics: dict) -> str:
        elapsed = time.monotonic() - self.t0
        rate = (done - self.start) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - done) / rate if rate > 0 else float("nan")
        parts = [f"step {done}/{self.total}", f"{rate:.3g} it/s", f"ETA {_fmt_duration(eta)}"]
        for k, v in list(metrics.items())[: self.max_metrics]:
            parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
        return "  ".join(parts)

    def update(self, done: int, metrics: dict, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last_draw < self.interval and done < self.total:
            return
        self._last_draw = now
        text = self.line(done, metrics)
        pad = max(0, self._width - len(text))
        self._width = len(text)
        self.stream.write("\r" + text + " " * pad)
        self.stream.flush()

    def close(self) -> None:
        if self.enabled and self._width:
            self.stream.write("\n")
            self.stream.flush()
            self._width = 0

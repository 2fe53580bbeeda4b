"""Progress of a sweep: one line per running seed (step, loss, ETA) and a sweep total, redrawn on a terminal.

Where the progress comes from depends on the executor: Dask workers send events (step, metrics); local worker
processes are read from each running seed's metrics.jsonl (written every log_every steps). When the stream is not a
terminal, only finished seeds are printed, one line each, so logs stay readable.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from minidsn.runs.progress import _fmt_duration

__all__ = ["SweepProgress"]


class SweepProgress:
    def __init__(self, seeds: list[int], steps: dict[int, int], stream=None, enabled: bool | None = None,
                 interval: float = 0.5):
        self.stream = stream if stream is not None else sys.stderr
        if enabled is None:
            isatty = getattr(self.stream, "isatty", None)
            enabled = bool(isatty and isatty())
        self.enabled = enabled
        self.seeds, self.steps = list(seeds), dict(steps)
        self.state: dict[int, dict] = {}     # seed -> {"step", "metrics", "t0", "step0"}
        self.finished: dict[int, str] = {}   # seed -> status
        self.t0 = time.monotonic()
        self.interval = interval
        self._last = -1e9
        self._lines = 0

    # --- inputs ---------------------------------------------------------------------------------------------
    def seed_event(self, seed: int, step: int, metrics: dict | None = None) -> None:
        now = time.monotonic()
        st = self.state.get(seed)
        if st is None:
            st = self.state[seed] = {"t0": now, "step0": step, "step": step, "metrics": {}}
        st["step"], st["metrics"] = step, dict(metrics or {})

    def poll_metrics(self, dirs: dict[int, Path]) -> None:
        """Read the newest metrics line of each running seed's folder (local processes)."""
        for seed, d in dirs.items():
            if seed in self.finished:
                continue
            f = Path(d) / "metrics.jsonl"
            try:
                with open(f, "rb") as fh:
                    fh.seek(0, 2)
                    size = fh.tell()
                    fh.seek(max(0, size - 4096))
                    tail = fh.read().decode("utf-8", "replace").splitlines()
            except OSError:
                continue
            for raw in reversed(tail):
                try:
                    d_ = json.loads(raw)
                except json.JSONDecodeError:
                    continue
                if isinstance(d_, dict) and isinstance(d_.get("step"), int):
                    metrics = {k: v for k, v in d_.items() if k != "step" and not k.startswith("eval/")}
                    self.seed_event(seed, d_["step"], dict(list(metrics.items())[:2]))
                    break

    def seed_done(self, seed: int, status: str, message: str = "") -> None:
        self.finished[seed] = status
        self.state.pop(seed, None)
        if not self.enabled:
            n = len(self.finished)
            extra = f" ({message})" if message else ""
            print(f"seed {seed}: {status}{extra}  [{n}/{len(self.seeds)} seeds done]", file=self.stream, flush=True)
        self.draw(force=True)

    # --- output ---------------------------------------------------------------------------------------------
    def lines(self) -> list[str]:
        now = time.monotonic()
        out = []
        for seed in self.seeds:
            st = self.state.get(seed)
            if st is None or seed in self.finished:
                continue
            total = self.steps.get(seed, 0)
            rate = (st["step"] - st["step0"]) / (now - st["t0"]) if now > st["t0"] else 0.0
            eta = (total - st["step"]) / rate if rate > 0 else float("nan")
            m = "  ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in st["metrics"].items())
            out.append(f"  seed {seed}: step {st['step']}/{total}  ETA {_fmt_duration(eta)}  {m}".rstrip())
        done = len(self.finished)
        failed = sum(s not in ("completed",) for s in self.finished.values())
        elapsed = now - self.t0
        eta = elapsed / done * (len(self.seeds) - done) if done else float("nan")
        out.append(f"sweep: {done}/{len(self.seeds)} seeds done ({failed} not completed), {len(self.state)} running,"
                   f" {_fmt_duration(elapsed)} elapsed, ETA {_fmt_duration(eta)}")
        return out

    def draw(self, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        text = self.lines()
        up = f"\x1b[{self._lines}F" if self._lines else ""
        self.stream.write(up + "".join("\x1b[2K" + t + "\n" for t in text))
        # clear lines left over from a longer previous frame
        for _ in range(max(0, self._lines - len(text))):
            self.stream.write("\x1b[2K\n")
        self._lines = max(len(text), self._lines)
        self.stream.flush()

    def close(self) -> None:
        self.draw(force=True)

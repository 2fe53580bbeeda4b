"""PNG plots of a run's metric curves, when matplotlib is installed (extra `plot`); otherwise said once and skipped."""

from __future__ import annotations

import re

import sys
from pathlib import Path

_warned = False


def matplotlib_available() -> bool:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def warn_plots_skipped(stream=None) -> None:
    """Say once per process that plots are skipped."""
    global _warned
    if not _warned:
        _warned = True
        print("matplotlib is not installed: plots skipped (pip install 'minidsn[plot]')", file=stream or sys.stderr)


def plot_curves(lines: list[dict], out_dir) -> list[Path]:
    """One PNG per metric (x = step) from metrics.jsonl lines; returns the written paths ([] without matplotlib)."""
    if not matplotlib_available():
        warn_plots_skipped()
        return []
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    series: dict[str, tuple[list, list]] = {}
    for line in lines:
        for k, v in line.items():
            if k == "step" or not isinstance(v, (int, float)) or isinstance(v, bool):
                continue
            xs, ys = series.setdefault(k, ([], []))
            xs.append(line["step"])
            ys.append(v)
    written = []
    for k, (xs, ys) in series.items():
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot(xs, ys, marker="." if len(xs) < 30 else None)
        if all(y > 0 for y in ys) and max(ys) / min(ys) > 100:
            ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel(k)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        path = out_dir / f"{_file_stem(k)}.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        written.append(path)
    return written


def _file_stem(metric: str) -> str:
    """A portable file name for a metric: anything but letters, digits, '-', '_' and '.' becomes '_'."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", metric).strip("_") or "metric"

"""Resident memory of a running `minidsn run` process, sampled from outside, and its plot (issue 21).

    python bench/rss_watch.py sample PID RUN_DIR OUT.tsv [--every 15]   # until PID exits; appends to OUT.tsv
    python bench/rss_watch.py summary OUT.tsv [MORE.tsv ...] [--evals 5000,10000,...]
    python bench/rss_watch.py plot OUT.tsv [MORE.tsv ...] --png memory.png   # needs matplotlib

`sample` writes one line every `--every` seconds: unix time, VmRSS and VmHWM in kB (/proc/PID/status) and the last
step in RUN_DIR/metrics.jsonl, so the long URN runs can be watched without touching the run (bench/memory.py runs
its cases in a child it controls instead). One file per process: a run resumed in a new process starts a new file.

`summary` prints per file (leading samples of a resumed process, still at its predecessor's last step, are
its start-up and left out) the steps covered, the resident size between checkpoints and evaluations (the median of
the samples, which sit mostly between them), its range, the warm-up level (the median of the samples after the
first evaluation, or after the first 10% of the file's steps if it has none), the end level (the median of the
last 10% of the samples before the final evaluation starts) and their ratio (the issue's goal: <= 1.05), and the
high-water mark.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np


def _status(pid: int) -> tuple[int, int] | None:
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    if any(line.startswith("State:") and line.split()[1] in ("Z", "X") for line in text.splitlines()):
        return None  # exited (a zombie until its parent reaps it)
    vals = {line.split(":")[0]: int(line.split()[1]) for line in text.splitlines()
            if line.startswith(("VmRSS:", "VmHWM:"))}
    return vals.get("VmRSS", 0), vals.get("VmHWM", 0)


def _last_step(run_dir: Path) -> str:
    try:
        with open(run_dir / "metrics.jsonl", "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 4096))
            lines = f.read().decode("utf-8", "replace").splitlines()
        return str(json.loads(lines[-1])["step"]) if lines else ""
    except (OSError, ValueError, KeyError, IndexError):
        return ""


def sample(pid: int, run_dir: Path, out: Path, every: float) -> None:
    new = not out.exists()
    with open(out, "a") as f:
        if new:
            f.write("time\trss_kb\thwm_kb\tlast_logged_step\n")
        while (st := _status(pid)) is not None:
            f.write(f"{int(time.time())}\t{st[0]}\t{st[1]}\t{_last_step(run_dir)}\n")
            f.flush()
            time.sleep(every)


def read_tsv(path: Path) -> dict[str, np.ndarray]:
    """Columns of a sample file (rows without a logged step yet are dropped)."""
    rows = []
    for line in Path(path).read_text().splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 4 and parts[1].strip() and parts[3].strip():
            rows.append([float(p) for p in parts])
    if not rows:
        raise ValueError(f"{path}: no samples with a logged step")
    a = np.array(rows)
    # a resumed process starts with the step its predecessor logged last: those first samples are its start-up
    # (imports, loading the checkpoint), not the run
    moved = np.nonzero(a[:, 3] != a[0, 3])[0]
    if moved.size:
        a = a[moved[0]:]
    return {"time": a[:, 0], "rss_mb": a[:, 1] / 1024, "hwm_mb": a[:, 2] / 1024, "step": a[:, 3].astype(int)}


def summarise(path: Path, evals: list[int]) -> dict:
    s = read_tsv(path)
    step, rss = s["step"], s["rss_mb"]
    first, last = int(step.min()), int(step.max())
    inside = [e for e in evals if first < e <= last]
    warm_from = inside[0] if inside else first + (last - first) // 10
    final = max(evals) if evals and max(evals) <= last else last + 1
    body = rss[step < final] if np.any(step < final) else rss
    warm = np.median(rss[(step >= warm_from) & (step < final)]) if np.any((step >= warm_from) & (step < final)) \
        else np.median(body)
    tail = body[-max(1, len(body) // 10):]
    end = float(np.median(tail))
    return {"file": str(path), "steps": (first, last), "samples": len(rss), "minutes": (s["time"][-1] - s["time"][0]) / 60,
            "median_mb": float(np.median(body)), "min_mb": float(body.min()), "max_mb": float(rss.max()),
            "warm_from_step": warm_from, "warm_mb": float(warm), "end_mb": end, "end_over_warm": end / float(warm),
            "hwm_mb": float(s["hwm_mb"].max())}


def plot(paths: list[Path], png: Path, evals: list[int]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(9, 4))
    for i, p in enumerate(paths):
        s = read_tsv(p)
        ax.plot(s["step"], s["rss_mb"], ".", ms=2, label=f"resident, process {i + 1} ({Path(p).name})")
        ax.plot(s["step"], s["hwm_mb"], "-", lw=0.8, alpha=0.6, label=f"high-water mark, process {i + 1}")
    for e in evals:
        ax.axvline(e, color="grey", lw=0.5, ls=":")
    ax.set_xlabel("step (last logged; dotted: evaluations)")
    ax.set_ylabel("MB")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("sample")
    a.add_argument("pid", type=int)
    a.add_argument("run_dir", type=Path)
    a.add_argument("out", type=Path)
    a.add_argument("--every", type=float, default=15.0)
    for name in ("summary", "plot"):
        b = sub.add_parser(name)
        b.add_argument("files", nargs="+", type=Path)
        b.add_argument("--evals", default="", help="evaluation steps, comma-separated")
        if name == "plot":
            b.add_argument("--png", type=Path, required=True)
    args = ap.parse_args(argv)
    if args.cmd == "sample":
        sample(args.pid, args.run_dir, args.out, args.every)
        return 0
    evals = [int(x) for x in args.evals.split(",") if x.strip()]
    if args.cmd == "plot":
        try:
            plot(args.files, args.png, evals)
        except ImportError:
            print("matplotlib is not installed: pip install 'minidsn[plot]'", file=sys.stderr)
            return 1
        return 0
    print(f"{'file':<28} {'steps':>13} {'minutes':>7} {'median MB':>9} {'range MB':>11} {'warm MB':>8} {'@step':>6} "
          f"{'end MB':>7} {'end/warm':>8} {'HWM MB':>7}")
    for p in args.files:
        r = summarise(p, evals)
        print(f"{Path(p).name:<28} {r['steps'][0]:>6}-{r['steps'][1]:<6} {r['minutes']:>7.0f} {r['median_mb']:>9.0f} "
              f"{r['min_mb']:>5.0f}-{r['max_mb']:<5.0f} {r['warm_mb']:>8.0f} {r['warm_from_step']:>6} "
              f"{r['end_mb']:>7.0f} {r['end_over_warm']:>8.3f} {r['hwm_mb']:>7.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

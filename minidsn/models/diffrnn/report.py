"""Summaries of DiffRNN reference runs over seeds: median and inter-quartile range of size and smoothed loss.

    python -m minidsn.models.diffrnn.report reference_runs/diffrnn-hard [reference_runs/diffrnn-easy ...]
        [--compare OUT.png]

Reads every ``<dir>/seed-*/metrics.jsonl`` (written by the run harness), aligns the training lines by step, and
writes ``<dir>/curves.csv`` (step, n_seeds, median / 25th / 75th percentile of hidden_size and smooth_loss) and
prints a table at a few cycle counts (the paper's figures show medians and IQR over 20 runs, note "G2 model").
A plot (``<dir>/curves.png``) is drawn when matplotlib is installed; ``--compare OUT.png`` also draws the smoothed
loss of all the given runs in one figure (the fixed sizes against the variable-size network, paper figure 2).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

__all__ = ["load_seed_curves", "summarise", "main"]

KEYS = ("hidden_size", "smooth_loss")


def load_seed_curves(run_dir):
    """{seed name: {step: {key: value}}} from the training lines of each seed's metrics.jsonl.

    Source: none (reads run folders)
    """
    out = {}
    for d in sorted(Path(run_dir).glob("seed-*")):
        f = d / "metrics.jsonl"
        if not f.exists():
            continue
        rows = {}
        for line in f.read_text().splitlines():
            rec = json.loads(line)
            if all(k in rec for k in KEYS):
                rows[int(rec["step"])] = {k: float(rec[k]) for k in KEYS}
        if rows:
            out[d.name] = rows
    return out


def summarise(run_dir):
    """Rows (step, n, median/q25/q75 per key) over the steps every loaded seed has; also writes curves.csv.

    Source: seed 001 Fig. 1 (median and inter-quartile range over 20 runs: the statistic computed here)
    """
    curves = load_seed_curves(run_dir)
    if not curves:
        raise FileNotFoundError(f"no seed-*/metrics.jsonl with {KEYS} under {run_dir}")
    steps = sorted(set.intersection(*(set(c) for c in curves.values())))
    rows = []
    for s in steps:
        row = {"step": s, "n": len(curves)}
        for k in KEYS:
            v = np.array([c[s][k] for c in curves.values()])
            row[f"{k}_median"] = float(np.median(v))
            row[f"{k}_q25"] = float(np.percentile(v, 25))
            row[f"{k}_q75"] = float(np.percentile(v, 75))
        rows.append(row)
    cols = list(rows[0])
    text = ",".join(cols) + "\n" + "".join(",".join(f"{r[c]:.6g}" for c in cols) + "\n" for r in rows)
    Path(run_dir, "curves.csv").write_text(text)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        plt = None
    if plt is not None:
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        x = np.array([r["step"] for r in rows])
        for ax, k in zip(axes, KEYS):
            ax.plot(x, [r[f"{k}_median"] for r in rows], color="k")
            ax.fill_between(x, [r[f"{k}_q25"] for r in rows], [r[f"{k}_q75"] for r in rows], alpha=0.3)
            ax.set_xlabel("cycle")
            ax.set_ylabel(k)
        fig.suptitle(f"{Path(run_dir).name}: median and IQR over {rows[0]['n']} seeds")
        fig.tight_layout()
        fig.savefig(Path(run_dir, "curves.png"), dpi=100)
        plt.close(fig)
    return rows


def compare_plot(rows_by_dir: dict, out, key="smooth_loss") -> bool:
    """One figure with the median and IQR of ``key`` of several runs ({run dir: summarise(run dir)}; e.g. the fixed
    sizes against the variable-size network on the hard task, as the paper's figure 2); returns False when matplotlib
    is missing.

    Source: seed 001 Fig. 2 (fixed sizes against the variable-size network, hard task)
    """
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    for run_dir, rows in rows_by_dir.items():
        x = np.array([r["step"] for r in rows])
        line, = ax.plot(x, [r[f"{key}_median"] for r in rows], label=f"{Path(run_dir).name} ({rows[0]['n']} seeds)")
        ax.fill_between(x, [r[f"{key}_q25"] for r in rows], [r[f"{key}_q75"] for r in rows], alpha=0.2,
                        color=line.get_color())
    ax.set_xlabel("cycle")
    ax.set_ylabel(key)
    ax.legend(fontsize=8)
    ax.set_title(f"{key}: median and inter-quartile range over seeds")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return True


def main(argv=None):
    """Source: none (command line)"""
    argv = list(sys.argv[1:] if argv is None else argv)
    compare = None
    if "--compare" in argv:  # --compare OUT.png: also one figure of all the given runs together
        i = argv.index("--compare")
        compare = argv[i + 1]
        del argv[i:i + 2]
    rows_by_dir = {run_dir: summarise(run_dir) for run_dir in argv}  # each run summarised (and drawn) once
    if compare and not compare_plot(rows_by_dir, compare):
        print("matplotlib is not installed: no comparison figure")
    for run_dir, rows in rows_by_dir.items():
        print(f"{run_dir}: {rows[0]['n']} seeds")
        print("   cycle   H median [IQR]       smooth loss median [IQR]")
        by_step = {r["step"]: r for r in rows}
        for s in (50_000, 100_000, 150_000, 200_000, 250_000, 300_000):
            r = by_step.get(s)
            if r:
                print(f"  {s:6d}   {r['hidden_size_median']:5.1f} [{r['hidden_size_q25']:.1f}, "
                      f"{r['hidden_size_q75']:.1f}]     {r['smooth_loss_median']:6.2f} [{r['smooth_loss_q25']:.2f}, "
                      f"{r['smooth_loss_q75']:.2f}]")


if __name__ == "__main__":
    main()

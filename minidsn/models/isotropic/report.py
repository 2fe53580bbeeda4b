"""Accuracy curves of the isotropic width-change runs (v1 experiment, seed 003 figure captions; note "Experiments").

    python -m minidsn.models.isotropic.report reference_runs [--out reference_runs/iso-width-curves.png]

Reads every ``<dir>/iso-width-{iso,tanh}-<a>to<b>/metrics.jsonl`` (the per-epoch evaluations the run harness
writes) and draws test accuracy against epoch, one panel per width change, isotropic against elementwise tanh, with
the start and end of the linear width schedule marked. Also prints a table (accuracy at the end of pretraining, the
lowest accuracy during the change, final accuracy, the largest one-epoch drop). Needs matplotlib for the figure.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

__all__ = ["load_curves", "main"]

_NAME = re.compile(r"iso-width-(iso|tanh)-(\d+)to(\d+)$")


def load_curves(root) -> dict:
    """{(start, target): {kind: {epoch: test accuracy}}} for every completed width run below ``root``.

    Source: none (reads run folders)
    """
    out: dict = {}
    for d in sorted(Path(root).iterdir()):
        m = _NAME.match(d.name)
        if not m or not (d / "summary.json").exists():
            continue
        acc = {}
        for line in (d / "metrics.jsonl").read_text().splitlines():
            rec = json.loads(line)
            if "eval/test_acc" in rec:
                acc[int(round(rec["eval/epochs"]))] = float(rec["eval/test_acc"])
        out.setdefault((int(m.group(2)), int(m.group(3))), {})[m.group(1)] = acc
    return out


def main(argv=None) -> int:
    """Source: seed 003 Fig. 3, Fig. 4, Fig. 5 (accuracy curves through width changes against the tanh control)"""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="folder holding the iso-width-* run folders")
    ap.add_argument("--out", default=None, help="PNG path (default <root>/iso-width-curves.png)")
    ap.add_argument("--pretrain", type=int, default=24)
    ap.add_argument("--schedule", type=int, default=48)
    args = ap.parse_args(argv)
    curves = load_curves(args.root)
    if not curves:
        print(f"no completed iso-width runs under {args.root}")
        return 1
    lo, hi = args.pretrain, args.pretrain + args.schedule
    for (a, b), kinds in curves.items():
        for kind, acc in sorted(kinds.items()):
            during = {e: v for e, v in acc.items() if lo < e <= hi}
            drops = [acc[e - 1] - acc[e] for e in range(lo + 1, hi + 1) if e in acc and e - 1 in acc]
            e_min = min(during, key=during.get) if during else None
            print(f"{kind:4s} {a:>2d} -> {b:<2d}  @{lo} {acc.get(lo, float('nan')):.4f}  "
                  f"min {during.get(e_min, float('nan')):.4f} (epoch {e_min})  final {acc[max(acc)]:.4f}  "
                  f"max one-epoch drop {max(drops) if drops else float('nan'):.4f}")
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure (pip install 'minidsn[plot]')")
        return 0
    # a grid: one row per start width, one column per target width (the diagonal is the fixed-width control)
    starts = sorted({a for a, _ in curves})
    targets = sorted({b for _, b in curves})
    fig, axes = plt.subplots(len(starts), len(targets), figsize=(3.2 * len(targets), 2.6 * len(starts)),
                             sharex=True, sharey=True, squeeze=False)
    for ax in axes.flat:
        ax.set_visible(False)
    for key in sorted(curves):
        ax = axes[starts.index(key[0])][targets.index(key[1])]
        ax.set_visible(True)
        for kind, style in (("iso", "-"), ("tanh", "--")):
            acc = curves[key].get(kind)
            if acc:
                ep = sorted(acc)
                ax.plot(ep, [acc[e] for e in ep], style, label="isotropic" if kind == "iso" else "elementwise tanh")
        ax.axvspan(lo, hi, color="0.9")
        ax.set_title(f"width {key[0]} -> {key[1]}", fontsize=9)
    for ax in axes[-1]:
        ax.set_xlabel("epoch")
    for row in axes:
        row[0].set_ylabel("test accuracy")
    next(ax for ax in axes.flat if ax.get_visible()).legend(fontsize=7)
    fig.tight_layout()
    out = Path(args.out) if args.out else Path(args.root) / "iso-width-curves.png"
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

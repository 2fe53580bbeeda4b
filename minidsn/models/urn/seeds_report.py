"""The URN seed records against seed 002: active-neuron count through training and final hidden layer sizes.

    python -m minidsn.models.urn.seeds_report reference_runs [--out reference_runs/urn-seeds.png]

Seed 002 Sec. 2 (l. 79) reports, over 5 trials at S = 5000 on the spheres task, 100% test accuracy and 123 +- 15
active neurons in hidden layers of 115 +- 15 / 4 +- 1.4 / 3 +- 0.7. This reads every completed seed folder
``<root>/<run>/seed-K`` of the 5-seed runs (``urn-spheres-before-phi``, ``urn-spheres-resout-before-phi`` by
default) and prints, per seed, the active count at each evaluation and the final hidden layer sizes (the run's own
evaluation, minidsn/models/urn/structure.py). With matplotlib it draws two panels: the active count against the
training step (log scale) with the seed's 123 +- 15 band, and the final size of each hidden layer per seed beside
the seed's figures. The numbers come from the run folders' metrics.jsonl and summary.json, nothing is recomputed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["SEED_ACTIVE", "SEED_HIDDEN", "load_seed_records", "format_records", "main"]

DEFAULT_RUNS = ("urn-spheres-before-phi", "urn-spheres-resout-before-phi")
# seed 002 l. 79: mean and standard deviation over 5 trials
SEED_ACTIVE = (123.0, 15.0)
SEED_HIDDEN = ((115.0, 15.0), (4.0, 1.4), (3.0, 0.7))


def load_seed_records(root, runs=DEFAULT_RUNS) -> dict:
    """{run: {seed: {"evals": [(step, n_active), ...], "hidden": [sizes of hidden layers 1..I], "test_acc": a}}}
    for every completed seed folder (summary.json status "completed") of each run below ``root``. A folder whose
    files cannot be read is an error naming it (a record is never silently dropped); unfinished seeds are skipped.

    Source: none (reads run folders; the read-out itself is minidsn/models/urn/structure.py)
    """
    out: dict = {}
    for run in runs:
        run_dir = Path(root) / run
        if not run_dir.is_dir():
            continue
        for seed_dir in sorted(run_dir.glob("seed-*"), key=lambda p: (len(p.name), p.name)):
            summary_path = seed_dir / "summary.json"
            if not seed_dir.is_dir() or not summary_path.exists():
                continue
            try:
                summary = json.loads(summary_path.read_text())
                if summary.get("status") != "completed":
                    continue
                final = summary["final"]
                evals = []
                for line in (seed_dir / "metrics.jsonl").read_text().splitlines():
                    rec = json.loads(line)
                    if "eval/n_active" in rec:
                        evals.append((int(rec["step"]), float(rec["eval/n_active"])))
                n_layers = sum(1 for k in final if k.startswith("hidden_layer_sizes_"))
                # index 0 is the input iteration (no hidden neuron is first active there); 1..I are the layers
                hidden = [int(final[f"hidden_layer_sizes_{i}"]) for i in range(1, n_layers)]
                seed = int(summary.get("seed", seed_dir.name.split("-", 1)[1]))
                out.setdefault(run, {})[seed] = {"evals": evals, "hidden": hidden,
                                                 "test_acc": float(final["test_acc"])}
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{seed_dir}: cannot read the seed record ({type(exc).__name__}: {exc})") from exc
    return out


def format_records(records: dict) -> str:
    """The printed table: one line per seed (test accuracy, active count at each evaluation, final hidden layers),
    then the seed's figures.

    Source: seed 002 l. 79 (the figures compared against)
    """
    lines = []
    for run, seeds in records.items():
        for seed, rec in sorted(seeds.items()):
            counts = ", ".join(f"{n:,.0f} ({s // 1000}k)" for s, n in rec["evals"])
            layers = " / ".join(str(h) for h in rec["hidden"])
            lines.append(f"{run} seed {seed}: test acc {rec['test_acc']:.3f}; active {counts}; hidden {layers}")
    m, s = SEED_ACTIVE
    lines.append(f"seed 002 (5 trials): active {m:.0f} +- {s:.0f}; hidden "
                 + " / ".join(f"{a:g} +- {b:g}" for a, b in SEED_HIDDEN))
    return "\n".join(lines)


def main(argv=None) -> int:
    """Source: seed 002 l. 79 (123 +- 15 active; hidden layers 115 +- 15 / 4 +- 1.4 / 3 +- 0.7)"""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("root", help="folder holding the run folders (reference_runs)")
    ap.add_argument("--runs", nargs="+", default=list(DEFAULT_RUNS), help="run folder names")
    ap.add_argument("--out", default=None, help="PNG path (default <root>/urn-seeds.png)")
    args = ap.parse_args(argv)
    try:
        records = load_seed_records(args.root, args.runs)
    except ValueError as exc:
        print(f"error: {exc}")
        return 1
    if not records:
        print(f"no completed seed folders of {', '.join(args.runs)} under {args.root}")
        return 1
    print(format_records(records))
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("matplotlib is not installed: no figure (pip install 'minidsn[plot]')")
        return 0
    fig, (ax_a, ax_l) = plt.subplots(1, 2, figsize=(11, 4.2))
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    m, s = SEED_ACTIVE
    ax_a.axhspan(m - s, m + s, color="0.85", label="seed 002: 123 +- 15")
    n_runs = len(records)
    for r, (run, seeds) in enumerate(records.items()):
        c = colours[r % len(colours)]
        for k, (seed, rec) in enumerate(sorted(seeds.items())):
            steps = [st for st, _ in rec["evals"]]
            ax_a.plot(steps, [n for _, n in rec["evals"]], "o-", color=c, alpha=0.75, ms=3,
                      label=run if k == 0 else None)
            # right panel: one marker per seed and layer, the runs side by side within a layer
            for i, h in enumerate(rec["hidden"]):
                x = i + 1 + (r - (n_runs - 1) / 2) * 0.25 + (k - 2) * 0.03
                ax_l.plot(x, h + 1, "o", color=c, alpha=0.75, ms=4, label=run if (k == 0 and i == 0) else None)
    for i, (a, b) in enumerate(SEED_HIDDEN):
        ax_l.errorbar(i + 1, a + 1, yerr=[[min(b, a)], [b]], fmt="ks", ms=5, capsize=3,
                      label="seed 002 (5 trials)" if i == 0 else None)
    ax_a.set_yscale("log")
    ax_a.set_xlabel("training step")
    ax_a.set_ylabel("active neurons (of 5000)")
    ax_a.set_title("active count at each evaluation, one line per seed", fontsize=9)
    ax_a.legend(fontsize=7)
    ax_l.set_yscale("log")
    n_layers = max(len(rec["hidden"]) for seeds in records.values() for rec in seeds.values())
    ax_l.set_xticks(range(1, n_layers + 1))
    ax_l.set_xlabel("hidden layer (first active iteration)")
    ax_l.set_ylabel("neurons + 1 (log scale; 1 = empty)")
    ax_l.set_title("final hidden layer sizes, one marker per seed", fontsize=9)
    ax_l.legend(fontsize=7)
    fig.tight_layout()
    out = Path(args.out) if args.out else Path(args.root) / "urn-seeds.png"
    fig.savefig(out, dpi=90)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Side-by-side final figures of a minidsn run and the same configuration run by minidsn_jax (run folders).

    python -m minidsn_jax.compare_runs reference_runs/diffrnn-hard reference_runs/jax-diffrnn-hard [--keys a b ...]

Each argument is a run folder (summary.json) or a sweep folder (seed-N/summary.json). Prints a Markdown table with
one row per seed present in both (the ``final`` figures of summary.json, then the wall time), and a last row of
medians over those seeds.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
from pathlib import Path


def _summaries(folder: Path) -> dict[int, dict]:
    if (folder / "summary.json").exists():
        s = json.loads((folder / "summary.json").read_text())
        return {int(s["seed"]): s}
    out = {}
    for d in folder.iterdir():
        if re.fullmatch(r"seed-?\d+", d.name) and (d / "summary.json").exists():
            s = json.loads((d / "summary.json").read_text())
            if s.get("status") == "completed":
                out[int(s["seed"])] = s
    return out


def table(ref_dir, jax_dir, keys=None) -> str:
    ref, jx = _summaries(Path(ref_dir)), _summaries(Path(jax_dir))
    seeds = sorted(set(ref) & set(jx))
    if not seeds:
        raise SystemExit(f"no completed seed in both {ref_dir} and {jax_dir}")
    keys = keys or [k for k in ref[seeds[0]]["final"] if k in jx[seeds[0]]["final"]]
    head = ["seed"] + [f"{k} (minidsn / jax)" for k in keys] + ["wall s (minidsn / jax)"]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def fmt(x):
        return f"{x:.4g}" if isinstance(x, float) else str(x)

    cols = {k: ([], []) for k in keys + ["wall"]}
    for s in seeds:
        cells = [str(s)]
        for k in keys:
            a, b = ref[s]["final"][k], jx[s]["final"][k]
            cols[k][0].append(a)
            cols[k][1].append(b)
            cells.append(f"{fmt(a)} / {fmt(b)}")
        wa, wb = ref[s]["wall_time_s"], jx[s]["wall_time_s"]
        cols["wall"][0].append(wa)
        cols["wall"][1].append(wb)
        cells.append(f"{wa:.0f} / {wb:.0f}")
        rows.append("| " + " | ".join(cells) + " |")
    med = ["median"] + [f"{fmt(float(statistics.median(cols[k][0])))} / {fmt(float(statistics.median(cols[k][1])))}"
                        for k in keys]
    med.append(f"{statistics.median(cols['wall'][0]):.0f} / {statistics.median(cols['wall'][1]):.0f}")
    rows.append("| " + " | ".join(med) + " |")
    return "\n".join(rows)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="python -m minidsn_jax.compare_runs", description=__doc__.split("\n\n")[0])
    ap.add_argument("ref")
    ap.add_argument("jax")
    ap.add_argument("--keys", nargs="*")
    a = ap.parse_args(argv)
    print(table(a.ref, a.jax, a.keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Figures of reference_runs/README.md computed from the run folders, so that they cannot drift from the data.

    python reference_runs/tables.py            # print every generated block
    python reference_runs/tables.py --write    # rewrite the blocks in README.md
    python reference_runs/tables.py --check    # exit 1 if README.md differs from the run folders

A generated block sits in README.md between ``<!-- tables.py:NAME -->`` and ``<!-- /tables.py:NAME -->``; everything
outside the markers is written by hand. The model pages in docs/models/ (DOCS) may repeat any block between the same
markers; --write and --check cover them too. tests/test_reference_tables.py runs the check.
Needs only the standard library and NumPy (percentiles with NumPy's default linear interpolation).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent
README = ROOT / "README.md"
# model pages that repeat generated blocks (each block must also be in README.md)
DOCS = tuple(ROOT.parent / "docs" / "models" / f"{m}.md" for m in ("urn", "isotropic"))
WIDTHS = (8, 16, 24, 32)
PRETRAIN, SCHEDULE = 24, 48


@functools.lru_cache(maxsize=None)
def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def _summary(run_dir: Path) -> dict:
    return json.loads((run_dir / "summary.json").read_text())


def _seed_dirs(run: str, root: Path) -> list[Path]:
    """seed-N folders of a sweep in seed order (not folder-name order: seed-10 sorts before seed-2 by name)."""
    dirs = [d for d in (root / run).iterdir() if re.fullmatch(r"seed-?\d+", d.name)]
    return sorted(dirs, key=lambda d: int(re.sub(r"\D", "", d.name)))


# ---- diffrnn ---------------------------------------------------------------------------------------------------

def _diffrnn_hard(root: Path):
    sizes, at100k = [], []
    for d in _seed_dirs("diffrnn-hard", root):
        train = [r for r in _lines(d / "metrics.jsonl") if "hidden_size" in r and "smooth_loss" in r]
        sizes.append((int(re.sub(r"\D", "", d.name)), int(train[-1]["hidden_size"])))
        at100k.append(next(r["smooth_loss"] for r in train if r["step"] == 100_000))
    return sizes, at100k


def diffrnn_hard_iqr100k(root: Path) -> str:
    """Inter-quartile range over the seeds of the smoothed loss at 100k cycles (diffrnn-hard)."""
    q25, q75 = np.percentile(_diffrnn_hard(root)[1], [25, 75])
    return f"{q25:.2f}-{q75:.2f}"


def diffrnn_hard_sizes(root: Path) -> str:
    """Final sizes of diffrnn-hard, in seed order (not folder-name order: seed-10 sorts before seed-2 by name)."""
    sizes = _diffrnn_hard(root)[0]
    return f"(seeds {sizes[0][0]}-{sizes[-1][0]}, in seed order): " + ", ".join(str(h) for _, h in sizes)


def _sweep_rows(run: str, root: Path) -> list[list[dict]]:
    """Training lines of every seed of a sweep, in seed order."""
    return [[r for r in _lines(d / "metrics.jsonl") if "hidden_size" in r and "smooth_loss" in r]
            for d in _seed_dirs(run, root)]


def _median_iqr(values, digits: int) -> str:
    q25, q50, q75 = np.percentile(values, [25, 50, 75])
    return f"{q50:.{digits}f} [{q25:.{digits}f}, {q75:.{digits}f}]"


def _at(run: str, root: Path, key: str, step: int, digits: int) -> str:
    return _median_iqr([next(r[key] for r in rows if r["step"] == step) for rows in _sweep_rows(run, root)], digits)


def diffrnn_final(run: str):
    """'ours at 300k' cell of the DiffRNN table: median [IQR] of size and smoothed loss over the seeds."""
    def cell(root: Path) -> str:
        if run == "diffrnn-easy-hard-easy":
            return (f"H {_at(run, root, 'hidden_size', 100_000, 1).split(' [')[0]} at 100k, "
                    f"{_at(run, root, 'hidden_size', 200_000, 1)} at 200k, {_at(run, root, 'hidden_size', 300_000, 1)} "
                    f"at 300k; loss {_at(run, root, 'smooth_loss', 300_000, 2)}")
        return f"H {_at(run, root, 'hidden_size', 300_000, 1)}, loss {_at(run, root, 'smooth_loss', 300_000, 2)}"
    return cell


def sweep_sizes(run: str):
    """Final sizes of every seed of a sweep, in seed order."""
    def cell(root: Path) -> str:
        rows = _sweep_rows(run, root)
        return ", ".join(str(int(r[-1]["hidden_size"])) for r in rows)
    return cell


def diffrnn_at(run: str, step: int):
    """Median [IQR] over the seeds of size and smoothed loss at ``step`` cycles."""
    return lambda root: (f"H {_at(run, root, 'hidden_size', step, 1)}, "
                         f"loss {_at(run, root, 'smooth_loss', step, 2)}")


def sweep_wall(run: str):
    """Wall time per seed of a sweep: range and median."""
    def cell(root: Path) -> str:
        w = [_summary(d)["wall_time_s"] for d in _seed_dirs(run, root)]
        return f"{min(w):.0f}-{max(w):.0f} s (median {np.median(w):.0f})"
    return cell


def smoothed_loss_at(run: str, step: int):
    """Median [IQR] over the seeds of the smoothed loss at ``step``."""
    return lambda root: _at(run, root, "smooth_loss", step, 2)


# ---- dnm -------------------------------------------------------------------------------------------------------

DNM_TOY_RUNS = (("faithful", "dnm-toy"), ("text", "dnm-toy-text"), ("text_full", "dnm-toy-text-full"))


def _dnm_toy(run: str, root: Path) -> dict:
    """Figures of one toy run: its summary's evaluation and its logged training lines (every 50 steps)."""
    s = _summary(root / run)
    train = [r for r in _lines(root / run / "metrics.jsonl") if "objective" in r]
    late = [r["objective"] for r in train if 4000 < r["step"] <= 5000]
    peak = max(train, key=lambda r: r["flow"])

    def below_from(key):  # first logged step from which every logged value of `key` is below the 1.25 floor
        rows = [r for r in train if key in r]
        above = [r["step"] for r in rows if r[key] >= 1.25]
        if not above:
            return rows[0]["step"]
        return None if above[-1] == rows[-1]["step"] else next(r["step"] for r in rows if r["step"] > above[-1])

    return {"batch": s["final"]["test_mse_batch"], "100k": s["final"]["test_mse_100k"], "late": float(np.mean(late)),
            "test_below": below_from("test_mse"), "train_below": below_from("objective"),
            "pct0": train[0]["pct"], "pct1": s["final"]["pct"], "flow_peak": peak["flow"],
            "flow_peak_step": peak["step"], "flow1": s["final"]["flow"], "cut1": s["final"]["cutoff"],
            "wall": s["wall_time_s"]}


def dnm_toy_table(root: Path) -> str:
    """The toy table of the dnm section: the note's figures of the original notebook beside each variant's run."""
    f = {v: _dnm_toy(run, root) for v, run in DNM_TOY_RUNS}

    def row(label, original, cell):
        return f"| {label} | {original} | " + " | ".join(cell(f[v]) for v, _ in DNM_TOY_RUNS) + " |"

    def floor(x):
        if x["test_below"] is None:
            return f"1.25: not crossed (100k test {x['100k']:.3f})"
        return f"every logged value below it from step {x['test_below']:,} (train {x['train_below']:,})"

    head = "| figure | original notebook (note) | " + " | ".join(f"{v} (ours)" for v, _ in DNM_TOY_RUNS) + " |"
    return "\n".join([
        head,
        "|---|---|" + "---|" * len(DNM_TOY_RUNS),
        row("final single-batch test MSE", "1.032", lambda x: f"{x['batch']:.3f}"),
        row("test MSE on 100k fresh samples", "–", lambda x: f"{x['100k']:.3f}"),
        row("training MSE, mean of logged steps 4,001–5,000", "plateau ≈ 1.3", lambda x: f"{x['late']:.3f}"),
        row("MSE floor with squared outputs", "1.25 (derived)", floor),
        row("pct, step 50 → 5,000", "0.21 → 0.3415", lambda x: f"{x['pct0']:.3f} → {x['pct1']:.4f}"),
        row("flow loss, peak (step) → final", "≈ 7 (≈1,000) → 0.25",
            lambda x: f"{x['flow_peak']:.2f} ({x['flow_peak_step']:,}) → {x['flow1']:.2f}"),
        row("cutoff c, start → final", "0.269 → (not reported)", lambda x: f"0.269 → {x['cut1']:.3f}"),
        row("wall time (5,000 steps + evaluation)", "–", lambda x: f"{x['wall']:.1f} s"),
    ])


def dnm_toy_20k_table(root: Path) -> str:
    """text against text_full over 20,000 steps (dnm-toy-text-20k, dnm-toy-text-full-20k)."""
    runs = (("text", "dnm-toy-text-20k"), ("text_full", "dnm-toy-text-full-20k"))
    cols = []
    for _, run in runs:
        s = _summary(root / run)
        train = [r for r in _lines(root / run / "metrics.jsonl") if "objective" in r]
        mean = {k: float(np.mean([r["objective"] for r in train if k < r["step"] <= k + 5000]))
                for k in (0, 5000, 10000, 15000)}
        guard = [r["step"] for r in train if r["guard_exponent"] > 0]
        cols.append({"100k": s["final"]["test_mse_100k"], "batch": s["final"]["test_mse_batch"], "mean": mean,
                     "pct": s["final"]["pct"], "flow": s["final"]["flow"], "cut": s["final"]["cutoff"],
                     "guard": f"{len(guard)} of {len(train)} (from step {guard[0]:,})" if guard else f"0 of {len(train)}",
                     "wall": s["wall_time_s"]})

    def row(label, cell):
        return f"| {label} | " + " | ".join(cell(c) for c in cols) + " |"

    return "\n".join([
        "| figure | " + " | ".join(f"{v} (ours, 20,000 steps)" for v, _ in runs) + " |",
        "|---|" + "---|" * len(runs),
        row("test MSE on 100k fresh samples, end", lambda c: f"{c['100k']:.4f}"),
        row("final single-batch test MSE", lambda c: f"{c['batch']:.4f}"),
        row("training MSE, mean of logged steps per 5,000 (1-5k / 5-10k / 10-15k / 15-20k)",
            lambda c: " / ".join(f"{c['mean'][k]:.4f}" for k in (0, 5000, 10000, 15000))),
        row("pct, end", lambda c: f"{c['pct']:.4f}"),
        row("flow loss, end", lambda c: f"{c['flow']:.3f}"),
        row("cutoff c, end", lambda c: f"{c['cut']:.3f}"),
        row("logged steps with a sine exponent beta+1 <= 0 (guard recorded)", lambda c: c["guard"]),
        row("wall time", lambda c: f"{c['wall']:.1f} s"),
    ])


def dnm_toy_seeds_table(root: Path) -> str:
    """text against text_full over seeds 0-7, 5,000 steps each (dnm-toy-text-seeds, dnm-toy-text-full-seeds)."""
    runs = (("text", "dnm-toy-text-seeds"), ("text_full", "dnm-toy-text-full-seeds"))
    rows = []
    for v, run in runs:
        dirs = _seed_dirs(run, root)
        fin = [_summary(d)["final"] for d in dirs]
        lines = [[r for r in _lines(d / "metrics.jsonl") if "objective" in r] for d in dirs]
        mse = [f["test_mse_100k"] for f in fin]
        below = sum(m < 1.25 for m in mse)
        guard = sum(any(r["guard_exponent"] > 0 for r in ls) for ls in lines)
        rows.append(f"| {v} | {len(dirs)} | {_median_iqr(mse, 3)} | {min(mse):.3f}-{max(mse):.3f} | "
                    f"{below} of {len(dirs)} | {_median_iqr([f['pct'] for f in fin], 3)} | "
                    f"{_median_iqr([f['flow'] for f in fin], 2)} | {guard} of {len(dirs)} |")
    per_seed = [[_summary(d)["final"]["test_mse_100k"] for d in _seed_dirs(run, root)] for _, run in runs]
    worse = sum(f > t for t, f in zip(*per_seed))
    return "\n".join([
        f"text_full's 100k-sample test MSE is above text's on {worse} of {len(per_seed[0])} seeds (pairwise, same seed).",
        "",
        "| variant | seeds | test MSE, 100k samples, median [IQR] | range | seeds below 1.25 | pct, median [IQR] | "
        "flow, median [IQR] | seeds with beta+1 <= 0 at a logged step |",
        "|---|---|---|---|---|---|---|---|",
        *rows,
    ])


def dnm_time_run(root: Path) -> str:
    """dnm-toy-text-full-time against dnm-toy-text-full: identical but for the loss; the recorded process times."""
    a = [r for r in _lines(root / "dnm-toy-text-full" / "metrics.jsonl") if "objective" in r]
    b = [r for r in _lines(root / "dnm-toy-text-full-time" / "metrics.jsonl") if "objective" in r]
    extra = ("loss", "process_time", "time_term")
    same = len(a) == len(b) and all({k: v for k, v in x.items() if k not in extra} ==
                                    {k: v for k, v in y.items() if k not in extra} for x, y in zip(a, b))
    gap = max(abs(y["loss"] - x["loss"] - y["time_term"]) for x, y in zip(a, b))
    t = np.array([y["process_time"] for y in b]) * 1e3
    r = np.corrcoef(t, [y["pct"] for y in b])[0, 1]
    return (f"{len(b)} logged steps: every metric but the loss {'identical' if same else 'DIFFERENT'} to "
            f"dnm-toy-text-full, loss = its loss + time_term to {gap:.1e}; process time per step median "
            f"{np.median(t):.3f} ms (range {t.min():.3f}-{t.max():.3f} ms), correlation with pct {r:+.2f}")


# ---- urn -------------------------------------------------------------------------------------------------------

def _urn5000(root: Path):
    out = []
    for run in ("urn-spheres", "urn-spheres-resout"):
        s = _summary(root / run)
        out.append((run, s))
    return out


def urn_glance_ran(root: Path) -> str:
    """'ran' cell of the at-a-glance row of the two S = 5000 runs."""
    runs = _urn5000(root)
    if any(s.get("status") != "completed" for _, s in runs):
        return "**not finished**: " + ", ".join(f"{r} {s.get('steps_done')} of {s.get('steps')} steps" for r, s in runs)
    return "full, seed 0 each, " + " / ".join(f"{s['wall_time_s']:,.0f} s" for _, s in runs)


def urn_glance_headline(root: Path) -> str:
    """'headline' cell of the at-a-glance row of the two S = 5000 runs."""
    runs = _urn5000(root)
    acc = " / ".join(f"{s['final']['test_acc']:.3f}" for _, s in runs)
    act = " / ".join(str(int(s["final"]["n_active"])) for _, s in runs)
    return f"test accuracy {acc} (seed: 1.00); {act} of 5000 neurons active (seed: 123 +- 15)"


# the seed's 5 trials at S = 5000 (seed 002 l. 79; notes/urn.md): mean +- std of the active count and of the three
# hidden layers; with residual outputs it reports one hidden layer and no counts
URN_SEED_ACTIVE, URN_SEED_HIDDEN = (123, 15), ((115, 15), (4, 1.4), (3, 0.7))
URN_SEED_RUNS = ("urn-spheres-before-phi", "urn-spheres-resout-before-phi")


def _urn_row(f: dict) -> tuple[float, int, list[int]]:
    """(test accuracy, active neurons, hidden layer sizes at layers 1-4) of a run's final read-out."""
    return f["test_acc"], int(f["n_active"]), [int(f[f"hidden_layer_sizes_{layer}"]) for layer in range(1, 5)]


def _urn_seed_runs(run: str, root: Path) -> list[tuple[int, dict]]:
    """(seed, summary) of each completed seed-N of an S = 5000 sweep, in seed order."""
    if not (root / run).is_dir():
        return []
    out = []
    for d in _seed_dirs(run, root):
        s = _summary(d)
        if s.get("status") == "completed":
            out.append((int(s["seed"]), s))
    return out


def _mean_std(values, digits: int) -> str:
    """mean +- sample standard deviation (ddof = 1; one value: no spread)."""
    v = np.asarray(values, dtype=float)
    if v.size == 1:
        return f"{v[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} +- {v.std(ddof=1):.{digits}f}"


def urn_seeds_table(root: Path) -> str:
    """Per-seed and mean +- std figures of the S = 5000 runs of the best-supported reading (logits before phi),
    the current reading's runs and the seed's 5 trials."""
    out = ["| run | reading | seed | test acc | active | hidden layers 1 / 2 / 3 / 4 | run time |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for run in URN_SEED_RUNS:
        runs = _urn_seed_runs(run, root)
        rows = [_urn_row(s["final"]) for _, s in runs]
        for (seed, s), (acc, act, hid) in zip(runs, rows):
            out.append(f"| {run} | before phi | {seed} | {acc:.3f} | {act} | {' / '.join(map(str, hid))} | "
                       f"{s['wall_time_s']:,.0f} s |")
        if rows:
            hid = [_mean_std([r[2][k] for r in rows], 1) for k in range(4)]
            out.append(f"| **{run}** | before phi | **mean +- std, {len(rows)} of 5 seeds** | "
                       f"{_mean_std([r[0] for r in rows], 3)} | {_mean_std([r[1] for r in rows], 1)} | "
                       f"{' / '.join(hid)} | |")
        else:
            out.append(f"| {run} | before phi | no seed finished yet | | | | |")
    current = [("urn-spheres", root / "urn-spheres"), ("urn-spheres", root / "urn-spheres-s1-memory" / "run"),
               ("urn-spheres-resout", root / "urn-spheres-resout")]
    for run, d in current:
        if (d / "summary.json").is_file():
            s = _summary(d)
            acc, act, hid = _urn_row(s["final"])
            out.append(f"| {run} | current (after phi) | {s['seed']} | {acc:.3f} | {act} | "
                       f"{' / '.join(map(str, hid))} | {s['wall_time_s']:,.0f} s |")
    hid = " / ".join(f"{m} +- {sd}" for m, sd in URN_SEED_HIDDEN)
    out.append(f"| seed 002 (5 trials) | Keras | | 1.00 | {URN_SEED_ACTIVE[0]} +- {URN_SEED_ACTIVE[1]} | "
               f"{hid} / – | |")
    out.append("| seed 002, residual outputs | Keras | | 1.00 | – | one hidden layer | |")
    out.append("")
    for run in URN_SEED_RUNS:
        rows = [_urn_row(s["final"]) for _, s in _urn_seed_runs(run, root)]
        if rows:
            act = np.mean([r[1] for r in rows])
            if "resout" in run:  # the seed reports the layer count only
                one = sum(sum(h > 0 for h in r[2]) == 1 for r in rows)
                out.append(f"- {run}: mean active count {act:.0f} (the seed gives no count with residual outputs); "
                           f"seeds with exactly one non-empty hidden layer, as the seed: {one} of {len(rows)}.")
                continue
            three = sum(sum(h > 0 for h in r[2]) >= 3 for r in rows)
            seed_mean, seed_sd = URN_SEED_ACTIVE
            verdict = "reached" if abs(act - seed_mean) <= seed_sd else "not reached"
            out.append(f"- {run}: mean active count {act:.0f}, {act / seed_mean:.1f}x the seed's {seed_mean} "
                       f"({verdict} within the seed's +- {seed_sd}); seeds with three or more non-empty hidden "
                       f"layers, as the seed: {three} of {len(rows)}.")
    return "\n".join(out)


def urn_seeds_glance(root: Path) -> str:
    """At-a-glance cell: how many seeds of each before-phi run finished, and their mean active count."""
    parts = []
    for run in URN_SEED_RUNS:
        rows = [_urn_row(s["final"]) for _, s in _urn_seed_runs(run, root)]
        if rows:
            parts.append(f"{run}: {len(rows)} of 5 seeds, test accuracy {_mean_std([r[0] for r in rows], 3)}, "
                         f"{_mean_std([r[1] for r in rows], 0)} of 5000 active")
        else:
            parts.append(f"{run}: 0 of 5 seeds")
    return "; ".join(parts) + " (seed: 1.00, 123 +- 15 active)"


def _urn_small(root: Path):
    runs = [(f"urn-spheres-small {d.name}", d) for d in _seed_dirs("urn-spheres-small", root)]
    runs += [(f"urn-spheres-small-resout {d.name}", d) for d in _seed_dirs("urn-spheres-small-resout", root)]
    runs += [("urn-spheres-medium", root / "urn-spheres-medium")]
    return [(name, _summary(d)["final"]) for name, d in runs]


def urn_prune_train(root: Path) -> str:
    """Largest |change| of the training-set logits after zeroing every weight outside the active neurons (S <= 1000)."""
    return f"{max(f['prune_active_max_abs_change_train'] for _, f in _urn_small(root)):.4g}"


def urn_prune_test(root: Path) -> str:
    """The same on the test set, with the run it comes from."""
    name, f = max(_urn_small(root), key=lambda nf: nf[1]["prune_active_max_abs_change_test"])
    return f"{f['prune_active_max_abs_change_test']:.4f} ({name})"


# ---- isotropic width runs ----------------------------------------------------------------------------------------

def _width_curve(run_dir: Path) -> dict[int, float]:
    return {int(round(r["eval/epochs"])): float(r["eval/test_acc"])
            for r in _lines(run_dir / "metrics.jsonl") if "eval/test_acc" in r}


def width_rows(root: Path, kind: str) -> list[tuple]:
    """(a, b, acc at the end of pretraining, lowest during the change, its epoch, final, largest one-epoch drop,
    wall s) for every completed iso-width-<kind>-<a>to<b> run, in (a, b) order."""
    rows = []
    for a in WIDTHS:
        for b in WIDTHS:
            d = root / f"iso-width-{kind}-{a}to{b}"
            if not (d / "summary.json").exists() or _summary(d).get("status") != "completed":
                continue
            acc = _width_curve(d)
            lo, hi = PRETRAIN, PRETRAIN + SCHEDULE
            during = {e: v for e, v in acc.items() if lo < e <= hi}
            e_min = min(during, key=during.get)
            drop = max(acc[e - 1] - acc[e] for e in range(lo + 1, hi + 1) if e in acc and e - 1 in acc)
            rows.append((a, b, acc[lo], during[e_min], e_min, acc[max(acc)], drop, _summary(d)["wall_time_s"]))
    return rows


_KIND_LABEL = {"iso": "isotropic", "tanh": "tanh", "v1": "isotropic v1"}


def iso_width_table(root: Path, kinds=("iso", "tanh")) -> str:
    head = ("| run | acc at epoch 24 (end of pretraining) | lowest acc during the change (epoch) | final acc "
            "(epoch 72) | largest one-epoch drop, epochs 25-72 | wall |\n| --- | --- | --- | --- | --- | --- |")
    by_kind = {k: {(r[0], r[1]): r for r in width_rows(root, k)} for k in kinds}
    out = [head]
    for a in WIDTHS:
        for b in WIDTHS:
            for k in kinds:
                r = by_kind[k].get((a, b))
                if r:
                    out.append(f"| {_KIND_LABEL[k]} {a} -> {b} | {r[2]:.4f} | {r[3]:.4f} ({r[4]}) | {r[5]:.4f} | "
                               f"{r[6]:.4f} | {r[7]:.0f} s |")
    return "\n".join(out)


def _finals(root: Path):
    iso = {(r[0], r[1]): r[5] for r in width_rows(root, "iso")}
    tanh = {(r[0], r[1]): r[5] for r in width_rows(root, "tanh")}
    return iso, tanh, sorted(set(iso) & set(tanh))


def iso_width_finals(root: Path) -> str:
    """Range of the final (epoch-72) accuracies over all pairs, fixed width included."""
    iso, tanh, _ = _finals(root)
    return (f"isotropic nets end at {min(iso.values()):.4f}-{max(iso.values()):.4f}, the tanh nets at "
            f"{min(tanh.values()):.4f}-{max(tanh.values()):.4f}")


def iso_width_above(root: Path) -> str:
    """How often the isotropic net ends above its tanh control: growth, shrink, overall, fixed width."""
    iso, tanh, pairs = _finals(root)
    cnt = lambda ps: f"{sum(iso[p] > tanh[p] for p in ps)} of {len(ps)}"  # noqa: E731
    grow = [p for p in pairs if p[1] > p[0]]
    shrink = [p for p in pairs if p[1] < p[0]]
    fixed = [p for p in pairs if p[1] == p[0]]
    return f"{cnt(grow)} growth pairs and {cnt(shrink)} shrink pairs ({cnt(pairs)} pairs overall; at fixed width {cnt(fixed)})"


def iso_width_v1(root: Path) -> str:
    rows = width_rows(root, "v1")
    if not rows:
        return "(no completed iso-width-v1 run yet)"
    v2 = {(r[0], r[1]): r for r in width_rows(root, "iso")}
    tanh = {(r[0], r[1]): r for r in width_rows(root, "tanh")}
    head = ("| width | v1 setting: acc at 24 | lowest during the change (epoch) | final | largest one-epoch drop | "
            "v2 setting: final / largest drop | tanh: final / largest drop | wall (v1) |\n"
            "| --- | --- | --- | --- | --- | --- | --- | --- |")
    out = [head]
    for r in rows:
        p = (r[0], r[1])
        v, t = v2.get(p), tanh.get(p)
        out.append(f"| {r[0]} -> {r[1]} | {r[2]:.4f} | {r[3]:.4f} ({r[4]}) | {r[5]:.4f} | {r[6]:.4f} | "
                   + (f"{v[5]:.4f} / {v[6]:.4f}" if v else "–") + " | "
                   + (f"{t[5]:.4f} / {t[6]:.4f}" if t else "–") + f" | {r[7]:.0f} s |")
    out.append("")
    out.append(f"{len(rows)} of 16 v1 runs completed.")
    return "\n".join(out)


def _v1_v2_tanh(root: Path):
    """Rows by (start, end) width of the v1 runs, the v2 runs and the tanh control, and the pairs all three have."""
    v1, v2, tanh = ({(r[0], r[1]): r for r in width_rows(root, kind)} for kind in ("v1", "iso", "tanh"))
    return v1, v2, tanh, sorted(set(v1) & set(v2) & set(tanh))


def iso_width_v1_compare(root: Path) -> str:
    """The v1 setting against the v2 setting and the tanh control, over the pairs the v1 runs completed."""
    v1, v2, tanh, pairs = _v1_v2_tanh(root)
    if not pairs:
        return "(no completed iso-width-v1 run yet)"
    diff = [v1[p][5] - v2[p][5] for p in pairs]
    shrink = [p for p in pairs if p[1] < p[0]]
    grow = [p for p in pairs if p[1] >= p[0]]
    drops = lambda rows, ps: f"{min(rows[p][6] for p in ps):.3f}-{max(rows[p][6] for p in ps):.3f}"  # noqa: E731
    above = sum(v1[p][5] > tanh[p][5] for p in pairs)
    at24 = max(abs(v1[p][2] - v2[p][2]) for p in pairs)
    walls = [v1[p][7] for p in pairs]
    return (f"at epoch 24 the two settings differ by at most {at24:.4f} in test accuracy; "
            f"v1 wall times {min(walls):,.0f}-{max(walls):,.0f} s; "
            f"over the {len(pairs)} completed pairs the v1 setting ends within {min(diff):+.4f} to {max(diff):+.4f} "
            f"of the v2 setting (final accuracy, v1 minus v2); largest one-epoch drop while shrinking "
            f"{drops(v1, shrink)} (v2 setting {drops(v2, shrink)}), while growing or at fixed width "
            f"{drops(v1, grow)} (v2 setting {drops(v2, grow)}); the v1 setting ends above the tanh control in "
            f"{above} of {len(pairs)} pairs")


def iso_width_v1_glance(root: Path) -> str:
    """At-a-glance headline of the v1-setting runs."""
    v1, v2, tanh, pairs = _v1_v2_tanh(root)
    if not pairs:
        return "not run yet"
    d = max(abs(v1[p][5] - v2[p][5]) for p in pairs)
    return (f"{len(pairs)} of 16 pairs, 72 epochs: final accuracy within {d:.4f} of the v2 setting; above the tanh "
            f"control in {sum(v1[p][5] > tanh[p][5] for p in pairs)} of {len(pairs)} pairs")


def _sparsify_runs(root: Path) -> list[tuple[int, int, Path]]:
    """(width, hidden layers, folder) of every completed iso-sparsify-WxH run, narrow and shallow first."""
    runs = []
    for d in root.glob("iso-sparsify-*x*"):
        m = re.fullmatch(r"iso-sparsify-(\d+)x(\d+)", d.name)
        if m and d.is_dir() and (d / "summary.json").is_file() and _summary(d).get("status") == "completed":
            runs.append((int(m.group(1)), int(m.group(2)), d))
    return sorted(runs)


def iso_sparsify_table(root: Path) -> str:
    """One row per completed iso-sparsify run: accuracy, nonzero counts before / after / predicted, fractions."""
    out = ["| run | steps | test acc before = after | params nonzero before | after | predicted (nz - sum(n^2 - n)) | "
           "fraction after | hidden-to-hidden weights kept | max rel. logit change | wall |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for width, depth, d in _sparsify_runs(root):
        s = _summary(d)
        f = s["final"]
        same = f["sparse/acc_before"] == f["sparse/acc_after"]
        acc = f"{f['sparse/acc_after']:.4f}" if same else f"{f['sparse/acc_before']:.4f} -> {f['sparse/acc_after']:.4f}"
        out.append(f"| {width}x{depth} | {s['steps_done']} | {acc} | {f['sparse/params_nonzero_before']:.0f} | "
                   f"{f['sparse/params_nonzero_after']:.0f} | {f['sparse/params_nonzero_predicted']:.0f} | "
                   f"{f['sparse/fraction_after']:.3f} | {f['sparse/hidden_weights_fraction_after']:.3f} | "
                   f"{f['sparse/max_rel_logit_change']:.1e} | {s['wall_time_s']:.0f} s |")
    return "\n".join(out)


def iso_sparsify_1000_status(root: Path) -> str:
    """Which of the width-1000 runs 1000x2-1000x6 are recorded."""
    done = [h for w, h, _ in _sparsify_runs(root) if w == 1000]
    missing = [h for h in range(2, 7) if h not in done]
    have = ", ".join(f"1000x{h}" for h in done) or "none"
    return f"recorded: {have}" + (f"; not yet: {', '.join(f'1000x{h}' for h in missing)}" if missing else " (all five)")


BLOCKS = {
    "dnm-toy-table": dnm_toy_table,
    "dnm-time-run": dnm_time_run,
    "dnm-toy-20k-table": dnm_toy_20k_table,
    "dnm-toy-seeds-table": dnm_toy_seeds_table,
    "diffrnn-hard-iqr100k": diffrnn_hard_iqr100k,
    "diffrnn-hard-sizes": diffrnn_hard_sizes,
    "urn-glance-ran": urn_glance_ran,
    "urn-glance-headline": urn_glance_headline,
    "urn-prune-train": urn_prune_train,
    "urn-seeds-table": urn_seeds_table,
    "urn-seeds-glance": urn_seeds_glance,
    "urn-prune-test": urn_prune_test,
    "iso-sparsify-table": iso_sparsify_table,
    "iso-sparsify-1000-status": iso_sparsify_1000_status,
    "iso-width-table": iso_width_table,
    "iso-width-finals": iso_width_finals,
    "iso-width-above": iso_width_above,
    "iso-width-v1": iso_width_v1,
    "iso-width-v1-compare": iso_width_v1_compare,
    "iso-width-v1-glance": iso_width_v1_glance,
}
for _run in ("diffrnn-hard", "diffrnn-easy", "diffrnn-easy-hard-easy"):
    BLOCKS[f"{_run}-300k"] = diffrnn_final(_run)
for _run in ("diffrnn-hard", "diffrnn-easy", "diffrnn-easy-hard-easy", "diffrnn-fixed-10", "diffrnn-fixed-27",
             "diffrnn-fixed-30", "diffrnn-fixed-50", "diffrnn-fixed-100"):
    BLOCKS[f"{_run}-wall"] = sweep_wall(_run)
for _run in ("diffrnn-hard", "diffrnn-fixed-10", "diffrnn-fixed-27", "diffrnn-fixed-30", "diffrnn-fixed-50",
             "diffrnn-fixed-100"):
    for _k in (200_000, 300_000):
        BLOCKS[f"{_run}-loss-{_k // 1000}k"] = smoothed_loss_at(_run, _k)

# G1 (issue 17): the paper text's 27 / 6; rnnAltern and G3 (issue 17): 20 seeds each
for _run in ("diffrnn-g1-hard", "diffrnn-g1-easy", "diffrnn-altern-hard", "diffrnn-altern-easy", "diffrnn-g3-hard",
             "diffrnn-g3-easy", "diffrnn-g3code-hard", "diffrnn-g3code-easy"):
    if (ROOT / _run).is_dir():
        BLOCKS[f"{_run}-sizes"] = sweep_sizes(_run)
        BLOCKS[f"{_run}-wall"] = sweep_wall(_run)
        for _k in ((100_000,) if "g3code" in _run else (100_000, 300_000) if "g3" in _run else (300_000,)):
            BLOCKS[f"{_run}-{_k // 1000}k"] = diffrnn_at(_run, _k)

_BLOCK = re.compile(r"(<!-- tables\.py:(?P<name>[\w-]+) -->)(?P<body>.*?)(<!-- /tables\.py:(?P=name) -->)", re.S)


def render(root: Path = ROOT) -> dict[str, str]:
    return {name: fn(root) for name, fn in BLOCKS.items()}


def fill(text: str, blocks: dict[str, str]) -> str:
    """README text with every marked block replaced by its generated content (inline blocks stay inline)."""
    def rep(m):
        body = blocks[m.group("name")]
        inline = "\n" not in m.group("body")
        return m.group(1) + (body if inline else "\n" + body + "\n") + m.group(4)
    return _BLOCK.sub(rep, text)


def check(readme: Path = README, root: Path = ROOT) -> list[str]:
    """Names of the blocks whose README text differs from the run folders (and of blocks missing in README)."""
    text = readme.read_text()
    present = {m.group("name") for m in _BLOCK.finditer(text)}
    blocks = render(root)
    new = fill(text, blocks)
    bad = sorted(set(blocks) - present)
    if new != text:
        old_bodies = {m.group("name"): m.group("body") for m in _BLOCK.finditer(text)}
        new_bodies = {m.group("name"): m.group("body") for m in _BLOCK.finditer(new)}
        bad += sorted(n for n in old_bodies if old_bodies[n] != new_bodies.get(n))
    return bad


def check_docs(docs=DOCS, root: Path = ROOT) -> list[str]:
    """'file: block' for every generated block of a model page that differs from the run folders."""
    blocks = render(root)
    bad = []
    for doc in docs:
        text = doc.read_text()
        new = fill(text, blocks)
        if new != text:
            old_bodies = {m.group("name"): m.group("body") for m in _BLOCK.finditer(text)}
            new_bodies = {m.group("name"): m.group("body") for m in _BLOCK.finditer(new)}
            bad += [f"{doc.name}: {n}" for n in sorted(old_bodies) if old_bodies[n] != new_bodies.get(n)]
    return bad


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--write", action="store_true", help="rewrite the generated blocks of README.md")
    g.add_argument("--check", action="store_true", help="exit 1 if README.md is out of date")
    args = ap.parse_args(argv)
    if args.check:
        bad = check() + check_docs()
        if bad:
            print("README.md or a model page differs from the run folders in: " + ", ".join(bad) +
                  " (python reference_runs/tables.py --write)")
            return 1
        print("README.md and the model pages match the run folders")
        return 0
    blocks = render()
    if args.write:
        README.write_text(fill(README.read_text(), blocks))
        for doc in DOCS:
            doc.write_text(fill(doc.read_text(), blocks))
        print(f"wrote {len(blocks)} blocks into {README} (and their copies in {', '.join(d.name for d in DOCS)})")
        return 0
    for name, body in blocks.items():
        print(f"== {name}\n{body}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

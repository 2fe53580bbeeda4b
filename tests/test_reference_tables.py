"""reference_runs/README.md's generated figures equal what reference_runs/tables.py computes from the run folders."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "reference_runs"


def _tables():
    spec = importlib.util.spec_from_file_location("reference_tables", ROOT / "tables.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_readme_matches_run_folders():
    bad = _tables().check()
    assert not bad, f"README.md out of date in {bad}: python reference_runs/tables.py --write"


def test_every_block_is_in_the_readme():
    t = _tables()
    text = (ROOT / "README.md").read_text()
    for name in t.BLOCKS:
        assert f"<!-- tables.py:{name} -->" in text and f"<!-- /tables.py:{name} -->" in text, name


def test_check_catches_a_stale_figure(tmp_path):
    t = _tables()
    readme = tmp_path / "README.md"
    text = (ROOT / "README.md").read_text()
    stale = text.replace("<!-- tables.py:diffrnn-hard-iqr100k -->9.51-13.51", "<!-- tables.py:diffrnn-hard-iqr100k -->9.44-13.50")
    assert stale != text
    readme.write_text(stale)
    assert t.check(readme, ROOT) == ["diffrnn-hard-iqr100k"]


def test_sizes_are_in_seed_order_and_follow_the_data(tmp_path):
    t = _tables()
    # a copy of diffrnn-hard with seed 2's last size changed: the figure moves with the data
    run = tmp_path / "diffrnn-hard"
    for d in sorted((ROOT / "diffrnn-hard").glob("seed-*")):
        (run / d.name).mkdir(parents=True)
        shutil.copy(d / "metrics.jsonl", run / d.name / "metrics.jsonl")
    f = run / "seed-2" / "metrics.jsonl"
    lines = [json.loads(x) for x in f.read_text().splitlines()]
    last = max(i for i, r in enumerate(lines) if "hidden_size" in r)
    lines[last]["hidden_size"] = 99.0
    f.write_text("".join(json.dumps(r) + "\n" for r in lines))
    sizes = t.diffrnn_hard_sizes(tmp_path).split(": ", 1)[1].split(", ")
    assert len(sizes) == 20 and sizes[2] == "99"
    assert sizes[:3] == ["38", "42", "99"]


def test_sparsify_rows_are_completed_runs_in_numeric_order(tmp_path):
    t = _tables()
    for name in ("iso-sparsify-500x2", "iso-sparsify-1000x2", "iso-sparsify-500x3"):
        shutil.copytree(ROOT / name, tmp_path / name)
    # an interrupted run has no row and counts as not recorded
    partial = tmp_path / "iso-sparsify-1000x4"
    shutil.copytree(ROOT / "iso-sparsify-1000x2", partial)
    s = json.loads((partial / "summary.json").read_text())
    s["status"] = "interrupted"
    (partial / "summary.json").write_text(json.dumps(s))
    rows = [r.split(" | ")[0] for r in t.iso_sparsify_table(tmp_path).splitlines()[2:]]
    assert rows == ["| 500x2", "| 500x3", "| 1000x2"]  # 1000 after 500, although "1000" < "500" as text
    assert t.iso_sparsify_1000_status(tmp_path) == "recorded: 1000x2; not yet: 1000x3, 1000x4, 1000x5, 1000x6"


def test_urn_seed_table_counts_completed_seeds_and_compares_with_the_seed(tmp_path):
    t = _tables()
    # seed 0 as recorded, and two made-up seeds (the recorded folder grows as seeds finish: only seed 0 is copied)
    shutil.copytree(ROOT / "urn-spheres-before-phi" / "seed-0", tmp_path / "urn-spheres-before-phi" / "seed-0")
    base = json.loads((ROOT / "urn-spheres-before-phi" / "seed-0" / "summary.json").read_text())
    for seed, status, active, hidden in ((1, "completed", 120, [110, 5, 3, 0]),
                                         (2, "interrupted", 9999, [9999, 0, 0, 0])):
        d = tmp_path / "urn-spheres-before-phi" / f"seed-{seed}"
        d.mkdir()
        s = json.loads(json.dumps(base))
        s.update(seed=seed, status=status)
        s["final"]["n_active"] = active
        for layer, n in enumerate(hidden, start=1):
            s["final"][f"hidden_layer_sizes_{layer}"] = n
        (d / "summary.json").write_text(json.dumps(s))
    table = t.urn_seeds_table(tmp_path)
    assert "9999" not in table  # an unfinished seed is not counted
    mean_row = next(r for r in table.splitlines() if "mean +- std, 2 of 5 seeds" in r)
    # 348 and 120: mean 234, sample std 161.2; first hidden layer 335 and 110: 222.5 +- 159.1
    assert "| 234.0 +- 161.2 |" in mean_row and "222.5 +- 159.1 / 3.0 +- 2.8 / 1.5 +- 2.1 / 0.0 +- 0.0" in mean_row
    assert "seeds with three or more non-empty hidden layers, as the seed: 1 of 2" in table
    assert "1.9x the seed's 123 (not reached" in table
    assert "urn-spheres-resout-before-phi | before phi | no seed finished yet" in table
    assert t.urn_seeds_glance(tmp_path).startswith("urn-spheres-before-phi: 2 of 5 seeds")


def test_model_pages_match_run_folders():
    bad = _tables().check_docs()
    assert not bad, f"model pages out of date in {bad}: python reference_runs/tables.py --write"


def test_check_docs_catches_a_stale_copy(tmp_path):
    t = _tables()
    page = tmp_path / "urn.md"
    text = t.DOCS[0].read_text()
    assert "<!-- tables.py:urn-seeds-table -->" in text
    page.write_text(text.replace("| 1.00 | 123 +- 15 |", "| 1.00 | 124 +- 15 |"))
    assert t.check_docs([page]) == ["urn.md: urn-seeds-table"]

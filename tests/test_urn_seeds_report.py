"""minidsn.models.urn.seeds_report: the seed records are read from the run folders as written, unfinished seeds are
skipped, an unreadable record is an error naming its folder, and the command line works with or without
matplotlib."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from minidsn.models.urn.seeds_report import format_records, load_seed_records, main

ROOT = Path(__file__).resolve().parents[1] / "reference_runs"


def _seed(root, run, seed, status="completed", evals=((5000, 900.0), (10000, 300.0)), hidden=(250, 4, 3, 0)):
    d = root / run / f"seed-{seed}"
    d.mkdir(parents=True)
    final = {"test_acc": 1.0, "n_active": evals[-1][1], "hidden_layer_sizes_0": 0.0}
    final.update({f"hidden_layer_sizes_{i + 1}": float(h) for i, h in enumerate(hidden)})
    (d / "summary.json").write_text(json.dumps({"seed": seed, "status": status, "final": final}))
    lines = [json.dumps({"step": 125, "loss": 0.1})]
    lines += [json.dumps({"step": s, "eval/test_acc": 1.0, "eval/n_active": n}) for s, n in evals]
    (d / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return d


def test_reads_completed_seeds_and_skips_unfinished(tmp_path):
    _seed(tmp_path, "urn-spheres-before-phi", 0)
    _seed(tmp_path, "urn-spheres-before-phi", 10, hidden=(7, 0, 0, 1))
    _seed(tmp_path, "urn-spheres-before-phi", 2, status="interrupted")
    rec = load_seed_records(tmp_path)
    assert list(rec) == ["urn-spheres-before-phi"]
    assert sorted(rec["urn-spheres-before-phi"]) == [0, 10]
    r0 = rec["urn-spheres-before-phi"][0]
    assert r0["evals"] == [(5000, 900.0), (10000, 300.0)] and r0["hidden"] == [250, 4, 3, 0]
    assert rec["urn-spheres-before-phi"][10]["hidden"] == [7, 0, 0, 1]
    text = format_records(rec)
    assert "seed 10: test acc 1.000; active 900 (5k), 300 (10k); hidden 7 / 0 / 0 / 1" in text
    assert "seed 002 (5 trials): active 123 +- 15" in text


def test_a_corrupt_record_is_an_error_naming_the_folder(tmp_path, capsys):
    d = _seed(tmp_path, "urn-spheres-resout-before-phi", 3)
    (d / "metrics.jsonl").write_text('{"step": 5000, "eval/n_active": 12\n')  # cut mid-line
    with pytest.raises(ValueError, match="seed-3"):
        load_seed_records(tmp_path)
    assert main([str(tmp_path)]) == 1
    assert "error:" in capsys.readouterr().out


def test_command_line_without_records_and_with_them(tmp_path, capsys):
    assert main([str(tmp_path)]) == 1
    assert "no completed seed folders" in capsys.readouterr().out
    _seed(tmp_path, "urn-spheres-before-phi", 0)
    out_png = tmp_path / "fig.png"
    assert main([str(tmp_path), "--out", str(out_png)]) == 0
    out = capsys.readouterr().out
    assert "urn-spheres-before-phi seed 0" in out
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        assert "matplotlib is not installed" in out and not out_png.exists()
    else:
        assert out_png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_recorded_seeds_read_back_consistently():
    """The recorded 5-seed runs: every seed readable, its last evaluation's count is the summary's final count, and
    the final hidden layers never hold more neurons than are active."""
    rec = load_seed_records(ROOT)
    for run in ("urn-spheres-before-phi", "urn-spheres-resout-before-phi"):
        assert sorted(rec[run]) == [0, 1, 2, 3, 4]
        for seed, r in rec[run].items():
            final = json.loads((ROOT / run / f"seed-{seed}" / "summary.json").read_text())["final"]
            assert r["evals"][-1] == (25000, final["n_active"])
            assert sum(r["hidden"]) == final["n_active_hidden"] <= final["n_active"]

"""The DiffRNN seed summary: medians and inter-quartile ranges over seeds, aligned by step."""

import json

import numpy as np
import pytest

from minidsn.models.diffrnn import report as diffrnn_report


def _write_run(root, name, per_seed):
    d = root / name
    for seed, rows in per_seed.items():
        sd = d / f"seed-{seed}"
        sd.mkdir(parents=True)
        lines = [json.dumps({"step": s, "hidden_size": h, "smooth_loss": l}) for s, h, l in rows]
        lines.append(json.dumps({"step": rows[-1][0], "eval/loss": 1.0}))  # evaluation lines are ignored
        (sd / "metrics.jsonl").write_text("\n".join(lines) + "\n")
    return d


def test_summary_is_median_and_iqr_over_the_common_steps(tmp_path):
    rng = np.random.default_rng(0)
    vals = {s: [(1000 * k, float(rng.integers(1, 40)), float(rng.uniform(8, 20))) for k in (1, 2, 3)]
            for s in range(5)}
    vals[4] = vals[4][:2]  # a seed that stopped early: only the steps every seed has are summarised
    d = _write_run(tmp_path, "diffrnn-x", vals)
    rows = diffrnn_report.summarise(d)
    assert [r["step"] for r in rows] == [1000, 2000]
    for r, k in zip(rows, (0, 1)):
        h = np.array([vals[s][k][1] for s in range(5)])
        loss = np.array([vals[s][k][2] for s in range(5)])
        assert r["n"] == 5
        assert r["hidden_size_median"] == np.median(h)
        assert (r["smooth_loss_q25"], r["smooth_loss_q75"]) == (np.percentile(loss, 25), np.percentile(loss, 75))
    assert (d / "curves.csv").read_text().splitlines()[0].startswith("step,n,hidden_size_median")


def test_missing_runs_are_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="seed-"):
        diffrnn_report.summarise(tmp_path)


def test_compare_figure(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    a = _write_run(tmp_path, "a", {0: [(1000, 5.0, 10.0), (2000, 6.0, 9.0)]})
    b = _write_run(tmp_path, "b", {0: [(1000, 9.0, 12.0), (2000, 9.0, 11.0)]})
    out = tmp_path / "cmp.png"
    diffrnn_report.main([str(a), str(b), "--compare", str(out)])
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "1 seeds" in capsys.readouterr().out

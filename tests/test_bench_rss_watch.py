"""bench/rss_watch.py: the resident-size summary used for issue 21's full-length records."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _module():
    spec = importlib.util.spec_from_file_location("rss_watch", ROOT / "bench" / "rss_watch.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _write(path, rows):
    path.write_text("time\trss_kb\thwm_kb\tlast_logged_step\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows))


def test_summary_of_a_resumed_process(tmp_path):
    """Start-up samples (still at the predecessor's last step) are left out; warm-up is after the first evaluation;
    the end level is taken before the final evaluation; a step's transient peak shows only in the range and HWM."""
    rows = [(0, 8_000, 8_000, 700), (15, 900_000, 900_000, 700)]  # start-up of a process resumed at step 700
    rows += [(30 + i, 1_000 * 1024, 1_100 * 1024, 800 + 100 * i) for i in range(10)]  # 800..1700
    rows += [(50, 1_600 * 1024, 1_700 * 1024, 1000)]  # evaluation transient at 1000
    rows += [(60 + i, 1_040 * 1024, 1_700 * 1024, 1800 + 100 * i) for i in range(10)]  # 1800..2700
    rows += [(80, 1_650 * 1024, 1_750 * 1024, 3000)]  # final evaluation
    f = tmp_path / "p.tsv"
    _write(f, rows)
    r = _module().summarise(f, [1000, 2000, 3000])
    assert r["steps"] == (800, 3000)
    assert r["min_mb"] == 1000 and r["max_mb"] == 1650 and r["hwm_mb"] == 1750
    assert r["warm_from_step"] == 1000 and r["end_mb"] == 1040
    assert r["end_over_warm"] == pytest.approx(1040 / r["warm_mb"])


def test_sampler_follows_a_process_and_stops_when_it_ends(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    (run_dir / "metrics.jsonl").write_text('{"step": 5, "loss": 1.0}\n{"step": 10, "loss": 0.5}\n')
    child = subprocess.Popen([sys.executable, "-c", "import time; x = bytearray(50_000_000); time.sleep(1.5)"])
    out = tmp_path / "rss.tsv"
    _module().sample(child.pid, run_dir, out, every=0.2)
    child.wait()
    rows = [line.split("\t") for line in out.read_text().splitlines()[1:]]
    assert rows and all(r[3] == "10" for r in rows)
    assert max(int(r[1]) for r in rows) > 40_000  # kB: the child's 50 MB buffer is resident

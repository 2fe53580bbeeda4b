"""One error path for the command line: one line naming the problem and what to do, exit 2 (usage) or 1 (failure),
no traceback unless --debug, nothing partial left behind; config bounds; oracle compare refusing vacuous passes."""

import errno
import io
import json
import os
import zipfile

import numpy as np
import pytest

from minidsn.cli import main
from minidsn.runs.checkpoint import load_latest_checkpoint

RUN_TOML = ('model = "mlp"\nseed = 4\nsteps = 12\nlog_every = 4\ncheckpoint_every = 6\n'
            '[config]\nn_train = 32\nn_test = 16\nhidden = [6]\nbatch_size = 8\n')


@pytest.fixture
def run_file(tmp_path):
    (tmp_path / "tiny.toml").write_text(RUN_TOML)
    return tmp_path / "tiny.toml"


def one_line(capsys, *needles):
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(lines) == 1 and "Traceback" not in err, err
    for n in needles:
        assert n in lines[0], lines[0]
    return lines[0]


def test_run_file_not_utf8(tmp_path, capsys):
    p = tmp_path / "bad.toml"
    p.write_bytes(b'model = "mlp"\ndescription = "\xff\xfe"\nsteps = 2\n')
    assert main(["run", str(p)]) == 1
    one_line(capsys, "not UTF-8", str(p))


def test_run_file_is_a_directory(tmp_path, capsys):
    d = tmp_path / "dir.toml"
    d.mkdir()
    assert main(["run", str(d)]) == 1
    one_line(capsys, str(d))


def test_out_is_an_existing_file(tmp_path, run_file, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    assert main(["run", str(run_file), "--out", str(f)]) == 2
    one_line(capsys, "is an existing file")
    assert f.read_text() == "x"


def test_full_disk_at_start_leaves_nothing(tmp_path, run_file, capsys, monkeypatch):
    import minidsn.runs.atomic as atomic

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out"))

    monkeypatch.setattr(atomic.os, "replace", full)
    out = tmp_path / "out"
    assert main(["run", str(run_file), "--out", str(out), "--no-plots"]) == 1
    one_line(capsys, "No space left on device", "free some disk space")
    assert not out.exists()


def test_full_disk_mid_run_keeps_the_last_checkpoint_and_resumes(tmp_path, run_file, capsys, monkeypatch):
    import contextlib

    import minidsn.runs.checkpoint as ckmod

    real = ckmod.atomic_open

    class FillsUp:
        """The npz's temporary file: the disk is full after its first 100 bytes (the write fails mid-file)."""

        def __init__(self, f):
            self.f, self.n = f, 0

        def write(self, data):
            self.n += len(data)
            if self.n > 100:
                raise OSError(errno.ENOSPC, "No space left on device", self.f.name)
            return self.f.write(data)

        def __getattr__(self, name):
            return getattr(self.f, name)

    @contextlib.contextmanager
    def full_at_12(path, mode="wb"):
        with real(path, mode) as f:
            yield FillsUp(f) if "ckpt-00000012" in str(path) else f

    monkeypatch.setattr(ckmod, "atomic_open", full_at_12)
    out = tmp_path / "out"
    assert main(["run", str(run_file), "--out", str(out), "--no-plots"]) == 1
    one_line(capsys, "No space left on device")
    assert load_latest_checkpoint(out / "checkpoints").step == 6
    assert not list(out.rglob(".tmp-*")) and not (out / ".lock").exists()
    monkeypatch.setattr(ckmod, "atomic_open", real)
    assert main(["run", "--resume", str(out), "--no-plots"]) == 0
    ref = tmp_path / "ref"
    assert main(["run", str(run_file), "--out", str(ref), "--no-plots"]) == 0
    assert (ref / "metrics.jsonl").read_text() == (out / "metrics.jsonl").read_text()


@pytest.mark.parametrize("edit,key", [({"log_every": 0}, "log_every"), ({"steps": "100"}, "steps"),
                                      ({"seeds": [1, 1]}, "seeds"), ({"keep_checkpoints": -1}, "keep_checkpoints")])
def test_hand_edited_config_json_is_named(tmp_path, run_file, capsys, edit, key):
    out = tmp_path / "out"
    assert main(["run", str(run_file), "--out", str(out), "--no-plots", "--steps", "6"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    cfg.update(edit)
    (out / "config.json").write_text(json.dumps(cfg))
    capsys.readouterr()
    assert main(["run", "--resume", str(out), "--steps", "12"]) == 1
    one_line(capsys, key, "config.json")


def test_config_json_not_json(tmp_path, run_file, capsys):
    out = tmp_path / "out"
    assert main(["run", str(run_file), "--out", str(out), "--no-plots", "--steps", "6"]) == 0
    (out / "config.json").write_bytes(b"\xff{")
    capsys.readouterr()
    assert main(["run", "--resume", str(out)]) == 1
    one_line(capsys, "not valid JSON")


@pytest.mark.parametrize("value", ["inf", "nan", "-inf"])
def test_non_finite_option_is_refused(tmp_path, run_file, capsys, value):
    run_file.write_text(RUN_TOML + f"lr = {value}\n")
    need = "finite" if value == "inf" else "must be"  # nan and -inf already fail the option's "> 0"
    assert main(["run", str(run_file), "--out", str(tmp_path / "o")]) == 1
    one_line(capsys, "'lr'", need)
    assert main(["oracle", "export", "mlp", "--set", f"lr={value}", "--out", str(tmp_path / "c.npz")]) == 1
    one_line(capsys, "'lr'", need)
    assert not (tmp_path / "o").exists() and not (tmp_path / "c.npz").exists()


@pytest.mark.parametrize("line", ["n_train = 1000000000000", "hidden = [100000000, 100000000]"])
def test_huge_sizes_are_refused_with_an_estimate(tmp_path, run_file, capsys, monkeypatch, line):
    monkeypatch.delenv("MINIDSN_MAX_MEMORY_GB", raising=False)
    run_file.write_text(RUN_TOML.replace("n_train = 32\n", "").replace("hidden = [6]\n", "") + line + "\n")
    assert main(["run", str(run_file), "--out", str(tmp_path / "o")]) == 1
    one_line(capsys, "GiB", "MINIDSN_MAX_MEMORY_GB")
    key, val = line.split(" = ")
    assert main(["oracle", "export", "mlp", "--set", f"{key}={val}", "--out", str(tmp_path / "c.npz")]) == 1
    one_line(capsys, "GiB")


def test_memory_check_can_be_overridden(monkeypatch):
    from minidsn.models.api import get_model
    from minidsn.runs.config import check_memory, estimate_memory

    cfg = {"hidden": [10**8, 10**8], "n_train": 10, "lr": 0.1, "test_every": 10**9}
    assert estimate_memory(cfg) == (8 * 10**16, ["hidden", "hidden"])
    monkeypatch.setenv("MINIDSN_MAX_MEMORY_GB", "0")
    check_memory(get_model("mlp"), cfg)  # no error: check disabled
    monkeypatch.setenv("MINIDSN_MAX_MEMORY_GB", "1e9")
    check_memory(get_model("mlp"), cfg)


def test_usage_errors_exit_2(tmp_path, run_file, capsys):
    assert main(["run", str(run_file), "--steps", "0"]) == 2
    one_line(capsys, "--steps")
    assert main(["run", str(run_file), "--jobs", "0"]) == 2
    one_line(capsys, "--jobs")
    assert main(["run", "--resume", str(tmp_path), "--seed", "3"]) == 2
    one_line(capsys, "--resume DIR takes only")
    a = tmp_path / "a.npz"
    assert main(["oracle", "export", "mlp", "--out", str(a)]) == 0
    capsys.readouterr()
    assert main(["oracle", "compare", str(a), str(a), "--atol", "-1"]) == 2
    one_line(capsys, "--atol")
    assert main(["oracle", "compare", str(a), str(a), "--rtol", "nan"]) == 2
    one_line(capsys, "--rtol")


def test_data_fetch_onto_a_regular_file(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["data", "fetch", "mnist", "--dir", str(f), "--base-url", "http://127.0.0.1:9/"]) == 1
    one_line(capsys, str(f))


def test_debug_shows_the_traceback(tmp_path, capsys):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OSError):
        main(["data", "fetch", "mnist", "--dir", str(f), "--debug"])


def test_unexpected_errors_are_one_line(monkeypatch, capsys):
    import minidsn.cli as cli

    def boom(args):
        raise KeyError("surprise")

    monkeypatch.setattr(cli, "cmd_list", boom)
    assert main(["list"]) == 1
    one_line(capsys, "unexpected KeyError", "--debug")


def test_divergence_from_the_command_line(tmp_path, run_file, capsys):
    run_file.write_text(RUN_TOML + "lr = 1e300\n")
    out = tmp_path / "o"
    with np.errstate(all="ignore"):
        assert main(["run", str(run_file), "--out", str(out), "--no-plots"]) == 3
    assert json.loads((out / "summary.json").read_text())["status"] == "nonfinite"
    assert "non-finite" in capsys.readouterr().err


# ------------------------------------------------------------------ oracle files
def _export(tmp_path, capsys):
    a = tmp_path / "a.npz"
    assert main(["oracle", "export", "mlp", "--out", str(a)]) == 0
    capsys.readouterr()
    return a


def test_compare_refuses_an_empty_reference(tmp_path, capsys):
    a = _export(tmp_path, capsys)
    empty = tmp_path / "empty.npz"
    np.savez(empty, meta=np.array(json.dumps({"format": "minidsn-oracle"})))
    assert main(["oracle", "compare", str(empty), str(a)]) == 1
    one_line(capsys, "holds no arrays")


def test_compare_refuses_a_reference_with_fewer_keys_than_its_meta(tmp_path, capsys):
    a = _export(tmp_path, capsys)
    cut = tmp_path / "cut.npz"
    with np.load(a) as z:
        data = {k: z[k] for k in z.files}
    dropped = sorted(k for k in data if k.startswith("grads/"))[0]
    del data[dropped]
    np.savez(cut, **data)
    assert main(["oracle", "compare", str(cut), str(a)]) == 1
    one_line(capsys, "lists", dropped)


def test_oracle_file_with_a_huge_header_is_refused(tmp_path, capsys):
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": "<f8", "fortran_order": False, "shape": (10**12,)})
    npy.write(b"\0" * 16)
    evil = tmp_path / "evil.npz"
    with zipfile.ZipFile(evil, "w") as zf:
        zf.writestr("params/w.npy", npy.getvalue())
    a = _export(tmp_path, capsys)
    assert main(["oracle", "compare", str(evil), str(a)]) == 1
    one_line(capsys, "declares shape (1000000000000,)")


def test_run_records_are_sealed_and_an_edited_config_is_said_and_used(tmp_path, run_file, capsys):
    from minidsn.runs.sealed import unseal

    out = tmp_path / "out"
    assert main(["run", str(run_file), "--out", str(out), "--no-plots", "--steps", "6"]) == 0
    for name in ("config.json", "summary.json"):
        unseal(json.loads((out / name).read_text()), name)  # both carry a verifying checksum
    cfg = json.loads((out / "config.json").read_text())
    cfg["log_every"] = 3  # a legitimate hand edit
    (out / "config.json").write_text(json.dumps(cfg))
    capsys.readouterr()
    assert main(["run", "--resume", str(out), "--steps", "12", "--no-plots"]) == 0
    assert "changed since the run wrote it" in capsys.readouterr().err
    assert json.loads((out / "config.json").read_text())["log_every"] == 3
    assert '"step": 9,' in (out / "metrics.jsonl").read_text()


def test_a_model_guard_is_reported_as_the_model_s_not_as_a_bug():
    """A documented model guard (DNM's exponent crossing 0) is an expected outcome: one line naming it and where it
    is documented, not 'unexpected ... please report it'."""
    from minidsn.cli import error_line
    from minidsn.models.dnm.model import DNMGuardError

    code, msg = error_line(DNMGuardError("dnm guard at step 5: neuron 9 has beta + 1 = -0.01 <= 0"))
    assert code == 1 and "neuron 9" in msg and "docs/models" in msg and "unexpected" not in msg
    code, msg = error_line(RuntimeError("boom"))
    assert "unexpected RuntimeError" in msg


@pytest.mark.parametrize("variant", ["g1", "g3", "fixed"])
def test_diffrnn_one_window_case_of_another_variant_is_a_config_error(tmp_path, capsys, variant):
    """The one-window diffrnn oracle case exists for g2 and altern only: asking for another variant is one line
    naming the key and the way out (a trajectory case), not an "unexpected" error; the trajectory case works."""
    out = tmp_path / "case.npz"
    assert main(["oracle", "export", "diffrnn", "--set", f"variant={variant!r}", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "config key 'variant'" in err and "--steps" in err and "unexpected" not in err and not out.exists()
    assert main(["oracle", "export", "diffrnn", "--set", f"variant={variant!r}", "--set", "seq_length=6", "--steps",
                 "1", "--out", str(out)]) == 0 and out.exists()

"""Checkpoint integrity: the JSON's own checksum, random bit flips anywhere in the newest checkpoint, hostile npz
headers refused before NumPy allocates, version-1 checkpoints still readable."""

import io
import json
import random
import shutil
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.runs.checkpoint import (CheckpointError, list_checkpoints, load_checkpoint, load_latest_checkpoint,
                                     save_checkpoint)
from minidsn.runs.config import resolve_run_spec
from minidsn.runs.loop import run
from minidsn.runs.npzcheck import NpzSizeError, check_npz
from minidsn.runs.sealed import SealError, seal, unseal

SMALL = {"n_train": 64, "n_test": 32, "hidden": [8], "batch_size": 16, "n_classes": 3}


def _spec(steps):
    return resolve_run_spec({"model": "mlp", "steps": steps, "log_every": 5, "eval_every": 10,
                             "checkpoint_every": 10, "config": dict(SMALL)}, "t")


def _tree_bytes(x):
    return json.dumps(x, default=lambda a: [str(a.dtype), a.tobytes().hex()] if isinstance(a, (np.ndarray, np.generic))
                      else repr(x), sort_keys=False)


def _two_checkpoints(d):
    rng = np.random.default_rng(3)
    save_checkpoint(d, 1, {"w": rng.normal(size=(3, 4)), "n": 7, "sizes": [3, 4], "lr": 0.5}, rng)
    st = {"w": rng.normal(size=(3, 4)), "n": 8, "sizes": [3, 4], "lr": 0.25, "t": np.int64(9)}
    p = save_checkpoint(d, 2, st, rng, extra={"elapsed_s": 1e-05})
    return p, st, rng.bit_generator.state


def test_seal_roundtrip_and_tamper():
    rec = seal({"a": 1, "b": [1.5, "x"]})
    assert unseal(json.loads(json.dumps(rec)), "r") == {"a": 1, "b": [1.5, "x"]}
    rec["a"] = 2
    with pytest.raises(SealError, match="does not match"):
        unseal(rec, "r")
    with pytest.raises(SealError, match="no checksum"):
        unseal({"a": 1}, "r")
    assert unseal({"a": 1}, "r", required=False) == {"a": 1}


@pytest.mark.parametrize("edit", ["rng_digit", "step", "int_leaf", "elapsed"])
def test_a_parseable_edit_of_the_json_is_refused_and_the_previous_used(tmp_path, edit):
    """The examples of issue #19: these edits still parse and used to be accepted silently."""
    p, _, _ = _two_checkpoints(tmp_path)
    meta = json.loads(p.read_text())
    if edit == "rng_digit":
        text = p.read_text()
        state_val = str(meta["skeleton"]["items"][1][1]["items"][1][1]["items"][0][1]["v"])
        p.write_text(text.replace(state_val, state_val[:-1] + str((int(state_val[-1]) + 1) % 10), 1))
    else:
        if edit == "step":
            meta["step"] = 3
        elif edit == "int_leaf":
            items = meta["skeleton"]["items"][0][1]["items"]
            next(v for k, v in items if k == ["s", "n"])["v"] = 9
        else:
            meta["extra"]["elapsed_s"] = 2.0
        p.write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="corrupt or was edited"):
        load_checkpoint(p)
    warnings = []
    ck = load_latest_checkpoint(tmp_path, warn=warnings.append)
    assert ck.step == 1 and "skipping unusable checkpoint" in warnings[0]


def test_step_must_match_the_file_name(tmp_path):
    p, _, _ = _two_checkpoints(tmp_path)
    meta = json.loads(p.read_text())
    meta["step"] = 1
    p.write_text(json.dumps(seal(meta)))
    with pytest.raises(CheckpointError, match="records step 1, its name says 2"):
        load_checkpoint(p)


def test_version_1_checkpoints_are_still_read(tmp_path):
    p, st, rs = _two_checkpoints(tmp_path)
    meta = unseal(json.loads(p.read_text()), "x")
    meta["version"] = 1
    p.write_text(json.dumps(meta))
    ck = load_checkpoint(p)
    assert _tree_bytes(ck.state) == _tree_bytes(st) and ck.rng_state == rs


def _flip(path, rnd):
    b = bytearray(path.read_bytes())
    i = rnd.randrange(len(b))
    b[i] ^= 1 << rnd.randrange(8)
    path.write_bytes(bytes(b))
    return i


def _check_random_flips(tmp_path, n, seed):
    base = tmp_path / "base"
    p, st, rs = _two_checkpoints(base)
    rnd = random.Random(seed)
    outcomes = {"refused": 0, "identical": 0}
    for k in range(n):
        d = tmp_path / f"c{k}"
        shutil.copytree(base, d)
        target = d / (p.name if rnd.random() < 0.5 else p.with_suffix(".npz").name)
        _flip(target, rnd)
        ck = load_latest_checkpoint(d, warn=lambda m: None)
        if ck.step == 1:
            outcomes["refused"] += 1
        else:  # accepted: then it must be exactly what was written
            assert ck.step == 2 and _tree_bytes(ck.state) == _tree_bytes(st) and ck.rng_state == rs, target
            outcomes["identical"] += 1
        shutil.rmtree(d)
    return outcomes


def test_random_bit_flips_in_the_newest_checkpoint_are_refused_or_harmless(tmp_path):
    out = _check_random_flips(tmp_path, 60, seed=0)
    assert out["refused"] > 0


@pytest.mark.slow
def test_random_bit_flips_many(tmp_path):
    for seed in range(5):
        _check_random_flips(tmp_path / str(seed), 400, seed)


def _compare_runs(a, b):
    ca = load_checkpoint(list_checkpoints(a / "checkpoints")[-1])
    cb = load_checkpoint(list_checkpoints(b / "checkpoints")[-1])
    assert ca.step == cb.step and _tree_bytes(ca.state) == _tree_bytes(cb.state) and ca.rng_state == cb.rng_state
    assert (a / "metrics.jsonl").read_text() == (b / "metrics.jsonl").read_text()


def _resume_after_random_flips(tmp_path, n, seed):
    ref = tmp_path / "ref"
    run(_spec(30), ref, stream=io.StringIO(), plots=False)
    part = tmp_path / "part"
    run(_spec(20), part, stream=io.StringIO(), plots=False)  # checkpoints 10 and 20 kept
    rnd = random.Random(seed)
    fell_back = 0
    for k in range(n):
        d = tmp_path / f"r{k}"
        shutil.copytree(part, d)
        newest = list_checkpoints(d / "checkpoints")[-1]
        _flip(newest if rnd.random() < 0.5 else newest.with_suffix(".npz"), rnd)
        err = io.StringIO()
        res = run(_spec(30), d, resume=True, stream=err, plots=False)
        assert res.status == "completed"
        fell_back += "skipping unusable checkpoint" in err.getvalue()
        _compare_runs(ref, d)
        shutil.rmtree(d)
    return fell_back


def test_resume_after_a_random_bit_flip_is_refused_or_bit_identical(tmp_path):
    """Flip one random bit anywhere in the newest checkpoint (JSON or npz): the resume either refuses it and falls
    back to the previous checkpoint, or uses it; either way the result is bit-identical to the uninterrupted run."""
    assert _resume_after_random_flips(tmp_path, 6, seed=1) > 0


@pytest.mark.slow
def test_resume_after_random_bit_flips_many(tmp_path):
    _resume_after_random_flips(tmp_path, 60, seed=2)


def _npz_claiming(shape, data=b"\0" * 64):
    """An npz with one stored member whose .npy header claims ``shape`` of float64 but holds only ``data``."""
    npy = io.BytesIO()
    np.lib.format.write_array_header_1_0(npy, {"descr": "<f8", "fortran_order": False, "shape": shape})
    npy.write(data)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a0.npy", npy.getvalue())
    return buf.getvalue()


@pytest.mark.parametrize("n", [10**12, 10**18])
def test_npz_header_claiming_huge_arrays_is_refused_before_allocating(n):
    data = _npz_claiming((n,))
    with pytest.raises(NpzSizeError, match=r"declares shape \(%d,\)" % n):
        check_npz(io.BytesIO(data), "f.npz", len(data))


def test_npz_check_limits():
    data = _npz_claiming((8,))
    assert check_npz(io.BytesIO(data), "ok.npz", len(data)) == 64
    with pytest.raises(NpzSizeError, match="above the 32-byte maximum"):
        check_npz(io.BytesIO(data), "ok.npz", len(data), max_bytes=32)
    with pytest.raises(NpzSizeError, match="not a readable .npz"):
        check_npz(io.BytesIO(b"garbage"), "g.npz", 7)


def test_checkpoint_with_a_forged_huge_npz_is_refused(tmp_path):
    """Even with a consistent sha256 (a deliberate forgery), the size check runs before np.load allocates."""
    import hashlib

    p, _, _ = _two_checkpoints(tmp_path)
    data = _npz_claiming((10**12,))
    p.with_suffix(".npz").write_bytes(data)
    meta = unseal(json.loads(p.read_text()), "x")
    meta["npz_bytes"], meta["npz_sha256"] = len(data), hashlib.sha256(data).hexdigest()
    p.write_text(json.dumps(seal(meta)))
    with pytest.raises(CheckpointError, match="declares shape"):
        load_checkpoint(p)


def test_npz_check_accepts_real_files_of_every_kind():
    """No false alarms: compressed (ratio near deflate's limit), 0-d string, empty and Fortran-order arrays."""
    for save in (np.savez, np.savez_compressed):
        buf = io.BytesIO()
        save(buf, a=np.zeros((1000, 1000)), s=np.array("hello"), z=np.zeros((0, 3)), f=np.asfortranarray(np.ones((3, 4))))
        data = buf.getvalue()
        assert check_npz(io.BytesIO(data), "x.npz", len(data)) == 8_000_000 + 20 + 0 + 96


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                     | st.text(max_size=8), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c,
                                                                                               max_size=4),
                     max_leaves=12)


@settings(max_examples=80, deadline=None)
@given(st.dictionaries(st.text(max_size=6).filter(lambda k: k != "sha256"), _json, min_size=1, max_size=5),
       st.data())
def test_seal_detects_every_change_of_a_value(rec, data):
    sealed = json.loads(json.dumps(seal(rec)))
    assert unseal(sealed, "r") == json.loads(json.dumps(rec))
    key = data.draw(st.sampled_from(sorted(rec)))
    new = data.draw(_json)
    if json.dumps(new, sort_keys=True) == json.dumps(rec[key], sort_keys=True):
        return
    sealed[key] = new
    with pytest.raises(SealError):
        unseal(sealed, "r")

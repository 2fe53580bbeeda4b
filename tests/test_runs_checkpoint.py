"""Checkpoints: exact round trip of states, atomic writes, corrupt and truncated files, the previous one kept."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minidsn.runs import checkpoint as ck
from minidsn.runs.checkpoint import (CheckpointError, list_checkpoints, load_checkpoint, load_latest_checkpoint,
                                     rng_from_state, save_checkpoint)
from minidsn.runs.sealed import seal
from minidsn.runs.treeio import TreeFormatError, decode_tree, encode_tree

finite_or_not = st.floats(allow_nan=True, allow_infinity=True)
arrays = st.one_of(
    st.lists(finite_or_not, max_size=5).map(lambda v: np.array(v, dtype=np.float64)),
    st.lists(st.integers(-2**40, 2**40), max_size=5).map(lambda v: np.array(v, dtype=np.int64)),
    st.lists(st.booleans(), max_size=4).map(lambda v: np.array(v, dtype=bool).reshape(-1, 1)),
    finite_or_not.map(np.float64),
    st.integers(-100, 100).map(np.int32),
)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), finite_or_not, st.text(max_size=5))
trees = st.recursive(
    st.one_of(scalars, arrays),
    lambda kids: st.one_of(
        st.lists(kids, max_size=3),
        st.lists(kids, max_size=3).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=4), st.integers(-5, 5)), kids, max_size=3),
    ),
    max_leaves=12,
)


def _same(a, b):
    """Exact equality including types, dtypes, NaN payload positions, list/tuple and key order."""
    assert type(a) is type(b), (a, b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.tobytes() == b.tobytes()
    elif isinstance(a, np.generic):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()
    elif isinstance(a, float):
        assert a.hex() == b.hex() if a == a else b != b
    elif isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert a == b


@settings(max_examples=60)
@given(trees)
def test_treeio_roundtrip_is_exact(tree):
    skel, arrs = encode_tree(tree)
    json.loads(json.dumps(skel, allow_nan=False))  # the skeleton is strict JSON
    _same(tree, decode_tree(json.loads(json.dumps(skel)), arrs))


def test_treeio_refuses_unsupported_values():
    with pytest.raises(TreeFormatError, match=r"state\['a'\]\[0\].*object"):
        encode_tree({"a": [np.array([1, "x"], dtype=object)]})
    with pytest.raises(TreeFormatError, match="set cannot be checkpointed"):
        encode_tree({"a": {1, 2}})
    with pytest.raises(TreeFormatError, match="dict key"):
        encode_tree({(1, 2): 0})


def _state(rng):
    return {"params": {"W": rng.normal(size=(4, 3)), "b": np.zeros(3)}, "sizes": [4, 3], "lr": 0.1,
            "t": np.int64(7), "name": "x"}


def test_save_load_and_rng_restore(tmp_path):
    rng = np.random.default_rng(1)
    st_ = _state(rng)
    p = save_checkpoint(tmp_path, 5, st_, rng, extra={"elapsed_s": 1.5})
    c = load_checkpoint(p)
    assert c.step == 5 and c.extra["elapsed_s"] == 1.5
    _same(st_, c.state)
    r2 = rng_from_state(c.rng_state)
    assert np.array_equal(r2.random(5), rng.random(5))


def test_retention_keeps_newest(tmp_path):
    rng = np.random.default_rng(0)
    for s in range(5):
        save_checkpoint(tmp_path, s, {"x": np.arange(s)}, rng, keep_last=2)
    assert [p.name for p in list_checkpoints(tmp_path)] == ["ckpt-00000003.json", "ckpt-00000004.json"]
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == ["ckpt-00000003.npz", "ckpt-00000004.npz"]


@pytest.mark.parametrize("damage", ["truncate_npz", "flip_npz", "truncate_json", "delete_npz", "garbage_json"])
def test_corrupt_latest_is_detected_and_previous_used(tmp_path, damage):
    rng = np.random.default_rng(0)
    save_checkpoint(tmp_path, 1, {"x": np.arange(3.0)}, rng)
    p2 = save_checkpoint(tmp_path, 2, {"x": np.arange(1000.0)}, rng)
    npz = p2.with_suffix(".npz")
    if damage == "truncate_npz":
        npz.write_bytes(npz.read_bytes()[:100])
    elif damage == "flip_npz":
        b = bytearray(npz.read_bytes())
        b[len(b) // 2] ^= 0xFF
        npz.write_bytes(bytes(b))
    elif damage == "truncate_json":
        p2.write_text(p2.read_text()[:50])
    elif damage == "delete_npz":
        npz.unlink()
    else:
        p2.write_bytes(b"\x00\xff not json")
    with pytest.raises(CheckpointError, match="ckpt-00000002"):
        load_checkpoint(p2)
    warnings = []
    c = load_latest_checkpoint(tmp_path, warn=warnings.append)
    assert c.step == 1 and np.array_equal(c.state["x"], np.arange(3.0))
    assert len(warnings) == 1 and "ckpt-00000002" in warnings[0]


def test_only_corrupt_checkpoints_is_an_error(tmp_path):
    rng = np.random.default_rng(0)
    p = save_checkpoint(tmp_path, 1, {"x": np.arange(3.0)}, rng)
    p.with_suffix(".npz").write_bytes(b"PK\x03\x04 nonsense")
    with pytest.raises(CheckpointError, match="no usable checkpoint"):
        load_latest_checkpoint(tmp_path, warn=lambda m: None)
    assert load_latest_checkpoint(tmp_path / "empty", warn=lambda m: None) is None


def test_failed_write_keeps_previous_and_leaves_no_temp(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    save_checkpoint(tmp_path, 1, {"x": np.arange(3.0)}, rng)

    real_replace = ck.atomic_write_text.__globals__["os"].replace

    def failing_replace(src, dst):
        if str(dst).endswith(".json"):
            raise OSError("disk full (simulated)")
        return real_replace(src, dst)

    monkeypatch.setattr(ck.atomic_write_text.__globals__["os"], "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path, 2, {"x": np.arange(5.0)}, rng)
    monkeypatch.undo()
    assert not list(tmp_path.glob(".tmp-*"))
    c = load_latest_checkpoint(tmp_path, warn=lambda m: None)
    assert c.step == 1  # the new npz without its JSON is ignored; step 1 is intact


def test_npz_is_loaded_without_pickle(tmp_path):
    rng = np.random.default_rng(0)
    p = save_checkpoint(tmp_path, 1, {"x": np.arange(3.0)}, rng)
    meta = json.loads(p.read_text())
    # craft an npz holding a pickled object array and point the JSON at it with a valid hash
    import hashlib
    import io

    buf = io.BytesIO()
    np.savez(buf, a0=np.array([{"evil": 1}], dtype=object), a1=np.zeros(1))
    data = buf.getvalue()
    p.with_suffix(".npz").write_bytes(data)
    meta["npz_bytes"], meta["npz_sha256"] = len(data), hashlib.sha256(data).hexdigest()
    p.write_text(json.dumps(seal(meta)))  # a consistent, re-checksummed forgery: only the npz check can refuse it
    with pytest.raises(CheckpointError, match="cannot be decoded.*Python objects"):
        load_checkpoint(p)


def test_bad_rng_state():
    with pytest.raises(CheckpointError, match="unknown bit generator"):
        rng_from_state({"bit_generator": "os.system"})

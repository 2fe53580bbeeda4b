"""Memory: no array of a run is kept alive by a reference cycle (issue 21), and the resident size of a URN run stays
flat over many evaluations and checkpoints (slow).

The mechanism found in issue 21: the checkpoint encoder's recursive closure was a reference cycle holding the dict of
every state array; a long run freed it only when CPython's full collection ran, which it almost never did, so each
checkpoint of a URN at S = 5000 left W, m and v (600 MB) resident and the run grew to 12-14 GiB.
"""

import gc
import json
import weakref

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minidsn.runs.checkpoint import load_checkpoint, save_checkpoint
from minidsn.runs.config import REFERENCE_DIR, load_run_file, resolve_run_spec
from minidsn.runs.loop import run
from minidsn.runs.treeio import decode_tree, encode_tree
from minidsn.testing.memory import arrays_held_by_cycles, rss_bytes, unique_array_bytes

leaves = st.one_of(st.integers(0, 4).map(lambda n: np.arange(float(n))), st.floats(allow_nan=False), st.none())
trees = st.recursive(leaves, lambda kids: st.one_of(st.lists(kids, max_size=3), st.lists(kids, max_size=3).map(tuple),
                                                     st.dictionaries(st.text(max_size=3), kids, max_size=3)),
                     max_leaves=10)


def _copy(tree):
    """The same tree with fresh arrays (hypothesis keeps its own references to the generated ones)."""
    if isinstance(tree, np.ndarray):
        return tree.copy()
    if isinstance(tree, dict):
        return {k: _copy(v) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return type(tree)(_copy(v) for v in tree)
    return tree


def _arrays_in(tree):
    if isinstance(tree, np.ndarray):
        return [tree]
    items = tree.values() if isinstance(tree, dict) else tree if isinstance(tree, (list, tuple)) else []
    return [a for x in items for a in _arrays_in(x)]


@given(trees)
def test_tree_codec_frees_the_arrays_without_the_garbage_collector(tree):
    """encode_tree / decode_tree hold no reference once they return: with the collector off, dropping the tree
    frees its arrays at once (the closure cycle of issue 21 kept them until a full collection)."""
    was = gc.isenabled()
    gc.disable()
    try:
        tree = {"state": _copy(tree)}
        refs = [weakref.ref(a) for a in _arrays_in(tree)]
        skeleton, arrays = encode_tree(tree)
        back = decode_tree(json.loads(json.dumps(skeleton)), {k: v.copy() for k, v in arrays.items()})
        back_refs = [weakref.ref(a) for a in _arrays_in(back)]
        del tree, arrays, back
        assert all(r() is None for r in refs + back_refs)
    finally:
        if was:
            gc.enable()


def test_checkpoint_save_and_load_leave_no_array_in_a_cycle(tmp_path):
    state = {"params": {"W": np.ones((50, 50)), "b": np.zeros(50)}, "opt": {"m": [np.ones(3)], "step": 4}}
    with arrays_held_by_cycles() as held:
        save_checkpoint(tmp_path, 1, state, np.random.default_rng(0))
        load_checkpoint(tmp_path / "ckpt-00000001.json")
    assert held == []


def test_the_detector_finds_an_array_held_by_a_closure_cycle():
    """The detector can fail: the closure pattern of the old encoder is caught."""
    def leaky(a):
        box = {"a": a}

        def rec(n):  # refers to itself: function -> cell -> function
            return box if n == 0 else rec(n - 1)
        return rec(1) is box

    with arrays_held_by_cycles() as held:
        assert leaky(np.ones(7))
    assert [a.shape for a in held] == [(7,)]


def _urn_spec(steps, n_neurons, eval_every, checkpoint_every):
    raw = load_run_file(REFERENCE_DIR / "urn-spheres-small.toml")
    raw["config"].update(n_neurons=n_neurons, n_train=256, n_test=128)
    raw.update(eval_every=eval_every, checkpoint_every=checkpoint_every, keep_checkpoints=2, seeds=[0])
    return resolve_run_spec(raw, "urn-memory", steps=steps)


def test_urn_run_through_the_harness_keeps_no_array_in_a_cycle(tmp_path):
    """Steps, evaluations, checkpoints, metrics and the NaN guard of a URN run create no cycle that holds an array."""
    spec = _urn_spec(steps=9, n_neurons=60, eval_every=3, checkpoint_every=1)
    with arrays_held_by_cycles() as held:
        run(spec, tmp_path / "run", progress=False, plots=False)
    assert [a.shape for a in held] == []


@pytest.mark.slow
def test_urn_resident_memory_stays_flat_over_many_evaluations(tmp_path, monkeypatch):
    """URN through the harness at S = 1000 (8 MB per S x S array): 1,200 steps, an evaluation every 100 and a
    checkpoint every 50 steps. Bound: resident size at the end at most 1.10 x the size after the first evaluation
    (warm-up) plus 16 MB. The leak of issue 21 added 3 S x S arrays per checkpoint: 24 x 24 MB = 576 MB here."""
    from minidsn.models.urn.model import URNModel

    if rss_bytes() is None:
        pytest.skip("no /proc/self/statm: resident size unavailable")
    samples = []
    orig = URNModel.evaluate

    def evaluate(self, state, cfg, rng, data_dir):
        out = orig(self, state, cfg, rng, data_dir)
        samples.append((rss_bytes(), unique_array_bytes(state, self._spare._held)))
        return out

    monkeypatch.setattr(URNModel, "evaluate", evaluate)
    spec = _urn_spec(steps=1200, n_neurons=1000, eval_every=100, checkpoint_every=50)
    run(spec, tmp_path / "run", progress=False, plots=False)
    warm, end = samples[0][0], samples[-1][0]
    assert len(samples) == 12
    assert end <= 1.10 * warm + 16 * 2**20, [round(s[0] / 2**20) for s in samples]


def _traced_peak(fn):
    """(result, peak bytes NumPy and Python allocated above the starting level while fn ran) via tracemalloc."""
    import tracemalloc

    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        out = fn()
        return out, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


def test_checkpoints_are_written_and_read_without_a_second_copy_of_the_state(tmp_path):
    """The npz streams to its file and is hashed by reading it back in chunks: writing peaks at NumPy's 16 MiB
    chunk, not at the whole state (the old in-memory npz: 1.25x the state), and loading holds the arrays once (old:
    the file's bytes as well, 2x). The bytes are those of an in-memory np.savez, so older checkpoints stay valid."""
    import hashlib
    import io

    state = {"W": np.random.default_rng(0).normal(size=(2048, 4096)), "b": np.arange(3.0)}  # 64 MiB
    nbytes = state["W"].nbytes
    path, peak = _traced_peak(lambda: save_checkpoint(tmp_path, 7, state, np.random.default_rng(1)))
    assert peak < 0.5 * nbytes, f"writing a checkpoint peaked at {peak / nbytes:.2f}x the state"
    ck, peak = _traced_peak(lambda: load_checkpoint(path))
    assert peak < 1.3 * nbytes, f"reading a checkpoint peaked at {peak / nbytes:.2f}x the state"
    np.testing.assert_array_equal(ck.state["W"], state["W"])
    meta = json.loads(path.read_text())
    _, arrays = encode_tree({"state": state, "rng": np.random.default_rng(1).bit_generator.state})
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    assert meta["npz_sha256"] == hashlib.sha256(buf.getvalue()).hexdigest()
    assert meta["npz_bytes"] == len(buf.getvalue())


def test_urn_step_with_logits_before_phi_allocates_no_extra_weight_sized_array():
    """The fused step differentiates W's output rows as a leaf of their own (their gradient added into gW's rows in
    place): a step with logits before phi allocates like one after phi. Reading W[out] inside the traced function
    made the engine build and add a second (S, S) gradient each step (peak +1.1 S^2 arrays, S = 400)."""
    from minidsn.models.urn.model import URNModel

    S, sq = 400, 400 * 400 * 8
    peaks = {}
    for logits in ("after_phi", "before_phi"):
        m = URNModel()
        cfg = m.validate_config({"n_neurons": S, "batch_size": 16, "n_train": 64, "n_test": 16, "logits": logits})
        rng = np.random.default_rng(0)
        state = m.init(cfg, rng, None)
        for s in range(3):  # the spare arrays of the fused step are in place after two steps
            state, _ = m.step(state, cfg, rng, s)
        (state, _), peaks[logits] = _traced_peak(lambda: m.step(state, cfg, rng, 3))
    assert peaks["before_phi"] < peaks["after_phi"] + 0.25 * sq, {k: v / sq for k, v in peaks.items()}


def test_a_resumed_run_lets_go_of_the_checkpoint_it_started_from(tmp_path, monkeypatch):
    """The harness kept the loaded Checkpoint (and so the state arrays it resumed from) for the whole run: a URN at
    S = 5000 resumed at 2.16 GB resident where a fresh start ran at 1.58 GB (W, m, v held once more, and its fused
    step could not reuse them as spares). Three steps after resuming, no parameter or moment array of the loaded state
    is alive."""
    import io

    import minidsn.runs.loop as loop

    raw = {"model": "mlp", "steps": 6, "log_every": 1, "checkpoint_every": 3,
           "config": {"n_train": 64, "n_test": 32, "hidden": [8], "batch_size": 16, "n_classes": 3}}
    out = tmp_path / "run"
    run(resolve_run_spec(raw, "t"), out, progress=False, plots=False, stream=io.StringIO())
    loaded = []
    real = loop.load_latest_checkpoint

    def recording(*args, **kwargs):
        ck = real(*args, **kwargs)
        # the parameters and optimiser moments, which every step replaces (data kept in the state stays, rightly)
        loaded.extend(weakref.ref(a) for a in _arrays_of([ck.state["params"], ck.state["opt"]]))
        return ck

    monkeypatch.setattr(loop, "load_latest_checkpoint", recording)
    alive = {}

    def after_step(done, metrics):
        alive[done] = sum(r() is not None for r in loaded)

    run(resolve_run_spec({**raw, "steps": 12}, "t"), out, resume=True, progress=False, plots=False,
        stream=io.StringIO(), on_step=after_step)
    assert loaded and min(alive) == 7
    assert alive[9] == 0, f"{alive[9]} of {len(loaded)} arrays of the resumed-from state still alive at step 9"


def _arrays_of(tree):
    if isinstance(tree, np.ndarray):
        yield tree
    elif isinstance(tree, dict):
        for v in tree.values():
            yield from _arrays_of(v)
    elif isinstance(tree, (list, tuple)):
        for v in tree:
            yield from _arrays_of(v)

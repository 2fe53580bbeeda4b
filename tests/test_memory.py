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

"""Oracle format version 2 (trajectory cases) and the conformance kit: round trips, minidsn's own replay, an
independent backend that passes, and broken backends that fail at the right step naming the key."""

import copy
import json

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minidsn.cli import main
from minidsn.models.api import Model, Option, register_model
from minidsn.models.draws import record_step, replay_step
from minidsn.oracle import compare_files, export_case, read_case, write_case
from minidsn.oracle.conformance import BackendError, load_backend, minidsn_backend, verify, verify_arrays
from minidsn.oracle.examples.mlp_numpy import Backend as NumpyMLP
from minidsn.oracle.export import export_trajectory, make_trajectory
from minidsn.oracle.format import (OracleFormatError, build_trajectory, trajectory_steps, unflatten,
                                   validate_trajectory_arrays)
from oracle_backends.dnm_broken import CutoffGe  # tests/ is on sys.path (pytest's rootdir-less test folder)
from oracle_backends.mlp_broken import Perturbed
from oracle_backends.urn_broken import LayerLast, PrunedTransposed


# ---- a toy model with draws, events and changing shapes: exercises every part of the format and the kit ---------

def _grow_step(cfg, state, inputs, rng):
    """w <- w - lr * (w - x); then with probability 1/2 append one N(0,1) weight (event 'added')."""
    w = state["w"]
    grad = w - inputs["x"][: w.size]
    loss = 0.5 * float(np.sum(grad ** 2))
    w = w - cfg["lr"] * grad
    events = []
    if rng.random() < 0.5:
        v = rng.normal(size=1)
        w = np.concatenate([w, v])
        events.append({"kind": "added", "index": w.size - 1, "value": v[0], "new_shape": np.array(w.shape)})
    return {"w": w, "t": state["t"] + 1, "hist": [state["t"], w.size]}, {"total": loss}, {"w": grad}, events


class GrowModel(Model):
    name = "_grow"
    options = {"lr": Option(float, 0.5, "step size")}

    def trajectory(self, cfg, rng, data_dir, steps):
        state = {"w": rng.normal(size=2), "t": 0, "hist": [0, 2]}
        out = []
        for _ in range(steps):
            x = rng.normal(size=8)
            rec = record_step(_grow_step, cfg, state, {"x": x}, rng)
            out.append(rec)
            state = rec["state_after"]
        return {"meta": {"variant": None, "forced": {}, "event_kinds": ["added"]}, "steps": out}

    def trajectory_step(self, cfg, state_before, inputs, draws):
        return replay_step(_grow_step, cfg, state_before, inputs, draws)


class GrowBackend:
    """An independent implementation of _grow; ``mistake`` breaks it in one named way."""

    def __init__(self, mistake=None, at_step=None):
        self.mistake, self.at_step = mistake, at_step

    def setup(self, meta):
        self.lr = meta["config"]["lr"]

    def loss_and_grads(self, state, inputs):
        g = state["w"] - inputs["x"][: state["w"].size]
        return {"total": 0.5 * np.sum(g ** 2)}, {"w": g}

    def train_step(self, state, inputs, draws):
        _, grads = self.loss_and_grads(state, inputs)
        w = state["w"] - self.lr * grads["w"]
        events = []
        vals = [d.value for d in draws]
        if vals[0] < 0.5:
            v = vals[1]
            w = np.concatenate([w, v])
            index = w.size - 1
            if self.mistake == "index" and state["t"] == self.at_step:
                index -= 1
            events.append({"kind": "added", "index": index, "value": v[0], "new_shape": np.array(w.shape)})
        return {"w": w, "t": state["t"] + 1, "hist": [state["t"], w.size]}, events


@pytest.fixture(autouse=True)
def _grow_registered():
    """GrowModel is registered only while a test of this file runs (`minidsn list` elsewhere must not see it)."""
    from minidsn.models import api

    register_model(GrowModel, replace=True)
    yield
    api._REGISTRY.pop("_grow", None)


def _grow_case(steps=12, seed=0):
    return make_trajectory("_grow", steps, seed=seed)


def test_own_replay_is_bit_identical_and_an_independent_backend_passes(tmp_path):
    arrays, meta = _grow_case()
    kinds = [e["kind"] for s in meta["steps"] for e in s["events"]]
    assert "added" in kinds and len(kinds) < 12  # some steps add, some do not: shapes change between steps
    path = write_case(tmp_path / "g.npz", arrays, meta)
    rep = verify(path, minidsn_backend(), rtol=0.0, atol=0.0)
    assert rep.ok, rep.format()
    rep = verify(path, GrowBackend())
    assert rep.ok and "PASS" in rep.format()


def test_a_wrong_event_index_fails_at_its_step_naming_the_key(tmp_path):
    arrays, meta = _grow_case()
    path = write_case(tmp_path / "g.npz", arrays, meta)
    adding = [k for k, s in enumerate(meta["steps"]) if s["events"]]
    k = adding[1]
    rep = verify(path, GrowBackend("index", at_step=k))
    assert not rep.ok
    step, row = rep.first_failure
    assert (step, row.key) == (k, f"steps/{k}/events/0/index")
    text = rep.format()
    assert f"FAIL: first difference at step {k}, key steps/{k}/events/0/index" in text
    assert "events, minidsn | backend:" in text and "added(" in text
    assert len(rep.steps) == k + 1  # stops at the first differing step


def test_event_kinds_missing_are_reported():
    arrays, meta = _grow_case()

    class NoEvents(GrowBackend):
        def train_step(self, state, inputs, draws):
            new, _ = super().train_step(state, inputs, draws)
            return new, []

    rep = verify_arrays(arrays, meta, NoEvents())
    k = next(k for k, s in enumerate(meta["steps"]) if s["events"])
    step, row = rep.first_failure
    assert step == k and row.key in (f"steps/{k}/events (kinds)", f"steps/{k}/state_after/w")
    assert any(r.key == f"steps/{k}/events (kinds)" and not r.ok for r in rep.steps[-1].rows)


def test_replay_refuses_other_draws():
    from minidsn.models.draws import DrawReplayError

    arrays, meta = _grow_case()
    steps = trajectory_steps(arrays, meta)
    st0 = steps[0]
    with pytest.raises(DrawReplayError):
        GrowModel().trajectory_step({"lr": 0.5}, st0.state_before, st0.inputs, [])


def test_v2_round_trip_restores_pytrees_dtypes_draws_and_events(tmp_path):
    traj = GrowModel().trajectory({"lr": 0.5}, np.random.default_rng(3), None, 6)
    arrays, tmeta = build_trajectory(traj)
    path = write_case(tmp_path / "r.npz", arrays, {"model": "_grow", "version": 2, "config": {"lr": 0.5}, **tmeta})
    got, meta = read_case(path)
    assert meta["version"] == 2 and meta["kind"] == "trajectory" and meta["n_steps"] == 6
    with np.load(path, allow_pickle=False) as z:
        assert all(z[k].dtype == np.float64 for k in z.files if k != "meta")
    for rec, st in zip(traj["steps"], trajectory_steps(got, meta)):
        assert type(st.state_before["t"]) is int and st.state_before["t"] == rec["state_before"]["t"]
        assert st.state_before["hist"] == rec["state_before"]["hist"] and isinstance(st.state_after["hist"], list)
        np.testing.assert_array_equal(st.state_after["w"], rec["state_after"]["w"])
        assert [(d.label, d.method) for d in st.draws] == [(d.label, d.method) for d in rec["draws"]]
        for a, b in zip(st.draws, rec["draws"]):
            np.testing.assert_array_equal(a.value, b.value)
            assert a.value.dtype == b.value.dtype
        assert [e["kind"] for e in st.events] == [e["kind"] for e in rec["events"]]
        for a, b in zip(st.events, rec["events"]):
            assert type(a["index"]) is int and a["index"] == b["index"] and a["value"] == b["value"]
            assert a["new_shape"].dtype == np.int64


leaf = st.one_of(
    st.integers(-2**40, 2**40), st.floats(allow_nan=False, width=64), st.booleans(),
    st.builds(lambda n, s: np.random.default_rng(s).normal(size=n), st.integers(0, 4), st.integers(0, 9)),
    st.builds(lambda n: np.arange(n, dtype=np.int64), st.integers(0, 4)),
    st.builds(lambda n: np.arange(n) % 2 == 0, st.integers(1, 4)),
)
name = st.text("abcxyz_", min_size=1, max_size=4)
tree = st.recursive(leaf, lambda ch: st.one_of(st.lists(ch, min_size=1, max_size=3),
                                               st.dictionaries(name, ch, min_size=1, max_size=3)), max_leaves=8)


def _same(a, b):
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)
    else:
        assert type(a) is type(b) or (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)), (a, b)
        np.testing.assert_array_equal(a, b)
        if isinstance(a, np.ndarray):
            assert a.dtype == b.dtype


@given(st.dictionaries(name, tree, min_size=1, max_size=3))
@settings(max_examples=60, deadline=None)
def test_any_state_pytree_round_trips(state):
    step = {"state_before": state, "inputs": {}, "draws": [], "losses": {"total": 1.0}, "grads": {},
            "state_after": state, "events": [{"kind": "k", "f": state}]}
    arrays, meta = build_trajectory({"steps": [step]})
    meta.update(version=2)
    (st0,) = trajectory_steps(arrays, meta)
    _same(state, st0.state_before)
    _same(state, st0.state_after)
    _same({"kind": "k", "f": state}, st0.events[0])


def test_v2_rules():
    base = {"state_before": {"a": np.zeros(2)}, "inputs": {}, "draws": [], "losses": {"total": 0.0},
            "grads": {}, "state_after": {}, "events": []}
    with pytest.raises(OracleFormatError, match="digits only"):
        build_trajectory({"steps": [{**base, "state_before": {"0": np.zeros(1)}}]})
    with pytest.raises(OracleFormatError, match="float32"):
        build_trajectory({"steps": [{**base, "state_before": {"a": np.zeros(1, np.float32)}}]})
    with pytest.raises(OracleFormatError, match="'total'"):
        build_trajectory({"steps": [{**base, "losses": {"ce": 1.0}}]})
    with pytest.raises(OracleFormatError, match="kind"):
        build_trajectory({"steps": [{**base, "events": [{"index": 1}]}]})
    with pytest.raises(OracleFormatError, match="missing"):
        build_trajectory({"steps": [{"losses": {"total": 0.0}}]})
    with pytest.raises(OracleFormatError, match="steps/<k>"):
        validate_trajectory_arrays({"params/W": np.zeros(1)}, 1)
    with pytest.raises(OracleFormatError, match="steps/1/losses/total"):
        validate_trajectory_arrays({"steps/0/losses/total": np.zeros(())}, 2)
    assert unflatten({"a/0/x": np.ones(1), "a/1/x": np.zeros(1), "b": np.ones(1)}, "a")[1]["x"][0] == 0.0


def test_v2_file_with_bad_meta_is_refused(tmp_path):
    arrays, meta = _grow_case(3)
    bad = dict(meta, n_steps=5)
    np.savez(tmp_path / "b.npz", meta=np.array(json.dumps(bad)), **arrays)
    with pytest.raises(OracleFormatError, match="n_steps"):
        read_case(tmp_path / "b.npz")


# ---- mlp: minidsn's own case and the hand-written NumPy backend ---------------------------------------------

@pytest.fixture(scope="module")
def mlp_case(tmp_path_factory):
    path = tmp_path_factory.mktemp("mlp") / "mlp.npz"
    export_trajectory("mlp", path, steps=5, seed=0)
    return path


def test_mlp_case_replays_bit_for_bit_and_the_numpy_backend_passes(mlp_case):
    assert verify(mlp_case, minidsn_backend(), rtol=0.0, atol=0.0).ok
    rep = verify(mlp_case, NumpyMLP(), stop_at_first=False)
    assert rep.ok, rep.format()
    worst = max(r.max_rel for s in rep.steps for r in s.rows)
    assert 0 < worst < 1e-10  # independent, so not bit-identical; far inside the default rtol


def test_mlp_trajectory_continues_the_model_run():
    """The trajectory's steps are Model.step's: same seed and config give the same parameters."""
    from minidsn.models.mlp.model import MLPModel
    from minidsn.oracle.export import trajectory_config

    cfg, _ = trajectory_config("mlp")
    arrays, meta = make_trajectory("mlp", 4, seed=7)
    m, rng = MLPModel(), np.random.default_rng(7)
    state = m.init(cfg, rng, None)
    for _ in range(4):
        state, _ = m.step(state, cfg, rng, 0)
    last = trajectory_steps(arrays, meta)[-1].state_after
    for a, b in zip(last["params"]["layers"], state["params"]["layers"]):
        np.testing.assert_array_equal(a["W"], b["W"])


def test_mlp_backend_with_a_1e6_weight_change_fails_at_that_step(mlp_case):
    rep = verify(mlp_case, Perturbed(at=3))
    step, row = rep.first_failure
    assert (step, row.key) == (3, "steps/3/state_after/params/layers/1/W")
    assert 5e-7 < row.max_rel < 2e-6
    assert [r.key for r in rep.steps[-1].failures] == ["steps/3/state_after/params/layers/1/W"]


def test_compare_of_v2_files_and_v1_files_still_read(mlp_case, tmp_path):
    arrays, meta = read_case(mlp_case)
    assert compare_files(mlp_case, mlp_case).ok
    arrays["steps/2/grads/layers/0/b"] = arrays["steps/2/grads/layers/0/b"] * (1 + 1e-5)
    meta2 = copy.deepcopy(meta)
    other = write_case(tmp_path / "o.npz", arrays, meta2)
    rep = compare_files(mlp_case, other)
    assert [r.key for r in rep.failures] == ["steps/2/grads/layers/0/b"]
    meta2["steps"][1]["events"] = [{"kind": "added", "fields": []}]
    other = write_case(tmp_path / "o2.npz", read_case(mlp_case)[0], meta2)
    assert [r.key for r in compare_files(mlp_case, other).failures] == ["steps/1/events (kinds, meta)"]
    v1, _, _ = export_case("mlp", tmp_path / "v1.npz", seed=0)
    a1, m1 = read_case(v1)
    assert m1["version"] == 1 and "params/layers/0/W" in a1 and compare_files(v1, v1).ok


def test_cli_export_verify_exit_codes(mlp_case, tmp_path, capsys, monkeypatch):
    out = tmp_path / "c.npz"
    assert main(["oracle", "export", "mlp", "--steps", "2", "--seed", "1", "--set", "lr=0.05", "--out",
                 str(out)]) == 0
    assert "trajectory of 2 steps" in capsys.readouterr().err
    assert read_case(out)[1]["config"]["lr"] == 0.05
    assert main(["oracle", "verify", str(out), "--backend", "minidsn.oracle.examples.mlp_numpy:Backend"]) == 0
    assert "PASS" in capsys.readouterr().out
    (tmp_path / "broken_mlp.py").write_text(
        "from oracle_backends.mlp_broken import Perturbed\nBackend = lambda: Perturbed(at=1)\n")
    monkeypatch.chdir(tmp_path)
    assert main(["oracle", "verify", str(out), "--backend", "broken_mlp:Backend"]) == 1
    assert "first difference at step 1" in capsys.readouterr().out
    assert main(["oracle", "verify", str(out), "--backend", "no_such_module:X"]) == 1
    assert "cannot import no_such_module" in capsys.readouterr().err
    assert main(["oracle", "verify", str(out), "--backend", "broken_mlp:Nope"]) == 1
    assert "has no Nope" in capsys.readouterr().err
    v1 = tmp_path / "v1.npz"
    assert main(["oracle", "export", "mlp", "--out", str(v1)]) == 0
    assert main(["oracle", "verify", str(v1), "--backend", "minidsn.oracle.examples.mlp_numpy:Backend"]) == 1
    assert "not a trajectory case" in capsys.readouterr().err
    assert main(["oracle", "export", "mlp", "--steps", "-1", "--out", str(v1)]) == 1
    assert main(["oracle", "export", "mlp", "--steps", "--out", str(v1)]) == 0  # the model's default K
    assert read_case(v1)[1]["n_steps"] == 5


def test_a_backend_that_raises_is_reported_with_its_step(mlp_case):
    class Raises(NumpyMLP):
        def train_step(self, state, inputs, draws):
            raise KeyError("m")

    with pytest.raises(BackendError, match="step 0: backend train_step raised KeyError"):
        verify(mlp_case, Raises())
    with pytest.raises(BackendError, match="neither"):
        load_backend("json")


# ---- dnm: every variant replays; a cutoff compared with >= fails where a tie exists ---------------------------



def _kinds(meta):
    return {e["kind"] for s in meta["steps"] for e in s["events"]}


@pytest.mark.parametrize("variant", ["faithful", "text", "text_full"])
def test_dnm_case_replays_and_shows_every_event_kind(variant, tmp_path):
    path, _, meta = export_trajectory("dnm", tmp_path / "d.npz", steps=8, config={"variant": variant})
    assert meta["variant"] == variant and meta["event_kinds_missing"] == []
    assert _kinds(meta) == {"switched_on", "switched_off"}
    assert verify(path, minidsn_backend(), rtol=0.0, atol=0.0).ok
    # with no exact tie, > and >= cannot be told apart: the broken backend passes the default case
    assert verify(path, CutoffGe()).ok


def test_dnm_events_are_the_cutoff_switches(tmp_path):
    """switched_on / switched_off are exactly the entries whose live state (|v| > c) changes in the step."""
    from minidsn.models.dnm.model import DNMModel, resolve
    from minidsn.models.dnm.trajectory import live_entries

    arrays, meta = make_trajectory("dnm", 8)
    m = DNMModel()
    layout = m._layout(resolve(m.validate_config(meta["config"])))
    for st in trajectory_steps(arrays, meta):
        before = live_entries(st.state_before["params"], layout)
        after = live_entries(st.state_after["params"], layout)
        ev = {e["kind"]: set(zip(e["rows"].tolist(), e["cols"].tolist())) for e in st.events}
        assert ev.get("switched_on", set()) == set(zip(*np.nonzero(after & ~before)))
        assert ev.get("switched_off", set()) == set(zip(*np.nonzero(before & ~after)))


@pytest.mark.parametrize("variant", ["faithful", "text", "text_full"])
def test_dnm_cutoff_compared_with_ge_fails_at_the_tie(variant, tmp_path):
    path, _, meta = export_trajectory("dnm", tmp_path / "t.npz", steps=3,
                                      config={"variant": variant, "oracle_cutoff_tie": True})
    assert "kappa" in meta["trajectory"]["forced"]
    assert verify(path, minidsn_backend(), rtol=0.0, atol=0.0).ok
    rep = verify(path, CutoffGe())
    step, row = rep.first_failure
    assert step == 0 and row.key.startswith("steps/0/grads/")
    failing = {r.key for r in rep.steps[0].failures}
    assert "steps/0/grads/kappa" in failing  # dd/dc = sign(v)(|v| - 1)/(1 - c)^2 flows through the tied entry
    assert len(rep.steps) == 1


# ---- urn: with and without residual nodes, each regulariser; read-out mistakes fail where they first show ------

@pytest.mark.parametrize("config", [
    {}, {"residual_out": True}, {"residual_in": True}, {"residual_out": True, "residual_in": True}, {"c_w": 0.0},
    {"c_n": 0.0},
    {"c_syn": 0.0, "geometry": "none"},
])
def test_urn_case_replays_for_every_variant(config, tmp_path):
    steps = 6 if not config else 2
    path, arrays, meta = export_trajectory("urn", tmp_path / "u.npz", steps=steps, config=config)
    assert meta["event_kinds_missing"] == []
    terms = {k.split("/")[-1] for k in arrays if k.startswith("steps/0/losses/")}
    want = {"total", "ce"} | {t for t, c in (("l1_w", "c_w"), ("l1_n", "c_n"), ("syn", "c_syn"))
                              if meta["config"][c] > 0}
    assert terms == want
    assert verify(path, minidsn_backend(), rtol=0.0, atol=0.0).ok


@pytest.fixture(scope="module")
def urn_case(tmp_path_factory):
    path = tmp_path_factory.mktemp("urn") / "u.npz"
    export_trajectory("urn", path, steps=6)
    return path


def _first_step(case, pred):
    arrays, meta = read_case(case)
    return next(k for k, st in enumerate(trajectory_steps(arrays, meta)) if pred(st))


def test_urn_prox_modes_say_they_have_no_trajectory_case(tmp_path):
    from minidsn.models.api import ConfigError

    with pytest.raises(ConfigError, match="no trajectory case"):
        make_trajectory("urn", 1, config={"fused_update": True, "l1_mode": "prox"})


def test_urn_pruning_with_rows_and_columns_swapped_fails_where_the_kept_set_is_not_symmetric(urn_case):
    def asymmetric(st):
        kept = set(zip(st.events[1]["kept_rows"].tolist(), st.events[1]["kept_cols"].tolist()))
        return kept != {(j, i) for i, j in kept}

    k = _first_step(urn_case, asymmetric)
    step, row = verify(urn_case, PrunedTransposed()).first_failure
    assert step == k and row.key.startswith(f"steps/{k}/events/1/kept_")


def test_urn_layer_read_as_last_activation_fails_where_a_neuron_is_active_twice(urn_case):
    from minidsn.models.urn.model import URNModel, build_spec
    from minidsn.models.urn.net import forward_logits

    cfg = URNModel.validate_config(read_case(urn_case)[1]["config"])
    spec = build_spec(cfg, cfg["sphere_dim"], 2)

    def active_twice(st):
        _, amap = forward_logits(st.state_after["params"], st.inputs["x"], spec)
        first = np.argmax(amap, axis=0)
        last = amap.shape[0] - 1 - np.argmax(amap[::-1], axis=0)
        return bool(np.any(amap.any(axis=0) & (first != last)))

    k = _first_step(urn_case, active_twice)
    rep = verify(urn_case, LayerLast())
    step, row = rep.first_failure
    assert (step, row.key) == (k, f"steps/{k}/events/0/layer")
    assert "integer/boolean key: must be equal; first at" in row.note


# ---- every model's default case goes through the file format and the kit unchanged ---------------------------

@pytest.mark.parametrize("model", ["mlp", "dnm", "urn", "diffrnn", "isotropic",
                                   pytest.param("dmm", marks=pytest.mark.slow)])
def test_every_models_default_case_replays_from_its_file_through_the_kit(model, tmp_path):
    from minidsn.models.api import get_model

    path, _, meta = export_trajectory(model, tmp_path / "c.npz", steps=get_model(model).trajectory_steps)
    assert meta["event_kinds_missing"] == [], meta["event_kinds_missing"]
    rep = verify(path, minidsn_backend(), rtol=0.0, atol=0.0)
    assert rep.ok, rep.format()
    arrays, meta = read_case(path)
    n_draws = sum(len(s["draws"]) for s in meta["steps"])
    assert n_draws == sum(1 for k in arrays if "/draws/" in k)


def test_verify_all_goes_on_after_a_failing_step(mlp_case):
    rep = verify(mlp_case, Perturbed(at=1), stop_at_first=False)
    assert len(rep.steps) == 5 and [s.ok for s in rep.steps] == [True, False, True, True, True]
    assert rep.first_failure[0] == 1


def test_verify_names_a_bad_case_before_importing_the_backend(tmp_path, capsys):
    assert main(["oracle", "verify", str(tmp_path / "missing.npz"), "--backend", "no_such_module:X"]) == 1
    assert "does not exist" in capsys.readouterr().err
    v1, _, _ = export_case("mlp", tmp_path / "v1.npz", seed=0)
    with pytest.raises(OracleFormatError, match="version-1"):
        verify(v1, "no_such_module:X")


def test_float32_backend_passes_at_the_documented_float32_tolerances_only(mlp_case):
    """docs/oracle.md, "Tolerances": the NumPy backend computing in float32 passes at FLOAT32_RTOL / FLOAT32_ATOL
    and fails at the float64 defaults."""
    from minidsn.oracle.conformance import FLOAT32_ATOL, FLOAT32_RTOL

    def f32(t):
        if isinstance(t, dict):
            return {k: f32(v) for k, v in t.items()}
        if isinstance(t, list):
            return [f32(v) for v in t]
        return t.astype(np.float32) if isinstance(t, np.ndarray) and t.dtype == np.float64 else t

    class MLP32(NumpyMLP):
        def loss_and_grads(self, state, inputs):
            return super().loss_and_grads(f32(state), f32(inputs))

        def train_step(self, state, inputs, draws):
            return super().train_step(f32(state), f32(inputs), draws)

    assert verify(mlp_case, MLP32(), rtol=FLOAT32_RTOL, atol=FLOAT32_ATOL, stop_at_first=False).ok
    assert not verify(mlp_case, MLP32()).ok

"""Option.only_when (an option's effect depends on other options): the ConfigWarning about a key the user set that
has no effect, and the proof of every annotation: under a config that does not meet an option's condition, init, two
steps, evaluate and the oracle case come out bit-identical with the option at its default and at another value.

The (model, option, condition) list is read from the annotations themselves, so a new one is checked here without
editing this file (a new kind of value may need an entry in ALTERNATIVES / BASE)."""

import gzip
import json
import struct
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minidsn.cli import main
from minidsn.models.api import (MODEL_MODULES, ConfigError, ConfigWarning, Model, Option, get_model, register_model,
                                validate_config)
from test_trajectory_models import same  # bitwise equality of two results (with dtypes=True)

# ---------------------------------------------------------------- the annotated options and their conditions

# Small, fast configs per model that still run the code paths an annotation speaks about (structural events on, a
# prune round within two steps, a short episode).
BASE = {
    "dnm": {"dag_impl": "engine", "batch_size": 10},
    "diffrnn": {"backend": "engine", "hidden_size": 3, "seq_length": 6, "p_add": 1.0, "p_del": 0.75,
                "p_spontaneous": 0.7, "l1": 1e-2, "eval_cycles": 2},
    "diffrnn-ff": {"n_train": 24, "n_test": 8, "batch_size": 8, "widths": [3, 2], "n_blocks": 1, "p_add": 0.5,
                   "p_del": 0.5, "p_add_layer": 0.5, "oracle_batch": 4},
    "urn": {"n_neurons": 30, "n_iter": 2, "n_train": 16, "n_test": 8, "batch_size": 4, "oracle_n_neurons": 30},
    "isotropic": {"dataset": "synthetic", "synthetic_dim": 6, "synthetic_classes": 3, "train_limit": 16,
                  "test_limit": 8, "batch_size": 16, "hidden": [5, 3], "width_target": 4, "pretrain_epochs": 0,
                  "schedule_epochs": 1},  # an epoch per step: both layers resized
    "dmm": {"n_layers": 1, "n_per_layer": 1, "n_cycles": 30, "base_steps": 1, "round_steps": 1, "loss_guard": 1e9,
            "loss_cap": 1e9, "es_population": 2, "final_steps": 1},
}
# What a condition's value needs besides (checks between keys; the fake image files' sizes)
NEEDS = {
    ("isotropic", "activation", "elementwise"): {"o_mode": "none", "psi_mode": "none"},
    ("isotropic", "dataset", "fashion-mnist"): {"train_limit": 12, "test_limit": 6, "batch_size": 12},
    ("urn", "dataset", "fashion-mnist"): {"plane": [4, 4], "n_neurons": 48, "n_train": 12, "n_test": 6},
}
# data sets this file cannot run (no files); fashion-mnist is written small below and goes through the same loader
# as mnist
NO_DATA = {"mnist", "cifar10", "cifar10-gray"}
# values for options whose type the generic candidates below do not cover
ALTERNATIVES = {
    ("dmm", "lam_schedule"): (0.5,),
    ("dmm", "round_steps_schedule"): (3,),
    ("dmm", "extra_strings"): ("abca",),
    ("urn", "shells"): [[1.0, 1.2], [2.0, 2.2], [3.0, 3.3]],
    ("isotropic", "invariance_counts"): [1, 2],
}


def _models():
    return {name: get_model(name) for name in MODEL_MODULES}


def _values(opt: Option):
    """Every value of an option a condition could name: its choices, True / False, None when allowed."""
    if opt.choices is not None:
        return list(opt.choices) + ([None] if opt.default is None else [])
    if opt.type is bool:
        return [True, False]
    raise AssertionError("a condition may only name an option with choices or a bool")


def violations(name, cls):
    """(key, violating assignment) for each annotated option of a model: every value of one condition key outside
    its allowed values (the other condition keys at their defaults), data sets without files left out."""
    out = []
    for key, opt in cls.options.items():
        for ck, allowed in (opt.only_when or {}).items():
            for v in _values(cls.options[ck]):
                if v not in allowed and not (ck == "dataset" and v in NO_DATA):
                    out.append((key, {ck: v, **NEEDS.get((name, ck, v), {})}))
    return out


CASES = [(name, key, cond) for name, cls in _models().items() for key, cond in violations(name, cls)]
ANNOTATED = sorted({(name, key) for name, key, _ in CASES})


def _id(case):
    name, key, cond = case
    return f"{name}-{key}-" + ",".join(f"{k}={v}" for k, v in cond.items())


def candidates(name, key, opt: Option):
    """Valid values other than the default, most specific first."""
    d = opt.default
    if (name, key) in ALTERNATIVES:
        return [ALTERNATIVES[(name, key)]]
    if opt.choices is not None:
        return [c for c in opt.choices if c != d]
    if opt.type is bool:
        return [not d]
    if opt.type is int:
        return [d + 1, 2 * d, d - 1, 2, 3]
    if opt.type is float:
        return [d * 2, d / 2, d + 0.5, 0.5, 0.25]
    return []


def alternative(name, cls, key, cfg):
    """The first candidate value of ``key`` that validates with ``cfg`` (cfg's other keys)."""
    opt = cls.options[key]
    for v in candidates(name, key, opt):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConfigWarning)
                cls.validate_config({**cfg, key: v})
        except ConfigError:
            continue
        if v != opt.default:
            return v
    raise AssertionError(f"{name}.{key}: no valid alternative value; add one to ALTERNATIVES")


# ---------------------------------------------------------------- warnings


def _warnings_of(fn):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        out = fn()
    return out, [str(x.message) for x in w if issubclass(x.category, ConfigWarning)]


def test_every_model_has_annotations_the_file_sees():
    # the condition keys name options with choices or bools (what a declarative condition can print and test)
    assert {"dmm", "diffrnn", "diffrnn-ff", "urn", "isotropic", "dnm"} <= {n for n, _ in ANNOTATED}
    assert ("dmm", "n_starts") in ANNOTATED and ("diffrnn", "g3_lr") in ANNOTATED


def test_the_example_warning():
    cls = get_model("dmm")
    _, msgs = _warnings_of(lambda: cls.validate_config({"variant": "handcrafted", "n_starts": 8}))
    assert msgs == ["config key 'n_starts' = 8 has no effect when variant = 'handcrafted' (it applies when variant "
                    "is 'synthesis')"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(CASES), data=st.data())
def test_an_inapplicable_key_set_by_the_user_warns_with_key_value_and_condition(case, data):
    name, key, cond = case
    cls = get_model(name)
    opt = cls.options[key]
    # the default written by the user warns too: the user wrote it, perhaps believing it matters
    value = data.draw(st.sampled_from([opt.default, alternative(name, cls, key, cond)]))
    out, msgs = _warnings_of(lambda: cls.validate_config({**cond, key: value}))
    mine = [m for m in msgs if m.startswith(f"config key {key!r} = ")]
    assert len(mine) == 1, msgs
    assert f"{key!r} = {out[key]!r} has no effect when" in mine[0]
    for ck in opt.only_when:
        if out[ck] not in opt.only_when[ck]:
            assert f"{ck} = {out[ck]!r}" in mine[0]
    assert f"(it applies when {opt.condition()})" in mine[0]
    assert all(m.split("'")[1] in {**cond, key: value} for m in msgs)  # only about keys the user set


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=st.sampled_from(ANNOTATED), data=st.data())
def test_no_warning_where_the_key_applies(case, data):
    name, key = case
    cls = get_model(name)
    opt = cls.options[key]
    meet = {ck: data.draw(st.sampled_from(vals)) for ck, vals in opt.only_when.items()}
    value = data.draw(st.sampled_from([opt.default] + candidates(name, key, opt)))
    try:
        _, msgs = _warnings_of(lambda: cls.validate_config({**meet, key: value}))
    except ConfigError:  # a combination refused by the model's own checks says nothing about the warning
        return
    assert msgs == []


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_no_warning_for_keys_left_at_their_defaults(case):
    name, _, cond = case
    _, msgs = _warnings_of(lambda: get_model(name).validate_config(cond))
    assert msgs == []


def test_a_resolved_config_warns_only_about_values_away_from_the_default():
    # a run's config.json / a case's meta name every option: a default there was filled in, not written
    cls = get_model("dmm")
    full, msgs = _warnings_of(lambda: cls.validate_config({"variant": "handcrafted"}))
    assert msgs == []
    _, msgs = _warnings_of(lambda: cls.validate_config(full))
    assert msgs == []
    _, msgs = _warnings_of(lambda: cls.validate_config({**full, "n_starts": 3, "lr": 0.5}))
    assert [m.split("'")[1] for m in msgs] == ["lr", "n_starts"]
    # explicit: the caller names the keys the user set (e.g. around a trajectory case's own defaults)
    _, msgs = _warnings_of(lambda: cls.validate_config({**full, "n_starts": 3, "lr": 0.5}, explicit=["lr"]))
    assert [m.split("'")[1] for m in msgs] == ["lr"]


def test_refused_config_raises_without_warning_first():
    cls = get_model("diffrnn")
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConfigWarning)
        with pytest.raises(ConfigError, match="m_min"):
            cls.validate_config({"variant": "g2", "m_min": 0.5, "g3_lr": 0.1})


def test_option_condition_text_and_registration_checks():
    opt = Option(float, 0.1, "rate", only_when={"variant": ["a", "b"], "on": (True,)})
    assert opt.only_when == {"variant": ("a", "b"), "on": (True,)}
    assert opt.condition() == "variant is 'a' or 'b' and on is True"
    assert opt.describe().endswith("rate [only when variant is 'a' or 'b' and on is True]")
    assert opt.applies({"variant": "b", "on": True}) and not opt.applies({"variant": "c", "on": True})
    assert Option(int, 1).applies({}) and Option(int, 1).describe() == "int, default 1"
    with pytest.raises(TypeError):
        Option(int, 1, only_when={})

    def model(options):
        return type("M", (Model,), {"name": "only-when-test", "options": options})

    ok = {"variant": Option(str, "a", choices=("a", "b")), "x": Option(int, 1, only_when={"variant": ("b",)})}
    register_model(model(ok), replace=True)
    with pytest.raises(TypeError, match="names 'mode'"):
        register_model(model({**ok, "y": Option(int, 1, only_when={"mode": ("b",)})}), replace=True)
    with pytest.raises(ConfigError, match="'c' is not allowed"):
        register_model(model({**ok, "y": Option(int, 1, only_when={"variant": ("c",)})}), replace=True)


def test_module_validate_config_warns_too():
    opts = {"variant": Option(str, "a", choices=("a", "b")), "x": Option(int, 1, only_when={"variant": ("b",)})}
    _, msgs = _warnings_of(lambda: validate_config(opts, {"x": 2}))
    assert msgs == ["config key 'x' = 2 has no effect when variant = 'a' (it applies when variant is 'b')"]
    _, msgs = _warnings_of(lambda: validate_config(opts, {"x": 2}, warn=False))
    assert msgs == []


def test_trajectory_defaults_apply_under_their_own_config():
    # the CLI warns only about the user's keys; the defaults a trajectory case applies must have an effect there
    for name, cls in _models().items():
        if cls.trajectory_defaults:
            _, msgs = _warnings_of(lambda: cls.validate_config(dict(cls.trajectory_defaults)))
            assert msgs == [], name


# ---------------------------------------------------------------- every annotation is true


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A tiny Fashion-MNIST in the loaders' format (IDX, gzip): 12 training and 6 test images."""
    d = tmp_path_factory.mktemp("data")
    rng = np.random.default_rng(0)
    (d / "fashion-mnist").mkdir()
    for stem, n in (("train", 12), ("t10k", 6)):
        for kind, arr in (("images-idx3", rng.integers(0, 256, (n, 28, 28))), ("labels-idx1", rng.integers(0, 10, n))):
            arr = np.asarray(arr, dtype=np.uint8)
            head = struct.pack(">II", 2049, n) if arr.ndim == 1 else struct.pack(">IIII", 2051, *arr.shape)
            with gzip.open(d / "fashion-mnist" / f"{stem}-{kind}-ubyte.gz", "wb") as f:
                f.write(head + arr.tobytes())
    return str(d)




def _outcome(fn):
    try:
        return fn()
    except Exception as exc:  # the same refusal (e.g. an oracle case of another variant) is the same outcome
        return f"{type(exc).__name__}: {exc}"


_RUNS = {}


def run_twice_steps(name, cfg, data_dir):
    """init, two steps (state and metrics after each), evaluate and the oracle case of ``cfg``, from seed 0."""
    key = (name, json.dumps(cfg, sort_keys=True, default=str))
    if key not in _RUNS:
        cls = get_model(name)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConfigWarning)
            c = cls.validate_config(cfg)
        m = cls()
        rng = np.random.default_rng(0)
        state = m.init(c, rng, data_dir)
        trace = [state]
        for k in range(2):
            state, metrics = m.step(state, c, rng, k)
            trace += [state, metrics]
        trace.append(_outcome(lambda: m.evaluate(state, c, np.random.default_rng(1), data_dir)))
        trace.append(_outcome(lambda: m.oracle_case(m.oracle_config(c), np.random.default_rng(2), data_dir)))
        _RUNS[key] = trace
    return _RUNS[key]


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_an_inapplicable_option_changes_nothing(case, data_dir):
    name, key, cond = case
    cls = get_model(name)
    cfg = {**BASE[name], **cond}
    cfg.pop(key, None)
    alt = alternative(name, cls, key, cfg)
    ref = run_twice_steps(name, {**cfg, key: cls.options[key].default}, data_dir)
    got = run_twice_steps(name, {**cfg, key: alt}, data_dir)
    same(ref, got, f"{name} {key}={alt!r} under {cond}", dtypes=True)


# ---------------------------------------------------------------- command line

HANDCRAFTED = """
model = "dmm"
steps = 2
[config]
variant = "handcrafted"
n_cycles = 30
n_starts = 8
"""
WARNING = ("warning: config key 'n_starts' = 8 has no effect when variant = 'handcrafted' (it applies when variant "
           "is 'synthesis')\n")


def test_cli_run_sweep_and_resume_print_one_warning_line_and_go_on(tmp_path, capsys):
    (tmp_path / "h.toml").write_text(HANDCRAFTED)
    assert main(["run", str(tmp_path / "h.toml"), "--out", str(tmp_path / "one"), "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert err.count(WARNING) == 1 and (tmp_path / "one" / "summary.json").exists()
    assert main(["run", str(tmp_path / "h.toml"), "--seeds", "0-2", "--out", str(tmp_path / "sw"), "--no-plots"]) == 0
    err = capsys.readouterr().err
    assert err.count(WARNING) == 1 and "seed 2: completed" in err
    # resume re-reads every seed's config.json: still one line
    assert main(["run", "--resume", str(tmp_path / "sw"), "--steps", "3"]) == 0
    err = capsys.readouterr().err
    assert err.count(WARNING) == 1 and "seed 2: completed" in err
    assert main(["run", "--resume", str(tmp_path / "one"), "--steps", "3"]) == 0
    assert capsys.readouterr().err.count(WARNING) == 1


def test_cli_oracle_export_warns_once_and_writes(tmp_path, capsys):
    out = tmp_path / "case.npz"
    assert main(["oracle", "export", "dmm", "--set", "variant=handcrafted", "--set", "n_starts=8", "--set",
                 "n_layers=1", "--set", "n_per_layer=1", "--set", "n_cycles=30", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert err.count(WARNING) == 1 and out.exists()
    # a trajectory case: only the user's keys, not the defaults the case applies around them
    out = tmp_path / "traj.npz"
    assert main(["oracle", "export", "diffrnn", "--steps", "1", "--set", "variant=fixed", "--set", "g3_lr=0.1",
                 "--set", "seq_length=6", "--out", str(out)]) == 0
    err = capsys.readouterr().err
    lines = [ln for ln in err.splitlines() if ln.startswith("warning:")]
    assert lines == ["warning: config key 'g3_lr' = 0.1 has no effect when variant = 'fixed' (it applies when "
                     "variant is 'g3')"] and out.exists()


def test_cli_list_verbose_shows_the_condition(capsys):
    assert main(["list", "-v"]) == 0
    out = capsys.readouterr().out
    assert "n_starts: int, default 1" in out and "[only when variant is 'synthesis']" in out
    assert "[only when variant is 'g3']" in out


def test_python_trajectory_export_and_replay_warn_only_about_the_users_keys(tmp_path):
    """make_trajectory / trajectory_config apply the case's own defaults (diffrnn: p_add, p_del, p_spontaneous, l1),
    which have no effect under variant 'fixed'; only a key the caller set may warn, and replaying a recorded case
    (minidsn_backend.setup) warns about nothing."""
    from minidsn.oracle.conformance import minidsn_backend
    from minidsn.oracle.export import make_trajectory, trajectory_config

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        cfg, applied = trajectory_config("diffrnn", {"variant": "fixed", "seq_length": 6})
        assert {"p_add", "l1"} <= set(applied)  # the case's defaults were applied ...
        _, meta = make_trajectory("diffrnn", 1, config={"variant": "fixed", "seq_length": 6})
        minidsn_backend().setup(meta)
    assert [w for w in caught if issubclass(w.category, ConfigWarning)] == []  # ... and earned no warning
    with pytest.warns(ConfigWarning, match="'g3_lr' = 0.1"):
        trajectory_config("diffrnn", {"variant": "fixed", "g3_lr": 0.1})

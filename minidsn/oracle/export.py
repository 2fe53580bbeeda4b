"""Export one oracle case of a registered model: ``minidsn oracle export MODEL --seed S --out case.npz``
(version 1, one gradient) or, with ``--steps K``, a trajectory case (version 2, K training steps)."""

from __future__ import annotations

import platform
import time

import numpy as np

import minidsn
from minidsn.oracle.format import (KEY_SCHEME, TRAJECTORY_KEY_SCHEME, VERSION_TRAJECTORY, OracleFormatError,
                                   build_arrays, build_trajectory, conformance_notes, write_case)
from minidsn.models.api import get_model

__all__ = ["make_case", "export_case", "make_trajectory", "export_trajectory", "trajectory_config"]


def _versions() -> dict:
    return {"minidsn_version": minidsn.__version__, "numpy_version": np.__version__,
            "python_version": platform.python_version()}


def make_case(model: str, seed: int = 0, config: dict | None = None, data_dir=None):
    """(arrays, meta) of one case; the model's oracle_case gets ``default_rng(seed)`` and the validated config."""
    cls = get_model(model)
    cfg = cls.validate_config(config or {})
    rng = np.random.default_rng(seed)
    instance = cls()
    arrays, dtypes = build_arrays(instance.oracle_case(cfg, rng, data_dir))
    meta = {
        "model": model,
        "variant": cfg.get("variant"),
        "config": instance.oracle_config(cfg),  # what the case was computed with, not only what was asked
        "seed": seed,
        **_versions(),
        "key_scheme": KEY_SCHEME,
        "dtypes": dtypes,
        "shapes": {k: list(a.shape) for k, a in arrays.items()},
        "conformance": conformance_notes(arrays),
    }
    return arrays, meta


def export_case(model: str, out, seed: int = 0, config: dict | None = None, data_dir=None):
    """Write one case to ``out``; returns (path, arrays, meta)."""
    arrays, meta = make_case(model, seed, config, data_dir)
    return write_case(out, arrays, meta), arrays, meta


def trajectory_config(model: str, config: dict | None = None) -> tuple[dict, dict]:
    """(validated config, the trajectory defaults that applied): the model's ``trajectory_defaults`` under the
    user's ``config`` (a user value always wins)."""
    cls = get_model(model)
    config = dict(config or {})
    applied = {k: v for k, v in cls.trajectory_defaults.items() if k not in config}
    # only the user's keys can earn a 'no effect' warning: the defaults applied here are the case's own choice
    return cls.validate_config({**applied, **config}, explicit=config.keys()), applied


def make_trajectory(model: str, steps: int, seed: int = 0, config: dict | None = None, data_dir=None,
                    check_replay: bool = True):
    """(arrays, meta) of a version-2 trajectory case: ``steps`` training steps of ``model`` from
    ``default_rng(seed)``.  With ``check_replay`` every step is replayed from the flattened record through
    Model.trajectory_step and must reproduce it bit for bit (the case is a pure function of what it stores)."""
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    cls = get_model(model)
    inst = cls()
    if not inst.has_trajectory():
        raise OracleFormatError(f"model {model!r} has no trajectory cases yet (Model.trajectory); "
                                "export a single-gradient case without --steps")
    cfg, applied = trajectory_config(model, config)
    t0 = time.perf_counter()
    traj = inst.trajectory(cfg, np.random.default_rng(seed), data_dir, steps)
    if len(traj.get("steps", [])) != steps:
        raise OracleFormatError(f"{model}.trajectory returned {len(traj.get('steps', []))} steps, {steps} asked")
    arrays, tmeta = build_trajectory(traj)
    meta = {
        "model": model,
        "version": VERSION_TRAJECTORY,
        "variant": cfg.get("variant", traj.get("meta", {}).get("variant")),
        "config": cfg,
        "trajectory_defaults": applied,
        "seed": seed,
        **_versions(),
        "key_scheme": TRAJECTORY_KEY_SCHEME,
        **tmeta,
        "record_seconds": round(time.perf_counter() - t0, 3),
    }
    seen = sorted({e["kind"] for st in tmeta["steps"] for e in st["events"]})
    meta["event_kinds_seen"] = seen
    meta["event_kinds_missing"] = [k for k in tmeta["trajectory"].get("event_kinds", []) if k not in seen]
    if check_replay:
        from minidsn.oracle.conformance import minidsn_backend, verify_arrays

        report = verify_arrays(arrays, meta, minidsn_backend(model), rtol=0.0, atol=0.0, case=f"{model} trajectory")
        if not report.ok:
            raise OracleFormatError(f"{model}: replaying the recorded case through trajectory_step does not "
                                    f"reproduce it bit for bit:\n{report.format()}")
    return arrays, meta


def export_trajectory(model: str, out, steps: int, seed: int = 0, config: dict | None = None, data_dir=None,
                      check_replay: bool = True):
    """Write a trajectory case to ``out``; returns (path, arrays, meta)."""
    arrays, meta = make_trajectory(model, steps, seed, config, data_dir, check_replay)
    return write_case(out, arrays, meta), arrays, meta

"""The conformance kit: replay a trajectory case through another backend, step by step, and report the first
difference (docs/oracle.md, "The conformance kit").

A backend is any object (or module) with plain functions returning arrays (NumPy, JAX, PyTorch ``.numpy()``, ...):

    loss_and_grads(state, inputs)      -> (losses, grads)       losses: {"total": x, <term>: x}; grads: pytree
    train_step(state, inputs, draws)   -> (new_state, events)   events: [{"kind": str, <field>: value}, ...]

or, instead of the two, one ``step(state, inputs, draws) -> (new_state, losses, grads, events)``; and optionally
``setup(meta)``, called once with the case's meta (config, sizes) before the first step.  ``draws`` is the step's
recorded list of minidsn.models.draws.Draw (``.label``, ``.method``, ``.value``) in the order the step consumed
them.  Each step starts from minidsn's recorded ``state_before`` (never from the backend's previous output), so an
error cannot compound and the report names the step where it first appears.

    from minidsn.oracle.conformance import verify
    report = verify("case.npz", my_backend)
    print(report.format()); assert report.ok
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from minidsn.oracle.compare import DEFAULT_ATOL, DEFAULT_RTOL, KeyResult, RowsVerdict
from minidsn.oracle.format import OracleFormatError, is_trajectory, read_case, trajectory_steps

__all__ = ["verify", "verify_arrays", "load_backend", "ConformanceReport", "StepResult", "minidsn_backend",
           "BackendError", "FLOAT32_RTOL", "FLOAT32_ATOL"]

# documented settings for a float32 backend (docs/oracle.md, "Tolerances")
FLOAT32_RTOL = 1e-3
FLOAT32_ATOL = 1e-5


class BackendError(RuntimeError):
    """The backend could not be loaded, raised while running a step, or returned something unreadable."""


@dataclass
class StepResult(RowsVerdict):
    step: int
    rows: list[KeyResult]
    events_ref: list = field(default_factory=list)
    events_other: list = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


@dataclass
class ConformanceReport:
    """Per-step results of one replay. ``first_failure`` = (step, KeyResult) of the first differing key."""
    case: str
    model: str
    n_steps: int
    steps: list[StepResult]
    rtol: float
    atol: float

    @property
    def ok(self) -> bool:
        return len(self.steps) == self.n_steps and all(s.ok for s in self.steps)

    @property
    def first_failure(self):
        for s in self.steps:
            if not s.ok:
                return s.step, s.failures[0]
        return None

    def format(self, all_keys: bool = False) -> str:
        lines = [f"conformance of {self.case} ({self.model}, {self.n_steps} steps; rtol={self.rtol:g}, "
                 f"atol={self.atol:g}; integer and boolean keys exact)"]
        for s in self.steps:
            n_fail = len(s.failures)
            lines.append(f"step {s.step}: {len(s.rows) - n_fail}/{len(s.rows)} keys ok"
                         + ("" if s.ok else f", {n_fail} FAIL"))
            rows = s.rows if all_keys else s.failures
            if rows:
                w = max(len(r.key) for r in rows)
                for r in rows:
                    res = "ok" if r.ok else "FAIL"
                    lines.append(f"  {r.key:<{w}}  max_abs {r.max_abs:10.3e}  max_rel {r.max_rel:10.3e}  {res}"
                                 + (f" ({r.note})" if r.note else ""))
            if not s.ok and (s.events_ref or s.events_other):
                lines.append("  events, minidsn | backend:")
                for i in range(max(len(s.events_ref), len(s.events_other))):
                    a = _event_str(s.events_ref[i]) if i < len(s.events_ref) else "-"
                    b = _event_str(s.events_other[i]) if i < len(s.events_other) else "-"
                    lines.append(f"    {i}: {a}  |  {b}")
        first = self.first_failure
        if first is None:
            lines.append(f"PASS: all {self.n_steps} steps agree")
        else:
            step, r = first
            lines.append(f"FAIL: first difference at step {step}, key {r.key}: max_abs {r.max_abs:.3e}, "
                         f"max_rel {r.max_rel:.3e}" + (f" ({r.note})" if r.note else ""))
        return "\n".join(lines)


def _event_str(ev) -> str:
    def show(v):
        a = np.asarray(v)
        if a.ndim == 0:
            return repr(a.item())
        if a.size <= 8:
            return np.array2string(a, precision=6, separator=",")
        return f"<{a.dtype} {list(a.shape)}>"

    if not isinstance(ev, dict):
        return repr(ev)
    return f"{ev.get('kind', '?')}(" + ", ".join(f"{k}={show(v)}" for k, v in ev.items() if k != "kind") + ")"


# ---- flattening backend output ---------------------------------------------------------------------------------

def _flat(tree, prefix: str, out: dict, where: str) -> None:
    """Flatten a backend pytree (dicts, lists, tuples, array-likes) to {prefix/path: float64 array}."""
    if isinstance(tree, dict):
        for k, v in tree.items():
            _flat(v, f"{prefix}/{k}", out, where)
    elif isinstance(tree, (list, tuple)):
        for i, v in enumerate(tree):
            _flat(v, f"{prefix}/{i}", out, where)
    elif tree is None:
        return
    else:
        try:
            a = np.asarray(tree)
            if a.dtype.kind not in "biuf":
                raise TypeError(f"dtype {a.dtype}")
            out[prefix] = a.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise BackendError(f"{where}: {prefix} is not an array of numbers ({exc})") from None


def _compare_key(key, ref, other, rtol, atol, exact) -> KeyResult:
    from minidsn.oracle.compare import _compare_one

    if exact and other is not None and ref.shape == other.shape:
        r = _compare_one(key, ref, other, 0.0, 0.0)
        if not r.ok and not r.note:
            r.note = "integer/boolean key: must be equal; " + _first_difference(ref, other)
        return r
    r = _compare_one(key, ref, other, rtol, atol)
    if not r.ok and not r.note and ref.size > 1:
        r.note = _first_difference(ref, other, rtol, atol)
    return r


def _first_difference(ref, other, rtol=0.0, atol=0.0) -> str:
    with np.errstate(invalid="ignore"):
        bad = ~np.isclose(other, ref, rtol=rtol, atol=atol, equal_nan=True)
    i = np.unravel_index(int(np.argmax(bad)), ref.shape)
    where = "" if ref.ndim == 0 else f"at {list(map(int, i))}"
    return f"first {where}: minidsn {ref[i].item()!r} vs backend {other[i].item()!r}".replace("first :", "first:")


def _compare_section(rows, extra, ref_arrays, prefix, other_flat, dtypes, rtol, atol):
    pre = prefix + "/"
    keys = sorted(k for k in ref_arrays if k.startswith(pre))
    for k in keys:
        rows.append(_compare_key(k, ref_arrays[k], other_flat.get(k), rtol, atol,
                                 dtypes.get(k, "float64") not in ("float64", "py:float")))
    extra.extend(sorted(k for k in other_flat if k.startswith(pre) and k not in ref_arrays))


# ---- the replay ------------------------------------------------------------------------------------------------

def _call(backend, name, *args):
    try:
        return getattr(backend, name)(*args)
    except Exception as exc:  # a backend bug is reported, with the step, not a traceback from the kit
        raise BackendError(f"backend {name} raised {type(exc).__name__}: {exc}") from exc


def _run_backend(backend, st):
    if hasattr(backend, "step"):
        out = _call(backend, "step", st.state_before, st.inputs, st.draws)
        if not (isinstance(out, tuple) and len(out) == 4):
            raise BackendError("backend step must return (new_state, losses, grads, events)")
        return out
    lg = _call(backend, "loss_and_grads", st.state_before, st.inputs)
    if not (isinstance(lg, tuple) and len(lg) == 2):
        raise BackendError("backend loss_and_grads must return (losses, grads)")
    ts = _call(backend, "train_step", st.state_before, st.inputs, st.draws)
    if not (isinstance(ts, tuple) and len(ts) == 2):
        raise BackendError("backend train_step must return (new_state, events)")
    return ts[0], lg[0], lg[1], ts[1]


def verify_arrays(arrays: dict, meta: dict, backend, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
                  stop_at_first: bool = True, case: str = "<case>") -> ConformanceReport:
    """Replay an in-memory trajectory case (read_case's arrays, meta) through ``backend``; see verify."""
    if rtol < 0 or atol < 0:
        raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
    for name in ("loss_and_grads", "train_step"):
        if not hasattr(backend, "step") and not callable(getattr(backend, name, None)):
            raise BackendError(f"the backend has no {name}(...) (nor a step(state, inputs, draws))")
    steps = trajectory_steps(arrays, meta)
    dtypes = meta.get("dtypes", {})
    if hasattr(backend, "setup"):
        _call(backend, "setup", meta)
    results = []
    for st in steps:
        base = f"steps/{st.index}"
        try:
            new_state, losses, grads, events = _run_backend(backend, st)
        except BackendError as exc:
            raise BackendError(f"step {st.index}: {exc}") from exc.__cause__
        rows, extra = [], []
        other = {}
        where = f"step {st.index}"
        if not isinstance(losses, dict):
            raise BackendError(f"{where}: losses must be a dict, got {type(losses).__name__}")
        _flat(losses, f"{base}/losses", other, where)
        _flat(grads, f"{base}/grads", other, where)
        _flat(new_state, f"{base}/state_after", other, where)
        for sec in ("losses", "grads", "state_after"):
            _compare_section(rows, extra, arrays, f"{base}/{sec}", other, dtypes, rtol, atol)
        ev_rows = _compare_events(base, st.events, events, meta["steps"][st.index]["events"], arrays, dtypes,
                                  rtol, atol, where)
        rows.extend(ev_rows)
        res = StepResult(st.index, rows, st.events, list(events) if isinstance(events, (list, tuple)) else [],
                         extra)
        results.append(res)
        if stop_at_first and not res.ok:
            break
    return ConformanceReport(case, str(meta.get("model")), len(steps), results, rtol, atol)


def _compare_events(base, ref_events, events, events_meta, arrays, dtypes, rtol, atol, where) -> list[KeyResult]:
    if not isinstance(events, (list, tuple)):
        raise BackendError(f"{where}: events must be a list of dicts, got {type(events).__name__}")
    rows = []
    kinds_ref = [e["kind"] for e in ref_events]
    kinds = [e.get("kind") if isinstance(e, dict) else None for e in events]
    ok = kinds_ref == kinds
    rows.append(KeyResult(f"{base}/events (kinds)", ok, 0.0 if ok else float("nan"), 0.0 if ok else float("nan"),
                          "" if ok else f"backend {kinds} != minidsn {kinds_ref}"))
    for i, (ev_ref, em) in enumerate(zip(ref_events, events_meta)):
        if i >= len(events) or not isinstance(events[i], dict) or events[i].get("kind") != ev_ref["kind"]:
            continue  # already reported by the kinds row
        ev = events[i]
        other = {}
        _flat({f: v for f, v in ev.items() if f != "kind" and not isinstance(v, str)}, f"{base}/events/{i}",
              other, where)
        for f, s in em.get("strings", {}).items():
            rows.append(KeyResult(f"{base}/events/{i}/{f}", ev.get(f) == s, 0.0, 0.0,
                                  "" if ev.get(f) == s else f"{ev.get(f)!r} != {s!r}"))
        _compare_section(rows, [], arrays, f"{base}/events/{i}", other, dtypes, rtol, atol)
    return rows


def verify(case_path, backend, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL,
           stop_at_first: bool = True) -> ConformanceReport:
    """Replay the trajectory case at ``case_path`` through ``backend``, each step from minidsn's recorded state,
    comparing losses, gradients, the state after the step and the events, key by key (numpy.isclose's rule
    ``|other - ref| <= atol + rtol |ref|``; integer and boolean keys must be equal).  Stops after the first step
    that differs unless ``stop_at_first`` is False.  ``backend``: see the module docstring (or a
    "module:object" string, load_backend)."""
    arrays, meta = read_case(case_path)  # the case first: a missing file is named before the backend is imported
    if not is_trajectory(meta):
        raise OracleFormatError(f"{case_path} is not a trajectory case (a version-1 single-gradient case?); export "
                                "one with `minidsn oracle export MODEL --steps K`, or compare version-1 cases with "
                                "`minidsn oracle compare`")
    if isinstance(backend, str):
        backend = load_backend(backend)
    return verify_arrays(arrays, meta, backend, rtol, atol, stop_at_first, case=str(case_path))


def load_backend(spec: str):
    """The backend named by ``"module:object"`` (``module.sub:obj``, ``module:obj.attr``, or a file
    ``path/to/backend.py:obj``; the working directory is importable); a class or a factory function is called
    without arguments;
    ``"module"`` alone works when the module itself defines the functions."""
    mod_name, sep, obj_path = spec.partition(":")
    if not mod_name or (sep and not obj_path):
        raise BackendError(f"--backend {spec!r}: expected module:object, e.g. mypkg.backend:Backend")
    try:
        if mod_name.endswith(".py"):  # a file: path/to/backend.py:Backend
            loc = importlib.util.spec_from_file_location(Path(mod_name).stem, mod_name)
            if loc is None or not Path(mod_name).is_file():
                raise ImportError(f"no file {mod_name}")
            obj = importlib.util.module_from_spec(loc)
            loc.loader.exec_module(obj)
        else:
            if os.getcwd() not in sys.path:  # the console script does not put the working directory on the path
                sys.path.append(os.getcwd())
            obj = importlib.import_module(mod_name)
    except ImportError as exc:
        raise BackendError(f"--backend {spec!r}: cannot import {mod_name}: {exc}") from None
    for part in obj_path.split(".") if obj_path else []:
        if not hasattr(obj, part):
            raise BackendError(f"--backend {spec!r}: {mod_name} has no {obj_path}")
        obj = getattr(obj, part)
    has_api = hasattr(obj, "step") or (hasattr(obj, "loss_and_grads") and hasattr(obj, "train_step"))
    if inspect.isclass(obj) or (callable(obj) and not has_api and not inspect.ismodule(obj)):
        try:  # a class or a factory function
            obj = obj()
        except Exception as exc:
            raise BackendError(f"--backend {spec!r}: {obj_path}() raised {type(exc).__name__}: {exc}") from None
    if not (hasattr(obj, "step") or (hasattr(obj, "loss_and_grads") and hasattr(obj, "train_step"))):
        raise BackendError(f"--backend {spec!r}: the object has neither loss_and_grads + train_step nor step")
    return obj


class minidsn_backend:  # noqa: N801 (used like a function)
    """minidsn's own model as a backend: ``step`` = Model.trajectory_step with the case's config.  Replaying a
    case through it with rtol = atol = 0 checks the case is a pure, bit-reproducible function of its record."""

    def __init__(self, model: str | None = None):
        self.model_name = model
        self.model = None
        self.cfg = None

    def setup(self, meta):
        from minidsn.models.api import get_model

        cls = get_model(self.model_name or meta.get("model"))
        self.model = cls()
        # a recorded config: nothing in it is the reader's to change, so no 'no effect' warning
        self.cfg = cls.validate_config(meta["config"], explicit=())

    def step(self, state, inputs, draws):
        return self.model.trajectory_step(self.cfg, state, inputs, draws)

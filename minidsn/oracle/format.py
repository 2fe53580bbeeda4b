"""The oracle case file: one ``.npz`` of float64 arrays with keys ``<group>/<path>`` plus a JSON ``meta`` entry.

Groups: params, inputs, outputs, losses, grads.  Each group is a dict at its top (name -> pytree), and ``<path>`` is
the pytree path from minidsn.engine.tree_paths (dict keys sorted, list/tuple indices) joined by "/", so keys read
``<group>/<name>[/<key or index>...]``, e.g. ``params/layers/0/W``.  Integer and bool arrays (class
labels, masks) are stored as float64 (exact below 2**53) and their original dtype is recorded in meta["dtypes"].
Hard rules (errors): the five groups, ``<group>/<path>`` keys, float64.  Recommended conventions (reported by
conformance_notes and recorded in meta["conformance"], not errors): ``losses/total`` is the scalar loss whose
gradient ``grads`` holds, and each ``grads/<path>`` matches a ``params/<path>`` of the same shape.
``meta`` is a 0-d unicode array holding JSON, so the file loads with allow_pickle=False in any NumPy.

Version 2 (meta ``version`` 2, ``kind`` "trajectory") holds K training steps under ``steps/<k>/<section>/...``
(build_trajectory, trajectory_steps); write_case and read_case handle both versions, chosen by meta["version"].
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minidsn.runs.atomic import atomic_write_bytes

__all__ = ["GROUPS", "KEY_SCHEME", "OracleFormatError", "flatten_group", "build_arrays", "write_case",
           "read_case", "validate_arrays", "conformance_notes", "VERSION_TRAJECTORY", "STEP_SECTIONS",
           "TRAJECTORY_KEY_SCHEME", "build_trajectory", "validate_trajectory_arrays", "unflatten",
           "TrajectoryStep", "trajectory_steps", "is_trajectory"]

GROUPS = ("params", "inputs", "outputs", "losses", "grads")
KEY_SCHEME = "<group>/<path>, group in params|inputs|outputs|losses|grads, path = pytree path joined by '/'"
FORMAT = "minidsn-oracle"
VERSION = 1


class OracleFormatError(ValueError):
    """An oracle case (in memory or on disk) breaks the format; the message names the key."""


def _tree_paths(tree):
    from minidsn.engine import tree_paths

    return tree_paths(tree)


def _leaf_array(key: str, leaf, dtypes: dict) -> np.ndarray:
    try:
        from minidsn.engine import is_traced

        if is_traced(leaf):
            raise OracleFormatError(f"{key}: a traced value; return concrete arrays from oracle_case")
    except ImportError:
        pass
    a = np.asarray(leaf)
    if a.dtype.kind in "iub":
        dtypes[key] = str(a.dtype)
        if a.dtype.kind in "iu" and a.size and np.max(np.abs(a.astype(np.float64))) >= 2.0**53:
            raise OracleFormatError(f"{key}: integers beyond 2**53 do not fit float64 exactly")
        return a.astype(np.float64)
    if a.dtype != np.float64:
        raise OracleFormatError(f"{key}: dtype {a.dtype}; oracle arrays must be float64 (or integer/bool inputs)")
    return a


def flatten_group(group: str, tree, dtypes: dict) -> dict[str, np.ndarray]:
    """``{f"{group}/{path}": float64 array}`` for every leaf of ``tree`` (a dict at its top)."""
    if not isinstance(tree, dict):
        raise OracleFormatError(f"oracle group {group!r} must be a dict (name -> pytree), got {type(tree).__name__}")
    out = {}
    for path, leaf in _tree_paths(tree):
        parts = [str(p) for p in path]
        for p in parts:
            if "/" in p or p == "":
                raise OracleFormatError(f"{group}: path component {p!r} is empty or contains '/'")
        key = "/".join([group, *parts])
        if leaf is None:
            continue
        out[key] = _leaf_array(key, leaf, dtypes)
    return out


def validate_arrays(arrays: dict[str, np.ndarray], where: str = "oracle case") -> None:
    """The hard rules: every key is ``<group>/<path>`` with a known group, and every array is float64."""
    for k, a in arrays.items():
        g = k.split("/", 1)[0]
        if g not in GROUPS or "/" not in k:
            raise OracleFormatError(f"{where}: key {k!r} is not <group>/<path> with group in {GROUPS}")
        if a.dtype != np.float64:
            raise OracleFormatError(f"{where}: {k} has dtype {a.dtype}, expected float64")


def conformance_notes(arrays: dict[str, np.ndarray]) -> list[str]:
    """The recommended conventions a case does not follow (reported, not fatal; see docs/oracle.md):
    ``losses/total`` is the scalar loss that ``grads/`` differentiates, and each ``grads/<path>`` has a
    ``params/<path>`` of the same shape (params without gradient, e.g. buffers, are allowed)."""
    notes = []
    if "losses/total" not in arrays:
        notes.append("losses/total is missing (recommended: the loss that grads/ differentiates)")
    elif arrays["losses/total"].shape != ():
        notes.append(f"losses/total has shape {arrays['losses/total'].shape}, expected a scalar")
    params = {k[len("params/"):]: a for k, a in arrays.items() if k.startswith("params/")}
    for k, a in arrays.items():
        if not k.startswith("grads/"):
            continue
        p = k[len("grads/"):]
        if p not in params:
            notes.append(f"{k} has no params/{p}")
        elif params[p].shape != a.shape:
            notes.append(f"{k} has shape {a.shape}, params/{p} has {params[p].shape}")
    return notes


def build_arrays(case: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Flatten an oracle_case dict into (arrays, dtypes) and validate it."""
    if not isinstance(case, dict):
        raise OracleFormatError(f"oracle_case must return a dict, got {type(case).__name__}")
    missing = [g for g in GROUPS if g not in case]
    extra = [g for g in case if g not in GROUPS]
    if missing or extra:
        raise OracleFormatError(f"oracle_case must return exactly the groups {GROUPS}; "
                                f"missing {missing}, unexpected {extra}")
    arrays, dtypes = {}, {}
    for g in GROUPS:
        arrays.update(flatten_group(g, case[g], dtypes))
    validate_arrays(arrays)
    return arrays, dtypes


def write_case(path, arrays: dict[str, np.ndarray], meta: dict) -> Path:
    """Write arrays + meta atomically to ``path`` (.npz)."""
    if meta.get("version") == VERSION_TRAJECTORY:
        validate_trajectory_arrays(arrays, int(meta.get("n_steps", 0)))
        meta = {"format": FORMAT, "key_scheme": TRAJECTORY_KEY_SCHEME, "kind": "trajectory", **meta}
    else:
        validate_arrays(arrays)
        meta = {"format": FORMAT, "version": VERSION, "key_scheme": KEY_SCHEME, **meta}
    buf = io.BytesIO()
    np.savez(buf, meta=np.array(json.dumps(meta, sort_keys=True, default=str)), **arrays)
    path = Path(path)
    atomic_write_bytes(path, buf.getvalue())
    return path


def check_case_sizes(path) -> None:
    """Before NumPy allocates: every array's declared size must fit the file and the documented maximum
    (minidsn.runs.npzcheck: a header claiming 10**12 elements is refused unread)."""
    from minidsn.runs.npzcheck import NpzSizeError, check_npz

    try:
        check_npz(path)
    except FileNotFoundError:
        raise OracleFormatError(f"oracle file {path} does not exist") from None
    except (NpzSizeError, OSError) as exc:
        raise OracleFormatError(f"oracle file {path}: {exc}") from None


def read_case(path) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) from an oracle file, loaded without pickle; OracleFormatError on anything malformed."""
    path = Path(path)
    check_case_sizes(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {k: npz[k] for k in npz.files}
    except FileNotFoundError:
        raise OracleFormatError(f"oracle file {path} does not exist") from None
    except (ValueError, OSError, zipfile.BadZipFile, EOFError) as exc:
        raise OracleFormatError(f"oracle file {path} is not a readable .npz: {exc}") from None
    meta = {}
    if "meta" in data:
        m = data.pop("meta")
        try:
            meta = json.loads(str(m[()]))
        except (json.JSONDecodeError, TypeError, IndexError) as exc:
            raise OracleFormatError(f"oracle file {path}: meta is not JSON: {exc}") from None
    if is_trajectory(meta):
        n = meta.get("n_steps")
        if not isinstance(n, int) or n < 1 or not isinstance(meta.get("steps"), list) or len(meta["steps"]) != n:
            raise OracleFormatError(f"oracle file {path}: version-2 meta needs n_steps >= 1 and one 'steps' entry "
                                    "per step")
        validate_trajectory_arrays(data, n, where=f"oracle file {path}")
    else:
        validate_arrays(data, where=f"oracle file {path}")
    return data, meta


def is_trajectory(meta: dict) -> bool:
    """True for a version-2 (trajectory) case's meta."""
    return meta.get("version") == VERSION_TRAJECTORY


# ---------------------------------------------------------------------------------------------------------------
# Format version 2: trajectory cases (docs/oracle.md, "Trajectory cases")
# ---------------------------------------------------------------------------------------------------------------

VERSION_TRAJECTORY = 2
STEP_SECTIONS = ("state_before", "inputs", "draws", "losses", "grads", "state_after", "events")
TRAJECTORY_KEY_SCHEME = ("steps/<k>/<section>/<path>, k = 0..n_steps-1, section in " + "|".join(STEP_SECTIONS)
                         + "; draws/<i>, events/<i>/<field path>; path = pytree path joined by '/', "
                           "a component of digits only is a list index")
# dtype names for Python scalars in meta["dtypes"]: read back as Python scalars, not 0-d arrays
_PY_SCALARS = {"py:int": int, "py:float": float, "py:bool": bool}


def _v2_leaf(key: str, leaf, dtypes: dict) -> np.ndarray:
    if isinstance(leaf, (bool, int, float)) and not isinstance(leaf, np.generic):
        kind = "py:bool" if isinstance(leaf, bool) else ("py:int" if isinstance(leaf, int) else "py:float")
        if kind == "py:int" and abs(leaf) >= 2**53:
            raise OracleFormatError(f"{key}: integers beyond 2**53 do not fit float64 exactly")
        dtypes[key] = kind
        return np.asarray(float(leaf), dtype=np.float64)
    if isinstance(leaf, str):
        raise OracleFormatError(f"{key}: a string leaf; trajectory pytrees hold numbers and arrays only")
    a = np.asarray(leaf)
    if a.dtype.kind == "f" and a.dtype != np.float64:
        raise OracleFormatError(f"{key}: dtype {a.dtype}; oracle arrays must be float64")
    return _leaf_array(key, leaf, dtypes)


def _flatten_v2(prefix: str, tree, dtypes: dict, out: dict) -> None:
    """Flatten a pytree under ``prefix`` into ``out`` (v2 rules: no digits-only dict key, no empty component)."""
    for path, leaf in _tree_paths(tree):
        parts = []
        for p in path:
            s = str(p)
            if isinstance(p, str) and (s.isdigit() or s == "" or "/" in s):
                raise OracleFormatError(f"{prefix}: dict key {p!r} is empty, contains '/' or is digits only "
                                        "(digits-only components are list indices in a trajectory case)")
            parts.append(s)
        if leaf is None:
            continue
        key = "/".join([prefix, *parts])
        out[key] = _v2_leaf(key, leaf, dtypes)


def _jsonable(x):
    """Draw arguments for the record (informational): arrays become lists, anything else its str()."""
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist() if x.size <= 64 else f"array{list(x.shape)}"
    if isinstance(x, (np.integer, np.floating, np.bool_)):
        return x.item()
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    return str(x)


def build_trajectory(traj: dict) -> tuple[dict[str, np.ndarray], dict]:
    """Flatten a Model.trajectory() result into (arrays, meta part): the arrays of every step and the JSON meta
    entries ``n_steps``, ``steps`` (per step: the draws' label / method / args, the events' kind and fields),
    ``dtypes`` and ``trajectory`` (the model's own meta)."""
    if not isinstance(traj, dict) or "steps" not in traj:
        raise OracleFormatError("a trajectory must be a dict with 'steps' (and 'meta')")
    steps = traj["steps"]
    if not isinstance(steps, (list, tuple)) or not steps:
        raise OracleFormatError("a trajectory needs at least one step")
    arrays, dtypes, steps_meta = {}, {}, []
    for k, st in enumerate(steps):
        missing = [s for s in STEP_SECTIONS if s not in st]
        if missing:
            raise OracleFormatError(f"trajectory step {k}: missing {missing}")
        base = f"steps/{k}"
        for sec in ("state_before", "inputs", "grads", "state_after"):
            if not isinstance(st[sec], dict):
                raise OracleFormatError(f"step {k} {sec}: must be a dict, got {type(st[sec]).__name__}")
            _flatten_v2(f"{base}/{sec}", st[sec], dtypes, arrays)
        losses = st["losses"]
        if not isinstance(losses, dict) or "total" not in losses:
            raise OracleFormatError(f"step {k} losses: a dict with 'total' is required")
        _flatten_v2(f"{base}/losses", losses, dtypes, arrays)
        draws_meta = []
        for i, d in enumerate(st["draws"]):
            key = f"{base}/draws/{i}"
            arrays[key] = _leaf_array(key, d.value, dtypes)
            draws_meta.append({"label": d.label, "method": d.method, "args": _jsonable(d.args)})
        events_meta = []
        for i, ev in enumerate(st["events"]):
            if not isinstance(ev, dict) or not isinstance(ev.get("kind"), str) or not ev["kind"]:
                raise OracleFormatError(f"step {k} event {i}: a dict with a non-empty str 'kind' is required")
            fields = {f: v for f, v in ev.items() if f != "kind"}
            strings = {f: v for f, v in fields.items() if isinstance(v, str)}
            numeric = {f: v for f, v in fields.items() if not isinstance(v, str)}
            _flatten_v2(f"{base}/events/{i}", numeric, dtypes, arrays)
            events_meta.append({"kind": ev["kind"], "fields": sorted(numeric), **({"strings": strings}
                                                                                 if strings else {})})
        steps_meta.append({"draws": draws_meta, "events": events_meta})
    validate_trajectory_arrays(arrays, len(steps))
    meta = {"kind": "trajectory", "n_steps": len(steps), "steps": steps_meta, "dtypes": dtypes,
            "trajectory": traj.get("meta", {})}
    return arrays, meta


def validate_trajectory_arrays(arrays: dict[str, np.ndarray], n_steps: int, where: str = "trajectory case") -> None:
    """The hard rules of version 2: keys ``steps/<k>/<section>/...`` with 0 <= k < n_steps, float64 arrays,
    and every step holding losses/total."""
    for key, a in arrays.items():
        parts = key.split("/")
        if (len(parts) < 4 or parts[0] != "steps" or not parts[1].isdigit() or int(parts[1]) >= n_steps
                or parts[2] not in STEP_SECTIONS):
            raise OracleFormatError(f"{where}: key {key!r} is not steps/<k>/<section>/<path> with k < {n_steps} "
                                    f"and section in {STEP_SECTIONS}")
        if a.dtype != np.float64:
            raise OracleFormatError(f"{where}: {key} has dtype {a.dtype}, expected float64")
    for k in range(n_steps):
        if f"steps/{k}/losses/total" not in arrays:
            raise OracleFormatError(f"{where}: steps/{k}/losses/total is missing")


def _restore_leaf(key: str, a: np.ndarray, dtypes: dict):
    kind = dtypes.get(key)
    if kind is None:
        return a
    if kind in _PY_SCALARS:
        return _PY_SCALARS[kind](a[()])
    return a.astype(np.dtype(kind))


def _listify(node):
    if not isinstance(node, dict):
        return node
    node = {k: _listify(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node):
        idx = sorted(int(k) for k in node)
        if idx != list(range(len(idx))):
            raise OracleFormatError(f"list indices {idx} are not 0..{len(idx) - 1}")
        return [node[str(i)] for i in idx]
    return node


def unflatten(arrays: dict[str, np.ndarray], prefix: str, dtypes: dict | None = None) -> dict:
    """The pytree stored under ``prefix`` (e.g. ``steps/3/state_before``): nested dicts, a digits-only component
    a list index, dtypes restored from ``dtypes`` (meta["dtypes"]; Python scalars as Python scalars)."""
    dtypes = dtypes or {}
    root: dict = {}
    pre = prefix.rstrip("/") + "/"
    for key in sorted(arrays):
        if not key.startswith(pre):
            continue
        parts = key[len(pre):].split("/")
        node = root
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise OracleFormatError(f"{key}: a leaf and a subtree share the path")
        node[parts[-1]] = _restore_leaf(key, arrays[key], dtypes)
    return _listify(root)


@dataclass
class TrajectoryStep:
    """One recorded step, read back: pytrees, the draws (minidsn.models.draws.Draw) and events (dicts)."""
    index: int
    state_before: dict
    inputs: dict
    draws: list
    losses: dict
    grads: dict
    state_after: dict
    events: list


def trajectory_steps(arrays: dict[str, np.ndarray], meta: dict) -> list[TrajectoryStep]:
    """The steps of a version-2 case (from read_case) as TrajectoryStep objects."""
    from minidsn.models.draws import Draw

    if meta.get("version") != VERSION_TRAJECTORY or meta.get("kind") != "trajectory":
        raise OracleFormatError("not a trajectory case (meta version 2, kind 'trajectory'); export one with "
                                "`minidsn oracle export MODEL --steps K`")
    dtypes = meta.get("dtypes", {})
    out = []
    for k, sm in enumerate(meta["steps"]):
        base = f"steps/{k}"
        draws = []
        for i, dm in enumerate(sm["draws"]):
            key = f"{base}/draws/{i}"
            if key not in arrays:
                raise OracleFormatError(f"{key} is missing (meta lists draw {i} of step {k})")
            draws.append(Draw(dm["label"], dm["method"], dm.get("args", {}), _restore_leaf(key, arrays[key],
                                                                                          dtypes)))
        events = []
        for i, em in enumerate(sm["events"]):
            ev = {"kind": em["kind"], **em.get("strings", {})}
            fields = unflatten(arrays, f"{base}/events/{i}", dtypes)
            ev.update(fields if isinstance(fields, dict) else {})
            missing = [f for f in em["fields"] if f not in ev]
            if missing:
                raise OracleFormatError(f"{base}/events/{i} ({em['kind']}): fields {missing} are missing")
            events.append(ev)
        out.append(TrajectoryStep(k, unflatten(arrays, f"{base}/state_before", dtypes),
                                  unflatten(arrays, f"{base}/inputs", dtypes), draws,
                                  unflatten(arrays, f"{base}/losses", dtypes),
                                  unflatten(arrays, f"{base}/grads", dtypes),
                                  unflatten(arrays, f"{base}/state_after", dtypes), events))
    return out

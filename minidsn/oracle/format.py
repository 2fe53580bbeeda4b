"""The oracle case file: one ``.npz`` of float64 arrays with keys ``<group>/<path>`` plus a JSON ``meta`` entry.

Groups: params, inputs, outputs, losses, grads.  Each group is a dict at its top (name -> pytree), and ``<path>`` is
the pytree path from minidsn.engine.tree_paths (dict keys sorted, list/tuple indices) joined by "/", so keys read
``<group>/<name>[/<key or index>...]``, e.g. ``params/layers/0/W``.  Integer and bool arrays (class
labels, masks) are stored as float64 (exact below 2**53) and their original dtype is recorded in meta["dtypes"].
Hard rules (errors): the five groups, ``<group>/<path>`` keys, float64.  Recommended conventions (reported by
conformance_notes and recorded in meta["conformance"], not errors): ``losses/total`` is the scalar loss whose
gradient ``grads`` holds, and each ``grads/<path>`` matches a ``params/<path>`` of the same shape.
``meta`` is a 0-d unicode array holding JSON, so the file loads with allow_pickle=False in any NumPy.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from minidsn.runs.atomic import atomic_write_bytes

__all__ = ["GROUPS", "KEY_SCHEME", "OracleFormatError", "flatten_group", "build_arrays", "write_case",
           "read_case", "validate_arrays", "conformance_notes"]

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
    validate_arrays(data, where=f"oracle file {path}")
    return data, meta

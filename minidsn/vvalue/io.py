"""Conversions of V-values to and from plain nested dicts, JSON text, and dense vectors over a fixed path list.

JSON form: labels must be strings; a scalar leaf is a JSON number; an array leaf is ``{"__ndarray__": nested list,
"shape": [...]}`` (the only dict shape reserved by this encoding).
"""

from __future__ import annotations

import json

import numpy as np

from .core import NUMBER, VValue, is_concrete_leaf

__all__ = ["to_dict", "from_dict", "to_json", "from_json", "to_dense", "from_dense"]

_ARRAY_KEY = "__ndarray__"


def to_dict(v: VValue) -> dict:
    """Nested plain dicts; scalar leaves as Python floats, array leaves as (writable) ndarray copies."""
    out = {}
    for k, x in v.items():
        if isinstance(x, VValue):
            out[k] = to_dict(x)
        elif isinstance(x, np.ndarray):
            out[k] = np.array(x)
        else:
            out[k] = x
    return out


def from_dict(d) -> VValue:
    """Inverse of to_dict (zeros dropped; a bare number becomes {NUMBER: x})."""
    return VValue(d)


def _encode(v: VValue) -> dict:
    out = {}
    for k, x in v.items():
        if not isinstance(k, str):
            raise TypeError(f"to_json: label {k!r} is not a string (JSON object keys must be strings)")
        if isinstance(x, VValue):
            out[k] = _encode(x)
        elif not is_concrete_leaf(x):
            raise TypeError(f"to_json: leaf at {k!r} is traced; take stop_gradient first")
        elif isinstance(x, np.ndarray):
            out[k] = {_ARRAY_KEY: x.tolist(), "shape": list(x.shape)}
        else:
            out[k] = float(x)
    return out


def to_json(v: VValue, **kw) -> str:
    return json.dumps(_encode(v), **kw)


def _decode(d):
    if isinstance(d, dict):
        if set(d) == {_ARRAY_KEY, "shape"}:
            return np.asarray(d[_ARRAY_KEY], dtype=np.float64).reshape(d["shape"])
        return {k: _decode(x) for k, x in d.items()}
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        return float(d)
    raise TypeError(f"from_json: unsupported JSON value {d!r} (need objects and numbers)")


def from_json(text: str) -> VValue:
    data = json.loads(text)
    if not isinstance(data, (dict, int, float)) or isinstance(data, bool):
        raise TypeError("from_json: the top level must be an object or a number")
    return VValue(_decode(data))


def to_dense(v: VValue, paths) -> np.ndarray:
    """Scalar leaves of v at the given paths as a float64 vector (missing = 0).  Paths of v not listed are an error,
    so a dense layout never silently loses mass.  A leaf x at p is read at p + (NUMBER,) when p is not listed."""
    index = {tuple(p): i for i, p in enumerate(paths)}
    out = np.zeros(len(index))
    for p, x in v.paths():
        if not is_concrete_leaf(x) or np.ndim(x) != 0:
            raise TypeError(f"to_dense: leaf at {p!r} must be a concrete scalar")
        i = index.get(p, index.get(p + (NUMBER,)))
        if i is None:
            raise KeyError(f"to_dense: path {p!r} is not in the dense layout")
        out[i] += x
    return out


def from_dense(paths, x) -> VValue:
    """The V-value with leaf x[i] at paths[i] (zeros dropped)."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (len(paths),):
        raise ValueError(f"from_dense: need a vector of length {len(paths)}, got shape {x.shape}")
    d: dict = {}
    for p, val in zip(paths, x):
        node = d
        for label in p[:-1]:
            node = node.setdefault(label, {})
        node[p[-1]] = node.get(p[-1], 0.0) + float(val)
    return VValue(d)


def _v_to_dict(self) -> dict:
    return to_dict(self)


def _v_to_json(self, **kw) -> str:
    return to_json(self, **kw)


# conversions of VValue, installed here so that core.py need not import this module
VValue.to_dict = _v_to_dict
VValue.to_json = _v_to_json

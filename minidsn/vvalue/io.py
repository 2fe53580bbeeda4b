"""Conversions of V-values to and from plain nested dicts, JSON text, and dense vectors over a fixed path list.

JSON form: labels must be strings; a scalar leaf is a JSON number; an array leaf is ``{"__ndarray__": nested list,
"shape": [...]}`` (the only dict shape reserved by this encoding: a map whose labels are exactly those two is refused
by ``to_json``, naming its path).  NaN and inf are written as ``NaN`` / ``Infinity`` (Python's JSON extension) and read
back.  ``from_json`` refuses, with a ValueError or TypeError naming the path inside the document: text that is not
JSON, a label given twice in one object, values other than objects and numbers, numbers too large for a float,
malformed array entries, and nesting deeper than ``MAX_DEPTH``.

Dense layouts: a path is a tuple (or list) of labels, at least one; a layout may not list a path twice.
"""

from __future__ import annotations

import json
import math

import numpy as np

from .core import MAX_DEPTH, NUMBER, VValue, _check_label, is_concrete_leaf

__all__ = ["to_dict", "from_dict", "to_json", "from_json", "to_dense", "from_dense"]

_ARRAY_KEY = "__ndarray__"


def to_dict(v: VValue) -> dict:
    """Nested plain dicts; scalar leaves as Python floats, array leaves as (writable) ndarray copies.

    Source: none (conversion).
    """
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
    """Inverse of to_dict (zeros dropped; a bare number becomes {NUMBER: x}).

    Source: none (conversion).
    """
    return VValue(d)


def _where(path) -> str:
    return "/".join(str(k) for k in path) if path else "<root>"


def _encode(v: VValue, path=()) -> dict:
    if set(v.keys()) == {_ARRAY_KEY, "shape"}:
        raise ValueError(f"to_json: the map at {_where(path)} has exactly the labels {_ARRAY_KEY!r} and 'shape', "
                         "reserved by this encoding for array leaves (it would read back as an array)")
    out = {}
    for k, x in v.items():
        if not isinstance(k, str):
            raise TypeError(f"to_json: at {_where(path)}, label {k!r} is not a string (JSON object keys must be "
                            "strings)")
        if isinstance(x, VValue):
            out[k] = _encode(x, path + (k,))
        elif not is_concrete_leaf(x):
            raise TypeError(f"to_json: leaf at {_where(path + (k,))} is traced; take stop_gradient first")
        elif isinstance(x, np.ndarray):
            out[k] = {_ARRAY_KEY: x.tolist(), "shape": list(x.shape)}
        else:
            out[k] = float(x)
    return out


def to_json(v: VValue, **kw) -> str:
    """JSON text of a V-value with string labels (format in the module doc); ``kw`` goes to json.dumps.

    Source: none (serialisation; the JSON form is minidsn's, see the module doc).
    """
    if not isinstance(v, VValue):
        raise TypeError(f"to_json needs a VValue, got {type(v).__name__}")
    return json.dumps(_encode(v), **kw)


def _decode_array(d, path):
    where = _where(path)
    shape = d["shape"]
    if not isinstance(shape, list) or not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                                                for n in shape):
        raise ValueError(f"from_json: array at {where}: 'shape' must be a list of integers >= 0, got {shape!r:.80}")
    data = d[_ARRAY_KEY]

    def numbers_only(x, depth):
        if isinstance(x, list) and depth < MAX_DEPTH:
            return all(numbers_only(y, depth + 1) for y in x)
        return isinstance(x, (int, float)) and not isinstance(x, bool)

    if not numbers_only(data, 0):
        raise ValueError(f"from_json: array at {where}: entries must be nested lists of numbers, got {data!r:.80}")
    try:
        a = np.asarray(data, dtype=np.float64)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"from_json: array at {where}: {exc}") from None
    if a.size != math.prod(shape):  # entries nested as written by to_json, or flat in row-major order
        raise ValueError(f"from_json: array at {where}: {a.size} entries do not fill 'shape' {tuple(shape)}")
    return a.reshape(shape)


def _decode(d, path=()):
    if isinstance(d, dict):
        if len(path) >= MAX_DEPTH:
            raise ValueError(f"from_json: nesting deeper than {MAX_DEPTH} labels at {_where(path[:5])}/... "
                             "(minidsn.vvalue.MAX_DEPTH)")
        if set(d) == {_ARRAY_KEY, "shape"}:
            return _decode_array(d, path)
        return {k: _decode(x, path + (k,)) for k, x in d.items()}
    if isinstance(d, (int, float)) and not isinstance(d, bool):
        try:
            return float(d)
        except OverflowError:
            raise ValueError(f"from_json: the number at {_where(path)} is too large for a float") from None
    raise TypeError(f"from_json: unsupported JSON value {d!r:.80} at {_where(path)} (need objects and numbers)")


def _pairs(pairs):
    out = {}
    for k, x in pairs:
        if k in out:
            raise ValueError(f"from_json: duplicate label {k!r} in one JSON object")
        out[k] = x
    return out


def from_json(text: str) -> VValue:
    """The V-value of JSON text written by ``to_json`` (errors for corrupt text: module doc).

    Source: none (deserialisation; the JSON form is minidsn's, see the module doc).
    """
    try:
        data = json.loads(text, object_pairs_hook=_pairs)
    except json.JSONDecodeError as exc:
        raise ValueError(f"from_json: the text is not valid JSON: {exc}") from None
    except RecursionError:
        raise ValueError(f"from_json: nesting deeper than {MAX_DEPTH} labels (minidsn.vvalue.MAX_DEPTH)") from None
    if not isinstance(data, (dict, int, float)) or isinstance(data, bool):
        raise TypeError("from_json: the top level must be an object or a number")
    return VValue(_decode(data))


def _layout(paths, what: str) -> list[tuple]:
    """The paths of a dense layout as tuples of canonical labels; a clear error for a str, an empty or a bad path."""
    out = []
    for p in paths:
        if isinstance(p, list):
            p = tuple(p)
        if not isinstance(p, tuple) or not p:
            raise TypeError(f"{what}: each path must be a non-empty tuple of labels, got {p!r}")
        try:
            p = tuple(_check_label(k) for k in p)
        except TypeError as exc:
            raise TypeError(f"{what}: path {p!r}: {exc}") from None
        out.append(p)
    return out


def to_dense(v: VValue, paths) -> np.ndarray:
    """Scalar leaves of v at the given paths as a float64 vector (missing = 0).  Paths of v not listed are an error,
    so a dense layout never silently loses mass.  A leaf x at p is read at p + (NUMBER,) when p is not listed (and
    a trailing run of NUMBER labels as one, as the sum does).  A path listed twice is an error.

    Source: none (layout conversion; notes/dmm.md "V-values": a missing key is 0).
    """
    layout = _layout(paths, "to_dense")
    index = {}
    for i, p in enumerate(layout):
        if p in index:
            raise ValueError(f"to_dense: path {p!r} is listed twice in the dense layout")
        index[p] = i
    out = np.zeros(len(layout))
    for p, x in v.paths():
        if not is_concrete_leaf(x) or np.ndim(x) != 0:
            raise TypeError(f"to_dense: leaf at {p!r} must be a concrete scalar")
        i = index.get(p)
        if i is None:
            n = len(p)
            while n and p[n - 1] == NUMBER:
                n -= 1
            i = index.get(p[:n] + (NUMBER,), index.get(p[:n]) if n else None)
        if i is None:
            raise KeyError(f"to_dense: path {p!r} is not in the dense layout")
        out[i] += x
    return out


def from_dense(paths, x) -> VValue:
    """The V-value with leaf x[i] at paths[i] (zeros dropped).  A path that is a prefix of another one holds its
    number under NUMBER there (a number beside a map is {NUMBER: x}); a path listed twice adds up.

    Source: none (layout conversion; notes/dmm.md "V-values": a number beside a map becomes {number: x}).
    """
    layout = _layout(paths, "from_dense")
    x = np.asarray(x, dtype=np.float64)
    if x.shape != (len(layout),):
        raise ValueError(f"from_dense: need a vector of length {len(layout)}, got shape {x.shape}")
    d: dict = {}
    for p, val in zip(layout, x):
        node = d
        for label in p[:-1]:
            nxt = node.get(label)
            if not isinstance(nxt, dict):
                nxt = {} if nxt is None else {NUMBER: nxt}  # a number already here moves under NUMBER
                node[label] = nxt
            node = nxt
        last = p[-1]
        if isinstance(node.get(last), dict):
            node = node[last]
            last = NUMBER
        node[last] = node.get(last, 0.0) + float(val)
    return VValue(d)


def _v_to_dict(self) -> dict:
    return to_dict(self)


def _v_to_json(self, **kw) -> str:
    return to_json(self, **kw)


# conversions of VValue, installed here so that core.py need not import this module
VValue.to_dict = _v_to_dict
VValue.to_json = _v_to_json

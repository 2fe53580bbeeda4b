"""Lossless, pickle-free serialisation of a run state: a JSON skeleton plus a dict of ndarrays (for an .npz).

The skeleton records every container and scalar with its exact type, so a restored state is equal to the saved one
bit for bit, including the distinction list/tuple, python float/np.float64 and dict key order:

    {"t": "dict", "items": [[key, node], ...]}    keys are str or int (recorded as ["s", k] / ["i", k])
    {"t": "list" | "tuple", "items": [node, ...]}
    {"t": "array", "ref": "a12"}                  ndarray stored in the npz under "a12"
    {"t": "npscalar", "ref": "a13"}               numpy scalar (np.float64, np.int64, ...) stored as a 0-d array
    {"t": "float", "v": "0x1.8p+1"}               python float as float.hex (exact; inf and nan included)
    {"t": "int", "v": 3} | {"t": "bool", "v": true} | {"t": "str", "v": "..."} | {"t": "none"}

Arrays of dtype object are refused (an .npz read with allow_pickle=False cannot hold them, and they would run code on
load).  Containers nested deeper than MAX_DEPTH, or containing themselves, are refused on encoding; on decoding, a
malformed skeleton (a wrong type for a value or a key kind, a key given twice, a numpy scalar that is not 0-d, nesting
deeper than MAX_DEPTH) is a TreeFormatError naming the place in the state.
"""

from __future__ import annotations

import numpy as np

__all__ = ["encode_tree", "decode_tree", "TreeFormatError", "MAX_DEPTH"]

# Deepest container nesting a state may have (run states are a few levels deep); the recursion stays far from
# Python's stack limit.
MAX_DEPTH = 200


class TreeFormatError(ValueError):
    """The state cannot be serialised, or a skeleton/array set is malformed."""


def encode_tree(tree) -> tuple[dict, dict[str, np.ndarray]]:
    """Return (skeleton, arrays) for ``tree``; raises TreeFormatError naming the path of an unsupported value.

    The recursion is a module-level function taking ``arrays`` as an argument, not a nested closure: a closure that
    calls itself is a reference cycle (function -> cell -> function) which keeps ``arrays``, i.e. every array of the
    state, alive until the cyclic garbage collector runs; in a long run that can be never (issue 21: each checkpoint
    of a URN at S = 5000 kept W, m and v, 600 MB, resident).

    Source: none (checkpoint serialisation).
    """
    arrays: dict[str, np.ndarray] = {}
    return _enc(tree, "", arrays, ()), arrays


def _enc(x, path, arrays, open_ids):
    if isinstance(x, (dict, list, tuple)):
        if id(x) in open_ids:
            raise TreeFormatError(f"state{path}: the container is cyclic (it contains itself)")
        if len(open_ids) >= MAX_DEPTH:
            raise TreeFormatError(f"state{path[:120]}...: containers nested deeper than {MAX_DEPTH} levels")
        open_ids = open_ids + (id(x),)
    if isinstance(x, np.ndarray):
        if x.dtype.hasobject:
            raise TreeFormatError(f"state{path}: object arrays cannot be checkpointed")
        ref = f"a{len(arrays)}"
        arrays[ref] = x
        return {"t": "array", "ref": ref}
    if isinstance(x, np.generic):
        if isinstance(x, np.object_):
            raise TreeFormatError(f"state{path}: numpy object scalar cannot be checkpointed")
        ref = f"a{len(arrays)}"
        arrays[ref] = np.asarray(x)
        return {"t": "npscalar", "ref": ref}
    if isinstance(x, bool):
        return {"t": "bool", "v": x}
    if isinstance(x, int):
        return {"t": "int", "v": x}
    if isinstance(x, float):
        return {"t": "float", "v": x.hex()}
    if isinstance(x, str):
        return {"t": "str", "v": x}
    if x is None:
        return {"t": "none"}
    if isinstance(x, dict):
        items = []
        for k, v in x.items():
            if isinstance(k, bool) or not isinstance(k, (str, int)):
                raise TreeFormatError(f"state{path}: dict key {k!r} is not a str or int")
            items.append([["s", k] if isinstance(k, str) else ["i", k], _enc(v, f"{path}[{k!r}]", arrays, open_ids)])
        return {"t": "dict", "items": items}
    if isinstance(x, (list, tuple)):
        if type(x) not in (list, tuple):  # namedtuples etc. would come back as plain tuples
            raise TreeFormatError(f"state{path}: {type(x).__name__} is not a plain list or tuple")
        return {
            "t": "list" if isinstance(x, list) else "tuple",
            "items": [_enc(v, f"{path}[{i}]", arrays, open_ids) for i, v in enumerate(x)],
        }
    raise TreeFormatError(
        f"state{path}: {type(x).__name__} cannot be checkpointed "
        "(allowed: dict, list, tuple, ndarray, numpy scalar, int, float, bool, str, None)"
    )


def decode_tree(skeleton, arrays) -> object:
    """Inverse of encode_tree. ``arrays`` maps refs to ndarrays (e.g. an NpzFile opened with allow_pickle=False).

    Module-level recursion (no self-referencing closure), for the reason given in encode_tree.

    Source: none (checkpoint serialisation).
    """
    return _dec(skeleton, "", arrays, 0)


def _dec(node, path, arrays, depth):
    if not isinstance(node, dict) or "t" not in node:
        raise TreeFormatError(f"checkpoint skeleton at state{path} is malformed: {node!r:.80}")
    if depth > MAX_DEPTH:
        raise TreeFormatError(f"checkpoint skeleton at state{path[:120]}...: nested deeper than {MAX_DEPTH} levels")
    t = node["t"]
    try:
        if t in ("array", "npscalar"):
            ref = node["ref"]
            if ref not in arrays:
                raise TreeFormatError(f"checkpoint is missing array {ref!r} for state{path}")
            a = np.asarray(arrays[ref])
            if t == "npscalar" and a.ndim != 0:
                raise TreeFormatError(f"state{path}: numpy scalar {ref!r} is stored with shape {a.shape}, not 0-d")
            return a[()] if t == "npscalar" else a
        if t == "bool":
            if not isinstance(node["v"], bool):
                raise TreeFormatError(f"state{path}: bool expected, got {node['v']!r:.40}")
            return node["v"]
        if t == "int":
            if not isinstance(node["v"], int) or isinstance(node["v"], bool):
                raise TreeFormatError(f"state{path}: int expected")
            return node["v"]
        if t == "float":
            return float.fromhex(node["v"])
        if t == "str":
            if not isinstance(node["v"], str):
                raise TreeFormatError(f"state{path}: str expected")
            return node["v"]
        if t == "none":
            return None
        if t == "dict":
            out = {}
            if not isinstance(node["items"], list):
                raise TreeFormatError(f"checkpoint skeleton at state{path} is malformed: items is not a list")
            for (kind, k), v in node["items"]:
                if kind not in ("s", "i"):
                    raise TreeFormatError(f"state{path}: bad key kind {kind!r}")
                if (kind == "s") != isinstance(k, str) or isinstance(k, bool) or not isinstance(k, (str, int)):
                    raise TreeFormatError(f"state{path}: dict key {k!r:.40} does not match its kind {kind!r}")
                if k in out:
                    raise TreeFormatError(f"state{path}: dict key {k!r:.40} repeats")
                out[k] = _dec(v, f"{path}[{k!r}]", arrays, depth + 1)
            return out
        if t in ("list", "tuple"):
            if not isinstance(node["items"], list):
                raise TreeFormatError(f"checkpoint skeleton at state{path} is malformed: items is not a list")
            items = [_dec(v, f"{path}[{i}]", arrays, depth + 1) for i, v in enumerate(node["items"])]
            return items if t == "list" else tuple(items)
    except (KeyError, TypeError, ValueError) as exc:
        if isinstance(exc, TreeFormatError):
            raise
        raise TreeFormatError(f"checkpoint skeleton at state{path} is malformed: {exc}") from None
    raise TreeFormatError(f"checkpoint skeleton at state{path}: unknown node type {t!r}")

"""Checkpoints: one ``.npz`` (arrays, read with allow_pickle=False) plus one ``.json`` (skeleton, scalars, RNG state).

Files are ``<dir>/ckpt-<step:08d>.npz`` and ``<dir>/ckpt-<step:08d>.json``.  The npz is written first, then the JSON,
each atomically (temp file + os.replace); the JSON records the sha256 and byte size of its npz, so a checkpoint counts
only when its JSON parses, the JSON's own sha256 (over its canonical content, minidsn.runs.sealed) verifies and its npz
matches: a crash between the two writes, a truncated file or a flipped bit anywhere in either file is detected on load
(format version 2; version 1 files, whose JSON carried no checksum, are still read).  Before NumPy allocates anything,
every array's declared size is checked against the file (minidsn.runs.npzcheck), and the JSON's size against
``MAX_JSON_BYTES``.  Older checkpoints are pruned only after a new one is complete, so the previous good checkpoint
survives any failed write.  Loading never executes code: JSON plus numeric arrays only.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from minidsn.runs.atomic import atomic_open, atomic_write_text
from minidsn.runs.npzcheck import NpzSizeError, check_npz
from minidsn.runs.sealed import SealError, seal, unseal
from minidsn.runs.treeio import TreeFormatError, decode_tree, encode_tree

__all__ = [
    "CheckpointError",
    "Checkpoint",
    "save_checkpoint",
    "load_checkpoint",
    "list_checkpoints",
    "load_latest_checkpoint",
    "rng_from_state",
]

FORMAT = "minidsn-checkpoint"
VERSION = 2
_READABLE_VERSIONS = (1, 2)  # 1: no checksum over the JSON itself
MAX_JSON_BYTES = 1 << 30  # a checkpoint's JSON (skeleton + RNG state) is far smaller; larger is refused unread
_NAME = re.compile(r"^ckpt-(\d{8})\.json$")
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


class CheckpointError(RuntimeError):
    """A checkpoint is missing, truncated, corrupt, or of an unknown format. The message names the file."""


@dataclass
class Checkpoint:
    step: int
    state: object
    rng_state: dict
    extra: dict
    path: Path  # the .json file


def _paths(ckpt_dir: Path, step: int) -> tuple[Path, Path]:
    return ckpt_dir / f"ckpt-{step:08d}.npz", ckpt_dir / f"ckpt-{step:08d}.json"


def save_checkpoint(ckpt_dir, step: int, state, rng: np.random.Generator, extra: dict | None = None,
                    keep_last: int = 2, rng_state: dict | None = None) -> Path:
    """Write the checkpoint for ``step`` and prune all but the newest ``keep_last``; returns the JSON path.

    ``rng_state`` overrides ``rng.bit_generator.state`` (used on Ctrl-C, where the RNG must be saved as it was
    before the interrupted step).
    """
    if keep_last < 1:
        raise ValueError("keep_last must be >= 1")
    ckpt_dir = Path(ckpt_dir)
    ckpt_dir.mkdir(parents=True, exist_ok=True)
    rs = rng.bit_generator.state if rng_state is None else rng_state
    skeleton, arrays = encode_tree({"state": state, "rng": rs})
    npz_path, json_path = _paths(ckpt_dir, step)
    # written straight to the file (NumPy streams each array into the zip entry in small chunks) and hashed by
    # reading it back: building the npz in memory first would hold one more copy of the whole state (+600 MB for
    # a URN at S = 5000, issue 21); the bytes are the same either way
    with atomic_open(npz_path, "w+b") as f:
        np.savez(f, **arrays)
        npz_bytes, npz_sha256 = _size_and_sha256(f)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "step": int(step),
        "npz": npz_path.name,
        "npz_bytes": npz_bytes,
        "npz_sha256": npz_sha256,
        "skeleton": skeleton,
        "extra": extra or {},
    }
    atomic_write_text(json_path, json.dumps(seal(meta), allow_nan=False))
    for old in list_checkpoints(ckpt_dir)[:-keep_last]:
        if old == json_path:
            continue
        old.unlink(missing_ok=True)  # JSON first: an npz without JSON is ignored, never half-trusted
        old.with_suffix(".npz").unlink(missing_ok=True)
    return json_path


def _size_and_sha256(f, chunk: int = 1 << 20) -> tuple[int, str]:
    """Byte size and sha256 of an open file's whole content, read in chunks (the file position is left at its end)."""
    f.flush()
    f.seek(0)
    h, n = hashlib.sha256(), 0
    while block := f.read(chunk):
        h.update(block)
        n += len(block)
    return n, h.hexdigest()


def list_checkpoints(ckpt_dir) -> list[Path]:
    """JSON paths of the checkpoints in ``ckpt_dir``, oldest first (by step)."""
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in ckpt_dir.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def load_checkpoint(json_path) -> Checkpoint:
    """Load and verify one checkpoint; CheckpointError with the file name and the reason on any problem."""
    json_path = Path(json_path)
    if json_path.suffix == ".npz":
        json_path = json_path.with_suffix(".json")
    try:
        size = json_path.stat().st_size
        if size > MAX_JSON_BYTES:
            raise CheckpointError(f"checkpoint {json_path} is {size} bytes, above the {MAX_JSON_BYTES}-byte maximum")
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {json_path} does not exist") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise CheckpointError(f"checkpoint {json_path} is truncated or corrupt (bad JSON: {exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise CheckpointError(f"{json_path} is not a minidsn checkpoint")
    if meta.get("version") not in _READABLE_VERSIONS:
        raise CheckpointError(f"checkpoint {json_path} has format version {meta.get('version')!r}; "
                              f"this minidsn reads versions {', '.join(map(str, _READABLE_VERSIONS))}")
    try:
        meta = unseal(meta, f"checkpoint {json_path}", required=meta["version"] >= 2)
    except SealError as exc:
        raise CheckpointError(str(exc)) from None
    try:
        npz_path = json_path.parent / meta["npz"]
        if Path(meta["npz"]).name != meta["npz"]:
            raise CheckpointError(f"checkpoint {json_path} names an npz outside its directory")
        step, want_bytes, want_sha = int(meta["step"]), int(meta["npz_bytes"]), str(meta["npz_sha256"])
        skeleton, extra = meta["skeleton"], meta.get("extra", {})
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {json_path} is missing field {exc}") from None
    named = _NAME.match(json_path.name)
    if named and int(named.group(1)) != step:
        raise CheckpointError(f"checkpoint {json_path} records step {step}, its name says {int(named.group(1))}")
    try:
        have = npz_path.stat().st_size
        if have != want_bytes:  # before reading: a huge stray file is never loaded
            raise CheckpointError(f"checkpoint {npz_path} is truncated or corrupt: {have} bytes, expected {want_bytes}")
        # one open file for the checksum and the arrays (read in chunks: no second copy of the state in memory)
        f = open(npz_path, "rb")
    except FileNotFoundError:
        raise CheckpointError(f"checkpoint {json_path}: its array file {npz_path.name} is missing") from None
    with f:
        n, sha = _size_and_sha256(f)
        if n != want_bytes:
            raise CheckpointError(f"checkpoint {npz_path} is truncated or corrupt: {n} bytes, expected {want_bytes}")
        if sha != want_sha:
            raise CheckpointError(f"checkpoint {npz_path} is corrupt: sha256 does not match the one in "
                                  f"{json_path.name}")
        try:
            f.seek(0)
            check_npz(f, name=str(npz_path), file_size=n)
            f.seek(0)
            with np.load(f, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
            tree = decode_tree(skeleton, arrays)
        except (TreeFormatError, NpzSizeError, ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
            raise CheckpointError(f"checkpoint {json_path} cannot be decoded: {exc}") from None
    if not isinstance(tree, dict) or set(tree) != {"state", "rng"}:
        raise CheckpointError(f"checkpoint {json_path} does not hold a state and an RNG state")
    return Checkpoint(step=step, state=tree["state"], rng_state=tree["rng"], extra=extra, path=json_path)


def load_latest_checkpoint(ckpt_dir, warn=None) -> Checkpoint | None:
    """The newest checkpoint that verifies; a newer corrupt one is reported through ``warn`` and skipped.

    Returns None when the directory holds no checkpoint; raises CheckpointError when it holds only corrupt ones.
    """
    warn = warn or (lambda msg: print(msg, file=sys.stderr))
    paths = list_checkpoints(ckpt_dir)
    errors = []
    for p in reversed(paths):
        try:
            ck = load_checkpoint(p)
        except CheckpointError as exc:
            errors.append(str(exc))
            warn(f"warning: skipping unusable checkpoint: {exc}")
            continue
        return ck
    if errors:
        raise CheckpointError(f"no usable checkpoint in {ckpt_dir} (restore one from a backup, or start a new run):"
                              + "\n  " + "\n  ".join(errors))
    return None


def rng_from_state(rng_state: dict) -> np.random.Generator:
    """Rebuild a Generator from ``bit_generator.state`` (only numpy's own bit generators, by name)."""
    name = rng_state.get("bit_generator") if isinstance(rng_state, dict) else None
    if name not in _BIT_GENERATORS:
        raise CheckpointError(f"checkpoint RNG state names unknown bit generator {name!r}")
    bg = getattr(np.random, name)()
    try:
        bg.state = rng_state
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"checkpoint RNG state is malformed: {exc}") from None
    return np.random.Generator(bg)

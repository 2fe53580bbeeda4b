"""Size checks on an ``.npz`` before NumPy allocates anything for it.

``numpy.load`` on an npz member allocates the array its ``.npy`` header declares *before* reading the data, so a
small hostile file whose header claims 10**12 elements makes NumPy try to allocate terabytes.  ``check_npz`` reads
only the zip directory and each member's ``.npy`` header, and refuses the file unless, for every member:

- the header is a valid ``.npy`` header of a non-object dtype;
- header length + declared data bytes (shape product x itemsize, exact Python integers) equal the member's
  uncompressed size in the zip directory;
- a stored member occupies exactly that many bytes, and a compressed one claims at most 1032x its compressed size
  (the deflate limit);

and the declared bytes of all members together stay below ``max_bytes`` (default ``MAX_NPZ_BYTES`` = 64 GiB, far
above anything minidsn writes, below the address space that makes NumPy's allocation succeed lazily).
"""

from __future__ import annotations

import math
import os
import zipfile

import numpy as np

__all__ = ["NpzSizeError", "check_npz", "MAX_NPZ_BYTES"]

MAX_NPZ_BYTES = 1 << 36
_DEFLATE_MAX_RATIO = 1032


class NpzSizeError(ValueError):
    """An npz's declared sizes do not fit the file or the documented maximum; the message names the member."""


def _member_header(zf: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> tuple[tuple, np.dtype, int]:
    with zf.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy version {version}")
        except (ValueError, EOFError, SyntaxError, TypeError) as exc:
            raise NpzSizeError(f"{name}: member {info.filename} has no valid .npy header ({exc})") from None
        return shape, dtype, f.tell()


def check_npz(source, name: str | None = None, file_size: int | None = None,
              max_bytes: int = MAX_NPZ_BYTES) -> int:
    """Check ``source`` (a path or a binary file object) as described in the module docstring; returns the total
    declared data bytes. ``file_size`` defaults to the size of the path."""
    name = name or str(source)
    if file_size is None and isinstance(source, (str, os.PathLike)):
        file_size = os.path.getsize(source)
    try:
        zf = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise NpzSizeError(f"{name} is not a readable .npz (zip) file: {exc}") from None
    total = 0
    with zf:
        infos = zf.infolist()
        packed = sum(i.compress_size for i in infos)
        if file_size is not None and packed > file_size:
            raise NpzSizeError(f"{name}: its zip directory claims {packed} bytes of members, the file has "
                               f"{file_size}")
        for info in infos:
            if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
                raise NpzSizeError(f"{name}: stored member {info.filename} claims {info.file_size} bytes but "
                                   f"occupies {info.compress_size}")
            if info.file_size > _DEFLATE_MAX_RATIO * info.compress_size + 1024:
                raise NpzSizeError(f"{name}: member {info.filename} claims {info.file_size} bytes from "
                                   f"{info.compress_size} compressed bytes (impossible for deflate)")
            if not info.filename.endswith(".npy"):
                continue
            try:
                shape, dtype, hlen = _member_header(zf, info, name)
            except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
                raise NpzSizeError(f"{name}: member {info.filename} cannot be read ({exc})") from None
            if dtype.hasobject:
                raise NpzSizeError(f"{name}: member {info.filename} holds Python objects (refused)")
            declared = math.prod(int(s) for s in shape) * dtype.itemsize
            if hlen + declared != info.file_size:
                raise NpzSizeError(f"{name}: member {info.filename} declares shape {tuple(shape)} of {dtype} "
                                   f"({declared} bytes) but holds {info.file_size - hlen}")
            total += declared
            if total > max_bytes:
                raise NpzSizeError(f"{name}: its arrays declare {total} bytes, above the {max_bytes}-byte maximum "
                                   f"(minidsn.runs.npzcheck.MAX_NPZ_BYTES)")
    return total

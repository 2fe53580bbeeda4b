"""IDX files (MNIST, Fashion-MNIST): header-validated reading, plain or gzip'd.

IDX layout (LeCun et al., the MNIST page): 2 zero bytes, a type code (0x08 = uint8, 0x09 int8, 0x0B int16,
0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions d, then d big-endian uint32 sizes, then the data,
big-endian, row-major.  Images are magic 2051 (0x00000803: uint8, 3 dims), labels 2049 (0x00000801: uint8, 1 dim).

A hostile header cannot make the reader allocate more than the file holds: the size the header claims is checked
against the file length (plain files) before reading, and a gzip'd file is read in chunks that stop as soon as the
stream ends or passes the claimed size, so memory follows the data actually present.
"""

from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from minidsn.data.errors import DataError

__all__ = ["read_idx", "parse_idx_header", "MAX_IDX_BYTES", "find_file"]

_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
MAX_IDX_BYTES = 1 << 31  # 2 GiB: far above any IDX set minidsn reads; a header claiming more is refused
_CHUNK = 1 << 20


def parse_idx_header(head: bytes, name: str = "IDX file") -> tuple[np.dtype, tuple[int, ...], int]:
    """(dtype, shape, header_length) from the first bytes of an IDX file; DataError naming the problem."""
    if len(head) < 4:
        raise DataError(f"{name}: too short for an IDX header ({len(head)} bytes)")
    z0, z1, code, ndim = head[0], head[1], head[2], head[3]
    if z0 != 0 or z1 != 0 or code not in _DTYPES:
        raise DataError(f"{name}: bad IDX magic number {head[:4].hex()} (expected 0000 then a type code in "
                        f"{sorted(hex(c) for c in _DTYPES)} and the number of dimensions)")
    if not 1 <= ndim <= 8:
        raise DataError(f"{name}: IDX header claims {ndim} dimensions (1..8 allowed)")
    hlen = 4 + 4 * ndim
    if len(head) < hlen:
        raise DataError(f"{name}: truncated IDX header ({len(head)} of {hlen} bytes)")
    shape = struct.unpack(f">{ndim}I", head[4:hlen])
    return np.dtype(_DTYPES[code]), tuple(int(s) for s in shape), hlen


def _open(path: Path):
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def read_idx(path, expect_magic: int | None = None, max_bytes: int = MAX_IDX_BYTES) -> np.ndarray:
    """Read an IDX file (``.gz`` or plain) into an array of its native dtype (native byte order).

    ``expect_magic`` (e.g. 2051 images, 2049 labels) checks the first four bytes as one big-endian int.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {path} does not exist")
    try:
        with _open(path) as f:
            head = f.read(4)
            if len(head) >= 4 and expect_magic is not None and struct.unpack(">I", head[:4])[0] != expect_magic:
                raise DataError(f"{path}: magic number {struct.unpack('>I', head[:4])[0]}, expected {expect_magic}")
            ndim = head[3] if len(head) >= 4 else 0
            head += f.read(4 * ndim) if 1 <= ndim <= 8 else b""
            dtype, shape, hlen = parse_idx_header(head, str(path))
            count = 1
            for s in shape:
                count *= s
            need = count * dtype.itemsize
            if need > max_bytes:
                raise DataError(f"{path}: header claims {need} bytes of data (shape {shape}), above the "
                                f"{max_bytes}-byte limit")
            if path.suffix != ".gz":
                have = os.path.getsize(path) - hlen
                if have != need:
                    raise DataError(f"{path}: header says shape {shape} ({need} bytes) but the file holds {have}")
            chunks, got = [], 0
            while got <= need:  # read one byte past the claim to detect trailing data
                chunk = f.read(min(_CHUNK, need + 1 - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path}: cannot read ({exc})") from None
    if got != need:
        more = "more than" if got > need else "only"
        raise DataError(f"{path}: header says shape {shape} ({need} bytes) but the data holds {more} {got} bytes")
    arr = np.frombuffer(b"".join(chunks), dtype=dtype).reshape(shape)
    return arr.astype(dtype.newbyteorder("="), copy=False)


def find_file(directory: Path, name: str) -> Path:
    """``name`` or ``name.gz`` in ``directory`` (the plain file first)."""
    for cand in (directory / name, directory / f"{name}.gz"):
        if cand.is_file():
            return cand
    raise DataError(f"data file {name} (or {name}.gz) not found in {directory}")

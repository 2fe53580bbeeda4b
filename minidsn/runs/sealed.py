"""Checksummed JSON records: a dict carries ``"sha256"`` of its own canonical JSON (every other key, sorted keys,
compact separators, ASCII), so any change to a parsed record -- a flipped digit of an RNG state, a step number, an
integer leaf -- is detected on read.

A single flipped bit that still parses to the *same* record (say ``1e-05`` -> ``1E-05``) passes, and that is correct:
the content read is then exactly the content written.
"""

from __future__ import annotations

import hashlib
import json

__all__ = ["SealError", "seal", "unseal", "record_digest", "SEAL_KEY"]

SEAL_KEY = "sha256"


class SealError(ValueError):
    """A record's checksum is missing or does not match its content."""


def record_digest(record: dict) -> str:
    """sha256 (hex) of the canonical JSON of ``record`` without its ``sha256`` key."""
    body = {k: v for k, v in record.items() if k != SEAL_KEY}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def seal(record: dict) -> dict:
    """``record`` plus its checksum (a new dict; the checksum key comes last)."""
    body = {k: v for k, v in record.items() if k != SEAL_KEY}
    return {**body, SEAL_KEY: record_digest(body)}


def unseal(record, where: str, required: bool = True) -> dict:
    """``record`` without its checksum, after verifying it; SealError naming ``where`` when it does not verify.

    ``required=False`` accepts a record written before checksums existed (no ``sha256`` key).
    """
    if not isinstance(record, dict):
        raise SealError(f"{where} is not a JSON object")
    if SEAL_KEY not in record:
        if required:
            raise SealError(f"{where} has no checksum (sha256)")
        return dict(record)
    want = record[SEAL_KEY]
    try:
        got = record_digest(record)
    except (TypeError, ValueError) as exc:  # e.g. NaN smuggled into a hand-edited file
        raise SealError(f"{where} cannot be checksummed: {exc}") from None
    if got != want:
        raise SealError(f"{where} is corrupt or was edited: its content does not match its sha256 checksum")
    return {k: v for k, v in record.items() if k != SEAL_KEY}

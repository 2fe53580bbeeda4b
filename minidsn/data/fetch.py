"""`minidsn data fetch`: download a data set's canonical files, resumably and atomically, and verify checksums.

Per file: an already-present file whose sha256 matches is kept.  Otherwise the download goes to ``<name>.part``; an
existing ``.part`` is continued with an HTTP Range request (a server that ignores Range restarts it).  A complete
download is checked (size, MD5 and sha256 where the table gives them; for gzip'd files the sha256 of the decompressed
content), and only then moved into place with os.replace.  A failed check deletes the bad download and names the file,
the expected and the actual checksum.  Nothing outside ``<dir>/<dataset>/`` is written; tar members are extracted by
exact name only (no paths from the archive are trusted).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from minidsn.data.errors import DataError
from minidsn.data.sources import DATASETS, RemoteFile

__all__ = ["fetch_dataset", "sha256_file", "download"]

_CHUNK = 1 << 16


def sha256_file(path, algo: str = "sha256") -> str:
    h = hashlib.new(algo)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, part: Path, timeout: float = 60.0, log=None) -> Path:
    """Download ``url`` into ``part``, continuing an existing partial file with a Range request."""
    have = part.stat().st_size if part.exists() else 0
    req = urllib.request.Request(url, headers={"User-Agent": "minidsn-data-fetch"})
    if have:
        req.add_header("Range", f"bytes={have}-")
    try:
        resp = urllib.request.urlopen(req, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # nothing left to send: the part is already whole
            return part
        raise DataError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise DataError(f"download of {url} failed: {exc}") from None
    with resp:
        status = resp.status
        if have and status == 206:
            mode = "ab"
            if log:
                log(f"  resuming {part.name} at byte {have}")
        else:
            mode, have = "wb", 0
        length = resp.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        got = 0
        try:
            with open(part, mode) as f:
                while True:
                    block = resp.read(_CHUNK)
                    if not block:
                        break
                    f.write(block)
                    got += len(block)
        except (OSError, urllib.error.URLError) as exc:  # includes http.client.IncompleteRead
            raise DataError(f"download of {url} was cut off after {have + got} bytes ({exc}); "
                            f"run the fetch again to resume") from None
    if expected is not None and got != expected:
        raise DataError(f"download of {url} was cut off: {got} of {expected} bytes; run the fetch again to resume")
    return part


def _verify(path: Path, rf: RemoteFile, what: str) -> None:
    if rf.size is not None and path.stat().st_size != rf.size:
        raise DataError(f"{what}: {path.stat().st_size} bytes, expected {rf.size}")
    if rf.md5 is not None:
        got = sha256_file(path, "md5")
        if got != rf.md5:
            raise DataError(f"{what}: md5 {got}, expected {rf.md5}")


def _gunzip_verified(gz: Path, final: Path, sha: str) -> None:
    tmp = final.with_name(f".tmp-{final.name}")
    try:
        h = hashlib.sha256()
        with gzip.open(gz, "rb") as src, open(tmp, "wb") as dst:
            for block in iter(lambda: src.read(1 << 20), b""):
                h.update(block)
                dst.write(block)
        if h.hexdigest() != sha:
            raise DataError(f"{final.name}: sha256 {h.hexdigest()}, expected {sha} (download deleted)")
        os.replace(tmp, final)
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise DataError(f"{gz}: not a valid gzip file ({exc}) (download deleted)") from None
    finally:
        tmp.unlink(missing_ok=True)


def _extract_members(tar_path: Path, members: tuple, dest: Path) -> list[Path]:
    out = []
    try:
        with tarfile.open(tar_path, "r:*") as tar:
            for name in members:
                try:
                    info = tar.getmember(name)
                except KeyError:
                    raise DataError(f"{tar_path}: member {name} is missing") from None
                if not info.isfile():
                    raise DataError(f"{tar_path}: member {name} is not a regular file")
                target = dest / Path(name).name
                tmp = dest / f".tmp-{target.name}"
                with tar.extractfile(info) as src, open(tmp, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                os.replace(tmp, target)
                out.append(target)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise DataError(f"{tar_path}: cannot extract ({exc})") from None
    return out


def fetch_dataset(name: str, directory, base_url: str | None = None, log=None, timeout: float = 60.0) -> list[Path]:
    """Fetch data set ``name`` into ``<directory>/<name>/``; returns the paths of the verified files."""
    if name not in DATASETS:
        raise DataError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}")
    ds = DATASETS[name]
    base = (base_url or ds.base_url).rstrip("/") + "/"
    dest = Path(directory) / name
    dest.mkdir(parents=True, exist_ok=True)
    log = log or (lambda m: None)
    out = []
    for rf in ds.files:
        final = dest / rf.local
        if rf.extract:  # an archive: done when every member is present (members carry no checksum of their own)
            targets = [dest / Path(m).name for m in rf.extract]
            if all(t.exists() for t in targets):
                log(f"{name}: {', '.join(t.name for t in targets)} already present")
                out.extend(targets)
                continue
        elif final.exists():
            if sha256_file(final) == rf.sha256:
                log(f"{name}: {final.name} already present and verified")
                out.append(final)
                continue
            log(f"{name}: {final.name} present but its sha256 does not match: fetching again")
        part = dest / f"{rf.remote}.part"
        log(f"{name}: downloading {base}{rf.remote}")
        download(base + rf.remote, part, timeout=timeout, log=log)
        try:
            _verify(part, rf, f"{name}/{rf.remote}")
            if rf.gunzip:
                _gunzip_verified(part, final, rf.sha256)
                part.unlink()
            else:
                got = sha256_file(part)
                if got != rf.sha256:
                    raise DataError(f"{name}/{rf.remote}: sha256 {got}, expected {rf.sha256} (download deleted)")
                os.replace(part, final)
        except DataError:
            part.unlink(missing_ok=True)  # a complete but wrong file cannot be resumed into a right one
            raise
        if rf.extract:
            out.extend(_extract_members(final, rf.extract, dest))
            final.unlink()
        else:
            out.append(final)
        log(f"{name}: {rf.local} verified")
    return out

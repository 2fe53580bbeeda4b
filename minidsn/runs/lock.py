"""An exclusive lock on a run folder for the lifetime of a run, a resume or a sweep.

The lock is ``DIR/.lock``, held with ``fcntl.flock`` (POSIX) and holding the holder's PID and host.  The kernel
drops a flock when its process dies in any way (kill -9 included), so a lock file left by a crashed process is
*stale*: the next process takes it over (and says whose it was); a second process while the holder lives gets
RunLockedError naming the holder's PID.  Released on every exit path (context manager, and by the kernel on
death).  Without fcntl (Windows) the file is created exclusively; a stale one must then be deleted by hand (the
message says so).
"""

from __future__ import annotations

import errno
import os
import socket
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

__all__ = ["RunLockedError", "run_folder_lock", "LOCK_NAME", "lock_holder"]

LOCK_NAME = ".lock"


class RunLockedError(RuntimeError):
    """Another live process holds the run folder's lock."""


def lock_holder(lock_path) -> str:
    """The 'pid=... host=...' text a lock file records ('' when unreadable)."""
    try:
        return Path(lock_path).read_text(encoding="ascii", errors="replace").strip()[:200]
    except OSError:
        return ""


def _pid_of(holder: str) -> str:
    for part in holder.split():
        if part.startswith("pid="):
            return part[4:]
    return "unknown"


def _locked_message(folder: Path, holder: str) -> str:
    return (f"run folder {folder} is in use by process {_pid_of(holder)} ({holder or 'no details'}; lock file "
            f"{folder / LOCK_NAME}); wait for it to finish or stop that process, then retry")


def _stamp() -> bytes:
    return f"pid={os.getpid()} host={socket.gethostname()}\n".encode("ascii", "replace")


@contextmanager
def run_folder_lock(folder, on_stale=None):
    """Hold the exclusive lock of ``folder`` (created if missing) inside the ``with`` block.

    ``on_stale(holder_text)`` is called when a lock file left by a dead process is taken over.
    Re-entrant within one process is *not* supported: a run inside a locked sweep locks its own seed folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    if fcntl is None:  # pragma: no cover - Windows
        with _exclusive_file_lock(folder, path, on_stale):
            yield
        return
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise RunLockedError(_locked_message(folder, lock_holder(path))) from None
            raise
        # the holder we raced with may have unlinked the file after we opened it: then lock the new one
        try:
            same = os.stat(path).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        old = os.read(fd, 200).decode("ascii", "replace").strip()
        if old and on_stale is not None:
            on_stale(old)
        os.lseek(fd, 0, os.SEEK_SET)
        os.ftruncate(fd, 0)
        os.write(fd, _stamp())
        yield
    finally:
        try:
            os.unlink(path)  # while still locked: a waiter that opened it re-checks the inode
        except OSError:
            pass
        os.close(fd)


@contextmanager
def _exclusive_file_lock(folder: Path, path: Path, on_stale):  # pragma: no cover - Windows
    """Without flock: the lock file is created exclusively. A file left by a crashed process cannot be told from a
    live holder safely here (os.kill(pid, 0) terminates processes on Windows), so the message says how to clear it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise RunLockedError(_locked_message(folder, lock_holder(path)) + f"; if that process is no longer "
                             f"running, delete {path}") from None
    try:
        os.write(fd, _stamp())
        os.close(fd)
        yield
    finally:
        path.unlink(missing_ok=True)

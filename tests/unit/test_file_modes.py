"""Unit tests for app.platform.file_modes: what the app keeps under instance/ is its owner's alone."""

import os
import stat
from pathlib import Path

from app.platform.file_modes import private_dir, sqlite_files, tighten, write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_tighten_takes_group_and_other_bits_from_an_existing_tree(tmp_path):
    """Files and folders an older version left world-readable become 0600 / 0700; links are left alone."""
    top = tmp_path / "instance"
    (top / "imports" / "uploads").mkdir(parents=True)
    files = [top / "sentinel.db", top / "imports" / "a.xlsx", top / "imports" / "uploads" / "b.bin"]
    for path in files:
        path.write_bytes(b"x")
        path.chmod(0o644)
    for folder in (top, top / "imports", top / "imports" / "uploads"):
        folder.chmod(0o755)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"y")
    outside.chmod(0o644)
    (top / "link").symlink_to(outside)
    assert tighten([top, None, tmp_path / "missing"]) == 6
    assert [mode(p) for p in files] == [0o600] * 3
    assert {mode(top), mode(top / "imports"), mode(top / "imports" / "uploads")} == {0o700}
    assert mode(outside) == 0o644
    assert tighten([top]) == 0  # nothing left to change


def test_private_writes_ignore_a_permissive_umask(tmp_path):
    """Even a process started with umask 000 writes the app's files 0600 in 0700 folders."""
    old = os.umask(0)
    try:
        folder = private_dir(tmp_path / "a" / "b")
        target = folder / "f.bin"
        write_private(target, b"one")
        target.chmod(0o666)
        write_private(target, b"two")
    finally:
        os.umask(old)
    assert (mode(tmp_path / "a"), mode(folder), mode(target)) == (0o700, 0o700, 0o600)
    assert target.read_bytes() == b"two"


def test_sqlite_files_are_the_database_and_its_journals():
    """The SQLite file, -wal and -shm are tightened; PostgreSQL and in-memory databases have none."""
    assert sqlite_files("sqlite:////srv/x/sentinel.db") == [
        Path("/srv/x/sentinel.db"), Path("/srv/x/sentinel.db-wal"), Path("/srv/x/sentinel.db-shm")]
    assert sqlite_files("sqlite://") == sqlite_files("sqlite:///:memory:") == []
    assert sqlite_files("postgresql+psycopg://u@h/db") == []

"""The real processes (``flask db upgrade``, ``flask demo load``, ``python run.py`` and its
children) create the instance folder's files for their owner alone (issue 11, item 7)."""
from __future__ import annotations

import stat

HARNESS = {"server.log"}  # written by the test harness, not the app


def test_the_database_and_secrets_the_processes_create_are_private(live_server):
    """sentinel.db (and its WAL files) and the generated secrets are 0600; no file or folder is open to others."""
    instance = live_server.instance
    created = [instance / name for name in ("sentinel.db", ".secret_key", ".id_hash_key", ".data_key")]
    assert all(path.exists() for path in created), sorted(p.name for p in instance.iterdir())
    assert {stat.S_IMODE(p.stat().st_mode) for p in created} == {0o600}
    opened = {str(p): oct(stat.S_IMODE(p.lstat().st_mode)) for p in instance.rglob("*")
              if p.name not in HARNESS and not p.is_symlink() and p.lstat().st_mode & 0o077}
    assert opened == {}

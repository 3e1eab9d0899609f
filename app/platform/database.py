"""Engine tweaks per backend."""
from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.engine import Engine


def install_sqlite_pragmas(engine: Engine) -> None:
    """SQLite: WAL (readers don't block the writer), foreign keys, a busy timeout, ``bit_count``."""
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - trivial
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        # PostgreSQL's bit_count, for the day bits of the test statistics (stats_tests)
        dbapi_connection.create_function("bit_count", 1, _bit_count, deterministic=True)


def _bit_count(value) -> int:
    return int(value or 0).bit_count()


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"

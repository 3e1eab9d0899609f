"""The database backends (PostgreSQL in production and CI, SQLite as the embedded
default) and the SQL that differs between them.

* :func:`install_sqlite_pragmas` — SQLite's engine tweaks (WAL, foreign keys, …);
* :func:`install_idle_ping` — a pooled PostgreSQL connection is tested before use when
  it has lain idle (a restarted server, a dropped network path);
* :func:`install_lean_descriptions` — psycopg's ``cursor.description`` made only when
  its columns are read (SQLAlchemy mostly only asks whether there is one);
* :func:`dialect`, :func:`is_pg` — which backend a session (or engine) talks to;
* :func:`temp_table`, :func:`stage_rows` — a transaction's temporary table, filled by
  COPY on PostgreSQL and one executemany on SQLite;
* :func:`tune` — more memory for the sorts and hash joins of one bulk transaction;
* :func:`day_sql` — the district calendar day of a stored (naive UTC) timestamp;
* :func:`insert_ignoring_duplicates` — ``INSERT … ON CONFLICT DO NOTHING`` on both.

Nothing here knows what the tables mean: the health package's set-based SQL builds
on these.
"""
from __future__ import annotations

import re
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Iterable

import psycopg
from psycopg.pq import ExecStatus
from sqlalchemy import event, exc, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine

from app.platform.clock import district_tz, tz_name

ANALYZE_FROM = 1000  # staged rows from which a temporary table gets planner statistics
_TZ_NAME = re.compile(r"^[A-Za-z0-9_+\-/]+$")


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
        # PostgreSQL's bit_count, for the day bits of the test statistics (statistics.samplings)
        dbapi_connection.create_function("bit_count", 1, _bit_count, deterministic=True)


def install_idle_ping(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection with ``SELECT 1`` when it is checked out after lying idle
    ``idle_seconds`` or longer; a dead one is replaced before the request uses it
    (SQLAlchemy's pessimistic disconnect handling, as ``pool_pre_ping`` does). A
    connection handed back and taken again within that time is not tested: under load a
    ping on every checkout was one more round trip a request, and a connection that has
    just worked rarely died since (if the server goes away in that moment, the statement
    fails and the pool replaces its connections, as it does for an optimistic pool)."""
    if engine.dialect.name == "sqlite":
        return

    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_connection, record):
        if record is not None:
            record.info["sentinel_idle_from"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_connection, record, _proxy):
        idle_from = record.info.get("sentinel_idle_from")
        if idle_from is not None and time.monotonic() - idle_from < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)  # SELECT 1 outside a transaction, as pool_pre_ping
        except Exception as error:  # the pool retries with a new connection
            raise exc.DisconnectionError(f"pooled connection is dead: {error}") from error


class _ResultShape:
    """What ``psycopg.Column`` reads of a cursor, fixed to one result (``Column(shape, i)``)."""

    __slots__ = ("pgresult", "_encoding", "adapters")

    def __init__(self, pgresult: Any, encoding: str, adapters: Any) -> None:
        self.pgresult, self._encoding, self.adapters = pgresult, encoding, adapters


class _LazyDescription(Sequence):
    """A result's ``description`` whose ``Column`` objects are made on first use — from
    that result, even if the cursor has run another statement since."""

    __slots__ = ("_shape", "_size", "_columns")

    def __init__(self, shape: _ResultShape, size: int) -> None:
        self._shape, self._size, self._columns = shape, size, None

    def _made(self) -> list:
        if self._columns is None:
            self._columns = [psycopg.Column(self._shape, i) for i in range(self._size)]
        return self._columns

    def __len__(self) -> int:
        return self._size

    def __getitem__(self, index):
        return self._made()[index]

    def __iter__(self):
        return iter(self._made())

    def __eq__(self, other: object) -> bool:
        return list(self) == list(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return repr(self._made())


def install_lean_descriptions(engine: Engine) -> None:
    """PostgreSQL (psycopg): ``cursor.description`` is made when its columns are read.
    psycopg makes a ``Column`` per result column on every access — about a third of
    SQLAlchemy's and psycopg's work for a 24-column row — while SQLAlchemy, for a
    statement whose result it knows (every statement built once), only asks whether a
    description exists. Same values, same order, made from the same result."""
    if engine.dialect.name != "postgresql":
        return
    has_tuples = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)

    class LeanCursor(psycopg.Cursor):
        @property
        def description(self):
            res = self.pgresult
            if res and (res.nfields or res.status in has_tuples):
                return _LazyDescription(_ResultShape(res, self._encoding, self.adapters), res.nfields)
            return None

    @event.listens_for(engine, "connect")
    def _lean_cursors(dbapi_connection, _record):
        dbapi_connection.cursor_factory = LeanCursor


def _bit_count(value) -> int:
    return int(value or 0).bit_count()


def dialect(bind) -> str:
    """``"postgresql"`` or ``"sqlite"``: the backend of a session, connection or engine."""
    get_bind = getattr(bind, "get_bind", None)
    return (get_bind() if get_bind is not None else bind).dialect.name


def is_pg(bind) -> bool:
    return dialect(bind) == "postgresql"


def day_sql(session, column: str) -> str:
    """SQL for the district calendar day of a naive-UTC timestamp column.

    PostgreSQL converts with the zone's rules; SQLite adds the zone's current offset
    (exact for zones without daylight saving, such as Asia/Shanghai)."""
    name = tz_name()
    if is_pg(session):
        if not _TZ_NAME.match(name):
            raise ValueError(f"bad TIMEZONE {name!r}")
        return f"CAST(({column} AT TIME ZONE 'UTC') AT TIME ZONE '{name}' AS DATE)"
    offset = district_tz().utcoffset(datetime.utcnow())
    return f"date({column}, '{int(offset.total_seconds() // 60):+d} minutes')"


def temp_table(session, name: str, columns: str) -> None:
    """A fresh temporary table for this transaction (dropped at commit on PostgreSQL)."""
    session.execute(text(f"DROP TABLE IF EXISTS {name}"))
    suffix = " ON COMMIT DROP" if is_pg(session) else ""
    session.execute(text(f"CREATE TEMPORARY TABLE {name} ({columns}){suffix}"))


def stage_rows(session, table: str, columns: str, rows: list[tuple], sqlite_row=None) -> None:
    """A fresh temporary ``table`` (``columns`` as in CREATE TABLE) filled with ``rows``:
    COPY on PostgreSQL (then ANALYZE, so joins against it are planned for its real
    size), one executemany on SQLite (``sqlite_row`` adapts a row first)."""
    temp_table(session, table, columns)
    if not rows:
        return
    names = [c.split()[0] for c in columns.split(", ")]
    if is_pg(session):
        copy_rows(session, table, names, rows)
        if len(rows) >= ANALYZE_FROM:
            session.execute(text(f"ANALYZE {table}"))
    else:
        raw = session.connection().connection.driver_connection
        marks = ", ".join("?" * len(names))
        rows = rows if sqlite_row is None else [sqlite_row(r) for r in rows]
        raw.cursor().executemany(f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})", rows)


def copy_rows(session, table: str, names: list[str], rows: Iterable[tuple]) -> None:
    """``rows`` (values in the order of ``names``) into ``table`` by COPY, in the session's
    transaction (PostgreSQL only: the bulk path of a job writing many rows)."""
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def copy_text(session, table: str, names: list[str], lines: Iterable[str]) -> None:
    """``lines`` already in COPY's text format (tab-separated, ``\\N`` for NULL, newline
    ended) into ``table``: for a job whose rows hold no text needing escapes, several
    times faster than adapting each value (PostgreSQL only)."""
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {table} ({', '.join(names)}) FROM STDIN") as copy:
            batch: list[str] = []
            for line in lines:
                batch.append(line)
                if len(batch) >= 5000:
                    copy.write("".join(batch))
                    batch.clear()
            if batch:
                copy.write("".join(batch))


def tune(session) -> None:
    """Memory for the hash joins and sorts of a bulk step, this transaction only (PostgreSQL)."""
    if is_pg(session):
        session.execute(text("SET LOCAL work_mem = '64MB'"))


def insert_ignoring_duplicates(session, model, index_elements: list[str], index_where=None):
    """An ``INSERT`` into ``model`` that skips a row whose ``index_elements`` (a unique
    key) already exist — also one a concurrent transaction is inserting: PostgreSQL waits
    for it and then skips. ``index_where``: the condition of a partial unique index (the
    index's own WHERE, e.g. ``Model.town_id.is_(None)``). Add ``.values(...)``; the
    result's rowcount says if it inserted."""
    insert = postgresql.insert if is_pg(session) else sqlite.insert
    return insert(model).on_conflict_do_nothing(index_elements=index_elements, index_where=index_where)

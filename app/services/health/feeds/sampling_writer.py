"""Writing a request's sampling rows: cleaned in chunks, staged, merged into ``test_record``.

The rows are cleaned, keyed and de-duplicated chunk by chunk (``SamplingChunks``); each
chunk of new unique rows goes to the writer:

* PostgreSQL (``PgWriter``): a thread of its own sends the chunk with binary ``COPY``
  into a temporary staging table and inserts it into the partitioned ``test_record``
  (plain ``INSERT``, or ``INSERT … ON CONFLICT`` once a chunk meets stored records),
  keeping what it wrote in ``feed_new``, while the request's thread cleans the next
  chunk: Python and the database work at the same time. The thread uses the
  request's own connection and transaction (the request's thread does not touch the
  session meanwhile), so everything still commits or rolls back as one.
* SQLite (``SqliteWriter``): the same statements in turn, in the request's thread.

What the request wrote (``source``) is then folded into the summaries and tallies by
the ingest (``status.summary.fold_samplings``; one hash join with the staff keys).

A repeat in the request that resolves a pending result (or corrects one) is kept aside
and merged after the other chunks; it counts as a duplicate of the request, and the
stored record ends with the resolved result.
"""
from __future__ import annotations

import queue
import sqlite3
import threading
import time
from datetime import datetime
from operator import itemgetter
from typing import Any, Iterable, Iterator, Optional

import psycopg
from sqlalchemy import text

from app.domain import feeds
from app.domain.errors import RuleError
from app.domain.feeds import PENDING
from app.platform import database
from app.services.health.status import sql

CHUNK = 20_000
_ORDER = itemgetter(1)  # sampling time: the primary key's (and the partitions') order
STAGE_COLUMNS = ("identity VARCHAR(32), sampled_at TIMESTAMP, id_key VARCHAR(43), tested_at TIMESTAMP, "
                 "result VARCHAR(8), institution VARCHAR(100)")
COLS = "identity, sampled_at, id_key, tested_at, result, institution"


class SamplingChunks:
    """Iterate over chunks of new unique stage rows ``(identity, sampled_at, id_key,
    tested_at, result, institution)``; afterwards ``errors`` holds ``(row, message)``,
    ``duplicates`` the in-request repeats, ``unique`` the distinct records and ``late``
    the repeats that must replace an earlier row."""
    def __init__(self, rows: Iterable[tuple[int, Any]], tz, now: datetime, key, size: Optional[int] = None):
        self.rows, self.tz, self.now, self.key, self.size = rows, tz, now, key, size or CHUNK
        self.errors: list[tuple[int, str]] = []
        self.duplicates = 0
        self.unique = 0
        self.late: list[tuple] = []

    def __iter__(self) -> Iterator[list[tuple]]:
        fast, clean, identity_of = feeds.test_fields, feeds.clean_test_row, feeds.test_identity
        key, tz, now, row_type = self.key, self.tz, self.now, feeds.SamplingRow
        self.errors, self.duplicates, self.unique, self.late = [], 0, 0, []  # a retry starts afresh
        seen: dict = {}
        out: list[tuple] = []
        errors = self.errors
        for number, raw in self.rows:
            fields = fast(raw, tz, now) if type(raw) is dict else None
            if fields is None:
                row = clean(raw, tz, now)
                if type(row) is not row_type:
                    errors.append((number, str(row.message) if isinstance(row, RuleError) else str(row)))
                    continue
                fields = (row.record_id, row.id_number, row.sampled_at, row.tested_at, row.result, row.institution)
            record_id, id_number, sampled, tested, result, institution = fields
            id_key = key(id_number)
            stage = (identity_of(record_id, id_key, sampled, institution), sampled, id_key, tested, result,
                     institution)
            pk = (sampled, stage[0])
            previous = seen.get(pk)  # the result kept so far for this record
            if previous is None:
                seen[pk] = result
                out.append(stage)
                if len(out) >= self.size:
                    yield out
                    out = []
                continue
            self.duplicates += 1
            if result != PENDING and result != previous:
                seen[pk] = result
                self.late.append(stage)
        if out:
            yield out
        self.unique = len(seen)
        if self.late:  # the last word per record only
            last = {(s[1], s[0]): s for s in self.late}
            self.late = list(last.values())


_STAGE_TYPES = ("varchar", "timestamp", "varchar", "timestamp", "varchar", "varchar")  # binary COPY

_PG_INSERT = "INSERT INTO test_record (" + COLS + ", received_at) SELECT " + COLS + ", %(now)s FROM {stage}"
_PG_MERGE = (
    f"WITH ins AS (INSERT INTO test_record ({COLS}, received_at) SELECT {COLS}, %(now)s FROM {{stage}} "
    "ON CONFLICT (sampled_at, identity) DO UPDATE SET result = EXCLUDED.result, "
    "tested_at = EXCLUDED.tested_at, institution = EXCLUDED.institution "
    "WHERE test_record.result <> EXCLUDED.result AND EXCLUDED.result <> 'pending' "
    f"RETURNING {COLS}, received_at) "
    f"INSERT INTO feed_new SELECT {COLS}, CASE WHEN received_at = %(now)s THEN 1 ELSE 0 END FROM ins"
)
# The late replacements repeat records of this request: whatever they change is an update.
_PG_MERGE_LATE = _PG_MERGE.replace("CASE WHEN received_at = %(now)s THEN 1 ELSE 0 END", "0")


class PgWriter:
    """Stage and merge chunks on PostgreSQL in a thread of its own (see the module).

    Each chunk gets a temporary staging table of its own. New data (the usual case)
    takes a plain ``INSERT`` under a savepoint, about half the database work of
    ``ON CONFLICT`` with ``RETURNING``, and its staging table then stands for what was
    inserted (no copy); the first chunk that meets a stored record (a re-sent batch,
    a resolved result) is rolled back to the savepoint and merged, and so is every
    later chunk of the request, what they wrote going to ``feed_new``. ``source``
    is all of it, for the summaries.
    """

    def __init__(self, session, now: datetime):
        self.now = now
        self.kept: list[str] = []  # staging tables whose rows were all inserted
        self.chunks = 0
        database.temp_table(session, "feed_new", STAGE_COLUMNS + ", inserted SMALLINT")
        self.conn = session.connection().connection.driver_connection
        self.queue: queue.Queue = queue.Queue(maxsize=2)
        self.error: Optional[BaseException] = None
        self.merging = False
        self.thread = threading.Thread(target=self._run, name="feed-writer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while True:
            payload = self.queue.get()
            if payload is None:
                return
            late = type(payload) is tuple  # the late replacements: always merged
            if late:
                payload, self.merging = payload[0], True
            if self.error is not None:
                continue
            try:
                stage = f"feed_stage_{self.chunks}"
                self.chunks += 1
                with self.conn.cursor() as cur:
                    cur.execute(f"CREATE TEMPORARY TABLE {stage} ({STAGE_COLUMNS}) ON COMMIT DROP")
                    with cur.copy(f"COPY {stage} ({COLS}) FROM STDIN (FORMAT BINARY)") as copy:
                        copy.set_types(_STAGE_TYPES)
                        write = copy.write_row
                        for row in payload:
                            write(row)
                    self._chunk(cur, stage, late)
            except BaseException as err:  # reported by close()
                self.error = err

    def _chunk(self, cur, stage: str, late: bool = False) -> None:
        if not self.merging:
            cur.execute("SAVEPOINT feed_chunk")
            try:
                cur.execute(_PG_INSERT.format(stage=stage), {"now": self.now})
            except psycopg.errors.UniqueViolation:
                cur.execute("ROLLBACK TO SAVEPOINT feed_chunk")
                self.merging = True
            else:
                cur.execute("RELEASE SAVEPOINT feed_chunk")
                self.kept.append(stage)
                return
        cur.execute((_PG_MERGE_LATE if late else _PG_MERGE).format(stage=stage), {"now": self.now})

    @property
    def source(self) -> str:
        """Every row this request inserted or updated, as a subquery with ``inserted``."""
        parts = [f"SELECT {COLS}, 1 AS inserted FROM {stage}" for stage in self.kept]
        parts.append(f"SELECT {COLS}, inserted FROM feed_new")
        return "(" + " UNION ALL ".join(parts) + ")"

    def write(self, rows: list[tuple], late: bool = False) -> None:
        if self.error is not None:
            raise self.error
        rows.sort(key=_ORDER)  # index order: fewer pages touched, one lock order
        self.queue.put(rows if not late else (rows, True))

    def close(self) -> None:
        """Wait for the queued chunks; re-raise the thread's error, if any."""
        self.queue.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _sqlite_time(moment: Optional[datetime]) -> Optional[str]:
    """SQLAlchemy's SQLite DateTime text, so keys compare equal to ORM-written rows."""
    return None if moment is None else moment.isoformat(" ", "microseconds")


class SqliteWriter:
    """The same on SQLite, chunk by chunk in the caller's thread: a plain ``INSERT``
    under a savepoint while no stored record is met, else the merge statements."""

    def __init__(self, session, now: datetime):
        self.session, self.now = session, now
        self.merging = False
        self.execute = sql.executor(session, now)
        database.temp_table(session, "feed_stage", STAGE_COLUMNS)
        database.temp_table(session, "feed_new", STAGE_COLUMNS + ", inserted SMALLINT")

    def write(self, rows: list[tuple], late: bool = False) -> None:
        execute = self.execute
        raw = self.session.connection().connection.driver_connection
        cur = raw.cursor()
        cur.executemany("INSERT INTO feed_stage VALUES (?, ?, ?, ?, ?, ?)", [
            (r[0], _sqlite_time(r[1]), r[2], _sqlite_time(r[3]), r[4], r[5]) for r in rows])
        if late:
            self.merging = True
        if not self.merging:
            cur.execute("SAVEPOINT feed_chunk")
            try:
                cur.execute(f"INSERT INTO test_record ({COLS}, received_at) SELECT {COLS}, ? FROM feed_stage",
                            (_sqlite_time(self.now),))
            except sqlite3.IntegrityError:
                cur.execute("ROLLBACK TO feed_chunk")
                cur.execute("RELEASE feed_chunk")
                self.merging = True
            else:
                cur.execute("RELEASE feed_chunk")
                cur.execute(f"INSERT INTO feed_new SELECT {COLS}, 1 FROM feed_stage")
        if self.merging:
            same = "t.sampled_at = s.sampled_at AND t.identity = s.identity"
            execute(f"INSERT INTO feed_new SELECT s.*, 0 FROM feed_stage s JOIN test_record t ON {same} "
                    "WHERE t.result <> s.result AND s.result <> 'pending'")
            execute("UPDATE test_record SET result = s.result, tested_at = s.tested_at, institution = s.institution "
                    "FROM feed_stage s WHERE test_record.sampled_at = s.sampled_at "
                    "AND test_record.identity = s.identity AND test_record.result <> s.result "
                    "AND s.result <> 'pending'")
            execute(f"INSERT INTO feed_new SELECT s.*, 1 FROM feed_stage s WHERE NOT EXISTS "
                    f"(SELECT 1 FROM test_record t WHERE {same})")
            execute(f"INSERT INTO test_record ({COLS}, received_at) SELECT {COLS}, %(now)s FROM feed_stage s "
                    f"WHERE NOT EXISTS (SELECT 1 FROM test_record t WHERE {same})")
        cur.execute("DELETE FROM feed_stage")

    source = "feed_new"

    def close(self) -> None:
        pass


def write_samplings(session, chunks: SamplingChunks, now: datetime,
                    timings: Optional[dict] = None) -> tuple[int, int, str]:
    """Run every chunk (and the late replacements) through the backend's writer in the
    caller's transaction; returns ``(inserted, updated, source)``, ``source`` being what
    was written (a table or subquery with ``inserted``: 1 new, 0 result replaced) for
    the summaries' fold. ``timings``: seconds spent handing chunks over and waiting for
    the database at the end (db_wait)."""
    timings = timings if timings is not None else {}
    writer = PgWriter(session, now) if database.is_pg(session) else SqliteWriter(session, now)
    handing = 0.0  # seconds spent handing chunks over (sorting, waiting for the writer)
    try:
        for rows in chunks:
            started = time.perf_counter()
            writer.write(rows)
            handing += time.perf_counter() - started
        if chunks.late:
            writer.write(chunks.late, late=True)
    finally:
        timings["handing"] = handing
        started = time.perf_counter()
        writer.close()
        timings["db_wait"] = time.perf_counter() - started
    source = writer.source
    if chunks.late:  # a record may appear twice (inserted, then its result replaced)
        counted = f"(SELECT max(inserted) AS ins FROM {source} n GROUP BY sampled_at, identity) x"
    else:
        counted = f"(SELECT inserted AS ins FROM {source} n) x"
    inserted, updated = session.execute(text(
        f"SELECT coalesce(sum(ins), 0), count(*) - coalesce(sum(ins), 0) FROM {counted}")).one()
    return int(inserted), int(updated), source

"""Ingest of the test and vaccination feeds (SPEC §3, §9): one request, one transaction.

A request (JSON array or CSV, up to ``MAX_BATCH`` rows) is refused whole for a
request-level problem (``feeds.BatchError``: malformed, too many rows) — nothing stored.
Otherwise every row is cleaned on its own (``app.domain.feeds``): bad rows are reported
with their row number and reason, good rows are keyed (``Staff``-compatible HMAC, the
plain number is dropped here) and stored once:

* identity = ``feeds.record_identity`` (record_id, else key + sampling time +
  institution); a row whose identity is already stored, or repeated in the request,
  is a *duplicate* and stores nothing;
* except a changed result: a stored test whose result the feed now reports
  differently and not as 待出结果 (待出结果 → 阴性, or a corrected result) is updated in
  place (result, test time, institution) and counted in ``stored`` and ``updated``.
  A later 待出结果 never overwrites a result. Within one request the same applies
  (the resolved result wins, the repeat counts as a duplicate).

Sampling rows (the city feed: up to 100,000 a request) are written by
``sampling_writer``: cleaned chunk by chunk while a writer thread stages the previous
chunk (PostgreSQL: binary ``COPY`` into a temporary table) and inserts it into
``test_record`` (plain ``INSERT`` under a savepoint, ``ON CONFLICT`` merge once stored
records are met); then the ingest folds the rows of registered staff into the
summaries (``status.summary.fold_samplings``). Vaccination rows (fewer) are staged and inserted with
``ON CONFLICT DO NOTHING``; the doses of the staff they touch are recomputed. On
PostgreSQL the daily partitions are created first, in their own short transaction
(``partitions``); rows sampled before the retention window land in the default
partition and go at the next purge. A deadlock between two concurrent requests is
retried (``ATTEMPTS``). The cycle collector is paused while rows are parsed and
cleaned (``bulk``).
"""
from __future__ import annotations

import gc
import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, Optional

import psycopg
from sqlalchemy import DateTime, bindparam, text

from app.domain import feeds
from app.domain.errors import RuleError
from app.domain.feeds import TESTS, VACCINATIONS, BatchError
from app.platform import clock, database
from app.platform.operations import in_operation, transaction
from app.services.health.feeds import keys as health_keys
from app.services.health.feeds import partitions, sampling_writer
from app.services.health.status import summary
from models.health import FeedBatch

log = logging.getLogger(__name__)

__all__ = ["FeedResult", "ingest_rows", "BatchError", "TESTS", "VACCINATIONS"]

ATTEMPTS = 3  # a deadlock between two concurrent requests is retried (the request is one transaction)


@dataclass
class FeedResult:
    kind: str
    received: int = 0
    stored: int = 0
    updated: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    matched: int = 0
    batch_id: Optional[int] = None
    timings: dict = field(default_factory=dict)  # seconds per step, for the log

    def as_dict(self) -> dict:
        """The API answer (SPEC §9): received, stored, duplicates, rejected [{row, error}];
        plus ``updated`` (results replaced, included in stored), ``rejected_count`` and
        ``batch_id``."""
        return {
            "received": self.received, "stored": self.stored, "duplicates": self.duplicates,
            "rejected": [{"row": row, "error": message} for row, message in self.rejected],
            "rejected_count": len(self.rejected), "updated": self.updated, "batch_id": self.batch_id,
        }


@contextmanager
def bulk():
    """Python's cycle collector paused while a request's rows are parsed and cleaned:
    100,000 rows are a few hundred thousand containers, which would set off repeated
    full collections (about a fifth of the CPU time) although none of them is garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# -- parsing and cleaning (pure Python, the hot path) --------------------------------
def parse(kind: str, body: bytes | str, fmt: str) -> list[tuple[int, Any]]:
    """``(row_number, raw)`` of a request body; ``fmt`` "json" or "csv".
    :raise BatchError: the request as a whole is refused."""
    if kind not in (TESTS, VACCINATIONS):
        raise ValueError(kind)
    if fmt == "csv":
        return feeds.parse_csv_rows(body, kind)
    return feeds.parse_json_rows(body)


def _message(err: RuleError) -> str:
    return str(err.message)


def clean_vaccinations(rows: Iterable[tuple[int, Any]], tz, now: datetime, key) -> tuple[dict, list, int]:
    """``({identity: (identity, id_key, dose, vaccinated_at, product, site)}, errors, duplicates)``."""
    clean, identity_of = feeds.clean_vaccination_row, feeds.record_identity
    out: dict = {}
    errors: list = []
    duplicates = 0
    for number, raw in rows:
        row = clean(raw, tz, now)
        if isinstance(row, RuleError):
            errors.append((number, _message(row)))
            continue
        id_key = key(row.id_number)
        identity = identity_of(row, id_key)
        if identity in out:
            duplicates += 1
            continue
        out[identity] = (identity, id_key, row.dose, row.vaccinated_at, row.product, row.site)
    return out, errors, duplicates


# -- writing ------------------------------------------------------------------------
_STAGE_VACCINES = ("identity VARCHAR(32), id_key VARCHAR(43), dose SMALLINT, vaccinated_at DATE, "
                   "product VARCHAR(100), site VARCHAR(100)")


def _now_param(now: datetime):
    return bindparam("now", value=now, type_=DateTime)


def store_vaccinations(session, stage_rows: list[tuple], now: datetime) -> tuple[int, int]:
    """Write staged vaccination rows; returns ``(inserted, matched staff keys)``."""
    if not stage_rows:
        return 0, 0
    database.stage_rows(session, "feed_vstage", _STAGE_VACCINES, stage_rows,
           lambda r: (r[0], r[1], r[2], r[3].isoformat(), r[4], r[5]))  # SQLite: dates as ISO text
    cols = "identity, id_key, dose, vaccinated_at, product, site"
    if database.is_pg(session):
        keys = session.execute(text(
            f"INSERT INTO vaccination_record ({cols}, received_at) SELECT {cols}, :now FROM feed_vstage "
            "ON CONFLICT (identity) DO NOTHING RETURNING id_key").bindparams(_now_param(now))).scalars().all()
    else:
        database.temp_table(session, "feed_vnew", _STAGE_VACCINES)
        session.execute(text(
            "INSERT INTO feed_vnew SELECT s.* FROM feed_vstage s WHERE NOT EXISTS "
            "(SELECT 1 FROM vaccination_record v WHERE v.identity = s.identity)"))
        session.execute(text(
            f"INSERT INTO vaccination_record ({cols}, received_at) SELECT {cols}, :now FROM feed_vnew"
        ).bindparams(_now_param(now)))
        keys = session.execute(text("SELECT id_key FROM feed_vnew")).scalars().all()
    return len(keys), summary.apply_vaccinations(session, keys)


# -- a request ----------------------------------------------------------------------
def ingest_rows(session, kind: str, rows: list[tuple[int, Any]], *, source: str = "api",
                user_id: Optional[int] = None, now: Optional[datetime] = None,
                timings: Optional[dict] = None,
                also: Optional[Callable[[FeedResult], None]] = None) -> FeedResult:
    """Clean, key and store ``rows`` (``(row_number, raw)``) of feed ``kind`` as ONE
    operation (committed once, rolled back whole on any error), with a FeedBatch row.
    ``also(result)`` runs last inside the same transaction (the upload's audit row).

    Called outside an operation, each attempt is its own transaction and a deadlock is
    retried; called inside one, the ingest joins it (and cannot retry)."""
    feeds.check_batch_size(len(rows))
    now = now or datetime.now(timezone.utc)
    utc_now = now.astimezone(timezone.utc).replace(tzinfo=None) if now.tzinfo else now
    tz = clock.district_tz()
    key = health_keys.keyers()[0]
    result = FeedResult(kind=kind, received=len(rows), timings=dict(timings or {}))
    if kind not in (TESTS, VACCINATIONS):
        raise ValueError(kind)
    if kind == TESTS and database.is_pg(session):
        # Before the request's transaction, in a short one of their own (see partitions).
        partitions.ensure_window(session, utc_now)
    for attempt in range(1, ATTEMPTS + 1):
        try:
            with transaction(session):
                _store(session, kind, rows, tz, now, utc_now, key, result, source, user_id)
                if also is not None:
                    also(result)
                started = time.perf_counter()
            result.timings["commit"] = time.perf_counter() - started
            break
        except Exception as err:
            if attempt == ATTEMPTS or in_operation() or not _retryable(err):
                raise
            log.warning("feed %s: %s, retrying (%d)", kind, type(getattr(err, "orig", err)).__name__, attempt)
    log.info("feed %s (%s): received %d, stored %d (updated %d), duplicates %d, rejected %d, staff matched %d; "
             "seconds %s", kind, source, result.received, result.stored, result.updated, result.duplicates,
             len(result.rejected), result.matched, {k: round(v, 3) for k, v in result.timings.items()})
    return result


def _retryable(err: BaseException) -> bool:
    """A deadlock or serialisation failure between two concurrent requests."""
    orig = getattr(err, "orig", err)
    return isinstance(orig, (psycopg.errors.DeadlockDetected, psycopg.errors.SerializationFailure))


def _store(session, kind, rows, tz, now, utc_now, key, result: FeedResult, source, user_id) -> None:
    """One attempt: every row of the request and its FeedBatch, in the caller's transaction."""
    summary.lock(session, shared=True)
    database.tune(session)
    # received_at = utc_now marks this request's rows (PostgreSQL tells inserts from updates by it)
    if kind == TESTS:
        chunks = sampling_writer.SamplingChunks(rows, tz, now, key)
        started = time.perf_counter()
        inserted, updated, written = sampling_writer.write_samplings(session, chunks, utc_now, result.timings)
        result.timings["records"] = time.perf_counter() - started
        started = time.perf_counter()
        result.matched = summary.fold_samplings(session, written, utc_now) if inserted or updated else 0
        result.timings["summaries"] = time.perf_counter() - started
        result.timings["records"] += result.timings["summaries"]
        result.rejected, unique = chunks.errors, chunks.unique
        result.duplicates = chunks.duplicates
    else:
        cleaned, result.rejected, result.duplicates = clean_vaccinations(rows, tz, now, key)
        unique, updated = len(cleaned), 0
        inserted, result.matched = store_vaccinations(session, list(cleaned.values()), utc_now)
    result.stored, result.updated = inserted + updated, updated
    result.duplicates += unique - inserted - updated
    batch = FeedBatch(kind=kind, source=source, user_id=user_id, received=result.received,
                      stored=result.stored, duplicates=result.duplicates, rejected=len(result.rejected),
                      created_at=utc_now)
    session.add(batch)
    session.flush()
    result.batch_id = batch.id

"""Daily partitions of ``test_record`` on PostgreSQL (SPEC §3: the purge drops
partitions instead of deleting rows).

* ``test_record_pYYYYMMDD`` holds the records sampled on that district day: ``FOR VALUES
  FROM (local midnight as naive UTC) TO (next local midnight as naive UTC)``.
* ``test_record_pdefault`` (the DEFAULT partition) receives rows sampled before the
  retention window's first day, for which no partition is made (a feed of old rows
  must not create thousands of tables); the retention purge empties it.
* Partitions are created in their own short autocommit transaction, never inside an
  ingest's transaction: creating one locks the parent table, which must not be held
  for a whole request. The retention job also creates the next days' partitions in
  advance, so ingest normally finds them ready. Concurrent requests that need the same
  new day's partition take turns (an advisory lock): one creates it.

Names start with ``test_record_p``: migrations/env.py leaves them out of the schema
comparison.
"""
from __future__ import annotations

import logging
import re
from datetime import date, datetime, timedelta
from typing import Iterable, Optional

from flask import current_app
from sqlalchemy import text

from app.domain.health import local_date, utc_naive
from app.platform import clock

log = logging.getLogger(__name__)

PREFIX = "test_record_p"
DEFAULT = PREFIX + "default"
AHEAD_DAYS = 2
CREATE_LOCK_ID = 727_402  # pg_advisory_lock key held while partitions are created
_NAME = re.compile(r"^test_record_p(\d{8})$")


def name_of(day: date) -> str:
    return f"{PREFIX}{day:%Y%m%d}"


def day_of(name: str) -> date | None:
    match = _NAME.match(name)
    return datetime.strptime(match.group(1), "%Y%m%d").date() if match else None


def retention_cutoff(now: Optional[datetime] = None) -> datetime:
    """Naive UTC instant before which test records are out of the window."""
    days = int(current_app.config.get("TEST_RETENTION_DAYS", 14))
    return utc_naive(now or datetime.utcnow()) - timedelta(days=days)


def first_kept_day(now: datetime) -> date:
    """The district day holding the retention cutoff: partitions before it are purged,
    partitions from it on are created on demand."""
    return local_date(retention_cutoff(now), clock.district_tz())


def existing(conn) -> set[str]:
    """Names of test_record's partitions."""
    return set(conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'test_record'::regclass")).scalars())


def _create(conn, day: date) -> None:
    start, end = clock.day_bounds_utc(day)
    conn.execute(text(
        f"CREATE TABLE IF NOT EXISTS {name_of(day)} PARTITION OF test_record "
        f"FOR VALUES FROM ('{start:%Y-%m-%d %H:%M:%S}') TO ('{end:%Y-%m-%d %H:%M:%S}')"))


def create(engine, days: Iterable[date]) -> list[str]:
    """Create the partitions of ``days`` (and the default one) that are missing, in an
    autocommit connection of its own. Returns the names created."""
    wanted = {name_of(d): d for d in days}
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        # Never wait forever on the parent's lock (e.g. held by the caller's own session).
        conn.execute(text("SET lock_timeout = '15s'"))
        made = []
        if not set(wanted) | {DEFAULT} <= existing(conn):
            # Concurrent requests needing the same new day: one creates it, the others
            # then find it (CREATE … IF NOT EXISTS alone still races in the catalog).
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": CREATE_LOCK_ID})
            try:
                have = existing(conn)
                if DEFAULT not in have:
                    conn.execute(text(f"CREATE TABLE IF NOT EXISTS {DEFAULT} PARTITION OF test_record DEFAULT"))
                    made.append(DEFAULT)
                for name, day in sorted(wanted.items()):
                    if name not in have:
                        _create(conn, day)
                        made.append(name)
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": CREATE_LOCK_ID})
    if made:
        log.info("test_record partitions created: %s", ", ".join(made))
    return made


def ensure_for(session, sampled_ats: Iterable[datetime], now: datetime) -> list[str]:
    """Partitions for the district days of ``sampled_ats`` that lie within the
    retention window (older rows go to the default partition)."""
    tz = clock.district_tz()
    first = first_kept_day(now)
    days = {local_date(s, tz) for s in sampled_ats}
    return create(session.get_bind(), (d for d in days if d >= first))


def ensure_window(session, now: datetime) -> list[str]:
    """Every partition a test row sampled up to ``now`` (plus clock skew) may need:
    from the retention window's first day to today (usually all there already)."""
    tz = clock.district_tz()
    first, last = first_kept_day(now), local_date(now + timedelta(minutes=10), tz)
    return create(session.get_bind(), (first + timedelta(days=n) for n in range((last - first).days + 1)))


def ensure_ahead(session, now: datetime, ahead: int = AHEAD_DAYS) -> list[str]:
    """Today's and the next ``ahead`` days' partitions (the daily job)."""
    today = local_date(now, clock.district_tz())
    return create(session.get_bind(), (today + timedelta(days=n) for n in range(ahead + 1)))

"""Retention of test records (SPEC §3): purge what was sampled more than
``TEST_RETENTION_DAYS`` (default 14) days ago. Daily job ``health.purge_tests``.

* PostgreSQL: the daily partitions that lie wholly before the cutoff are dropped (no
  row-by-row delete, no bloat). The one partition straddling the cutoff keeps its
  newer rows; its rows older than the cutoff are deleted, which is a few minutes'
  worth because the job runs just after district midnight (00:05). The default
  partition (rows that arrived already older than the window) is emptied the same
  way. The next days' partitions are created in advance.
* SQLite: ``DELETE … WHERE sampled_at < cutoff``.
* Tallies (``SamplingDaily``) of days before the cutoff's day are deleted; summaries
  whose latest sampling is older than the cutoff lose those fields (what a rebuild
  from the remaining records would give), and rows left empty are deleted.

Safe to run twice: a second run finds nothing to drop or delete.
"""
from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Optional

from sqlalchemy import DateTime, Date, bindparam, text

from app.domain.health import utc_naive
from app.platform import database
from app.platform.operations import transaction
from app.services.health.feeds import partitions
from app.services.health.status import summary

log = logging.getLogger(__name__)


def purge(session, now: Optional[datetime] = None) -> dict:
    """Purge test records, tallies and summary fields older than the window, as one
    operation of its own (run it outside another: the next days' partitions are
    created after its commit).

    Returns ``{"cutoff", "records", "partitions_dropped", "tallies", "summaries"}``."""
    now = utc_naive(now or datetime.now(timezone.utc))
    cutoff = partitions.retention_cutoff(now)
    first_day = partitions.first_kept_day(now)
    records, dropped = 0, []
    with transaction(session):
        cutoff_param = bindparam("cutoff", value=cutoff, type_=DateTime)
        if database.is_pg(session):
            session.execute(text("SET LOCAL lock_timeout = '60s'"))
            for name in sorted(partitions.existing(session)):
                day = partitions.day_of(name)
                if day is None or day >= first_day:
                    continue
                records += session.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                session.execute(text(f"DROP TABLE {name}"))
                dropped.append(name)
        records += session.execute(text("DELETE FROM test_record WHERE sampled_at < :cutoff")
                                   .bindparams(cutoff_param)).rowcount or 0
        summary.lock(session, shared=False)
        tallies = session.execute(text("DELETE FROM test_daily WHERE day < :day").bindparams(
            bindparam("day", value=first_day, type_=Date))).rowcount or 0
        summaries = session.execute(text(
            "UPDATE health_summary SET last_sampled_at = NULL, last_tested_at = NULL, last_result = NULL, "
            "last_institution = NULL WHERE last_sampled_at < :cutoff").bindparams(cutoff_param)).rowcount or 0
        session.execute(text("DELETE FROM health_summary WHERE last_sampled_at IS NULL AND max_dose = 0"))
    if database.is_pg(session):
        partitions.ensure_ahead(session, now)
    result = {"cutoff": cutoff.isoformat(), "records": records, "partitions_dropped": dropped,
              "tallies": tallies, "summaries": summaries}
    log.info("test records purged: %s", result)
    return result

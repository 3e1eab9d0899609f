"""Health data jobs: retention purge (daily), summary rebuild, staff re-keying.

Each takes no personal data and is safe to run twice (see the services they call).
"""
from __future__ import annotations

from app.platform.extensions import db
from app.platform.operations import transaction
from app.platform.queue import set_progress
from app.services.health.feeds.keys import ensure_current, fingerprints, rekey
from app.services.health.feeds.retention import purge
from app.services.health.status.summary import rebuild, refresh_new_staff
from jobs.context import with_app_context
from jobs.maintenance import audited_purge

# The purge's entity in the audit log: its name before the model became SamplingRecord,
# kept so that the log reads the same before and after.
AUDIT_ENTITY = "TestRecord"


def purge_tests() -> dict:
    """Daily: drop/delete test records older than TEST_RETENTION_DAYS (and their tallies);
    one audit row ``purge`` / ``TestRecord`` with the records deleted."""
    result = purge(db.session)
    detail = (f"cutoff={result['cutoff']}; partitions_dropped={len(result['partitions_dropped'])}; "
              f"tallies={result['tallies']}; summaries={result['summaries']}")
    return audited_purge(AUDIT_ENTITY, result, rows_key="records", detail=detail)


def rebuild_summaries() -> dict:
    """Recompute every staff key's summary and daily tallies from the records."""
    return rebuild(db.session)


def check_keys() -> dict:
    """Recompute staff ID keys if they were made with another ID_HASH_KEY (else nothing)."""
    return ensure_current(db.session) or {"stale": False, "fingerprint": fingerprints()["current"]}


@with_app_context
def rekey_job() -> dict:
    """RQ job: recompute every staff member's ID keys (after a secret change), then the
    summaries; progress 0–100."""
    return rekey(db.session, progress=set_progress)


@with_app_context
def match_new_staff(enterprise_id: int, after_id: int) -> dict:
    """RQ job, queued by a large staff import: health summaries of the people it added
    (staff of ``enterprise_id`` above ``after_id`` that have records but no summary)."""
    with transaction():
        matched = refresh_new_staff(db.session, int(enterprise_id), int(after_id))
    return {"matched": matched}


@with_app_context
def rebuild_job() -> dict:
    """RQ job: ``rebuild_summaries`` with progress."""
    return rebuild(db.session, progress=set_progress)

"""Background jobs whose worker died: found through RQ's own bookkeeping, closed with a
message the user can act on.

A running job's entry in RQ's ``StartedJobRegistry`` is renewed by its worker's
heartbeat (jobs/worker.py: every 10 s, for 30 s). When the worker is killed the entry
expires and RQ's ``StartedJobRegistry.cleanup()`` moves the job to the
``FailedJobRegistry`` (``AbandonedJobError``). A job's own code writes its outcome into
its ``JobRecord`` before RQ hears of it (app/queue.with_app_context), so a record still
``queued``/``started`` whose RQ job failed, was stopped, or is gone from Redis altogether
was interrupted: it becomes ``failed`` with 任务中断，请重新导入 (an import) or
任务中断，请重新运行 (any other job). What the job wrote is all-or-nothing as before
(an import is one transaction, rolled back with the dead connection).

Who runs the check: the scheduled job ``maintenance.reap_jobs`` every minute (so a dead
worker is noticed within 30 s + one minute), and ``job_status`` whenever the jobs API
reads an unfinished record (so the import page knows at once).
"""
from __future__ import annotations

import logging
from typing import Iterable, Optional

from flask import current_app
from flask_babel import force_locale
from rq.job import Job
from rq.registry import StartedJobRegistry
from sqlalchemy import select, update

from app.domain.i18n import _
from models.jobs import FAILED, QUEUED, STARTED, JobRecord
from models.mixins import utcnow

log = logging.getLogger(__name__)

UNFINISHED = (QUEUED, STARTED)
ENDED_IN_RQ = frozenset({"failed", "stopped", "canceled"})
# enqueue() commits the record before the job reaches Redis: a record younger than this
# whose job is not in Redis may still be on its way.
GONE_GRACE_SECONDS = 120

MSG_IMPORT = _("任务中断，请重新导入")
MSG_OTHER = _("任务中断，请重新运行")


def interrupted(rq_status: Optional[str], age_seconds: float) -> bool:
    """Whether an unfinished record's job can no longer finish.

    ``rq_status``: the RQ job's status, None when Redis no longer has the job.
    ``age_seconds``: since the record was created."""
    if rq_status is None:
        return age_seconds > GONE_GRACE_SECONDS
    return rq_status in ENDED_IN_RQ


def message_for(kind: str):
    """What the user is told about an interrupted job of ``kind`` (lazy string)."""
    return MSG_IMPORT if kind.endswith("_import") else MSG_OTHER


def reap(session, queue) -> dict:
    """Close every unfinished record whose job was interrupted; ``{"interrupted": n}``."""
    StartedJobRegistry(queue=queue).cleanup()  # RQ's own: expired entries → failed
    records = session.execute(select(JobRecord).where(JobRecord.status.in_(UNFINISHED))).scalars().all()
    closed = _close_interrupted(session, queue.connection, records)
    if closed:
        log.warning("background jobs interrupted (worker gone): %s", ", ".join(closed))
    return {"interrupted": len(closed)}


def reap_one(session, queue, record: JobRecord) -> bool:
    """``reap`` for one unfinished record; True when it was closed as interrupted."""
    StartedJobRegistry(queue=queue).cleanup()
    return bool(_close_interrupted(session, queue.connection, [record]))


def _close_interrupted(session, connection, records: Iterable[JobRecord]) -> list[str]:
    records = list(records)
    if not records:
        return []
    jobs = Job.fetch_many([r.id for r in records], connection=connection)
    now = utcnow()
    closed = []
    for record, job in zip(records, jobs):
        status = None if job is None else _status_text(job)
        if not interrupted(status, (now - record.created_at).total_seconds()):
            continue
        with force_locale(current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")):  # as a job's own errors
            error = str(message_for(record.kind))
        done = session.execute(
            update(JobRecord)
            .where(JobRecord.id == record.id, JobRecord.status.in_(UNFINISHED))  # the job may just have ended
            .values(status=FAILED, finished_at=now, result={"error": error})
        )
        if done.rowcount:
            closed.append(record.id)
    if closed:
        session.commit()
    return closed


def _status_text(job: Job) -> str:
    status = job.get_status(refresh=False)
    return str(getattr(status, "value", status) or "")

"""Housekeeping jobs. Every purge leaves one audit row (action ``purge``, the entity, the
rows or files deleted, no user)."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from app.notify.attachments import purge_expired
from app.platform import audit
from app.platform.extensions import db
from app.platform.operations import operation
from app.platform.job_reaper import reap
from app.platform.queue import get_queue
from app.services.imports.files import purge_old
from models.jobs import JobRecord
from models.mixins import utcnow


@operation
def purge_finished_jobs(days: int = 30) -> dict:
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(
        delete(JobRecord).where(JobRecord.finished_at.is_not(None), JobRecord.finished_at < cutoff)
    )
    deleted = result.rowcount or 0
    audit.record("purge", "JobRecord", rows=deleted, detail=f"finished before {cutoff:%Y-%m-%d %H:%M} UTC")
    return {"deleted": deleted}


def purge_import_files() -> dict:
    """Uploads kept for import jobs and failure workbooks older than IMPORT_FILE_HOURS."""
    return audited_purge("ImportFile", purge_old())


def purge_attachments() -> dict:
    """Message attachments whose download links have expired (app.notify.attachments)."""
    return audited_purge("Attachment", purge_expired())


@operation
def audited_purge(entity: str, result: dict, rows_key: str = "deleted", detail: str | None = None) -> dict:
    """Write the audit row of a purge that returned ``result`` (``result[rows_key]`` rows)."""
    audit.record("purge", entity, rows=int(result.get(rows_key) or 0), detail=detail)
    return result


def reap_jobs() -> dict:
    """Every minute: background jobs whose worker died become 失败 with a message
    (app/platform/job_reaper.py)."""
    return reap(db.session, get_queue())

"""Housekeeping jobs."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from app.notify.attachments import purge_expired
from app.platform.extensions import db
from app.services.imports.files import purge_old
from models.jobs import JobRecord
from models.mixins import utcnow


def purge_finished_jobs(days: int = 30) -> dict:
    cutoff = utcnow() - timedelta(days=days)
    result = db.session.execute(
        delete(JobRecord).where(JobRecord.finished_at.is_not(None), JobRecord.finished_at < cutoff)
    )
    db.session.commit()
    return {"deleted": result.rowcount or 0}


def purge_import_files() -> dict:
    """Uploads kept for import jobs and failure workbooks older than IMPORT_FILE_HOURS."""
    return purge_old()


def purge_attachments() -> dict:
    """Message attachments whose download links have expired (app.notify.attachments)."""
    return purge_expired()

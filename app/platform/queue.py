"""Background jobs on RQ: enqueue by dotted path with ids only, one ``JobRecord`` per job.

* :func:`enqueue` — ``enqueue("jobs.x.run", 12, job_kind="staff_import", user_id=7)``
  writes a ``JobRecord`` (who started it, params = the ids) keyed by the RQ job id,
  commits, then queues the job. Jobs carry ids, never personal data or ``g.user``.
* :func:`with_app_context` — decorator for job functions: runs them inside an app
  context (the worker builds the app once per process with ``create_app()``) and keeps
  the ``JobRecord`` status/result up to date.
* :func:`set_progress` — progress 0–100 from inside a job (``job.meta``; also the
  ``JobRecord`` on PostgreSQL, see there).
* :func:`job_status` — what ``GET /api/v1/jobs/<id>`` answers, only for the user who
  started the job or a district admin.

Workers: ``rq worker -w rq.worker.SimpleWorker`` (app/platform/supervisor.py, Procfile). A
simple worker keeps the app built once; a forking worker would rebuild it per job.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import uuid
from typing import Any, Callable, Optional

from flask import Flask, current_app, has_app_context
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import update

from app.platform.extensions import db
from app.platform.kv import get_redis
from models.jobs import JobRecord
from models.mixins import utcnow

log = logging.getLogger(__name__)

QUEUED, STARTED, FINISHED, FAILED = "queued", "started", "finished", "failed"
DEFAULT_JOB_TIMEOUT = 3600

_worker_app: Optional[Flask] = None
_worker_pid: Optional[int] = None


def get_queue() -> Queue:
    """The app's RQ queue (``QUEUE_NAME`` on ``REDIS_URL``)."""
    return Queue(current_app.config["QUEUE_NAME"], connection=get_redis())


def enqueue(
    func_path: str,
    *ids: Any,
    job_kind: Optional[str] = None,
    user_id: Optional[int] = None,
    record: bool = True,
    ttl: Optional[int] = None,
) -> str:
    """Queue ``func_path(*ids)`` and return the job id.

    With ``record`` (default) a ``JobRecord`` is written and the session COMMITTED
    before the job is queued, so the worker always finds it. ``ids`` must be ints or
    strings. ``ttl``: seconds the job may wait in the queue before RQ drops it.
    """
    if not all(isinstance(i, (int, str)) and not isinstance(i, bool) for i in ids):
        raise TypeError("jobs take ids (int or str) only")
    job_id = uuid.uuid4().hex
    if record:
        db.session.add(JobRecord(id=job_id, kind=(job_kind or func_path)[:64], user_id=user_id,
                                 status=QUEUED, progress=0, params={"ids": list(ids)}))
        db.session.commit()
    try:
        get_queue().enqueue(
            func_path, *ids, job_id=job_id, ttl=ttl, meta={"record": record},
            job_timeout=int(current_app.config.get("JOB_TIMEOUT", DEFAULT_JOB_TIMEOUT)),
        )
    except Exception:
        if record:
            _update_record(job_id, status=FAILED, finished_at=utcnow())
        raise
    return job_id


def worker_app() -> Flask:
    """The current app if there is one (tests, ``flask jobs run``), else the worker's own."""
    global _worker_app, _worker_pid
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None or _worker_pid != os.getpid():
        from app import create_app

        _worker_app, _worker_pid = create_app(), os.getpid()
    return _worker_app


def with_app_context(func: Callable) -> Callable:
    """Run a job function in a fresh app context (own DB session) and track its JobRecord."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with worker_app().app_context():
            job = get_current_job()
            tracked = job is not None and bool(job.meta.get("record"))
            if tracked:
                _update_record(job.id, status=STARTED)
            try:
                result = func(*args, **kwargs)
            except Exception as err:
                db.session.rollback()
                if tracked:
                    _update_record(job.id, status=FAILED, finished_at=utcnow(), result={"error": _error_text(err)})
                raise
            if tracked:
                _update_record(job.id, status=FINISHED, progress=100, finished_at=utcnow(), result=_jsonable(result))
            return result

    return wrapper


def set_progress(pct: int) -> None:
    """Report progress (0–100) of the running job.

    Always in ``job.meta`` (what the jobs API reads while the job runs). On
    PostgreSQL also in the ``JobRecord``, through its own connection so the job's own
    transaction is neither committed nor blocked; SQLite has a single writer, so there
    the record gets its progress when the job ends.
    """
    pct = max(0, min(100, int(pct)))
    job = get_current_job()
    if job is None:
        return
    job.meta["progress"] = pct
    job.save_meta()
    if job.meta.get("record") and db.engine.dialect.name != "sqlite":
        with db.engine.begin() as conn:
            conn.execute(update(JobRecord).where(JobRecord.id == job.id).values(progress=pct))


def job_status(job_id: str, user) -> Optional[dict[str, Any]]:
    """``{"status", "progress", "result"}`` of a job the user started (any job for a
    district admin); None when it does not exist or belongs to someone else."""
    from app.security import roles as R

    record = db.session.get(JobRecord, job_id) if len(job_id) <= 64 else None
    if record is None or user is None:
        return None
    is_admin = R.DISTRICT_ADMIN in {r.name for r in (user.roles or [])}
    if record.user_id != user.id and not is_admin:
        return None
    status, progress, result = record.status, record.progress, record.result
    if status in (QUEUED, STARTED):
        status, progress = _live_status(job_id, status, progress)
    return {"status": status, "progress": progress, "result": result}


def _live_status(job_id: str, status: str, progress: int) -> tuple[str, int]:
    """Refine an unfinished record from RQ: live progress, or a job RQ gave up on."""
    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return status, progress
    rq_status = str(getattr(job.get_status(), "value", job.get_status()) or "")
    if rq_status in ("failed", "stopped", "canceled"):
        return FAILED, progress
    return status, max(progress, int(job.meta.get("progress") or 0))


def _update_record(job_id: str, **values: Any) -> None:
    db.session.execute(update(JobRecord).where(JobRecord.id == job_id).values(**values))
    db.session.commit()


def _jsonable(value: Any) -> Optional[dict[str, Any]]:
    if value is None:
        return None
    value = json.loads(json.dumps(value, default=str, ensure_ascii=False))
    return value if isinstance(value, dict) else {"value": value}


def _error_text(err: Exception) -> str:
    """A message safe to show the user: a service's own message, else a generic one."""
    from flask_babel import gettext

    from app.domain.errors import ServiceError

    if isinstance(err, ServiceError):
        return str(err.message)
    return gettext("任务执行失败，请稍后重试或联系管理员")

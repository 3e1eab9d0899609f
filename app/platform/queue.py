"""Background jobs on RQ: enqueue by dotted path with ids only, one ``JobRecord`` per job.

* :func:`enqueue` — ``enqueue("jobs.x.run", 12, job_kind="staff_import", user_id=7)``
  writes a ``JobRecord`` (who started it, params = the ids) keyed by the RQ job id,
  commits, then queues the job. Jobs carry ids, never personal data or ``g.user``.
* :func:`record_started` / :func:`record_finished` / :func:`record_failed` — keep the
  ``JobRecord`` of the running job up to date (jobs/context.py calls them around
  every job).
* :func:`set_progress` — progress 0–100 from inside a job (``job.meta``; also the
  ``JobRecord`` on PostgreSQL, see there).
* :func:`job_status` — the status of a job id, for anyone: whether the caller may read
  it is decided in app/security/ownership.py. A job whose worker died reads ``failed``
  with a message (app/platform/job_reaper.py).

The worker's entry that builds the app and runs a job inside it is jobs/context.py
(``with_app_context``): this module never builds the app.

Workers: ``rq worker -w jobs.worker.SentinelWorker`` (app/platform/supervisor.py, Procfile),
a simple worker that heartbeats while a job runs and recycles itself when big. A simple
worker keeps the app built once; a forking worker would rebuild it per job.
"""
from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any, Optional

from flask import current_app
from rq import Queue, get_current_job
from rq.exceptions import NoSuchJobError
from rq.job import Job
from sqlalchemy import update

from app.platform.database import dialect
from app.platform.extensions import db
from app.platform.kv import get_redis
from app.platform.job_reaper import reap_one
from models.jobs import FAILED, FINISHED, QUEUED, STARTED, JobRecord  # noqa: F401  (statuses re-exported)
from models.mixins import utcnow

DEFAULT_JOB_TIMEOUT = 3600


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


def record_started(job_id: str) -> None:
    _update_record(job_id, status=STARTED)


def record_finished(job_id: str, result: Any) -> None:
    """The job returned ``result`` (stored as JSON: a dict, else ``{"value": result}``)."""
    _update_record(job_id, status=FINISHED, progress=100, finished_at=utcnow(), result=_jsonable(result))


def record_failed(job_id: str, message: str) -> None:
    """The job raised; ``message`` is what its owner reads."""
    _update_record(job_id, status=FAILED, finished_at=utcnow(), result={"error": message})


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
    if job.meta.get("record") and dialect(db.engine) != "sqlite":
        with db.engine.begin() as conn:
            conn.execute(update(JobRecord).where(JobRecord.id == job.id).values(progress=pct))


@dataclass(frozen=True)
class JobStatus:
    """A job's state: ``owner_id`` started it; :meth:`as_dict` is what its reader sees."""

    owner_id: Optional[int]
    status: str
    progress: int
    result: Optional[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "progress": self.progress, "result": self.result}


def job_status(job_id: str) -> Optional[JobStatus]:
    """The status of job ``job_id`` (None when there is no such job), refined from RQ
    while it is unfinished. Says nothing about who may read it."""
    record = db.session.get(JobRecord, job_id) if isinstance(job_id, str) and len(job_id) <= 64 else None
    if record is None:
        return None
    if record.status in (QUEUED, STARTED) and reap_one(db.session, get_queue(), record):
        db.session.refresh(record)  # its worker is gone: now failed, with the message
    status, progress = record.status, record.progress
    if status in (QUEUED, STARTED):
        progress = _live_progress(job_id, progress)
    return JobStatus(record.user_id, status, progress, record.result)


def _live_progress(job_id: str, progress: int) -> int:
    """An unfinished job's progress as it reports it (``job.meta``) while it runs."""
    try:
        job = Job.fetch(job_id, connection=get_redis())
    except NoSuchJobError:
        return progress
    return max(progress, int(job.meta.get("progress") or 0))


def _update_record(job_id: str, **values: Any) -> None:
    db.session.execute(update(JobRecord).where(JobRecord.id == job_id).values(**values))
    db.session.commit()


def _jsonable(value: Any) -> Optional[dict[str, Any]]:
    if value is None:
        return None
    value = json.loads(json.dumps(value, default=str, ensure_ascii=False))
    return value if isinstance(value, dict) else {"value": value}

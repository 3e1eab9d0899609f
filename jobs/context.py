"""The worker's own entry: every RQ job function runs inside an app built here.

:func:`with_app_context` wraps a job function: it runs it in a fresh app context (its
own DB session) of the current app (tests, ``flask jobs run``) or of the app this
worker process built once with ``create_app()``, and keeps the job's ``JobRecord``
status and result up to date (app/platform/queue.py). Only jobs import this module:
nothing below the factory builds the app.
"""
from __future__ import annotations

import functools
import os
from typing import Callable, Optional

from flask import Flask, current_app, has_app_context
from flask_babel import gettext
from rq import get_current_job

from app import create_app
from app.domain.errors import ServiceError
from app.platform import queue
from app.platform.extensions import db

_worker_app: Optional[Flask] = None
_worker_pid: Optional[int] = None


def worker_app() -> Flask:
    """The current app if there is one (tests, ``flask jobs run``), else the worker's own."""
    global _worker_app, _worker_pid
    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None or _worker_pid != os.getpid():
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
                queue.record_started(job.id)
            try:
                result = func(*args, **kwargs)
            except Exception as err:
                db.session.rollback()
                if tracked:
                    queue.record_failed(job.id, _error_text(err))
                raise
            if tracked:
                queue.record_finished(job.id, result)
            return result

    return wrapper


def _error_text(err: Exception) -> str:
    """A message safe to show the user: a service's own message, else a generic one."""
    if isinstance(err, ServiceError):
        return str(err.message)
    return gettext("任务执行失败，请稍后重试或联系管理员")

"""``rq cron jobs/cron_config.py``: every scheduled job of jobs/registry.py on its crontab.

Each registry crontab is in district local time (``TIMEZONE``); rq cron runs in UTC,
so jobs/crontab.py shifts it. Every entry enqueues ``jobs.runner.run_scheduled(name)``
on the app's queue; the worker runs it inside the app context.
"""
from __future__ import annotations

from rq import cron

from config import Config
from jobs.crontab import to_utc, utc_offset_minutes
from jobs.registry import JOBS
from jobs.runner import run_scheduled

_config = Config()
_offset = utc_offset_minutes(_config.TIMEZONE)

for _job in JOBS.values():
    if not _job.cron:
        continue
    for _expr in to_utc(_job.cron, _offset):
        cron.register(
            run_scheduled,
            queue_name=_config.QUEUE_NAME,
            args=(_job.name,),
            cron=_expr,
            name=_job.name,
            job_timeout=3600,
            result_ttl=3600,
            ttl=3600,  # a run no worker picked up within an hour is dropped (the next one comes)
        )

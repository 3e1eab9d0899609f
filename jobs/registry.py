"""Every scheduled job by name: what ``flask --app run jobs list`` shows and
``jobs run NAME`` runs now, and what ``jobs/cron_config.py`` hands to ``rq cron``.

A job takes ids (never personal data) and is safe to run twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    func: Callable[[], object]
    cron: Optional[str]  # crontab in district local time, None = on demand only
    description: str


def _dispatch_outbox():
    from jobs.notify import dispatch_due

    return dispatch_due()


def _purge_jobs():
    from jobs.maintenance import purge_finished_jobs

    return purge_finished_jobs()


JOBS: dict[str, ScheduledJob] = {
    job.name: job
    for job in (
        ScheduledJob("notify.dispatch", _dispatch_outbox, "* * * * *", "发送待发消息（含失败重试）"),
        ScheduledJob("maintenance.purge_jobs", _purge_jobs, "30 3 * * *", "清理30天前的后台任务记录"),
    )
}

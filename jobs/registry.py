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


def _redact_messages():
    from jobs.notify import redact_due

    return redact_due()


def _purge_jobs():
    from jobs.maintenance import purge_finished_jobs

    return purge_finished_jobs()


def _reap_jobs():
    from jobs.maintenance import reap_jobs

    return reap_jobs()


def _purge_import_files():
    from jobs.maintenance import purge_import_files

    return purge_import_files()


def _purge_attachments():
    from jobs.maintenance import purge_attachments

    return purge_attachments()


def _stats_warm():
    from jobs.stats import warm

    return warm()


def _health(name: str):
    def run():
        import jobs.health

        return getattr(jobs.health, name)()

    return run


JOBS: dict[str, ScheduledJob] = {
    job.name: job
    for job in (
        ScheduledJob("notify.dispatch", _dispatch_outbox, "* * * * *", "发送待发消息（含失败重试）"),
        ScheduledJob("notify.redact", _redact_messages, "* * * * *", "隐去已发送或已过期的登录验证码短信内容"),
        ScheduledJob("maintenance.reap_jobs", _reap_jobs, "* * * * *", "将工作进程已中断的后台任务标记为失败"),
        ScheduledJob("maintenance.purge_jobs", _purge_jobs, "30 3 * * *", "清理30天前的后台任务记录"),
        ScheduledJob("maintenance.purge_import_files", _purge_import_files, "40 3 * * *",
                     "清理过期的导入文件和导入失败明细"),
        ScheduledJob("maintenance.purge_attachments", _purge_attachments, "45 3 * * *",
                     "清理链接已过期的消息附件"),
        ScheduledJob("health.purge_tests", _health("purge_tests"), "5 0 * * *",
                     "清理超过保留期限（默认14天）的核酸检测记录"),
        ScheduledJob("health.rebuild_summaries", _health("rebuild_summaries"), "30 4 * * 0",
                     "按检测和接种记录重建人员健康汇总和每日统计"),
        ScheduledJob("stats.warm", _stats_warm, "* * * * *", "预先计算核酸检测统计（近7天）和疫苗接种统计"),
        ScheduledJob("health.check_keys", _health("check_keys"), "50 3 * * *",
                     "证件号码密钥变更后重新计算人员匹配密钥"),
    )
}

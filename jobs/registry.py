"""Every scheduled job by name: what ``flask --app run jobs list`` shows and
``jobs run NAME`` runs now, and what ``jobs/cron_config.py`` hands to ``rq cron``.

A job takes ids (never personal data) and is safe to run twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

from jobs import checkpoint, health
from jobs.maintenance import purge_attachments, purge_finished_jobs, purge_import_files, reap_jobs
from jobs import rules
from jobs.notify import dispatch_due, redact_due
from jobs.stats import warm


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    func: Callable[[], object]
    cron: Optional[str]  # crontab in district local time, None = on demand only
    description: str


JOBS: dict[str, ScheduledJob] = {
    job.name: job
    for job in (
        ScheduledJob("notify.dispatch", dispatch_due, "* * * * *", "发送待发消息（含失败重试）"),
        ScheduledJob("notify.redact", redact_due, "* * * * *", "隐去已发送或已过期的登录验证码短信内容"),
        ScheduledJob("maintenance.reap_jobs", reap_jobs, "* * * * *", "将工作进程已中断的后台任务标记为失败"),
        ScheduledJob("maintenance.purge_jobs", purge_finished_jobs, "30 3 * * *", "清理30天前的后台任务记录"),
        ScheduledJob("maintenance.purge_import_files", purge_import_files, "40 3 * * *",
                     "清理过期的导入文件和导入失败明细"),
        ScheduledJob("maintenance.purge_attachments", purge_attachments, "45 3 * * *",
                     "清理链接已过期的消息附件"),
        ScheduledJob("health.purge_tests", health.purge_tests, "5 0 * * *",
                     "清理超过保留期限（默认14天）的核酸检测记录"),
        ScheduledJob("health.rebuild_summaries", health.rebuild_summaries, "30 4 * * 0",
                     "按检测和接种记录重建人员健康汇总和每日统计"),
        ScheduledJob("stats.warm", warm, "* * * * *", "预先计算核酸检测统计（近7天）和疫苗接种统计"),
        ScheduledJob("rules.evaluate", rules.evaluate, None, "按核酸检测规则核查今日每位哨点人员（立即执行）"),
        ScheduledJob("rules.alerts", rules.alerts, None, "推送今日未按规定检测告警（立即执行；已推送的不再重复）"),
        ScheduledJob("rules.summary", rules.summary, None, "向哨点监测专班推送今日各类人员核酸检测统计（立即执行）"),
        ScheduledJob("rules.schedule", rules.schedule, "* * * * *",
                     "按告警设置的核查时间（默认01:00）和推送时间（默认09:00）执行核查、告警和专班统计"),
        ScheduledJob("checkpoint.summary", checkpoint.summary, "0 12,18 * * *",
                     "向专班推送卡口通行汇总（12:00、18:00，每个时段一次）"),
        ScheduledJob("health.check_keys", health.check_keys, "50 3 * * *",
                     "证件号码密钥变更后重新计算人员匹配密钥"),
    )
}

"""What the per-minute schedule (``rules.schedule``) runs: each setting's check once its
check time (district time) has come today, its alerts once its alert time has, and the
task-force summary at ``RULES_SUMMARY_TIME`` — each once per day (``RuleRun``), so the
times an admin sets in 告警设置 take effect without touching the crontab. A run that
died half-way has no ``RuleRun`` row and is finished by the next minute's."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from flask import current_app

from app.domain import testing_rules as TR
from app.platform.clock import local_now
from app.services.rules import alerts
from app.services.rules.evaluate import EVALUATE, active_settings, evaluate_setting
from app.services.rules.runs import SUMMARY_SETTING, find_run


def run_due(session, now: Optional[datetime] = None) -> dict:
    """Run whatever is due now; ``{"evaluated", "alerted", "summary"}`` (what ran)."""
    local = local_now(now)
    day, hhmm = local.date(), local.strftime("%H:%M")
    done = {"evaluated": [], "alerted": [], "summary": False}
    settings = active_settings(session)
    for setting in settings:
        sid, check_time, alert_time = setting.id, setting.check_time, setting.alert_time
        if hhmm >= check_time and find_run(session, day, EVALUATE, sid) is None:
            evaluate_setting(session, sid, day)
            done["evaluated"].append(sid)
        if hhmm >= alert_time and find_run(session, day, alerts.ALERTS, sid) is None:
            alerts.alert_setting(session, sid, day)
            done["alerted"].append(sid)
    summary_time = TR.clean_time(current_app.config.get("RULES_SUMMARY_TIME", "09:00"), "time", "RULES_SUMMARY_TIME")
    if settings and hhmm >= summary_time and find_run(session, day, alerts.SUMMARY, SUMMARY_SETTING) is None:
        alerts.send_summary(session, day)
        done["summary"] = True
    return done

"""Testing-rule jobs (SPEC §4, §9): the nightly check, the 9 o'clock alerts, the
task-force summary, and the per-minute schedule that runs each when its setting's time
(district time, set in 告警设置) has come. Each is safe to run twice: results are
replaced, messages stored once per day, setting and recipient."""
from __future__ import annotations

from app.platform.extensions import db
from app.services.rules import alerts as alerting
from app.services.rules import evaluate as evaluation
from app.services.rules import schedule as scheduling


def evaluate() -> dict:
    """``rules.evaluate``: check every active setting for today (district time) now."""
    return evaluation.evaluate(db.session)


def alerts() -> dict:
    """``rules.alerts``: today's alerts of every active setting now (the check first where
    it has not run); recipients already served today are not served again."""
    return alerting.send_alerts(db.session)


def summary() -> dict:
    """``rules.summary``: today's task-force summary now (once per day and recipient)."""
    return alerting.send_summary(db.session)


def schedule() -> dict:
    """``rules.schedule`` (every minute): the checks, alerts and summary whose time has come."""
    return scheduling.run_due(db.session)

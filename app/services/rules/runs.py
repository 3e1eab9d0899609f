"""What ran for a day and setting (``RuleRun``): the check, the alerts, the summary."""
from __future__ import annotations

from datetime import date
from typing import Optional

from sqlalchemy import select

from app.platform.database import insert_ignoring_duplicates
from models.mixins import utcnow
from models.rules import RuleRun

SUMMARY_SETTING = 0  # the task-force summary belongs to no setting


def find_run(session, day: date, kind: str, setting_id: int) -> Optional[RuleRun]:
    return session.execute(select(RuleRun).where(RuleRun.day == day, RuleRun.kind == kind,
                                                 RuleRun.setting_id == setting_id)).scalar_one_or_none()


def record_run(session, day: date, kind: str, setting_id: int, **counts: int) -> RuleRun:
    """Create or update the run of ``(day, kind, setting)`` with ``counts`` (in the caller's
    transaction; two callers at once store it once)."""
    session.execute(insert_ignoring_duplicates(session, RuleRun, ["day", "kind", "setting_id"]).values(
        day=day, kind=kind, setting_id=setting_id, people=0, broken=0, messages=0, edition=1,
        finished_at=utcnow()))
    run = find_run(session, day, kind, setting_id)
    session.refresh(run)
    for key, value in counts.items():
        setattr(run, key, value)
    run.finished_at = utcnow()
    session.flush()
    return run

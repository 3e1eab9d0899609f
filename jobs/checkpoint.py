"""Checkpoint jobs (SPEC §5, §9): ``checkpoint.summary``, the task force's summary of the
checkpoint decisions at 12:00 and 18:00 district time (safe to run twice: one summary
per period)."""
from __future__ import annotations

from app.platform.extensions import db
from app.services.drivers.summary import send_summary


def summary() -> dict:
    """``checkpoint.summary``: the period ending at the latest 12:00 / 18:00 slot, once."""
    return send_summary(db.session)

"""Testing-rule jobs (SPEC §4, §9): the nightly check, the 9 o'clock alerts, the
task-force summary, and the per-minute schedule that runs each when its setting's time
has come. Each is safe to run twice: results are replaced, messages stored once per
day, setting and recipient."""
from __future__ import annotations

from app.platform.extensions import db
from app.services.rules import evaluate as evaluation


def evaluate() -> dict:
    """``rules.evaluate``: check every active setting for today (district time) now."""
    return evaluation.evaluate(db.session)

"""Notification jobs: deliver one message (queued by ``send_message``), the
per-minute sweep that sends due retries and anything a job missed, and the
per-minute redaction of login codes past their lifetime."""
from __future__ import annotations

import logging

from app.notify.dispatch import deliver
from app.notify.dispatch import dispatch_due as sweep
from app.notify.retention import redact_due as redact
from jobs.context import with_app_context

log = logging.getLogger(__name__)


@with_app_context
def deliver_one(message_id: int) -> dict:
    """RQ job: deliver message ``message_id`` if it is still due (safe to run twice)."""
    return {"message_id": message_id, "outcome": deliver(message_id)}


@with_app_context
def deliver_each(*message_ids: int) -> dict:
    """RQ job: deliver each of the messages one transaction stored, each if still due
    (safe to run twice). One that fails to go out stays queued for the sweep; the
    others go on."""
    outcomes = {}
    for message_id in message_ids:
        try:
            outcomes[message_id] = deliver(message_id)
        except Exception:  # noqa: BLE001 - the sweep (dispatch_due) retries it
            log.exception("message %s: delivery failed, left to the sweep", message_id)
            outcomes[message_id] = "error"
    return {"message_ids": list(message_ids), "outcomes": outcomes}


def dispatch_due() -> dict:
    """Deliver every due message; runs inside an app context (cron runner or CLI)."""
    return sweep()


def redact_due() -> dict:
    """Redact the stored text of sensitive messages whose ``redact_at`` has passed."""
    return redact()

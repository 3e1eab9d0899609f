"""Sensitive messages (SMS login codes) are not kept readable at rest.

A sensitive message's stored body and subject are redacted
(``app.domain.redaction.redact_secret``: 您的登录验证码为******，5分钟内有效。):

* as soon as a real channel (``sms-http``, ``webhook``) delivered it or gave up
  (app/notify/dispatch.py calls :func:`redact`);
* at the latest at its ``redact_at`` — the secret's lifetime after it was stored. With
  the ``outbox`` channel the outbox *is* the delivery, so this is how long the district
  admin can read a demo login code. :func:`redact_due` (job ``notify.redact``, every
  minute) rewrites the rows; every read goes through ``Message.shown_body``, which hides
  the code from ``redact_at`` on whether the job has run or not.

A redacted message has ``redact_at`` NULL. Nothing here logs a body or a recipient.
"""
from __future__ import annotations

import logging

from sqlalchemy import select

from app.domain.redaction import redact_secret
from app.platform.extensions import db
from app.platform.operations import transaction
from models.mixins import utcnow
from models.notify import Message

log = logging.getLogger(__name__)

BATCH = 500


def redact(message: Message) -> None:
    """Redact ``message``'s stored text now (in the current transaction)."""
    message.body = redact_secret(message.body)
    message.subject = redact_secret(message.subject)
    message.redact_at = None


def redact_due(limit: int = BATCH) -> dict[str, int]:
    """Redact every message whose ``redact_at`` has passed, ``limit`` rows per commit;
    safe to run twice or concurrently (a row redacted twice reads the same)."""
    redacted = 0
    while True:
        with transaction():
            rows = db.session.execute(
                select(Message).where(Message.redact_at <= utcnow()).order_by(Message.redact_at).limit(limit)
            ).scalars().all()
            for message in rows:
                redact(message)
        redacted += len(rows)
        if len(rows) < limit:
            break
    if redacted:
        log.info("redacted %s sensitive message(s)", redacted)
    return {"redacted": redacted}

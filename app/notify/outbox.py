"""Storing messages. Delivery lives in app/notify/dispatch.py and jobs/notify.py."""
from __future__ import annotations

from typing import Optional

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from models.notify import STATUS_QUEUED, Message
from models.mixins import utcnow


def send_message(
    *,
    kind: str,
    recipient: str,
    body: str,
    idempotency_key: str,
    subject: Optional[str] = None,
    sensitive: bool = False,
    attachment_path: Optional[str] = None,
    attachment_name: Optional[str] = None,
    channel: Optional[str] = None,
) -> Message:
    """Store a message once per ``idempotency_key`` (a second call returns the first).

    Commits. The message is then delivered by the dispatch job; never call a gateway
    from a request.
    """
    existing = db.session.execute(select(Message).where(Message.idempotency_key == idempotency_key)).scalar_one_or_none()
    if existing is not None:
        return existing
    message = Message(
        channel=channel or current_app.config["NOTIFY_CHANNEL"],
        kind=kind,
        recipient=recipient,
        subject=subject,
        body=body,
        idempotency_key=idempotency_key,
        sensitive=sensitive,
        attachment_path=attachment_path,
        attachment_name=attachment_name,
        status=STATUS_QUEUED,
        next_attempt_at=utcnow(),
    )
    db.session.add(message)
    try:
        db.session.commit()
    except IntegrityError:  # a concurrent call stored it first
        db.session.rollback()
        return db.session.execute(select(Message).where(Message.idempotency_key == idempotency_key)).scalar_one()
    return message

"""Storing messages. Delivery lives in app/notify/dispatch.py and jobs/notify.py."""
from __future__ import annotations

import logging
from typing import Optional

from flask import current_app
from redis import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.platform.extensions import db
from app.platform.queue import enqueue
from models.notify import STATUS_QUEUED, Message
from models.mixins import utcnow

log = logging.getLogger(__name__)


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

    Commits, then hands the message's id to the queue (``jobs.notify.deliver_one``);
    if Redis is unreachable the cron sweep (``notify.dispatch``) delivers it later.
    Never call a gateway from a request.
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
    _enqueue_delivery(message.id)
    return message


def _enqueue_delivery(message_id: int) -> None:
    try:
        enqueue("jobs.notify.deliver_one", message_id, record=False, ttl=86400)
    except RedisError:
        log.warning("message %s stored; queue unreachable, the dispatch sweep will send it", message_id)

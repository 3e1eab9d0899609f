"""Storing messages. Delivery lives in app/notify/dispatch.py and jobs/notify.py."""
from __future__ import annotations

import logging
from datetime import timedelta
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

SECRET_LIFETIME = timedelta(minutes=5)  # of a sensitive message's secret, unless the sender says


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
    valid_for: timedelta = SECRET_LIFETIME,
) -> Message:
    """Store a message once per ``idempotency_key`` (a second call returns the first).

    A ``sensitive`` message carries a secret good for ``valid_for`` (a login code's
    lifetime): a real channel delivers it within that time or gives up, and its stored
    text is redacted once the channel delivered it or gave up, at the latest when
    ``valid_for`` has passed — with the ``outbox`` channel, that is how long an admin
    can read it (app/notify/retention.py).

    Commits, then hands the message's id to the queue (``jobs.notify.deliver_one``);
    if Redis is unreachable the cron sweep (``notify.dispatch``) delivers it later.
    Never call a gateway from a request.
    """
    existing = db.session.execute(select(Message).where(Message.idempotency_key == idempotency_key)).scalar_one_or_none()
    if existing is not None:
        return existing
    now = utcnow()
    message = Message(
        channel=channel or current_app.config["NOTIFY_CHANNEL"],
        kind=kind,
        recipient=recipient,
        subject=subject,
        body=body,
        idempotency_key=idempotency_key,
        sensitive=sensitive,
        redact_at=now + valid_for if sensitive else None,
        attachment_path=attachment_path,
        attachment_name=attachment_name,
        status=STATUS_QUEUED,
        next_attempt_at=now,
        created_at=now,
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

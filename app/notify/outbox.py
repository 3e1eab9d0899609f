"""Storing messages. Delivery lives in app/notify/dispatch.py and jobs/notify.py."""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Optional

from flask import current_app
from redis import RedisError
from sqlalchemy import bindparam, select

from app.platform.database import dialect, insert_ignoring_duplicates
from app.platform.extensions import db
from app.platform.operations import after_commit_gather
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
) -> int:
    """Store a message once per ``idempotency_key`` and return its id (a second call
    returns the first's), in the caller's transaction (the caller's operation commits it).

    A ``sensitive`` message carries a secret good for ``valid_for`` (a login code's
    lifetime): a real channel delivers it within that time or gives up, and its stored
    text is redacted once the channel delivered it or gave up, at the latest when
    ``valid_for`` has passed — with the ``outbox`` channel, that is how long an admin
    can read it (app/notify/retention.py).

    Once the transaction commits, the message's id is handed to the queue
    (``jobs.notify.deliver_one``; the messages of one transaction go in one job,
    ``jobs.notify.deliver_each``); if Redis is unreachable, or the transaction never
    commits, nothing is queued, and the cron sweep (``notify.dispatch``) delivers what
    was stored. Never call a gateway from a request. Two transactions storing the same
    key at once store it once (``INSERT … ON CONFLICT DO NOTHING``).
    """
    session = db.session
    now = utcnow()
    values = dict(
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
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    # RETURNING the id: one round trip when it is new; the stored one is looked up only
    # when the key was served before (the INSERT skipped it and returned nothing)
    connection = session.connection()
    message_id = connection.execute(_insert(session), values).scalar_one_or_none()
    if message_id is None:
        return connection.execute(_STORED, {"key": idempotency_key}).scalar_one()
    after_commit_gather(_enqueue_delivery, message_id, session)
    return message_id


_INSERTS: dict[str, Any] = {}
_STORED = select(Message.id).where(Message.idempotency_key == bindparam("key"))


def _insert(session) -> Any:
    """The message INSERT of the session's backend, built once (the values are bound at
    execution): building and keying a statement costs more than running it."""
    name = dialect(session)
    if name not in _INSERTS:
        _INSERTS[name] = insert_ignoring_duplicates(session, Message, ["idempotency_key"]).returning(Message.id)
    return _INSERTS[name]


def _enqueue_delivery(message_ids: list[int]) -> None:
    """One job for the messages a transaction stored (a decision's three messages: one
    job, not three): ``deliver_one`` for one, ``deliver_each`` for more."""
    try:
        if len(message_ids) == 1:
            enqueue("jobs.notify.deliver_one", message_ids[0], record=False, ttl=86400)
        else:
            enqueue("jobs.notify.deliver_each", *message_ids, record=False, ttl=86400)
    except RedisError:
        log.warning("messages %s stored; queue unreachable, the dispatch sweep will send them", message_ids)

"""Delivering stored messages: claim, send through the channel, record, retry.

A message is claimed with one conditional UPDATE (``status='queued' AND
next_attempt_at <= now``) that also counts the attempt and pushes
``next_attempt_at`` a lease ahead. Only one worker's UPDATE matches, so two workers
(or a job enqueued twice, or the cron sweep racing a job) never send one message
twice. A worker that dies mid-send leaves the message queued; it becomes due again
when the lease runs out.

Failures are retried with exponential backoff (:func:`next_delay`) until
``NOTIFY_MAX_ATTEMPTS``, then the message is ``failed``; a permanent one (a robot URL
that leads into this machine's network) fails the message at once. Logs name message ids only:
never a body (login codes) or a recipient.

A sensitive message (a login code) is only sent while its secret is alive (before its
``redact_at``; later it fails as 已过期，未发送), and a real channel's copy is redacted
as soon as it was sent or given up (app/notify/retention.py).
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Optional

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from app.notify import attachments, retention
from app.notify.channels import DeliveryError, get_channel
from app.platform.extensions import db
from app.platform.operations import operation
from models.mixins import utcnow
from models.notify import STATUS_FAILED, STATUS_QUEUED, STATUS_SENT, Message

log = logging.getLogger(__name__)

RETRY_BASE_SECONDS = 60
RETRY_CAP_SECONDS = 3600
LEASE_SECONDS = 300  # must outlast one send (NOTIFY_TIMEOUT) by far

SENT, RETRY, FAILED, SKIPPED = "sent", "retry", "failed", "skipped"


def next_delay(attempts: int, base: int = RETRY_BASE_SECONDS, cap: int = RETRY_CAP_SECONDS) -> int:
    """Seconds to wait after the ``attempts``-th failed attempt: base·2^(n−1), at most ``cap``."""
    if attempts < 1:
        return 0
    return int(min(cap, base * 2 ** min(attempts - 1, 32)))


def _due_clause(now):
    return or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now)


@operation
def claim(message_id: int) -> bool:
    """Take the message for one delivery attempt (committed at once, its own operation);
    False if it is not due or someone else has it."""
    now = utcnow()
    result = db.session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status == STATUS_QUEUED, _due_clause(now))
        .values(attempts=Message.attempts + 1, next_attempt_at=now + timedelta(seconds=LEASE_SECONDS))
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _attachment_link(message: Message) -> Optional[str]:
    if not message.attachment_path or message.channel == "outbox":
        return None
    return attachments.link(message.attachment_path, message.attachment_name)


def deliver(message_id: int) -> str:
    """Deliver one message if it is due: ``sent``, ``retry`` (failed, will retry),
    ``failed`` (gave up) or ``skipped`` (not due, already done, or taken by another worker)."""
    if not claim(message_id):
        return SKIPPED
    return _attempt(message_id)


@operation
def _attempt(message_id: int) -> str:
    """One delivery attempt of a claimed message and its outcome, in one transaction."""
    message = db.session.get(Message, message_id, populate_existing=True)
    if message is None:  # deleted between claim and read
        return SKIPPED
    config = current_app.config
    if message.hides_text():  # a login code past its lifetime: nothing worth sending
        retention.redact(message)
        return _record_failure(message, _("已过期，未发送"), max_attempts=0)
    try:
        channel = get_channel(message.channel)
        channel(message, config, _attachment_link(message))
    except DeliveryError as err:
        max_attempts = 0 if err.permanent else int(config.get("NOTIFY_MAX_ATTEMPTS", 5))
        return _record_failure(message, str(err)[:500], max_attempts)
    message.status = STATUS_SENT
    message.sent_at = utcnow()
    message.last_error = None
    message.next_attempt_at = None
    _forget_delivered_secret(message)
    log.info("message %s sent via %s (attempt %s)", message.id, message.channel, message.attempts)
    return SENT


def _forget_delivered_secret(message: Message) -> None:
    """A real channel has the message (or gave up): its stored secret goes. The outbox
    channel keeps it readable until ``redact_at`` (the outbox is its delivery)."""
    if message.sensitive and message.channel != "outbox":
        retention.redact(message)


def _record_failure(message: Message, error: str, max_attempts: int) -> str:
    message.last_error = error
    if message.attempts >= max_attempts:
        message.status = STATUS_FAILED
        message.next_attempt_at = None
        _forget_delivered_secret(message)
        outcome = FAILED
    else:
        base = int(current_app.config.get("NOTIFY_RETRY_BASE_SECONDS", RETRY_BASE_SECONDS))
        message.next_attempt_at = utcnow() + timedelta(seconds=next_delay(message.attempts, base=base))
        outcome = RETRY
    log.warning("message %s via %s failed (attempt %s/%s): %s", message.id, message.channel,
                message.attempts, max_attempts, error if not message.sensitive else "-")
    return outcome


@operation
def due_ids(limit: int = 500) -> list[int]:
    """Ids of queued messages whose (next) attempt is due, oldest first (the read's
    transaction ends before the sends)."""
    now = utcnow()
    rows = db.session.execute(
        select(Message.id)
        .where(Message.status == STATUS_QUEUED, _due_clause(now))
        .order_by(Message.next_attempt_at, Message.id)
        .limit(limit)
    ).scalars().all()
    return list(rows)


def dispatch_due(limit: int = 500) -> dict[str, int]:
    """Deliver every due message (retries and anything a job missed); safe to run twice."""
    counts = {SENT: 0, RETRY: 0, FAILED: 0, SKIPPED: 0}
    for message_id in due_ids(limit):
        counts[deliver(message_id)] += 1
    return counts

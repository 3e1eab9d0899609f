"""Notifications as every module sends them: a templated message, addressed to platform
users, the users who may see a row (the inverse scope), phone numbers or messenger
webhooks, stored in the outbox once per event and recipient.

    REJECTED = MessageTemplate("resume.rejected", _("您的复工申请未通过审核：%(reason)s"))
    notify(REJECTED, to_phones([row.head_phone]), {"reason": reason}, key=f"resume:{row.id}:reject")

* :class:`MessageTemplate` — the text (a Chinese msgid with ``%(name)s`` places),
  rendered when the message is stored, in the district's language.
* :class:`Recipient` — ``user`` (the in-app inbox, and an SMS when ``sms=True`` and the
  user has a phone), ``phone`` (SMS), ``webhook`` (a messenger group's robot URL).
  :func:`to_users`, :func:`to_phones`, :func:`to_webhooks`, :func:`to_audience` build them.
* :func:`notify` — one outbox message per recipient, idempotent by
  ``<key>:<recipient>``: a job run twice, two workers, a retried request store (and so
  send) each event once per recipient.

Which channel carries a kind (SMS gateway, messenger webhook, or the outbox only) is the
outbox's decision (``app.notify.outbox``), so a fresh install sends nothing off the
machine.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Mapping, Optional

from flask import current_app
from flask_babel import gettext

from app.notify.outbox import send_message

USER, PHONE, WEBHOOK = "user", "phone", "webhook"
KIND_OF = {USER: "inbox", PHONE: "sms", WEBHOOK: "messenger"}


@dataclass(frozen=True)
class MessageTemplate:
    """A message's text with ``%(name)s`` places; ``subject`` optional."""

    key: str
    body: Any
    subject: Any = None

    def render(self, context: Mapping[str, Any]) -> tuple[Optional[str], str]:
        body = _format(self.body, context)
        subject = _format(self.subject, context) if self.subject is not None else None
        return subject, body


def _format(text: Any, context: Mapping[str, Any]) -> str:
    """A lazy msgid (or plain text) translated, then filled in."""
    raw = getattr(text, "_args", None)
    msgid = raw[0] if raw else str(text)
    return gettext(msgid, **dict(context)) if context else gettext(msgid)


@dataclass(frozen=True, order=True)
class Recipient:
    kind: str  # USER | PHONE | WEBHOOK
    address: str  # user id, phone number or URL

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.address}"

    def key(self, event: str) -> str:
        """The outbox idempotency key of this recipient for ``event`` (at most 200 chars)."""
        digest = hashlib.sha256(self.label.encode()).hexdigest()[:24]
        return f"{event[:170]}:{digest}"


def to_users(user_ids: Iterable[int]) -> list[Recipient]:
    return [Recipient(USER, str(int(u))) for u in sorted(set(user_ids))]


def to_phones(phones: Iterable[str]) -> list[Recipient]:
    return [Recipient(PHONE, p) for p in sorted({p for p in phones if p})]


def to_webhooks(urls: Iterable[str]) -> list[Recipient]:
    return [Recipient(WEBHOOK, u) for u in sorted({u for u in urls if u})]


def to_audience(audience: Any) -> list[Recipient]:
    """The users and phones of an ``app.security.scope.Audience``."""
    return to_users(audience.user_ids) + to_phones(audience.phones)


def channel_for(kind: str) -> str:
    """The channel of a message kind: the outbox alone while ``NOTIFY_CHANNEL`` is
    ``outbox`` (a fresh install) and for the in-app inbox; else a messenger message goes
    to its group's robot (``webhook``) and an SMS to the gateway (``sms-http`` when
    ``NOTIFY_SMS_URL`` is set, else ``NOTIFY_CHANNEL``)."""
    config = current_app.config
    configured = config["NOTIFY_CHANNEL"]
    if configured == "outbox" or kind == KIND_OF[USER]:
        return "outbox"
    if kind == KIND_OF[WEBHOOK]:
        return "webhook"
    return "sms-http" if config.get("NOTIFY_SMS_URL") else configured


def notify(template: MessageTemplate, recipients: Iterable[Recipient], context: Mapping[str, Any], *,
           key: str, attachment_path: Optional[str] = None, attachment_name: Optional[str] = None,
           sensitive: bool = False) -> list[int]:
    """Store ``template`` rendered with ``context`` once for each recipient; returns the
    messages' ids (a recipient already served for ``key`` gets the stored one's)."""
    subject, body = template.render(context)
    out = []
    for recipient in sorted(set(recipients)):
        kind = KIND_OF[recipient.kind]
        out.append(send_message(
            kind=kind, recipient=recipient.address if recipient.kind != USER else recipient.label,
            body=body, subject=subject, idempotency_key=recipient.key(key), channel=channel_for(kind),
            sensitive=sensitive, attachment_path=attachment_path, attachment_name=attachment_name,
        ))
    return out

"""Notification outbox: every message any module sends, with its delivery status.

A *sensitive* message (an SMS login code) is redacted at rest once it has done its
work (app/notify/retention.py): its ``redact_at`` says when; every read of its text
goes through :meth:`Message.shown_body` / :meth:`Message.shown_subject`, which hide
the code from that moment on even if the redaction job has not run yet.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.domain.redaction import redact_secret
from models.mixins import utcnow

STATUS_QUEUED = "queued"
STATUS_SENT = "sent"
STATUS_FAILED = "failed"


class Message(Model):
    __tablename__ = "message"
    __table_args__ = (Index("ix_message_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), nullable=False)  # outbox|webhook|sms-http
    kind: Mapped[str] = mapped_column(String(32), nullable=False, default="sms")  # sms|messenger|inbox
    recipient: Mapped[str] = mapped_column(String(200), nullable=False)
    subject: Mapped[Optional[str]] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    attachment_path: Mapped[Optional[str]] = mapped_column(String(500))
    attachment_name: Mapped[Optional[str]] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=STATUS_QUEUED)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[Optional[datetime]] = mapped_column(DateTime)
    last_error: Mapped[Optional[str]] = mapped_column(String(500))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True, nullable=False)
    # True for messages carrying a secret (SMS login codes): shown to admins only in
    # the outbox view, never logged, redacted at rest (``redact_at``).
    sensitive: Mapped[bool] = mapped_column(default=False, nullable=False)
    # When the stored text of a sensitive message is due to be redacted (UTC); NULL once
    # it has been (or for a message with nothing to hide).
    redact_at: Mapped[Optional[datetime]] = mapped_column(DateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    sent_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

    def hides_text(self, now: Optional[datetime] = None) -> bool:
        """Whether the stored text must be shown redacted: a sensitive message whose
        ``redact_at`` has passed, or that has been redacted already."""
        if not self.sensitive:
            return False
        return self.redact_at is None or self.redact_at <= (now or utcnow())

    def shown_body(self) -> str:
        """The body as anyone may read it now (the code hidden once due)."""
        return redact_secret(self.body) if self.hides_text() else self.body

    def shown_subject(self) -> Optional[str]:
        return redact_secret(self.subject) if self.hides_text() else self.subject

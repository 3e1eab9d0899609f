"""Security events: refused or throttled access (failed logins, lockouts, refused SMS
codes, out-of-scope and permission refusals), kept apart from the data audit.

A table of its own rather than rows of ``audit_log``: an event has fields of its own
(the kind, the route and method, the account an attempt named), the audit log takes a
row on every audited read and stays untouched, and neither list floods the other.
Never a personal value: see ``app.platform.security_events``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.mixins import utcnow


class SecurityEvent(Model):
    __tablename__ = "security_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    # the signed-in user, if any
    user_id: Mapped[Optional[int]] = mapped_column(Integer)
    username: Mapped[Optional[str]] = mapped_column(String(128), index=True)
    # what a login or SMS attempt named: an existing account's name, else masked
    account: Mapped[Optional[str]] = mapped_column(String(128), index=True)
    ip: Mapped[Optional[str]] = mapped_column(String(64))
    method: Mapped[Optional[str]] = mapped_column(String(8))
    route: Mapped[Optional[str]] = mapped_column(String(200))
    # scope and permission refusals: the model or resource, and the id tried
    entity: Mapped[Optional[str]] = mapped_column(String(64))
    entity_id: Mapped[Optional[str]] = mapped_column(String(64))
    detail: Mapped[Optional[str]] = mapped_column(String(200))

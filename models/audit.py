"""Audit log: every change with before/after, every read of a person, every export."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.mixins import JSONType, utcnow


class AuditLog(Model):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False, index=True)
    user_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    username: Mapped[Optional[str]] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(32), nullable=False)  # create|update|delete|view|export|login…
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[Optional[str]] = mapped_column(String(64))
    rows: Mapped[Optional[int]] = mapped_column(Integer)
    detail: Mapped[Optional[str]] = mapped_column(String(500))
    before: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    after: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    ip: Mapped[Optional[str]] = mapped_column(String(64))

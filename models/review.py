"""Review steps: every decision a declared workflow (app/domain/workflow.py) took on a
row — who, when, from which state to which, and the reason."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.mixins import utcnow


class ReviewStep(Model):
    __tablename__ = "review_step"
    __table_args__ = (Index("ix_review_step_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    workflow: Mapped[str] = mapped_column(String(64), nullable=False)
    entity: Mapped[str] = mapped_column(String(64), nullable=False)
    entity_id: Mapped[int] = mapped_column(Integer, nullable=False)
    action: Mapped[str] = mapped_column(String(32), nullable=False)
    from_state: Mapped[str] = mapped_column(String(32), nullable=False)
    to_state: Mapped[str] = mapped_column(String(32), nullable=False)
    user_id: Mapped[Optional[int]] = mapped_column(Integer)
    username: Mapped[Optional[str]] = mapped_column(String(128))
    reason: Mapped[Optional[str]] = mapped_column(String(500))
    at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)

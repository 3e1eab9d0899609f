"""One row per background job, keyed by the RQ job id: who started it, progress, result."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from models.mixins import JSONType, utcnow


QUEUED, STARTED, FINISHED, FAILED = "queued", "started", "finished", "failed"


class JobRecord(Model):
    __tablename__ = "job_record"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the RQ job id
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    user_id: Mapped[Optional[int]] = mapped_column(Integer, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="queued")
    progress: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    params: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    result: Mapped[Optional[dict[str, Any]]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, nullable=False)
    finished_at: Mapped[Optional[datetime]] = mapped_column(DateTime)

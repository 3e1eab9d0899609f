"""Enterprise types (主体类型) as declarative data: no code, no migration per type.

``spec`` holds the declaration read by ``app.domain.enterprise_types``:
staff categories, worker kinds, residence types and extra fields for the
enterprise and for its staff.
"""
from __future__ import annotations

from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.mixins import JSONType, TimestampMixin
from models.organisations import Bureau


class EnterpriseType(TimestampMixin, Model):
    __tablename__ = "enterprise_type"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    bureau_id: Mapped[Optional[int]] = mapped_column(ForeignKey("bureau.id"), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)

    bureau: Mapped[Optional[Bureau]] = relationship()

    def __repr__(self) -> str:
        return self.name

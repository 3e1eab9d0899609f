"""Enterprises (主体). The head phone is the head's login."""
from __future__ import annotations

from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.enterprise_types import EnterpriseType
from models.mixins import JSONType, TimestampMixin
from models.regions import Grid, Town


class Enterprise(TimestampMixin, Model):
    __tablename__ = "enterprise"
    __table_args__ = (
        Index("ix_enterprise_town_type", "town_id", "type_id"),
        Index("ix_enterprise_type", "type_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    type_id: Mapped[int] = mapped_column(ForeignKey("enterprise_type.id"), nullable=False)
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), nullable=False)
    grid_id: Mapped[Optional[int]] = mapped_column(ForeignKey("grid.id"))
    address: Mapped[str] = mapped_column(String(300), nullable=False)
    head_name: Mapped[str] = mapped_column(String(64), nullable=False)
    head_phone: Mapped[str] = mapped_column(String(20), nullable=False, index=True)
    credit_code: Mapped[Optional[str]] = mapped_column(String(18))
    extras: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)

    type: Mapped[EnterpriseType] = relationship(lazy="joined")
    town: Mapped[Town] = relationship(lazy="joined")
    grid: Mapped[Optional[Grid]] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return self.name

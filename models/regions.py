"""District → towns/streets (镇街) → grids (网格). The district itself is configuration."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship


class Town(Model):
    __tablename__ = "town"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    sort_order: Mapped[int] = mapped_column(Integer, default=0, nullable=False)

    grids: Mapped[list["Grid"]] = relationship(back_populates="town", order_by="Grid.name")

    def __repr__(self) -> str:
        return self.name


class Grid(Model):
    __tablename__ = "grid"
    __table_args__ = (UniqueConstraint("town_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    town_id: Mapped[int] = mapped_column(ForeignKey("town.id"), nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(64), nullable=False)

    town: Mapped[Optional[Town]] = relationship(back_populates="grids")

    def __repr__(self) -> str:
        return self.name

"""Vaccine products (疫苗产品): dose counts and intervals as data the district admin edits.

Read by the statistics through ``app.services.health.feeds.vaccine_products.products`` as
``app.domain.vaccines.Product`` values; shipped defaults come from
``data/vaccine_products.json`` (inserted when missing, never overwritten).
"""
from __future__ import annotations

from typing import Optional

from flask_appbuilder import Model
from sqlalchemy import Boolean, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from models.mixins import TimestampMixin


class VaccineProduct(TimestampMixin, Model):
    __tablename__ = "vaccine_product"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True, nullable=False)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    maker: Mapped[Optional[str]] = mapped_column(String(64))
    # Other names a feed may use, one per line (or separated by commas / 、).
    aliases: Mapped[Optional[str]] = mapped_column(Text)
    primary_doses: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=2)
    primary_interval_days: Mapped[Optional[int]] = mapped_column(Integer)
    booster_doses: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=1)
    booster_interval_days: Mapped[Optional[int]] = mapped_column(Integer)
    # The product assumed for records whose product is blank or unknown (at most one).
    is_default: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

    def __repr__(self) -> str:
        return f"{self.name}（{self.maker}）" if self.maker else self.name

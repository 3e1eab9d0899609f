"""Sentinel staff (工作人员/哨点人员): one person per ID number per enterprise.

The ID number and the phone are stored sealed (``models.sealed``: AES-GCM under
``DATA_KEY``); Python sees plain text. They are found by their keyed hashes under
``ID_HASH_KEY`` (``id_key``, ``phone_key``: app/services/health/feeds/keys.py sets them on
every write), and "one person per ID number per enterprise" is the unique
``(enterprise_id, id_key)``.
"""
from __future__ import annotations

from typing import Any, Optional

from flask_appbuilder import Model
from sqlalchemy import ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.enterprises import Enterprise
from models.mixins import JSONType, TimestampMixin
from models.sealed import Sealed


class Staff(TimestampMixin, Model):
    __tablename__ = "staff"
    __table_args__ = (
        UniqueConstraint("enterprise_id", "id_key", name="uq_staff_enterprise_id_key"),
        # No index on name: the search matches names by "contains", which no B-tree serves.
        Index("ix_staff_id_key", "id_key"),
        Index("ix_staff_phone_key", "phone_key"),
        Index("ix_staff_id_key_previous", "id_key_previous",
              postgresql_where=text("id_key_previous IS NOT NULL"), sqlite_where=text("id_key_previous IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(
        ForeignKey("enterprise.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(String(64), nullable=False)
    id_type: Mapped[str] = mapped_column(String(32), nullable=False, default="居民身份证")
    id_number: Mapped[str] = mapped_column(Sealed("staff.id_number", index="id_key"), nullable=False)
    phone: Mapped[Optional[str]] = mapped_column(Sealed("staff.phone", index="phone_key"))
    category: Mapped[Optional[str]] = mapped_column(String(64))
    worker_kind: Mapped[Optional[str]] = mapped_column(String(64))
    residence_type: Mapped[Optional[str]] = mapped_column(String(64))
    address: Mapped[Optional[str]] = mapped_column(String(300))
    extras: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict, nullable=False)
    # Keyed hash of the normalised ID number (app.domain.idkey) under the current secret,
    # and under the previous one during a key rotation: health records join on these.
    id_key: Mapped[Optional[str]] = mapped_column(String(43))
    id_key_previous: Mapped[Optional[str]] = mapped_column(String(43))
    # Keyed hash of the normalised phone (app.domain.idkey.phone_secret): the phone search.
    phone_key: Mapped[Optional[str]] = mapped_column(String(43))

    enterprise: Mapped[Enterprise] = relationship(lazy="joined")
    # The summary the lists join on id_key (app.services.health.status.lookup); read-only here,
    # loaded with the person where a reader asks for it (joinedload), else on first use.
    health_summary: Mapped[Optional["HealthSummary"]] = relationship(
        "HealthSummary", primaryjoin="foreign(Staff.id_key) == HealthSummary.id_key", viewonly=True,
    )

    def __repr__(self) -> str:
        return self.name

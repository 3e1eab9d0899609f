"""The FAB user, extended with what scopes it: a bureau, a town, or a head phone."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.organisations import Bureau
from models.regions import Town


class SentinelUser(User):
    __tablename__ = "ab_user"

    bureau_id: Mapped[Optional[int]] = mapped_column(ForeignKey("bureau.id"), nullable=True)
    town_id: Mapped[Optional[int]] = mapped_column(ForeignKey("town.id"), nullable=True)
    # Enterprise heads: the phone that matches Enterprise.head_phone.
    phone: Mapped[Optional[str]] = mapped_column(String(20), nullable=True, unique=True)

    bureau: Mapped[Optional[Bureau]] = relationship(foreign_keys=[bureau_id])
    town: Mapped[Optional[Town]] = relationship(foreign_keys=[town_id])

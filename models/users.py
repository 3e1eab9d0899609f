"""The FAB user, extended with what scopes it (a bureau, a town, or a head phone) and
whether its password was set by someone else (the admin) and must be changed."""
from __future__ import annotations

from typing import Optional

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.organisations import Bureau
from models.regions import Town


class SentinelUser(User):
    __tablename__ = "ab_user"

    bureau_id: Mapped[Optional[int]] = mapped_column(ForeignKey("bureau.id"), nullable=True)
    town_id: Mapped[Optional[int]] = mapped_column(ForeignKey("town.id"), nullable=True)
    # Enterprise heads: the phone that matches Enterprise.head_phone.
    phone: Mapped[Optional[str]] = mapped_column(String(20), nullable=True, unique=True)
    # Set when the admin creates the account or resets its password; until the user sets
    # a password of their own, every page leads to 修改密码 (app/security/password_change.py).
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, nullable=False, default=False, server_default=false())

    bureau: Mapped[Optional[Bureau]] = relationship(foreign_keys=[bureau_id])
    town: Mapped[Optional[Town]] = relationship(foreign_keys=[town_id])

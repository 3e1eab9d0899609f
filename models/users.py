"""The FAB user, extended with what scopes it (a bureau, a town, or a head phone) and
whether its password was set by someone else (the admin) and must be changed."""
from __future__ import annotations

from typing import Any, Iterable, Optional

from flask_appbuilder.security.sqla.models import User
from sqlalchemy import Boolean, ForeignKey, String, false, select
from sqlalchemy.orm import Mapped, mapped_column, object_session, relationship

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


def recipient_lines(owner: Any, stored: Optional[Iterable[dict[str, Any]]]) -> list[str]:
    """Stored recipients (``[{"user_id"} | {"phone"} | {"webhook"}]``) of the row ``owner``
    as the forms take them: a user name, a phone or a URL each (a user that is gone: its id)."""
    stored = list(stored or [])
    ids = [item["user_id"] for item in stored if "user_id" in item]
    session = object_session(owner)
    names = dict(session.execute(select(SentinelUser.id, SentinelUser.username).where(
        SentinelUser.id.in_(ids))).all()) if ids and session is not None else {}
    lines = [names.get(item["user_id"], str(item["user_id"])) if "user_id" in item
             else str(item.get("phone") or item.get("webhook") or "") for item in stored]
    return [line for line in lines if line]

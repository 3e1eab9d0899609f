"""Helpers for dimensions whose holders are platform users of one role."""
from __future__ import annotations

from typing import Any, Callable

from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.security.scope import Audience
from models.users import SentinelUser


def users_with(role: str, column) -> Callable[[Any, frozenset], Audience]:
    """``holders`` of a dimension held by users of ``role`` through a user ``column``:
    the active users of that role whose column holds one of the values."""
    def holders(session, values: frozenset) -> Audience:
        stmt = (
            select(SentinelUser.id)
            .join(SentinelUser.roles)
            .where(Role.name == role, SentinelUser.active.is_(True), column.in_(values))
        )
        return Audience(user_ids=frozenset(session.execute(stmt).scalars()))

    return holders


def attribute(name: str) -> Callable[[Any], set]:
    """``user_values`` reading one attribute of the user (``{user.town_id}``)."""
    def values(user) -> set:
        value = getattr(user, name, None)
        return {value} if value not in (None, "") else set()

    return values

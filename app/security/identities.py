"""Phone identities: the kinds of person who prove a phone by SMS code instead of a
password (SPEC §9 "Phone identity"), and the decision of each kind.

A :class:`Purpose` says who may be sent a code for it (``may_receive``: the answer to
the caller is the same either way, so nobody learns whether a phone is known) and which
scope dimension the verified phone opens (``dimension``: the rows of that person, e.g.
a driver's bookings). The enterprise head's purpose is the registry's: a phone that heads
an enterprise and is not a disabled or a government account; a head signs in as their
platform account (created on first login by ``app.services.identity``).

Modules register their own purposes (:func:`register_purpose`): the driver's, the
employee's and the testing worker's arrive with their modules.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional

from sqlalchemy import select

from app.domain.errors import ServiceError
from app.domain.i18n import _
from app.security import roles as R
from models.enterprises import Enterprise
from models.users import SentinelUser

HEAD = "head"

MSG_UNKNOWN = _("不支持的验证用途")
MSG_NOT_HEAD = _("该手机号码未登记为企业负责人，请联系所属委办局或镇街")


@dataclass(frozen=True)
class Purpose:
    """``name`` as the API spells it; ``may_receive(session, phone)`` whether a code is
    sent; ``dimension`` the scope dimension a verified phone opens (None: the person
    signs in as a platform account, like a head)."""

    name: str
    may_receive: Callable[[Any, str], bool]
    dimension: Optional[str] = None


_PURPOSES: dict[str, Purpose] = {}


def register_purpose(purpose: Purpose) -> Purpose:
    existing = _PURPOSES.get(purpose.name)
    if existing is not None and existing is not purpose:
        raise ValueError(f"phone identity purpose {purpose.name!r} registered twice")
    _PURPOSES[purpose.name] = purpose
    return purpose


def purpose(name: Any) -> Purpose:
    """:raise ServiceError: 400, not a purpose of this deployment."""
    found = _PURPOSES.get(name) if isinstance(name, str) else None
    if found is None:
        raise ServiceError(MSG_UNKNOWN)
    return found


def purposes() -> list[str]:
    return sorted(_PURPOSES)


# --- the enterprise head ---------------------------------------------------------------

def heads_an_enterprise(session, phone: str) -> bool:
    return session.execute(select(Enterprise.id).where(Enterprise.head_phone == phone).limit(1)).first() is not None


def account_of(session, phone: str) -> Optional[SentinelUser]:
    return session.execute(select(SentinelUser).where(SentinelUser.phone == phone)).scalar_one_or_none()


def may_sign_in_as_head(session, phone: str) -> bool:
    """A phone that heads an enterprise and is not a disabled or a government account."""
    if not heads_an_enterprise(session, phone):
        return False
    user = account_of(session, phone)
    if user is None:
        return True
    return bool(user.is_active) and {r.name for r in user.roles} == {R.ENTERPRISE_HEAD}


HEAD_PURPOSE = register_purpose(Purpose(HEAD, may_sign_in_as_head))

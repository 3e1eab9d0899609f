"""What a user account needs, as pure rules (no app): the admin's user form checks
these, the navbar asks :func:`has_password` to offer 修改密码.

Government accounts log in with a user name and a password; enterprise head accounts
(created at their first SMS login) have no password and log in by phone only.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask_babel import lazy_gettext as _

from app.domain.identity import mask_phone
from app.security import roles as R

PLACEHOLDER_EMAIL_DOMAIN = "users.invalid"  # FAB's e-mail column is required and unique

MSG_NO_ROLE = _("请选择角色")
MSG_HEAD_ADDED = _("企业负责人账号在其首次短信登录时自动创建，不能在此新增")
MSG_HEAD_MIXED = _("企业负责人不能同时拥有其他角色")
MSG_HEAD_PHONE = _("企业负责人账号须填写手机号码")
MSG_BUREAU = _("委办局账号请选择委办局")
MSG_TOWN = _("镇街账号请选择镇街")


def has_password(role_names: Iterable[str]) -> bool:
    """Whether an account with these roles logs in with a password (every role but the
    enterprise head's)."""
    return R.ENTERPRISE_HEAD not in set(role_names)


def user_has_password(user) -> bool:
    """``has_password`` of a user's roles (the navbar offers 修改密码 and 用户信息 only then)."""
    return has_password(r.name for r in (getattr(user, "roles", None) or []))


def role_problems(role_names: Iterable[str], *, adding: bool, has_bureau: bool, has_town: bool,
                  has_phone: bool) -> list:
    """What is wrong with an account's roles and links (empty: nothing).

    A new account needs a role and may not be an enterprise head's; a head's role is
    never combined with another and needs the head's phone; a bureau account needs its
    bureau, a town account its town (without them it would see no row at all).
    """
    names = set(role_names)
    if not names:
        return [MSG_NO_ROLE]
    problems = []
    if R.ENTERPRISE_HEAD in names:
        if adding:
            problems.append(MSG_HEAD_ADDED)
        elif len(names) > 1:
            problems.append(MSG_HEAD_MIXED)
        elif not has_phone:
            problems.append(MSG_HEAD_PHONE)
    if R.BUREAU in names and not has_bureau:
        problems.append(MSG_BUREAU)
    if R.TOWN in names and not has_town:
        problems.append(MSG_TOWN)
    return problems


def placeholder_email(username: str) -> str:
    """The e-mail FAB's table requires, for an account that has none."""
    return f"{username}@{PLACEHOLDER_EMAIL_DOMAIN}"


def is_placeholder_email(email: str | None) -> bool:
    return not email or email.endswith("@" + PLACEHOLDER_EMAIL_DOMAIN)


def audit_view(values: dict[str, Any]) -> dict[str, Any]:
    """An account's values as the audit log keeps them: no password, the phone masked."""
    kept = {k: v for k, v in values.items() if k != "password"}
    if kept.get("phone"):
        kept["phone"] = mask_phone(kept["phone"])
    return kept

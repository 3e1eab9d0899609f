"""Password complexity for government accounts (FAB_PASSWORD_COMPLEXITY_VALIDATOR)."""
from __future__ import annotations

import re

from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import lazy_gettext as _

MIN_LENGTH = 10


def _requirements() -> list[str]:
    """The rules, in the order :func:`password_problems` checks them."""
    return [
        str(_("至少%(n)d个字符", n=MIN_LENGTH)),
        str(_("包含大写字母")),
        str(_("包含小写字母")),
        str(_("包含数字")),
        str(_("包含特殊字符")),
    ]


def password_problems(password: str) -> list[str]:
    """Pure check: the list of unmet requirements (empty when the password is fine)."""
    password = password or ""
    met = (
        len(password) >= MIN_LENGTH,
        bool(re.search(r"[A-Z]", password)),
        bool(re.search(r"[a-z]", password)),
        bool(re.search(r"\d", password)),
        bool(re.search(r"[^A-Za-z0-9]", password)),
    )
    return [text for text, ok in zip(_requirements(), met) if not ok]


def _joined(items: list[str]) -> str:
    separator = str(_("、"))  # the list separator of the user's language
    return separator.join(items)


def policy_description() -> str:
    """The whole policy in one sentence, shown beside every new-password field."""
    return str(_("密码要求：%(items)s", items=_joined(_requirements())))


def validate_password(password: str) -> None:
    """FAB_PASSWORD_COMPLEXITY_VALIDATOR: raises PasswordComplexityValidationError with the
    unmet requirements, in the user's language."""
    problems = password_problems(password)
    if problems:
        raise PasswordComplexityValidationError(str(_("密码强度不足：需要%(items)s", items=_joined(problems))))

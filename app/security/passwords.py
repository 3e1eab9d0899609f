"""Password complexity for government accounts (FAB_PASSWORD_COMPLEXITY_VALIDATOR)."""
from __future__ import annotations

import re

from flask_appbuilder.exceptions import PasswordComplexityValidationError
from flask_babel import lazy_gettext as _

MIN_LENGTH = 10


def password_problems(password: str) -> list[str]:
    """Pure check: the list of unmet requirements (empty when the password is fine)."""
    problems = []
    if len(password or "") < MIN_LENGTH:
        problems.append(str(_("至少%(n)d个字符", n=MIN_LENGTH)))
    if not re.search(r"[A-Z]", password or ""):
        problems.append(str(_("包含大写字母")))
    if not re.search(r"[a-z]", password or ""):
        problems.append(str(_("包含小写字母")))
    if not re.search(r"\d", password or ""):
        problems.append(str(_("包含数字")))
    if not re.search(r"[^A-Za-z0-9]", password or ""):
        problems.append(str(_("包含特殊字符")))
    return problems


def validate_password(password: str) -> None:
    problems = password_problems(password)
    if problems:
        separator = str(_("、"))  # the list separator of the user's language
        raise PasswordComplexityValidationError(
            str(_("密码强度不足：需要%(items)s", items=separator.join(problems)))
        )

"""Who a request acts for when it is not a platform account: a phone proven by SMS code
for a purpose (a driver, an employee, a testing worker before registering).

Such a principal holds no role, so every permission-checked page and API refuses it; it
opens only the rows of its own scope dimension (``app.security.identities``), through the
endpoints of its module that accept it.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Optional

from app.domain.identity import mask_phone

PREFIX = "phone:"


def phone_subject(purpose: str, phone: str) -> str:
    """The JWT subject of a phone identity (never a number, so never a user id)."""
    return f"{PREFIX}{purpose}:{hashlib.sha256(phone.encode()).hexdigest()[:16]}"


def is_phone_subject(subject: object) -> bool:
    return isinstance(subject, str) and subject.startswith(PREFIX)


@dataclass(frozen=True)
class PhonePrincipal:
    purpose: str
    phone: str
    dimension: Optional[str] = None

    id = None
    is_active = True
    is_authenticated = True
    is_anonymous = False

    @property
    def roles(self) -> list:
        return []

    @property
    def groups(self) -> list:
        return []

    @property
    def username(self) -> str:
        return f"{self.purpose}:{mask_phone(self.phone)}"

    def get_id(self) -> str:
        return phone_subject(self.purpose, self.phone)

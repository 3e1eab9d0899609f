"""Who may see full ID numbers and phones outside the masked lists (issue 11).

Full numbers are a permission of their own in the roles-as-data table
(``roles.PERSONAL_DATA`` read): granted where the manuals' work needs them — the
district admin, towns, bureaus and an enterprise's own head — and not to the task
force or other statistics-only roles. Everyone else gets masked values
(``app.domain.identity.mask_id`` / ``mask_phone``) in every export they can reach.

The decision is made once per user, when their scope is built
(``scope.scope_for_user``), and travels as ``Scope.full_numbers`` to the services and
jobs that export rows.
"""
from __future__ import annotations

from typing import Iterable

from app.domain.identity import mask_id, mask_phone
from app.security import roles as R


def sees_full_numbers(role_names: Iterable[str]) -> bool:
    """Whether a user with these roles reads full ID numbers and phones in exports."""
    return any(R.has_grant(role, R.PERSONAL_DATA, "r") for role in role_names)


# The roles that register people (an enterprise's head, towns and bureaus for the
# enterprises in their scope): on the 未匹配 list — whose first self-check is
# "核查证件号码是否正确" — they read the full ID number they typed, and that read is audited.
REGISTERING_ROLES = frozenset({R.ENTERPRISE_HEAD, R.TOWN, R.BUREAU})


def sees_full_ids_when_unmatched(role_names: Iterable[str]) -> bool:
    """Whether the 未匹配 list shows this user full ID numbers (every other list masks them)."""
    names = set(role_names)
    return bool(names & REGISTERING_ROLES) and sees_full_numbers(names)


MASKS = {"id": mask_id, "phone": mask_phone}


def shown(value: str | None, kind: str, full: bool) -> str:
    """A personal value (``kind`` "id" or "phone") as a detail page shows it: in full for
    the roles that may read it (``Scope.full_numbers``), masked for anyone else."""
    if not value:
        return ""
    return value if full else MASKS[kind](value)


def detail_numbers(full: bool, id_number: str | None, phone: str | None) -> tuple[str, str]:
    """The ID number and phone a person's detail page shows: in full for the roles that may
    read them (``Scope.full_numbers``; the caller audits the read), masked for anyone else."""
    return shown(id_number, "id", full), shown(phone, "phone", full)

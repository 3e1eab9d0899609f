"""Row-level scope: the one place that decides which rows a user may touch.

A user's ``Scope`` comes from their roles and what their account is linked to:

* district admin, task force: every row;
* bureau user: enterprises of the types their bureau supervises (all towns);
* town user: enterprises located in their town;
* enterprise head: enterprises whose head phone is theirs;
* anyone else: no row.

Several roles add up (their clauses are OR-ed). Every read path — lists, details,
edits, deletes, search, exports, the REST API, statistics and job outputs — builds
its statement through :func:`apply` (or :func:`get_or_404`); every write passes
:func:`check_enterprise_write` / :func:`check_staff_write`. A row outside the scope
is reported as missing (404), never as forbidden, so ids cannot be probed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from flask import g, has_request_context
from sqlalchemy import ColumnElement, Select, false, or_, select, true

from app.domain.errors import OutOfScope
from app.security import roles as R
from app.security.personal_data import sees_full_numbers
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.regions import Town
from models.staff import Staff


@dataclass(frozen=True)
class Scope:
    everything: bool = False
    bureau_ids: frozenset[int] = field(default_factory=frozenset)
    town_ids: frozenset[int] = field(default_factory=frozenset)
    head_phones: frozenset[str] = field(default_factory=frozenset)
    user_id: Optional[int] = None
    # Not a row scope: whether exports show full ID numbers and phones (else masked),
    # decided by app/security/personal_data.py from the user's roles.
    full_numbers: bool = False

    @property
    def is_empty(self) -> bool:
        return not (self.everything or self.bureau_ids or self.town_ids or self.head_phones)


NOTHING = Scope()


def scope_for_user(user: Any) -> Scope:
    """Build the scope of ``user`` (a SentinelUser or None). Used by requests and jobs."""
    if user is None or not getattr(user, "is_authenticated", True) or not getattr(user, "id", None):
        return NOTHING
    role_names = {r.name for r in (user.roles or [])}
    everything = bool(role_names & {R.DISTRICT_ADMIN, R.TASKFORCE})
    bureau_ids = {user.bureau_id} if R.BUREAU in role_names and user.bureau_id else set()
    town_ids = {user.town_id} if R.TOWN in role_names and user.town_id else set()
    phones = {user.phone} if R.ENTERPRISE_HEAD in role_names and user.phone else set()
    return Scope(everything, frozenset(bureau_ids), frozenset(town_ids), frozenset(phones), user.id,
                 full_numbers=sees_full_numbers(role_names))


def current_scope() -> Scope:
    """The scope of the user of this request (cached on ``g``)."""
    if not has_request_context():
        return NOTHING
    user = getattr(g, "user", None)
    user_id = getattr(user, "id", None)
    cached = getattr(g, "_sentinel_scope", None)
    if cached is None or cached[0] != user_id:
        cached = (user_id, scope_for_user(user))
        g._sentinel_scope = cached
    return cached[1]


# --- one clause per model ---------------------------------------------------------

def enterprise_clause(scope: Scope) -> ColumnElement[bool]:
    if scope.everything:
        return true()
    parts = []
    if scope.bureau_ids:
        supervised = select(EnterpriseType.id).where(EnterpriseType.bureau_id.in_(scope.bureau_ids))
        parts.append(Enterprise.type_id.in_(supervised))
    if scope.town_ids:
        parts.append(Enterprise.town_id.in_(scope.town_ids))
    if scope.head_phones:
        parts.append(Enterprise.head_phone.in_(scope.head_phones))
    return or_(*parts) if parts else false()


def staff_clause(scope: Scope) -> ColumnElement[bool]:
    if scope.everything:
        return true()
    if scope.is_empty:
        return false()
    return Staff.enterprise_id.in_(select(Enterprise.id).where(enterprise_clause(scope)))


def town_clause(scope: Scope) -> ColumnElement[bool]:
    """Towns a user may pick for an enterprise (and see in statistics)."""
    if scope.everything or scope.bureau_ids:
        return true()
    if scope.town_ids:
        return Town.id.in_(scope.town_ids)
    return false()


def enterprise_type_clause(scope: Scope) -> ColumnElement[bool]:
    """Enterprise types a user may pick when registering an enterprise."""
    if scope.everything or scope.town_ids:
        return true()
    if scope.bureau_ids:
        return EnterpriseType.bureau_id.in_(scope.bureau_ids)
    return false()


POLICIES: dict[type, Callable[[Scope], ColumnElement[bool]]] = {
    Enterprise: enterprise_clause,
    Staff: staff_clause,
    Town: town_clause,
    EnterpriseType: enterprise_type_clause,
}


def clause(model: type, scope: Optional[Scope] = None) -> ColumnElement[bool]:
    """The scope clause of ``model``; a model without a policy is refused loudly."""
    policy = POLICIES[model]
    return policy(scope if scope is not None else current_scope())


def apply(stmt: Select, model: type, scope: Optional[Scope] = None) -> Select:
    """Restrict ``stmt`` (selecting ``model``) to the rows in scope."""
    return stmt.where(clause(model, scope))


def get_or_404(session, model: type, row_id: Any, scope: Optional[Scope] = None, options: tuple = ()):
    """The row with ``row_id`` if it is in scope, else :class:`OutOfScope`; ``options``
    are loader options of the one query (e.g. ``joinedload`` of what the caller reads)."""
    try:
        row_id = int(row_id)
    except (TypeError, ValueError):
        raise OutOfScope(model.__name__)
    stmt = apply(select(model).where(model.id == row_id), model, scope).options(*options)
    row = session.execute(stmt).unique().scalar_one_or_none()
    if row is None:
        raise OutOfScope(model.__name__, row_id)
    return row


# --- writes -----------------------------------------------------------------------

def check_enterprise_write(session, town_id: Any, type_id: Any, scope: Optional[Scope] = None) -> None:
    """An enterprise may only be created or moved where the user's scope reaches.

    :raise OutOfScope: the town or type is outside the scope (or the user may not
        register enterprises at all, as an enterprise head).
    """
    scope = scope if scope is not None else current_scope()
    if scope.everything:
        return
    if not (scope.town_ids or scope.bureau_ids):
        raise OutOfScope("Enterprise")
    town_ok = session.execute(select(Town.id).where(Town.id == town_id, town_clause(scope))).first()
    type_ok = session.execute(
        select(EnterpriseType.id).where(EnterpriseType.id == type_id, enterprise_type_clause(scope))
    ).first()
    if not (town_ok and type_ok):
        raise OutOfScope("Enterprise")
    # A town user's town must match and a bureau user's type must be supervised.
    allowed = False
    if scope.town_ids and int(town_id) in scope.town_ids:
        allowed = True
    if scope.bureau_ids:
        bureau = session.execute(select(EnterpriseType.bureau_id).where(EnterpriseType.id == type_id)).scalar()
        allowed = allowed or bureau in scope.bureau_ids
    if not allowed:
        raise OutOfScope("Enterprise")


def check_staff_write(session, enterprise_id: Any, scope: Optional[Scope] = None) -> Enterprise:
    """Staff may only be written into an enterprise in scope; returns that enterprise."""
    return get_or_404(session, Enterprise, enterprise_id, scope)

"""Row-level scope: the one place that decides which rows a principal may touch.

The core knows no module. It knows three things, all declared as data by the modules:

* **Dimensions** (:class:`Dimension`): the ways a principal can be scoped — a town, a
  bureau, an enterprise head's phone today; a testing unit, a checkpoint, a driver's or
  an employee's phone tomorrow. A dimension says which values a signed-in user holds on
  it and, inversely, who holds given values (users and phone numbers).
* **Role → dimension** (``app.security.roles.ROLE_DIMENSIONS``): a role either sees
  everything (:data:`EVERYTHING`), is scoped along one dimension, or sees no row.
* **Policies** (:func:`register`): per model, for each dimension, where the row's value
  on that dimension lives (:class:`Column`, :class:`Via` a referenced table,
  :class:`Shared` one value for every row, or :data:`ALL` rows); or :class:`Parent`: the model is scoped like the row it belongs to
  (staff like their enterprise). A dimension a policy does not name sees none of its rows.

From these the core answers, for every module alike:

* :func:`scope_for_user` / :func:`current_scope` — the principal's :class:`Scope`;
* :func:`clause` / :func:`apply` / :func:`get_or_404` — reads (lists, details, edits,
  deletes, search, exports, the API, statistics, job outputs); a row outside the scope
  is reported missing (:class:`OutOfScope`, rendered 404), never forbidden;
* :func:`check_write` — may a row with these values be created (or moved) here;
* :func:`audience` — the inverse: which users and phone numbers may see a given row
  (alert recipients, review hand-offs), from the same declarations.

Several roles add up: their clauses are OR-ed.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Callable, Iterable, Mapping, Optional, Union

from flask import g, has_request_context
from sqlalchemy import ColumnElement, Select, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from app.domain.errors import OutOfScope
from app.domain.fields import row_id as to_row_id
from app.security import roles as R
from app.security.personal_data import sees_full_numbers
from app.security.principals import PhonePrincipal

__all__ = [
    "ALL", "EVERYTHING", "NOTHING", "Audience", "Column", "Dimension", "OutOfScope", "Parent", "Scope", "Shared",
    "Via",
    "apply", "audience", "check_write", "may_write", "restrict_writes", "clause", "current_scope", "define_dimension", "get_or_404", "register",
    "register_unscoped", "row_values", "scope_for_user",
]

EVERYTHING = R.EVERYTHING


# --- principals --------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """What one principal may see: everything, or values per dimension. ``full_numbers``:
    whether exports show full ID numbers and phones (app/security/personal_data.py);
    False unless the principal's roles grant it."""

    everything: bool = False
    values: Mapping[str, frozenset] = field(default_factory=lambda: MappingProxyType({}))
    user_id: Optional[int] = None
    full_numbers: bool = False

    def of(self, dimension: str) -> frozenset:
        """The principal's values on ``dimension`` (empty when not scoped along it)."""
        return self.values.get(dimension, frozenset())

    @property
    def is_empty(self) -> bool:
        return not self.everything and not any(self.values.values())

    @classmethod
    def of_values(cls, user_id: Optional[int] = None, full_numbers: bool = False, **values: Iterable) -> "Scope":
        """A scope from ``dimension=values`` keywords (empty value sets are dropped)."""
        kept = {name: frozenset(v) for name, v in values.items() if v}
        return cls(False, MappingProxyType(kept), user_id, full_numbers)


NOTHING = Scope()


@dataclass(frozen=True)
class Audience:
    """Who may see a row: platform users (ids) and phone numbers without an account."""

    user_ids: frozenset[int] = frozenset()
    phones: frozenset[str] = frozenset()

    def __or__(self, other: "Audience") -> "Audience":
        return Audience(self.user_ids | other.user_ids, self.phones | other.phones)


@dataclass(frozen=True)
class Dimension:
    """A way principals are scoped.

    ``user_values(user)`` gives the values a signed-in user of a role scoped along this
    dimension holds (e.g. ``{user.town_id}``). ``holders(session, values)`` is the
    inverse: the :class:`Audience` holding any of ``values`` (e.g. the town users of
    those towns, or the phone numbers themselves for a dimension of phones)."""

    name: str
    user_values: Callable[[Any], Iterable]
    holders: Callable[[Any, frozenset], Audience]
    # A phone identity's values on this dimension (``PhonePrincipal``): by default the
    # phone itself; e.g. the phone's keyed hashes where rows store no plain phone.
    phone_values: Optional[Callable[[str], Iterable]] = None


_DIMENSIONS: dict[str, Dimension] = {}


def define_dimension(dimension: Dimension) -> Dimension:
    """Declare a dimension (once per name; a module declares its own)."""
    existing = _DIMENSIONS.get(dimension.name)
    if existing is not None and existing is not dimension:
        raise ValueError(f"scope dimension {dimension.name!r} declared twice")
    _DIMENSIONS[dimension.name] = dimension
    return dimension


def dimension(name: str) -> Dimension:
    return _DIMENSIONS[name]


def declared_dimensions() -> list[str]:
    """The names of every declared dimension."""
    return sorted(_DIMENSIONS)


def scope_for_user(user: Any) -> Scope:
    """The scope of ``user`` (a SentinelUser or None), from ``ROLE_DIMENSIONS``.
    Used by requests and by jobs (which rebuild it from a user id)."""
    if isinstance(user, PhonePrincipal):  # a phone proven by SMS code: that person's rows
        if not user.dimension:
            return Scope.of_values(None)
        declared = _DIMENSIONS.get(user.dimension)
        values = declared.phone_values(user.phone) if declared and declared.phone_values else {user.phone}
        return Scope.of_values(None, **{user.dimension: set(values)})
    if user is None or not getattr(user, "is_authenticated", True) or not getattr(user, "id", None):
        return NOTHING
    role_names = {r.name for r in (user.roles or [])}
    full_numbers = sees_full_numbers(role_names)
    values: dict[str, set] = {}
    for role in user.roles or []:
        target = R.ROLE_DIMENSIONS.get(role.name)
        if target == EVERYTHING:
            return Scope(everything=True, user_id=user.id, full_numbers=full_numbers)
        if target is None or target not in _DIMENSIONS:
            continue
        held = {v for v in _DIMENSIONS[target].user_values(user) if v is not None and v != ""}
        values.setdefault(target, set()).update(held)
    return Scope.of_values(user.id, full_numbers, **values)


def current_scope() -> Scope:
    """The scope of the principal of this request (cached on ``g`` per user)."""
    if not has_request_context():
        return NOTHING
    explicit = getattr(g, "sentinel_scope", None)  # a phone-identity principal (API tokens)
    if explicit is not None:
        return explicit
    user = getattr(g, "user", None)
    user_id = getattr(user, "id", None)
    cached = getattr(g, "_sentinel_scope", None)
    if cached is None or cached[0] != user_id:
        cached = (user_id, scope_for_user(user))
        g._sentinel_scope = cached
    return cached[1]


# --- policies ----------------------------------------------------------------------

class _All:
    """Every row, for principals scoped along this dimension (e.g. a bureau sees every town)."""

    def __repr__(self) -> str:
        return "ALL"


ALL = _All()


@dataclass(frozen=True)
class Column:
    """The row's value on the dimension is this column of the model."""

    column: InstrumentedAttribute


@dataclass(frozen=True)
class Via:
    """The value lives in a referenced table: ``local`` holds ``key`` of a row whose
    ``value`` is the dimension's (an enterprise's bureau is its type's bureau)."""

    local: InstrumentedAttribute
    key: InstrumentedAttribute
    value: InstrumentedAttribute


@dataclass(frozen=True)
class Shared:
    """Every row has the same value on the dimension, read from a referenced table: the
    ``value`` of the row whose ``key`` equals ``match()`` (called at query time, e.g. a
    configured code). A table of settings owned by one bureau — the checkpoint's
    告警设置 belong to the bureau supervising the freight type — has no column to say so."""

    key: InstrumentedAttribute
    value: InstrumentedAttribute
    match: Callable[[], Any]

    def lookup(self) -> Select:
        return select(self.value).where(self.key == self.match())


@dataclass(frozen=True)
class Parent:
    """The model is scoped exactly like the row ``fk`` points to (a ``parent`` model)."""

    fk: InstrumentedAttribute
    parent: type


Path = Union[Column, Via, Shared, _All]


@dataclass(frozen=True)
class Policy:
    model: type
    paths: Mapping[str, Path] = field(default_factory=dict)
    parent: Optional[Parent] = None
    unscoped: bool = False  # rows are guarded by the permission alone (admin-only tables)
    # dimension → allows(session, values): the dimension lets its holders see a row but
    # write it only where ``allows`` is true (a town sees its freight enterprises only)
    write_limits: Mapping[str, Callable[[Any, Mapping[str, Any]], bool]] = field(default_factory=dict)


_POLICIES: dict[type, Policy] = {}


def register(model: type, *, parent: Optional[Parent] = None, **paths: Path) -> Policy:
    """Declare the scope of ``model``: ``dimension=Column(...)|Via(...)|ALL`` per
    dimension, or ``parent=Parent(fk, Model)``. Modules register their own models."""
    if parent is not None and paths:
        raise ValueError("a policy is either a parent's or its own dimensions")
    unknown = set(paths) - set(_DIMENSIONS)
    if unknown:
        raise ValueError(f"undeclared scope dimensions: {sorted(unknown)}")
    policy = Policy(model, MappingProxyType(dict(paths)), parent)
    _POLICIES[model] = policy
    return policy


def restrict_writes(model: type, dimension: str, allows: Callable[[Any, Mapping[str, Any]], bool]) -> None:
    """Holders of ``dimension`` see ``model``'s rows as registered but write (add, edit,
    import, delete) only a row whose values ``allows(session, values)``; another
    dimension may still grant the write. A model scoped by its :class:`Parent` is
    limited by its own restrictions only (not its parent's), asked with its own
    values (a person's ``enterprise_id``)."""
    policy = policy_of(model)
    _POLICIES[model] = replace(policy, write_limits=MappingProxyType({**policy.write_limits, dimension: allows}))


def register_unscoped(*models: type) -> None:
    """Models whose rows every holder of the resource's permission may see (reference
    tables edited by the district admin: vaccine products, bureaus, the outbox …)."""
    for model in models:
        _POLICIES[model] = Policy(model, unscoped=True)


def policy_of(model: type) -> Policy:
    """The model's policy; a model without one is refused loudly (KeyError)."""
    return _POLICIES[model]


def registered_models() -> list[type]:
    return list(_POLICIES)


def clause(model: type, scope: Optional[Scope] = None) -> ColumnElement[bool]:
    """The scope clause of ``model`` for ``scope`` (default: this request's)."""
    scope = scope if scope is not None else current_scope()
    policy = policy_of(model)
    if policy.unscoped or scope.everything:
        return true()
    if policy.parent is not None:
        parent = policy.parent
        if scope.is_empty:
            return false()
        return parent.fk.in_(select(parent.parent.id).where(clause(parent.parent, scope)))
    parts = []
    for name, path in policy.paths.items():
        held = scope.of(name)
        if not held:
            continue
        if path is ALL:
            return true()
        if isinstance(path, Column):
            parts.append(path.column.in_(held))
        elif isinstance(path, Shared):
            parts.append(path.lookup().where(path.value.in_(held)).exists())
        else:
            parts.append(path.local.in_(select(path.key).where(path.value.in_(held))))
    return or_(*parts) if parts else false()


def apply(stmt: Select, model: type, scope: Optional[Scope] = None) -> Select:
    """Restrict ``stmt`` (selecting ``model``) to the rows in scope."""
    return stmt.where(clause(model, scope))


def get_or_404(session, model: type, row_id: Any, scope: Optional[Scope] = None, options: tuple = ()):
    """The row with ``row_id`` if it is in scope, else :class:`OutOfScope`; ``options``
    are loader options of the one query (e.g. ``joinedload`` of what the caller reads)."""
    wanted = to_row_id(row_id)  # None: no row can have it (nor may the database be asked)
    if wanted is None:
        raise OutOfScope(model.__name__, row_id)
    row_id = wanted
    stmt = apply(select(model).where(model.id == row_id), model, scope).options(*options)
    row = session.execute(stmt).unique().scalar_one_or_none()
    if row is None:
        raise OutOfScope(model.__name__, row_id)
    return row


# --- values of a row (writes and the inverse) ---------------------------------------

def row_values(session, model: type, values: Mapping[str, Any], cache: Optional[dict] = None) -> dict[str, Any]:
    """The dimension values of a row with these attribute ``values`` (existing or about
    to be written): ``{dimension: value}``, or :data:`ALL` for a dimension that sees every
    row. Dimensions the policy does not name are absent. ``cache``: a dict kept by a
    caller asking for many rows (the lookups through referenced tables are made once)."""
    policy = policy_of(model)
    if policy.parent is not None:
        parent_id = values.get(policy.parent.fk.key)
        parent_row = session.get(policy.parent.parent, parent_id) if parent_id is not None else None
        if parent_row is None:
            return {}
        return row_values(session, policy.parent.parent, row_attributes(parent_row), cache)
    out: dict[str, Any] = {}
    for name, path in policy.paths.items():
        if path is ALL:
            out[name] = ALL
        elif isinstance(path, Column):
            out[name] = values.get(path.column.key)
        elif isinstance(path, Shared):
            key = ("shared", model, name)
            if cache is not None and key in cache:
                out[name] = cache[key]
                continue
            out[name] = session.execute(path.lookup()).scalar()
            if cache is not None:
                cache[key] = out[name]
        else:
            local = values.get(path.local.key)
            key = ("via", model, name, local)
            if cache is not None and key in cache:
                out[name] = cache[key]
                continue
            out[name] = None if local is None else session.execute(
                select(path.value).where(path.key == local)).scalar()
            if cache is not None:
                cache[key] = out[name]
    return out


def row_attributes(row: Any) -> dict[str, Any]:
    """A row's column values by attribute name (what ``audience`` and ``row_values`` read)."""
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def check_write(session, model: type, values: Mapping[str, Any], scope: Optional[Scope] = None) -> None:
    """A row with ``values`` may be written only where the writer's scope reaches.

    :raise OutOfScope: the row would be outside the scope (reported as 404, like a read).
    """
    if not may_write(session, model, values, scope):
        raise OutOfScope(model.__name__, values.get("id"))


def may_write(session, model: type, values: Mapping[str, Any], scope: Optional[Scope] = None,
              cache: Optional[dict] = None) -> bool:
    """Whether a row with ``values`` is within the writer's reach (see :func:`check_write`);
    pages ask it to offer only the writes that will pass. ``cache``: as for
    :func:`row_values`, kept by a caller asking for many rows (a page's)."""
    scope = scope if scope is not None else current_scope()
    policy = policy_of(model)
    if policy.unscoped or scope.everything:
        return True
    for name, value in row_values(session, model, values, cache).items():
        if value is ALL or value is None or value not in scope.of(name):
            continue
        limit = policy.write_limits.get(name)
        if limit is None or limit(session, values):
            return True
    return False


def audience(session, model: type, row: Any, dimensions: Optional[Iterable[str]] = None,
             cache: Optional[dict] = None) -> Audience:
    """Who may see ``row`` through a scoped role: the union, over the policy's
    dimensions (or only ``dimensions``), of the holders of the row's value.
    Principals that see everything (district admin, task force) are not listed: they
    are addressed by role, not by row. ``row``: a model instance, or the mapping of its
    column values (a caller keeping many rows across commits, which expire instances).
    ``cache``: a dict kept by a caller asking for many rows (an alert's recipients):
    each dimension value's holders are looked up once."""
    wanted = set(dimensions) if dimensions is not None else None
    found = Audience()
    values = row if isinstance(row, Mapping) else row_attributes(row)
    for name, value in row_values(session, model, values, cache).items():
        if value is ALL or value is None or (wanted is not None and name not in wanted):
            continue
        key = ("holders", name, value)
        if cache is not None and key in cache:
            held = cache[key]
        else:
            held = _DIMENSIONS[name].holders(session, frozenset({value}))
            if cache is not None:
                cache[key] = held
        found = found | held
    return found

"""Enterprises: query, create, update, delete — scope and audit included."""
from __future__ import annotations

from typing import Any, Mapping, Optional

from sqlalchemy import Select, delete, or_, select

from app.domain.errors import RuleError, ValidationFailed
from app.domain.fields import Field, row_ids
from app.domain.i18n import _
from app.domain.identity import mask_phone
from app.domain.records import clean_enterprise
from app.platform import audit
from app.platform.operations import operation
from app.security import scope as S
from app.services import lookups
from app.services.enterprise_types import keep_undeclared
from app.services.paging import Page, paginate
from app.services.resources import ModelService
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.staff import Staff

AUDIT_FIELDS = ["name", "type_id", "town_id", "grid_id", "address", "head_name", "head_phone", "credit_code", "extras"]


def keyword_clause(q: str):
    """The keyword search: a part of the name or the head's name, or the start of the head
    phone, taken literally (``%`` and ``_`` are characters, not wildcards)."""
    return or_(Enterprise.name.contains(q, autoescape=True), Enterprise.head_name.contains(q, autoescape=True),
               Enterprise.head_phone.startswith(q, autoescape=True))


def query(scope: S.Scope, q: Optional[str] = None, town_id: Any = None, type_id: Any = None) -> Select:
    """Enterprises visible to ``scope``, filtered by keyword (name, head, phone)."""
    stmt = S.apply(select(Enterprise), Enterprise, scope)
    q = (q or "").strip()
    if q:
        stmt = stmt.where(keyword_clause(q))
    if town_id:
        stmt = stmt.where(Enterprise.town_id == int(town_id))
    if type_id:
        stmt = stmt.where(Enterprise.type_id == int(type_id))
    return stmt.order_by(Enterprise.id.desc())


def list_page(session, scope: S.Scope, q=None, page=1, size=20, **filters) -> Page:
    return paginate(session, query(scope, q, **filters), page, size)


def to_dict(e: Enterprise, *, masked: bool = False) -> dict[str, Any]:
    return {
        "id": e.id,
        "name": e.name,
        "type_code": e.type.code,
        "type_name": e.type.name,
        "town": e.town.name,
        "grid": e.grid.name if e.grid else None,
        "address": e.address,
        "head_name": e.head_name,
        "head_phone": mask_phone(e.head_phone) if masked else e.head_phone,
        "credit_code": e.credit_code,
        "extras": e.extras or {},
    }


def _resolve(session, raw: Mapping[str, Any], current: Optional[Enterprise] = None):
    """Type, town, grid and cleaned values from a payload; all errors at once."""
    errors: list[RuleError] = []
    etype = town = grid = None
    try:
        etype = (lookups.find_type_for(session, raw.get("type_code"), current.type_id if current else None)
                 if raw.get("type_code") or not current else current.type)
    except RuleError as err:
        errors.append(err)
    try:
        town = lookups.find_town(session, raw.get("town")) if raw.get("town") or not current else current.town
    except RuleError as err:
        errors.append(err)
    if town is not None:
        try:
            grid = lookups.find_grid(session, town, raw.get("grid"))
        except RuleError as err:
            errors.append(err)
    decl = lookups.declaration(etype) if etype is not None else lookups.parse_declaration({})
    values, value_errors = clean_enterprise(raw, decl)
    errors.extend(value_errors)
    if errors:
        raise ValidationFailed(errors)
    values.update(type_id=etype.id, town_id=town.id, grid_id=grid.id if grid else None)
    return values


def _check_unique(session, values: Mapping[str, Any], current: Optional[Enterprise] = None) -> None:
    """A name is unique within its town (the importer's key, ``(name, town)``), whatever
    the type and whoever sees the other one. :raise ValidationFailed: a namesake."""
    stmt = select(Enterprise.id).where(Enterprise.name == values["name"], Enterprise.town_id == values["town_id"])
    if current is not None:
        stmt = stmt.where(Enterprise.id != current.id)
    if session.execute(stmt.limit(1)).first() is not None:
        raise ValidationFailed([RuleError("name", _("所属镇街已有同名企业：%(name)s", name=values["name"]))])


@operation
def create(session, scope: S.Scope, raw: Mapping[str, Any]) -> Enterprise:
    """:raise ValidationFailed: bad values. :raise OutOfScope: town/type not the user's."""
    values = _resolve(session, raw)
    S.check_write(session, Enterprise, values, scope)
    _check_unique(session, values)
    enterprise = Enterprise(**values)
    session.add(enterprise)
    session.flush()
    audit.record("create", "Enterprise", enterprise.id, after=audit.snapshot(enterprise, AUDIT_FIELDS))
    return enterprise


@operation
def update(session, scope: S.Scope, enterprise_id: Any, raw: Mapping[str, Any]) -> Enterprise:
    enterprise = S.get_or_404(session, Enterprise, enterprise_id, scope)
    S.check_write(session, Enterprise, S.row_attributes(enterprise), scope)  # the row as it is, then as it becomes
    before = audit.snapshot(enterprise, AUDIT_FIELDS)
    merged = {**to_dict(enterprise), **{k: v for k, v in raw.items() if k != "id"}}
    values = _resolve(session, merged, current=enterprise)
    S.check_write(session, Enterprise, values, scope)
    _check_unique(session, values, enterprise)
    declared = lookups.declaration(session.get(EnterpriseType, values["type_id"])).enterprise_fields
    values["extras"] = keep_undeclared(enterprise.extras, values["extras"], declared)
    for key, value in values.items():
        setattr(enterprise, key, value)
    session.flush()
    audit.record("update", "Enterprise", enterprise.id, before=before, after=audit.snapshot(enterprise, AUDIT_FIELDS))
    return enterprise


@operation
def delete_many(session, scope: S.Scope, ids: list[Any]) -> int:
    """Delete the enterprises (and their staff) among ``ids`` that are in scope and the
    user may write (a town user sees its freight enterprises but deletes none)."""
    wanted = row_ids(ids)
    if not wanted:
        return 0
    rows = [e for e in session.execute(S.apply(select(Enterprise).where(Enterprise.id.in_(wanted)), Enterprise,
                                               scope)).scalars()
            if S.may_write(session, Enterprise, S.row_attributes(e), scope)]
    for e in rows:
        audit.record("delete", "Enterprise", e.id, before=audit.snapshot(e, AUDIT_FIELDS))
    found = [e.id for e in rows]
    if found:
        session.execute(delete(Staff).where(Staff.enterprise_id.in_(found)))
        session.execute(delete(Enterprise).where(Enterprise.id.in_(found)))
    return len(found)


def heads_enterprises(session, phone: str) -> list[Enterprise]:
    stmt = select(Enterprise).where(Enterprise.head_phone == phone).order_by(Enterprise.name)
    return list(session.execute(stmt).scalars())


FIELDS = [
    Field("name", _("企业名称"), required=True, max_length=200, filters=("eq", "ct", "sw"), sortable=True),
    Field("type_code", _("主体类型"), attr="type.code", required=True, list=False),
    Field("type_name", _("主体类型"), attr="type.name", form=False),
    Field("type_id", _("主体类型编号"), kind="int", filters=("eq", "in"), list=False, detail=False, form=False,
          output=False),
    Field("town", _("所属镇街"), attr="town.name", required=True),
    Field("town_id", _("镇街编号"), kind="int", filters=("eq", "in"), list=False, detail=False, form=False,
          output=False),
    Field("grid", _("所属网格"), attr="grid.name", list=False),
    Field("address", _("地址"), required=True, max_length=300, list=False),
    Field("head_name", _("负责人姓名"), required=True, max_length=64, filters=("eq", "ct")),
    Field("head_phone", _("负责人电话"), required=True, mask="phone", filters=("eq",)),
    Field("credit_code", _("统一社会信用代码"), max_length=18, list=False, extra={"text": True}),
    Field("extras", _("扩展字段"), kind="json", list=False, detail=False),
]
# what POST/PUT take (names, as the manuals' users type them; resolved to rows by the rules above)
INPUT_KEYS = ("name", "type_code", "town", "grid", "address", "head_name", "head_phone", "credit_code", "extras")


class EnterpriseService(ModelService):
    """The registry's enterprises as a declared resource: the rules of this module
    (names resolved, declared extra fields, scope of town and type) on every write."""

    def __init__(self) -> None:
        super().__init__(Enterprise, FIELDS)

    def keyword_clause(self, keyword: str):
        return keyword_clause(keyword.strip())

    def input_fields(self) -> list[Field]:
        by_key = {f.key: f for f in FIELDS}
        return [by_key[k] for k in INPUT_KEYS]

    def to_dict(self, row: Enterprise, *, masked_values: bool = False) -> dict[str, Any]:
        return to_dict(row, masked=masked_values)

    def create(self, session, scope: S.Scope, raw: Mapping[str, Any]) -> Enterprise:
        return create(session, scope, raw)

    def update(self, session, scope: S.Scope, pk: Any, raw: Mapping[str, Any]) -> Enterprise:
        return update(session, scope, pk, raw)

    def delete_many(self, session, scope: S.Scope, ids) -> int:
        return delete_many(session, scope, list(ids))

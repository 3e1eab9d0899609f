"""Staff: query, create, update, delete — scope, duplicate rule and audit included.

Who may write a person is the scope's business (app/security/policies): a person is
written only where ``scope.check_write`` lets the user write a person of that enterprise
(a town user sees the drivers of its freight enterprises but writes none); an update
must pass on the person as they are and as they become."""
from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.exc import IntegrityError

from app.domain.errors import Conflict, ValidationFailed
from app.domain.fields import Field, row_ids
from app.domain.i18n import _
from app.domain.identity import fullwidth_to_halfwidth, mask_id, mask_phone
from app.domain.records import clean_staff
from app.platform import audit
from app.platform.operations import operation
from app.security import scope as S
from app.services import lookups
from app.services.enterprise_types import keep_undeclared
from app.services.health.feeds import keys as health_keys  # also installs the Staff key events
from app.services.paging import Page, paginate
from app.services.resources import ModelService
from models.enterprises import Enterprise
from models.staff import Staff

DUPLICATE = _("同一企业同一身份证号码的人员已存在")
AUDIT_FIELDS = [
    "enterprise_id", "name", "id_type", "id_number", "phone", "category", "worker_kind",
    "residence_type", "address", "extras",
]
FIELDS = ["name", "id_type", "id_number", "phone", "category", "worker_kind", "residence_type", "address", "extras"]
_DIGITS = re.compile(r"^[0-9Xx]+$")
_DOCUMENT = re.compile(r"^(?=.*[0-9])[0-9A-Za-z]+$")  # a passport's or a permit's number: E12345678
_SEPARATORS = re.compile(r"[\s\-]+")  # what people type inside a number: 135 7626 6263, 4401-15…


def query(scope: S.Scope, q: Optional[str] = None, enterprise_id: Any = None) -> Select:
    """Staff visible to ``scope``; a keyword of digits (and X) matches a full ID number
    or a full phone exactly — they are stored sealed, found by their keyed hashes
    (``health_keys.lookup_keys``), so a part of one matches nothing — any other keyword
    a part of the name."""
    stmt = S.apply(select(Staff), Staff, scope)
    if enterprise_id:
        stmt = stmt.where(Staff.enterprise_id == int(enterprise_id))
    clause = keyword_clause(q)
    if clause is not None:
        stmt = stmt.where(clause)
    return stmt.order_by(Staff.id.desc())


def keyword_clause(q: Optional[str]):
    """The keyword search (None for a blank keyword): digits (and X) match a whole ID
    number or phone through their keyed hashes, typed with spaces or dashes inside or
    +86 before as the forms accept them; letters with digits (E12345678) a passport's or
    a permit's whole number, or a part of a name; anything else a part of the person's
    name or of their enterprise's name ("口岸" finds the staff of 龙口岸企业). Scope is
    applied to the staff themselves, so an enterprise name never widens it."""
    q = fullwidth_to_halfwidth(q or "").strip()
    if not q:
        return None
    number = _SEPARATORS.sub("", q)
    if _DIGITS.match(number.removeprefix("+")):  # digits (and X; +86 135…): an ID number or a phone
        return _number_clause(number)
    companies = select(Enterprise.id).where(Enterprise.name.contains(q, autoescape=True))
    by_name = or_(Staff.name.contains(q, autoescape=True), Staff.enterprise_id.in_(companies))
    if _DOCUMENT.match(number):  # letters and digits: a passport's or a permit's number, or a name
        return or_(_number_clause(number), by_name)
    return by_name


def _number_clause(number: str):
    """People whose whole ID number or whole phone is ``number`` (through the keyed hashes)."""
    ids, phones = health_keys.lookup_keys(id_number=number), health_keys.lookup_keys(phone=number)
    return or_(Staff.id_key.in_(ids), Staff.phone_key.in_(phones))


def list_page(session, scope: S.Scope, q=None, page=1, size=20, enterprise_id=None) -> Page:
    return paginate(session, query(scope, q, enterprise_id), page, size)


def to_dict(s: Staff, *, masked: bool = False) -> dict[str, Any]:
    return {
        "id": s.id,
        "enterprise_id": s.enterprise_id,
        "enterprise_name": s.enterprise.name,
        "name": s.name,
        "id_type": s.id_type,
        "id_number": mask_id(s.id_number) if masked else s.id_number,
        "phone": mask_phone(s.phone) if (masked and s.phone) else s.phone,
        "category": s.category,
        "worker_kind": s.worker_kind,
        "residence_type": s.residence_type,
        "address": s.address,
        "extras": s.extras or {},
    }


def _clean(session, enterprise: Enterprise, raw: Mapping[str, Any]) -> dict[str, Any]:
    values, errors = clean_staff(raw, lookups.declaration(enterprise.type))
    if errors:
        raise ValidationFailed(errors)
    return values


def _duplicate(session, enterprise_id: int, id_number: str, exclude_id: Optional[int] = None) -> bool:
    """Whether another person of the enterprise has this ID number (its keyed hash under
    the current or, during a rotation, the previous secret)."""
    keys = health_keys.lookup_keys(id_number=id_number)
    if not keys:
        return False
    stmt = select(Staff.id).where(Staff.enterprise_id == enterprise_id, Staff.id_key.in_(keys))
    if exclude_id:
        stmt = stmt.where(Staff.id != exclude_id)
    return session.execute(stmt).first() is not None


def may_write_in(session, scope: S.Scope, enterprise_id: Any, cache: Optional[dict] = None) -> bool:
    """Whether the user may add, edit, import or delete people of the enterprise (pages
    ask it to offer only the writes that will pass)."""
    return S.may_write(session, Staff, {"enterprise_id": enterprise_id}, scope, cache)


def writable_enterprises(session, scope: S.Scope, enterprises) -> list[Enterprise]:
    """Those of ``enterprises`` (in scope) whose people the user may write (the choices
    of the staff form and of the staff import)."""
    cache: dict = {}
    return [e for e in enterprises if may_write_in(session, scope, e.id, cache)]


def _flush_unique(session) -> None:
    """Flush; the same person stored meanwhile by another request (a double submit passes
    the duplicate check of both) is :class:`Conflict` (409), as the check would have said."""
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(DUPLICATE) from None


@operation
def create(session, scope: S.Scope, raw: Mapping[str, Any]) -> Staff:
    """:raise OutOfScope: enterprise not visible, or its people not the user's to write
    (404). :raise ValidationFailed, Conflict."""
    enterprise = S.get_or_404(session, Enterprise, raw.get("enterprise_id"), scope)
    S.check_write(session, Staff, {"enterprise_id": enterprise.id}, scope)
    values = _clean(session, enterprise, raw)
    if _duplicate(session, enterprise.id, values["id_number"]):
        raise Conflict(DUPLICATE)
    person = Staff(enterprise_id=enterprise.id, **values)
    session.add(person)
    _flush_unique(session)
    health_keys.refresh_changed(session, [person.id_key])
    audit.record("create", "Staff", person.id, after=audit.snapshot(person, AUDIT_FIELDS))
    return person


@operation
def update(session, scope: S.Scope, staff_id: Any, raw: Mapping[str, Any]) -> Staff:
    """:raise OutOfScope: the person or the target enterprise not visible, or the person
    not the user's to write as they are or as they become (404). :raise ValidationFailed, Conflict."""
    person = S.get_or_404(session, Staff, staff_id, scope)
    S.check_write(session, Staff, S.row_attributes(person), scope)  # the person as they are, then as they become
    before = audit.snapshot(person, AUDIT_FIELDS)
    target_id = raw.get("enterprise_id") or person.enterprise_id
    enterprise = S.get_or_404(session, Enterprise, target_id, scope)
    S.check_write(session, Staff, {"enterprise_id": enterprise.id}, scope)
    merged = {**{k: getattr(person, k) for k in FIELDS}, **{k: v for k, v in raw.items() if k in FIELDS}}
    values = _clean(session, enterprise, merged)
    values["extras"] = keep_undeclared(person.extras, values["extras"], lookups.declaration(enterprise.type).staff_fields)
    if _duplicate(session, enterprise.id, values["id_number"], exclude_id=person.id):
        raise Conflict(DUPLICATE)
    person.enterprise_id = enterprise.id
    old_key = person.id_key
    for key, value in values.items():
        setattr(person, key, value)
    _flush_unique(session)
    if person.id_key != old_key:
        health_keys.refresh_changed(session, [person.id_key])
    audit.record("update", "Staff", person.id, before=before, after=audit.snapshot(person, AUDIT_FIELDS))
    return person


@operation
def delete_many(session, scope: S.Scope, ids: list[Any]) -> int:
    """Delete the staff among ``ids`` that are in scope and the user may write (a town
    user sees its freight enterprises' drivers but deletes none); returns how many."""
    wanted = row_ids(ids)
    if not wanted:
        return 0
    cache: dict = {}
    rows = [p for p in session.execute(S.apply(select(Staff).where(Staff.id.in_(wanted)), Staff, scope)).scalars()
            if S.may_write(session, Staff, S.row_attributes(p), scope, cache)]
    for person in rows:
        audit.record("delete", "Staff", person.id, before=audit.snapshot(person, AUDIT_FIELDS))
    if rows:
        session.execute(delete(Staff).where(Staff.id.in_([p.id for p in rows])))
    return len(rows)


@operation
def record_full_id_read(session, staff_ids: list[int], detail: Any) -> None:
    """Audit a list that showed full ID numbers (the 未匹配 list for the roles that
    registered the people): one row naming the people and why."""
    if staff_ids:
        audit.record("view", "Staff", None, rows=len(staff_ids), detail=str(detail), after={"ids": list(staff_ids)})


@operation
def read_detail(session, scope: S.Scope, staff_id: Any, reading=None, options: tuple = ()):
    """A person's full record, the read audited (SPEC §8).

    With ``reading`` (a function of the person), returns what it reads, computed before
    the audit row is committed (the commit expires the person and would make every
    later attribute access reload it); ``options`` load what it reads with the person."""
    person = S.get_or_404(session, Staff, staff_id, scope, options)
    result = reading(person) if reading else person
    audit.record("view", "Staff", person.id, detail=person.name)
    return result


RESOURCE_FIELDS = [
    Field("enterprise_id", _("企业编号"), kind="int", required=True, filters=("eq", "in"), list=False, detail=False),
    Field("enterprise_name", _("企业名称"), attr="enterprise.name", form=False),
    Field("name", _("姓名"), required=True, max_length=64, filters=("eq", "ct", "sw"), sortable=True),
    Field("id_type", _("证件类型"), filters=("eq",), list=False),
    Field("id_number", _("证件号码"), required=True, mask="id"),
    Field("phone", _("手机号码"), mask="phone"),
    Field("category", _("人员类别"), filters=("eq",)),
    Field("worker_kind", _("工作人员种类"), filters=("eq",), list=False),
    Field("residence_type", _("居住类型"), filters=("eq",), list=False),
    Field("address", _("居住地址"), max_length=300, list=False),
    Field("extras", _("扩展字段"), kind="json", list=False, detail=False),
]


class StaffService(ModelService):
    """The registry's staff as a declared resource: the duplicate rule, the declared
    extra fields, the keyed ID and phone search and the health keys on every write;
    every read of a person's detail audited."""

    def __init__(self) -> None:
        super().__init__(Staff, RESOURCE_FIELDS, personal=True)

    def keyword_clause(self, keyword: str):
        return keyword_clause(keyword)

    def to_dict(self, row: Staff, *, masked_values: bool = False) -> dict[str, Any]:
        return to_dict(row, masked=masked_values)

    def read(self, session, scope: S.Scope, pk: Any, reading=None):
        return read_detail(session, scope, pk, reading=reading)

    def create(self, session, scope: S.Scope, raw: Mapping[str, Any]) -> Staff:
        return create(session, scope, raw)

    def update(self, session, scope: S.Scope, pk: Any, raw: Mapping[str, Any]) -> Staff:
        return update(session, scope, pk, raw)

    def delete_many(self, session, scope: S.Scope, ids) -> int:
        return delete_many(session, scope, list(ids))

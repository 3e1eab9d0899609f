"""Enterprise types (主体类型): list, create, update, (de)activate, delete — audited.

A type is declarative data (``EnterpriseType.spec``, read by ``app.domain.enterprise_types``).
Saving one takes effect on the next request everywhere — forms, API payloads, templates,
imports, exports: nothing is generated, nothing migrated. Contracts an admin relies on:

* Changing a declaration never rewrites stored rows: the ``extras`` of enterprises and
  staff keep a removed field's values (off forms, templates and exports; the API still
  returns them), also across later edits of those rows (``keep_undeclared``); adding
  the field back with the same key shows them again.
* The code (编码) is fixed once created: integrators send it as ``type_code`` and
  ``?enterprise_type=``. Codes and names are unique, and no code equals another type's
  name (imports name a type by either).
* A type in use can be deactivated (it leaves the choices of new enterprises; its
  enterprises and staff stay); only an unused type can be deleted.

Callers are admin-only views; this module does no row scoping.
:raise ValidationFailed: a bad payload or declaration (400, nothing saved).
:raise Conflict: duplicate code or name; deleting a type in use (409).
:raise OutOfScope: unknown id (404).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Optional

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import object_session

from app.domain.enterprise_types import TypeDecl, parse_declaration
from app.domain.errors import Conflict, OutOfScope, RuleError, ValidationFailed
from app.domain.fields import Field, row_id, row_ids, single_line
from app.domain.i18n import _
from app.platform import audit
from app.platform.operations import operation
from app.services.resources import ModelService
from app.services.sheet_specs import enterprise_spec, extra_key, staff_spec
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.organisations import Bureau

ENTITY = "EnterpriseType"
AUDIT_FIELDS = ["code", "name", "bureau_id", "active", "spec"]
CODE_RE = re.compile(r"^[a-z][a-z0-9_]{1,31}$")
LISTS = {"categories": _("人员类别"), "worker_kinds": _("工作人员种类"), "residence_types": _("居住类型")}
FIELD_LISTS = {"enterprise_fields": _("企业扩展字段"), "staff_fields": _("人员扩展字段")}
MAX_ITEMS, MAX_ITEM_LEN, MAX_FIELDS, MAX_LABEL_LEN, MAX_CHOICES = 100, 64, 50, 32, 500
TRUE = {"1", "true", "on", "yes", "y", "是"}


def enterprise_counts(session) -> dict[int, int]:
    """type id → number of enterprises of that type."""
    stmt = select(Enterprise.type_id, func.count(Enterprise.id)).group_by(Enterprise.type_id)
    return {type_id: n for type_id, n in session.execute(stmt)}


def list_types(session) -> list[tuple[EnterpriseType, int]]:
    """Every type (active first, then by id) with its enterprise count."""
    counts = enterprise_counts(session)
    types = session.execute(select(EnterpriseType).order_by(EnterpriseType.active.desc(), EnterpriseType.id)).scalars()
    return [(t, counts.get(t.id, 0)) for t in types]


def get(session, type_id: Any) -> EnterpriseType:
    wanted = row_id(type_id)
    etype = session.get(EnterpriseType, wanted) if wanted is not None else None
    if etype is None:
        raise OutOfScope(ENTITY, type_id)
    return etype


def to_dict(etype: EnterpriseType, enterprises: Optional[int] = None) -> dict[str, Any]:
    out = {
        "id": etype.id, "code": etype.code, "name": etype.name, "active": etype.active,
        "bureau": etype.bureau.code if etype.bureau else None,
        "bureau_id": etype.bureau_id, "bureau_name": etype.bureau.name if etype.bureau else None,
        "spec": parse_declaration(etype.spec).to_dict(),
    }
    if enterprises is not None:
        out["enterprises"] = enterprises
    return out


def keep_undeclared(old: Optional[Mapping[str, Any]], new: Mapping[str, Any], fields) -> dict[str, Any]:
    """Extras to store on an edit: the cleaned ``new`` values of the declared ``fields``
    plus the stored values of keys no longer declared (a removed field keeps its data)."""
    declared = {f.key for f in fields}
    return {**{k: v for k, v in (old or {}).items() if k not in declared}, **new}


def as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE


def _payload(raw: Mapping[str, Any], current: Optional[EnterpriseType]) -> dict[str, Any]:
    """The full payload: ``raw`` over the current values (partial updates); a nested
    ``spec`` object and top-level declaration keys are both accepted."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed([RuleError("spec", _("主体类型声明格式不正确"))])
    base: dict[str, Any] = {}
    if current is not None:
        base = {"code": current.code, "name": current.name, "bureau_id": current.bureau_id,
                "active": current.active, **parse_declaration(current.spec).to_dict()}
    spec = raw.get("spec")
    if spec is not None and not isinstance(spec, Mapping):
        raise ValidationFailed([RuleError("spec", _("主体类型声明格式不正确"))])
    merged = {**base, **(spec or {}), **{k: v for k, v in raw.items() if k != "spec"}}
    if "bureau" in raw:
        merged.pop("bureau_id", None)
    return merged


def _text(raw, key, label, max_len, errors) -> str:
    value = raw.get(key)
    text = "" if value is None else single_line(value)
    if not text:
        errors.append(RuleError(key, _("“%(label)s”为必填项", label=label)))
    elif len(text) > max_len:
        errors.append(RuleError(key, _("“%(label)s”不能超过 %(n)d 个字", label=label, n=max_len)))
    return text


def _bureau(session, raw, errors) -> Optional[int]:
    wanted = raw.get("bureau", raw.get("bureau_id"))
    text = "" if wanted is None else str(wanted).strip()
    if not text:
        errors.append(RuleError("bureau", _("请选择主管部门")))
        return None
    clauses = [Bureau.code == text, Bureau.name == text] + ([Bureau.id == row_id(text)] if row_id(text) else [])
    bureau = session.execute(select(Bureau).where(or_(*clauses))).scalars().first()
    if bureau is None:
        errors.append(RuleError("bureau", _("主管部门不存在：%(name)s", name=text)))
        return None
    return bureau.id


def _check_list(raw, key, errors) -> None:
    value = raw.get(key)
    if not (value is None or isinstance(value, str) or (
            isinstance(value, (list, tuple)) and all(isinstance(v, (str, int, float)) for v in value))):
        errors.append(RuleError(key, _("%(what)s格式不正确：请每行填写一项", what=LISTS[key])))
        return
    items = parse_declaration({key: value}).to_dict()[key]
    if len(items) > MAX_ITEMS:
        errors.append(RuleError(key, _("%(what)s最多 %(n)d 项", what=LISTS[key], n=MAX_ITEMS)))
    for item in (i for i in items if len(i) > MAX_ITEM_LEN):
        errors.append(RuleError(key, _("%(what)s“%(item)s”不能超过 %(n)d 个字", what=LISTS[key], item=item[:20],
                                       n=MAX_ITEM_LEN)))


def _field_rows(rows: Any, what) -> list[dict[str, Any]]:
    """Extra-field rows as the declaration expects them; blank rows dropped.
    :raise RuleError: not a list of objects."""
    if rows in (None, ""):
        return []
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, Mapping) for r in rows):
        raise RuleError("", _("%(what)s格式不正确", what=what))
    out = []
    for row in rows:
        key, label = str(row.get("key") or "").strip(), str(row.get("label") or "").strip()
        choices = row.get("choices")
        if not key and not label and not choices:
            continue
        kind = str(row.get("kind") or "text").strip()
        if not isinstance(choices, (list, tuple, str, type(None))):
            raise RuleError("", _("%(what)s“%(label)s”的选项格式不正确", what=what, label=label or key))
        out.append({"key": key, "label": label, "kind": kind, "required": as_bool(row.get("required")),
                    "choices": choices if kind == "choice" else None})
    return out


def _check_fields(raw, key, errors) -> list[dict[str, Any]]:
    """Validate one side's extra fields through ``parse_declaration``; errors are put
    on ``key`` and say which side and which field."""
    what = FIELD_LISTS[key]
    try:
        rows = _field_rows(raw.get(key), what)
        if len(rows) > MAX_FIELDS:
            raise RuleError("", _("%(what)s最多 %(n)d 个", what=what, n=MAX_FIELDS))
        seen: set[str] = set()
        for row in rows:
            if row["key"] in seen:
                raise RuleError("", _("字段标识“%(key)s”重复：同一类型的扩展字段标识不能重复", key=row["key"]))
            seen.add(row["key"])
        fields = getattr(parse_declaration({key: rows}), key)
    except RuleError as err:
        errors.append(RuleError(key, _("%(what)s：%(message)s", what=what, message=err.message)))
        return []
    for f in fields:
        if len(f.label) > MAX_LABEL_LEN:
            errors.append(RuleError(key, _("%(what)s：字段名称“%(label)s”不能超过 %(n)d 个字",
                                           what=what, label=f.label[:20], n=MAX_LABEL_LEN)))
        if len(f.choices) > MAX_CHOICES or any(len(c) > 100 for c in f.choices):
            errors.append(RuleError(key, _("%(what)s：字段“%(label)s”的选项过多或过长", what=what, label=f.label)))
    return [f.to_dict() for f in fields]


def _check_columns(decl: TypeDecl, errors) -> None:
    """Extra labels become spreadsheet headers: each must name its own column only."""
    full = TypeDecl(categories=("-",), worker_kinds=("-",), residence_types=("-",),
                    enterprise_fields=decl.enterprise_fields, staff_fields=decl.staff_fields)
    for key, spec, fields in (("enterprise_fields", enterprise_spec(full, "-"), decl.enterprise_fields),
                              ("staff_fields", staff_spec(full), decl.staff_fields)):
        for f in fields:
            if spec.match(f.label) != extra_key(f.key):
                errors.append(RuleError(key, _("%(what)s：字段名称“%(label)s”与其他列重名，导入时无法区分",
                                               what=FIELD_LISTS[key], label=f.label)))


def validate(session, raw: Mapping[str, Any], current: Optional[EnterpriseType] = None) -> dict[str, Any]:
    """Model values of a payload, all errors at once. :raise ValidationFailed, Conflict:"""
    data = _payload(raw, current)
    errors: list[RuleError] = []
    code = _text(data, "code", _("编码"), 32, errors)
    if code and not CODE_RE.match(code):
        errors.append(RuleError("code", _("编码应以小写字母开头，只含小写字母、数字和下划线，2–32 位")))
    if current is not None and code and code != current.code:
        errors.append(RuleError("code", _("主体类型编码创建后不能修改")))
    name = _text(data, "name", _("类型名称"), 64, errors)
    bureau_id = _bureau(session, data, errors)
    for key in LISTS:
        _check_list(data, key, errors)
    spec = {key: _check_fields(data, key, errors) for key in FIELD_LISTS}
    if errors:
        raise ValidationFailed(errors)
    decl = parse_declaration({**{k: data.get(k) for k in LISTS}, **spec})
    _check_columns(decl, errors)
    if errors:
        raise ValidationFailed(errors)
    _check_unique(session, code, name, current)
    return {"code": code, "name": name, "bureau_id": bureau_id,
            "active": as_bool(data.get("active", True)), "spec": decl.to_dict()}


def _check_unique(session, code: str, name: str, current: Optional[EnterpriseType]) -> None:
    others = select(EnterpriseType)
    if current is not None:
        others = others.where(EnterpriseType.id != current.id)
    for etype in session.execute(others.where(or_(
            EnterpriseType.code.in_([code, name]), EnterpriseType.name.in_([code, name])))).scalars():
        if code in (etype.code, etype.name):
            raise Conflict(_("主体类型编码“%(code)s”已存在", code=code),
                           [RuleError("code", _("主体类型编码“%(code)s”已存在", code=code))])
        raise Conflict(_("主体类型名称“%(name)s”已存在", name=name),
                       [RuleError("name", _("主体类型名称“%(name)s”已存在", name=name))])


def _flush(session) -> None:
    try:
        session.flush()
    except IntegrityError:  # a concurrent save of the same code or name (the operation rolls back)
        raise Conflict(_("主体类型编码或名称已存在")) from None


@operation
def create(session, raw: Mapping[str, Any]) -> EnterpriseType:
    values = validate(session, raw)
    etype = EnterpriseType(**values)
    session.add(etype)
    _flush(session)
    audit.record("create", ENTITY, etype.id, after=audit.snapshot(etype, AUDIT_FIELDS))
    return etype


@operation
def update(session, type_id: Any, raw: Mapping[str, Any]) -> EnterpriseType:
    """Change a type (partial payloads keep the other values). Stored extras are kept."""
    etype = get(session, type_id)
    before = audit.snapshot(etype, AUDIT_FIELDS)
    for key, value in validate(session, raw, current=etype).items():
        setattr(etype, key, value)
    _flush(session)
    audit.record("update", ENTITY, etype.id, before=before, after=audit.snapshot(etype, AUDIT_FIELDS))
    return etype


@operation
def set_active(session, type_id: Any, active: bool) -> EnterpriseType:
    """Deactivate (停用) or re-activate a type; its enterprises and staff are untouched."""
    etype = get(session, type_id)
    before = audit.snapshot(etype, AUDIT_FIELDS)
    etype.active = bool(active)
    _flush(session)
    audit.record("activate" if active else "deactivate", ENTITY, etype.id,
                 before=before, after=audit.snapshot(etype, AUDIT_FIELDS))
    return etype


@operation
def delete(session, type_id: Any) -> None:
    """Delete an unused type. :raise Conflict: enterprises use it (deactivate instead)."""
    etype = get(session, type_id)
    used = session.execute(select(func.count(Enterprise.id)).where(Enterprise.type_id == etype.id)).scalar_one()
    if used:
        raise Conflict(_("主体类型“%(name)s”已有 %(n)d 家企业使用，不能删除，可以停用", name=etype.name, n=used))
    audit.record("delete", ENTITY, etype.id, before=audit.snapshot(etype, AUDIT_FIELDS))
    session.delete(etype)
    _flush(session)


FIELDS = [
    Field("code", _("编码"), required=True, max_length=32, filters=("eq",), sortable=True, create_only=True),
    Field("name", _("名称"), required=True, max_length=64, search=True, filters=("eq", "ct"), sortable=True),
    Field("bureau", _("主管部门编码"), attr="bureau.code", list=False),
    Field("bureau_name", _("主管部门"), attr="bureau.name", form=False),
    Field("bureau_id", _("主管部门编号"), kind="int", filters=("eq",), list=False, detail=False, form=False),
    Field("active", _("启用"), kind="bool", default=True, filters=("eq",)),
    Field("enterprises", _("企业数量"), kind="int", form=False, list=False, detail=False),
    Field("spec", _("声明"), kind="json", list=False, detail=False),
]


class EnterpriseTypeService(ModelService):
    """主体类型 as a declared resource: the declaration rules of this module on every
    write (admin only; no row scoping: the permission guards them)."""

    def __init__(self) -> None:
        super().__init__(EnterpriseType, FIELDS, entity=ENTITY,
                         default_order=(EnterpriseType.active.desc(), EnterpriseType.id))

    def input_fields(self) -> list[Field]:
        return [f for f in FIELDS if f.key in ("code", "name", "bureau", "active", "spec")]

    def to_dict(self, row: EnterpriseType, *, masked_values: bool = False) -> dict[str, Any]:
        return to_dict(row, enterprise_counts(object_session(row)).get(row.id, 0))

    def create(self, session, scope, raw: Mapping[str, Any]) -> EnterpriseType:
        return create(session, raw)

    def update(self, session, scope, pk: Any, raw: Mapping[str, Any]) -> EnterpriseType:
        return update(session, pk, raw)

    @operation
    def delete_many(self, session, scope, ids) -> int:
        wanted = sorted(row_ids(ids))
        for type_id in wanted:
            delete(session, type_id)
        return len(wanted)

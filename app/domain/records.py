"""Cleaning of enterprise and staff payloads: one set of rules for forms, API and import.

Each ``clean_*`` returns ``(clean_values, errors)``; callers decide whether errors
are a 400, a form message or a row in the failure workbook.
"""
from __future__ import annotations

from typing import Any, Mapping

from app.domain import identity
from app.domain.enterprise_types import TypeDecl, check_choice, clean_extras
from app.domain.errors import RuleError
from app.domain.fields import single_line
from app.domain.i18n import _

LABELS = {
    "name": _("主体名称"),
    "address": _("主体地址"),
    "head_name": _("负责人姓名"),
    "head_phone": _("负责人电话"),
    "credit_code": _("统一社会信用代码"),
    "town": _("所属镇街"),
    "type_code": _("主体类型"),
    "staff_name": _("姓名"),
    "id_type": _("证件类型"),
    "id_number": _("证件号码"),
    "phone": _("手机号码"),
    "category": _("人员类别"),
    "worker_kind": _("工作人员种类"),
    "residence_type": _("居住类型"),
    "staff_address": _("居住地址"),
}


def _text(raw: Mapping[str, Any], key: str, label, *, required: bool, max_len: int, errors: list) -> str | None:
    value = raw.get(key)
    text = "" if value is None else single_line(value)
    if not text:
        if required:
            errors.append(RuleError(key, _("“%(label)s”为必填项", label=label)))
        return None
    if len(text) > max_len:
        errors.append(RuleError(key, _("“%(label)s”不能超过%(n)d个字", label=label, n=max_len)))
        return None
    return text


def _apply(errors: list, key: str, fn, *args):
    try:
        return fn(*args)
    except RuleError as err:
        errors.append(RuleError(key, err.message))
        return None


def clean_enterprise(raw: Mapping[str, Any], decl: TypeDecl) -> tuple[dict[str, Any], list[RuleError]]:
    """Values of an enterprise (town, grid and type are resolved by the caller)."""
    errors: list[RuleError] = []
    out: dict[str, Any] = {
        "name": _text(raw, "name", LABELS["name"], required=True, max_len=200, errors=errors),
        "address": _text(raw, "address", LABELS["address"], required=True, max_len=300, errors=errors),
        "head_name": _text(raw, "head_name", LABELS["head_name"], required=True, max_len=64, errors=errors),
    }
    if raw.get("head_phone") in (None, ""):
        errors.append(RuleError("head_phone", _("“%(label)s”为必填项", label=LABELS["head_phone"])))
    else:
        out["head_phone"] = _apply(errors, "head_phone", identity.normalize_phone, raw.get("head_phone"))
    out["credit_code"] = _apply(errors, "credit_code", identity.validate_credit_code, raw.get("credit_code"))
    extras, extra_errors = clean_extras(decl.enterprise_fields, raw.get("extras"))
    out["extras"] = extras
    errors.extend(extra_errors)
    return out, errors


def clean_staff(raw: Mapping[str, Any], decl: TypeDecl) -> tuple[dict[str, Any], list[RuleError]]:
    """Values of a staff member: ID and phone normalised, choices from the type."""
    errors: list[RuleError] = []
    out: dict[str, Any] = {
        "name": _text(raw, "name", LABELS["staff_name"], required=True, max_len=64, errors=errors),
        "address": _text(raw, "address", LABELS["staff_address"], required=False, max_len=300, errors=errors),
    }
    id_type = _apply(errors, "id_type", identity.normalize_id_type, raw.get("id_type"))
    out["id_type"] = id_type
    number = _apply(errors, "id_number", identity.normalize_id_number, raw.get("id_number"))
    if number is not None and id_type is not None:
        number = _apply(errors, "id_number", identity.check_id_number, id_type, number)
    out["id_number"] = number
    out["phone"] = _apply(errors, "phone", identity.normalize_phone, raw.get("phone"))
    for key, choices in (
        ("category", decl.categories),
        ("worker_kind", decl.worker_kinds),
        ("residence_type", decl.residence_types),
    ):
        out[key] = _apply(errors, key, check_choice, raw.get(key), choices, key, LABELS[key])
    extras, extra_errors = clean_extras(decl.staff_fields, raw.get("extras"))
    out["extras"] = extras
    errors.extend(extra_errors)
    return out, errors

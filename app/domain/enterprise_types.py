"""Enterprise-type declarations (主体类型) read from data, validated, and applied.

A declaration is a plain dict (stored as JSON on ``EnterpriseType.spec`` and shipped
in ``data/enterprise_types.json``)::

    {"categories": ["高风险人员", "管理人员"],
     "worker_kinds": ["拆件或装卸等人员"],
     "residence_types": ["工地集中居住"],
     "enterprise_fields": [{"key": "port", "label": "口岸名称", "kind": "choice",
                            "required": true, "choices": ["南沙港", "…"]}],
     "staff_fields": [{"key": "plate", "label": "车牌号", "kind": "text"}]}
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Mapping

from app.domain.errors import RuleError
from app.domain.fields import single_line
from app.domain.i18n import _

KINDS = ("text", "number", "date", "choice")
_KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,31}$")


@dataclass(frozen=True)
class FieldDecl:
    key: str
    label: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    # a number field: whole numbers only, and the range allowed (None: unbounded)
    whole: bool = False
    min: int | None = None
    max: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "label": self.label, "kind": self.kind, "required": self.required}
        if self.choices:
            out["choices"] = list(self.choices)
        if self.whole:
            out["whole"] = True
        out.update({k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None})
        return out


@dataclass(frozen=True)
class TypeDecl:
    categories: tuple[str, ...] = ()
    worker_kinds: tuple[str, ...] = ()
    residence_types: tuple[str, ...] = ()
    enterprise_fields: tuple[FieldDecl, ...] = ()
    staff_fields: tuple[FieldDecl, ...] = field(default_factory=tuple)

    def to_dict(self) -> dict[str, Any]:
        return {
            "categories": list(self.categories),
            "worker_kinds": list(self.worker_kinds),
            "residence_types": list(self.residence_types),
            "enterprise_fields": [f.to_dict() for f in self.enterprise_fields],
            "staff_fields": [f.to_dict() for f in self.staff_fields],
        }


def _strings(raw: Any, what: str) -> tuple[str, ...]:
    if raw in (None, ""):
        return ()
    if isinstance(raw, str):
        raw = re.split(r"[,，、\n]", raw)
    if not isinstance(raw, (list, tuple)):
        raise RuleError(what, _("%(what)s应为文字列表", what=what))
    values = tuple(dict.fromkeys(single_line(v) for v in raw if single_line(v)))
    return values


def _field(raw: Mapping[str, Any], reserved: set[str]) -> FieldDecl:
    key = str(raw.get("key", "")).strip()
    label = single_line(raw.get("label", ""))
    kind = str(raw.get("kind", "text")).strip() or "text"
    if not _KEY_RE.match(key):
        raise RuleError("spec", _("字段标识“%(key)s”不正确：应以小写字母开头，只含小写字母、数字和下划线", key=key))
    if key in reserved:
        raise RuleError("spec", _("字段标识“%(key)s”与内置字段重复", key=key))
    if not label:
        raise RuleError("spec", _("字段“%(key)s”缺少名称", key=key))
    if kind not in KINDS:
        raise RuleError("spec", _("字段“%(label)s”的类型不正确", label=label))
    choices = _strings(raw.get("choices"), "choices")
    if kind == "choice" and not choices:
        raise RuleError("spec", _("选择类字段“%(label)s”需要至少一个选项", label=label))
    bounds = [_bound(raw.get(k), label) if kind == "number" else None for k in ("min", "max")]
    if None not in bounds and bounds[0] > bounds[1]:
        raise RuleError("spec", _("字段“%(label)s”的最小值不能大于最大值", label=label))
    return FieldDecl(key, label, kind, bool(raw.get("required", False)), choices,
                     whole=kind == "number" and bool(raw.get("whole", False)), min=bounds[0], max=bounds[1])


def _bound(raw: Any, label: str) -> int | None:
    if raw in (None, ""):
        return None
    if isinstance(raw, bool) or not isinstance(raw, int):
        raise RuleError("spec", _("字段“%(label)s”的取值范围应为整数", label=label))
    return raw


ENTERPRISE_BUILTIN = {"name", "type_code", "town", "grid", "address", "head_name", "head_phone", "credit_code", "extras"}
STAFF_BUILTIN = {
    "enterprise_id", "name", "id_type", "id_number", "phone", "category", "worker_kind",
    "residence_type", "address", "extras",
}


def parse_declaration(raw: Mapping[str, Any] | None) -> TypeDecl:
    """Validate a declaration an admin typed or a file shipped. Raises RuleError."""
    raw = raw or {}
    fields_e = tuple(_field(f, ENTERPRISE_BUILTIN) for f in raw.get("enterprise_fields") or [])
    fields_s = tuple(_field(f, STAFF_BUILTIN) for f in raw.get("staff_fields") or [])
    for fields in (fields_e, fields_s):
        keys = [f.key for f in fields]
        if len(keys) != len(set(keys)):
            raise RuleError("spec", _("扩展字段标识不能重复"))
    return TypeDecl(
        categories=_strings(raw.get("categories"), "categories"),
        worker_kinds=_strings(raw.get("worker_kinds"), "worker_kinds"),
        residence_types=_strings(raw.get("residence_types"), "residence_types"),
        enterprise_fields=fields_e,
        staff_fields=fields_s,
    )


def _in_range(decl: FieldDecl, number: float) -> int | float:
    """``number`` as the declaration allows it: whole when declared so, within its range."""
    if decl.whole and not number.is_integer():
        raise RuleError(decl.key, _("“%(label)s”应为整数", label=decl.label))
    low = decl.min if decl.min is not None else -math.inf
    high = decl.max if decl.max is not None else math.inf
    if not low <= number <= high:
        if decl.min is not None and decl.max is not None:
            raise RuleError(decl.key, _("“%(label)s”应在 %(min)s 到 %(max)s 之间", label=decl.label,
                                        min=decl.min, max=decl.max))
        if decl.min is not None:
            raise RuleError(decl.key, _("“%(label)s”不能小于 %(min)s", label=decl.label, min=decl.min))
        raise RuleError(decl.key, _("“%(label)s”不能大于 %(max)s", label=decl.label, max=decl.max))
    return int(number) if number.is_integer() else number


def _coerce(decl: FieldDecl, value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
    if value in (None, ""):
        if decl.required:
            raise RuleError(decl.key, _("“%(label)s”为必填项", label=decl.label))
        return None
    if decl.kind == "number":
        try:
            number = float(str(value).replace(",", ""))
        except ValueError:
            raise RuleError(decl.key, _("“%(label)s”应为数字", label=decl.label))
        if not math.isfinite(number):  # "nan", "inf": not numbers a user means (nor valid JSON)
            raise RuleError(decl.key, _("“%(label)s”应为数字", label=decl.label))
        return _in_range(decl, number)
    if decl.kind == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        text = str(value).strip().replace("/", "-").replace(".", "-")
        try:
            return date.fromisoformat(text[:10]).isoformat()
        except ValueError:
            raise RuleError(decl.key, _("“%(label)s”应为日期，如 2022-06-01", label=decl.label))
    text = str(value)
    if decl.kind == "choice" and text not in decl.choices:
        raise RuleError(decl.key, _("“%(label)s”只能是：%(choices)s", label=decl.label, choices="、".join(decl.choices)))
    if len(text) > 500:
        raise RuleError(decl.key, _("“%(label)s”过长", label=decl.label))
    return text


def clean_extras(fields: Iterable[FieldDecl], raw: Mapping[str, Any] | None) -> tuple[dict[str, Any], list[RuleError]]:
    """Validate extra values against their declarations; unknown keys are dropped."""
    raw = raw or {}
    out: dict[str, Any] = {}
    errors: list[RuleError] = []
    for decl in fields:
        try:
            value = _coerce(decl, raw.get(decl.key))
        except RuleError as err:
            errors.append(err)
            continue
        if value is not None:
            out[decl.key] = value
    return out, errors


def check_choice(value: Any, choices: tuple[str, ...], key: str, label: str) -> str | None:
    """A value from a declared list (categories, worker kinds, residence types)."""
    text = "" if value is None else str(value).strip()
    if not text:
        return None
    if choices and text not in choices:
        raise RuleError(key, _("“%(label)s”只能是：%(choices)s", label=label, choices="、".join(choices)))
    return text

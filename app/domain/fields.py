"""Declared fields of a resource, and the pure rules that clean their values.

A resource (views/resources.py) is a model plus a list of :class:`Field`. The same
declaration gives the list columns, the detail page, the forms, the API's JSON and its
OpenAPI schema, the keyword search, the filters and sorting the list accepts, the
export's columns and which values are personal (masked in lists and for roles without
the personal-data permission).

:func:`clean_record` turns raw input (a form or a JSON body) into typed values, with
every error at once as :class:`RuleError` (field key + Chinese message). No app needed.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence, Union

from app.domain.errors import RuleError
from app.domain.i18n import _

KINDS = ("text", "textarea", "int", "bool", "date", "datetime", "choice", "lines", "json")
# Operators of the list filters, with Flask-AppBuilder's rison names.
OPERATORS = ("eq", "neq", "ct", "sw", "gt", "lt", "in")
TRUE_WORDS = {"1", "true", "yes", "on", "是", "y"}
FALSE_WORDS = {"0", "false", "no", "off", "否", "n", ""}
# Every integer column (row ids included) is a 32-bit INTEGER: a value outside cannot be
# stored or looked up (SQLite overflows past 64 bits, PostgreSQL past 32 when stored)
INT_MIN, INT_MAX = -(2 ** 31), 2 ** 31 - 1
_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")  # line breaks, tabs, other control characters


def single_line(raw: Any) -> str:
    """The text of a one-line value (a name, an address), trimmed: a line break, tab or
    other control character pasted with it (from an Excel cell) becomes one space.
    It would end up in file names and HTTP headers (a type's template) and in the names
    an import matches by."""
    return _BREAKS.sub(" ", str(raw)).strip()


def row_id(value: Any) -> Optional[int]:
    """``value`` (a path's, a form's or a JSON id) as a row id; None when no row can have
    it: not a whole number of ASCII digits (``²`` passes ``str.isdigit``), or outside the
    INTEGER range."""
    if isinstance(value, bool):
        return None
    text = str(value).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10):
        return None
    number = int(text)
    return number if 0 < number <= INT_MAX else None


def row_ids(values: Iterable[Any]) -> set[int]:
    """The row ids among ``values`` (posted checkboxes, a JSON list); the others dropped."""
    return {number for number in map(row_id, values) if number is not None}

Choices = Union[Sequence[Any], Callable[[], Sequence[Any]], None]


@dataclass(frozen=True)
class Field:
    """One field of a declared resource.

    ``key`` is the JSON name and, unless ``attr`` says otherwise, the model attribute
    (``attr`` may be dotted, e.g. ``"town.name"``, for a read-only display value).
    ``choices`` are values, ``(value, label)`` pairs, or a function returning them.
    ``mask`` ('id' or 'phone') marks personal data. ``filters`` are the operators the
    list accepts on this field; ``search`` puts it in the keyword search. ``list``,
    ``detail``, ``form`` and ``output`` say where it appears (pages, forms, the API's JSON).
    ``verbatim``: the value is content kept as it was written or sent (a message's text, a
    provider's error), not UI: pages show it as it is, marked ``translate="no"``.
    """

    key: str
    label: Any
    kind: str = "text"
    required: bool = False
    max_length: Optional[int] = None
    minimum: Optional[int] = None
    maximum: Optional[int] = None
    choices: Choices = None
    description: Any = None
    attr: Optional[str] = None
    list: bool = True
    detail: bool = True
    form: bool = True
    output: bool = True  # in the API's answers (False: a filter-only key such as town_id)
    create_only: bool = False
    search: bool = False
    filters: tuple[str, ...] = ()
    sortable: bool = False
    mask: Optional[str] = None
    verbatim: bool = False
    default: Any = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"field {self.key}: unknown kind {self.kind!r}")
        unknown = set(self.filters) - set(OPERATORS)
        if unknown:
            raise ValueError(f"field {self.key}: unknown filter operators {sorted(unknown)}")

    @property
    def source(self) -> str:
        return self.attr or self.key

    @property
    def writable(self) -> bool:
        return self.form and not (self.attr and "." in self.attr)

    def choice_pairs(self) -> list[tuple[Any, Any]]:
        """``[(value, label)]`` of a choice field."""
        raw = self.choices() if callable(self.choices) else (self.choices or ())
        return [tuple(c) if isinstance(c, (tuple, list)) else (c, c) for c in raw]


def _required(f: Field) -> RuleError:
    return RuleError(f.key, _("“%(label)s”不能为空", label=f.label))


def _bad(f: Field) -> RuleError:
    return RuleError(f.key, _("“%(label)s”格式不正确", label=f.label))


def _blank(raw: Any) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip()) or raw == []


def clean_value(f: Field, raw: Any) -> Any:
    """The typed value of ``raw`` for ``f``; None for a blank optional value.

    :raise RuleError: required and blank, wrong type, out of range, too long, not a choice.
    """
    if _blank(raw) and f.kind != "bool":
        if f.required:
            raise _required(f)
        return [] if f.kind == "lines" else None
    kind = f.kind
    if kind in ("text", "textarea"):
        if not isinstance(raw, (str, int, float)) or isinstance(raw, bool):
            raise _bad(f)
        value = single_line(raw) if kind == "text" else str(raw).strip()
        if f.max_length and len(value) > f.max_length:
            raise RuleError(f.key, _("“%(label)s”不能超过%(n)d个字", label=f.label, n=f.max_length))
        return value
    if kind == "int":
        return _clean_int(f, raw)
    if kind == "bool":
        return _clean_bool(f, raw)
    if kind == "date":
        return _clean_date(f, raw)
    if kind == "datetime":
        return _clean_datetime(f, raw)
    if kind == "choice":
        allowed = [value for value, _label in f.choice_pairs()]
        for value in allowed:
            if raw == value or str(raw).strip() == str(value):
                return value
        raise RuleError(f.key, _("“%(label)s”的取值不在可选范围内", label=f.label))
    if kind == "lines":
        items = raw.splitlines() if isinstance(raw, str) else raw
        if not isinstance(items, (list, tuple)) or not all(isinstance(i, str) for i in items):
            raise _bad(f)
        return [i.strip() for i in items if i.strip()]
    # json
    if isinstance(raw, str):
        try:
            return json.loads(raw)
        except ValueError:
            raise _bad(f) from None
    return raw


def _clean_int(f: Field, raw: Any) -> int:
    if isinstance(raw, bool):
        raise _bad(f)
    try:
        value = int(str(raw).strip()) if not isinstance(raw, int) else raw
    except ValueError:
        raise RuleError(f.key, _("“%(label)s”应为整数", label=f.label)) from None
    if f.minimum is not None and value < f.minimum:
        raise RuleError(f.key, _("“%(label)s”不能小于%(n)d", label=f.label, n=f.minimum))
    if f.maximum is not None and value > f.maximum:
        raise RuleError(f.key, _("“%(label)s”不能大于%(n)d", label=f.label, n=f.maximum))
    if not INT_MIN <= value <= INT_MAX:
        raise RuleError(f.key, _("“%(label)s”超出范围", label=f.label))
    return value


def _clean_bool(f: Field, raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if raw is None:
        return bool(f.default)
    word = str(raw).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise _bad(f)


def _clean_date(f: Field, raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw).strip()[:10])
    except ValueError:
        raise RuleError(f.key, _("“%(label)s”应为日期，如 2022-04-20", label=f.label)) from None


def _clean_datetime(f: Field, raw: Any) -> datetime:
    if isinstance(raw, datetime):
        return raw
    try:
        return datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise RuleError(f.key, _("“%(label)s”应为时间，如 2022-04-20 12:00", label=f.label)) from None


def clean_record(fields: Iterable[Field], raw: Mapping[str, Any], *, partial: bool = False,
                 creating: bool = True) -> tuple[dict[str, Any], list[RuleError]]:
    """Typed values of the writable ``fields`` found in ``raw``, and every error.

    ``partial`` (an update): keys absent from ``raw`` are left out, not blanked.
    ``creating`` False: ``create_only`` fields are ignored (they cannot change).
    """
    values: dict[str, Any] = {}
    errors: list[RuleError] = []
    for f in fields:
        if not f.writable or (f.create_only and not creating):
            continue
        if f.key not in raw:
            if partial:
                continue
            if f.kind == "bool":
                values[f.key] = bool(f.default)
                continue
        try:
            values[f.key] = clean_value(f, raw.get(f.key, f.default))
        except RuleError as err:
            errors.append(err)
    return values, errors


def coerce_filter_value(f: Field, operator: str, raw: Any) -> Any:
    """A list filter's value typed like the field (``in`` takes a list).

    :raise RuleError: the value cannot be read as the field's type.
    """
    if operator == "in":
        items = raw if isinstance(raw, (list, tuple)) else [raw]
        return [coerce_filter_value(f, "eq", item) for item in items]
    if f.kind in ("int", "bool", "date", "datetime"):
        probe = Field(f.key, f.label, kind=f.kind, minimum=None, maximum=None)
        return clean_value(probe, raw)
    if isinstance(raw, (dict, list)):
        raise _bad(f)
    return "" if raw is None else str(raw)

"""What a list asks for: a keyword, filters, an order and a page — in either of the two
forms the API accepts (SPEC §9), both answered ``{"count", "ids", "result"}``:

* plain: ``?q=<keyword>&page=<from 1>&page_size=<n>`` (pages also take ``size``), plus
  ``?<field>=<value>`` for a field declared with the ``eq`` filter;
* Flask-AppBuilder's rison form, which integrators of FAB applications expect:
  ``?q=(filters:!((col:name,opr:ct,value:张)),order_column:name,order_direction:asc,page:0,page_size:100)``
  (``page`` from 0 there, as in FAB).

:func:`parse_list_args` reads either into a :class:`ListQuery` (refusing unknown columns,
operators and values with a Chinese 400); :func:`apply_list_query` turns it into SQL on a
statement that is already scoped.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Optional, Sequence

import prison
from sqlalchemy import ColumnElement, Select, and_, or_

from app.domain.errors import RuleError, ServiceError
from app.domain.fields import Field, coerce_filter_value
from app.domain.i18n import _
from app.services.paging import PAGE_SIZES, clamp_page

RISON_KEYS = {"filters", "order_column", "order_direction", "page", "page_size",
              # accepted and ignored: FAB's column selection and metadata keys
              "columns", "keys", "select_columns"}


@dataclass
class ListQuery:
    keyword: str = ""
    filters: list[tuple[Field, str, Any]] = field(default_factory=list)
    order: Optional[tuple[Field, str]] = None
    page: int = 1  # 1-based
    size: int = 20
    rison: bool = False

    def describe(self) -> dict[str, Any]:
        """The filter as an export's audit row and file name show it."""
        out: dict[str, Any] = {}
        if self.keyword:
            out["q"] = self.keyword
        for f, op, value in self.filters:
            out[f"{f.key}.{op}"] = value
        return out


def _bad(message) -> ServiceError:
    return ServiceError(message)


def _size(raw: Any, max_size: int, *, strict_sizes: bool) -> int:
    try:
        size = int(raw)
    except (TypeError, ValueError):
        return 20
    if strict_sizes:
        return size if size in PAGE_SIZES else 20
    return max(1, min(size, max_size))


def parse_list_args(args: Mapping[str, Any], fields: Sequence[Field], *, max_size: int = 100,
                    strict_sizes: bool = False) -> ListQuery:
    """The list request in ``args`` (request.args). ``strict_sizes``: pages offer
    10/20/50/100 only. :raise ServiceError: a malformed rison ``q``, an unknown column
    or operator, a value of the wrong type (400, Chinese)."""
    by_key = {f.key: f for f in fields}
    raw_q = (args.get("q") or "").strip()
    if raw_q.startswith("("):
        return _parse_rison(raw_q, by_key, max_size)
    query = ListQuery(keyword=raw_q, page=clamp_page(args.get("page")),
                      size=_size(args.get("page_size") or args.get("size") or 20, max_size, strict_sizes=strict_sizes))
    for key, f in by_key.items():
        if "eq" in f.filters and args.get(key) not in (None, ""):
            query.filters.append((f, "eq", _coerce(f, "eq", args.get(key))))
    order = args.get("order_column")
    if order:
        query.order = _order(by_key, order, args.get("order_direction") or "asc")
    return query


def _parse_rison(text: str, by_key: Mapping[str, Field], max_size: int) -> ListQuery:
    try:
        data = prison.loads(text)
    except Exception:  # prison raises plain exceptions of several kinds
        raise _bad(_("查询参数 q 不是有效的 rison 格式")) from None
    if not isinstance(data, dict):
        raise _bad(_("查询参数 q 不是有效的 rison 格式"))
    query = ListQuery(rison=True)
    filters = data.get("filters") or []
    if not isinstance(filters, list):
        raise _bad(_("filters 应为列表"))
    for item in filters:
        if not isinstance(item, dict) or not {"col", "opr"} <= set(item):
            raise _bad(_("每个过滤条件应包含 col、opr 和 value"))
        f = by_key.get(str(item["col"]))
        if f is None or not f.filters:
            raise _bad(_("不能按“%(col)s”过滤", col=item["col"]))
        op = str(item["opr"])
        if op not in f.filters:
            raise _bad(_("“%(col)s”不支持过滤方式 %(opr)s", col=item["col"], opr=op))
        query.filters.append((f, op, _coerce(f, op, item.get("value"))))
    if data.get("order_column"):
        query.order = _order(by_key, data["order_column"], data.get("order_direction") or "asc")
    try:
        query.page = clamp_page(int(data.get("page", 0)) + 1)
        query.size = max(1, min(int(data.get("page_size", 20)), max_size))
    except (TypeError, ValueError, OverflowError):
        raise _bad(_("page 和 page_size 应为整数")) from None
    return query


def _coerce(f: Field, op: str, raw: Any) -> Any:
    try:
        return coerce_filter_value(f, op, raw)
    except RuleError as err:
        raise ServiceError(err.message, [err]) from None


def _order(by_key: Mapping[str, Field], column: Any, direction: Any) -> tuple[Field, str]:
    f = by_key.get(str(column))
    if f is None or not f.sortable:
        raise _bad(_("不能按“%(col)s”排序", col=column))
    direction = str(direction).lower()
    if direction not in ("asc", "desc"):
        raise _bad(_("order_direction 应为 asc 或 desc"))
    return f, direction


def _column(model: type, f: Field):
    return getattr(model, f.source)


def filter_clause(model: type, f: Field, op: str, value: Any) -> ColumnElement[bool]:
    column = _column(model, f)
    if op == "eq":
        return column == value
    if op == "neq":
        return column != value
    if op == "ct":
        return column.contains(value, autoescape=True)
    if op == "sw":
        return column.startswith(value, autoescape=True)
    if op == "gt":
        return column > value
    if op == "lt":
        return column < value
    return column.in_(value)  # "in"


def apply_list_query(stmt: Select, model: type, query: ListQuery, fields: Sequence[Field],
                     keyword: Optional[Callable[[str], ColumnElement[bool]]] = None,
                     default_order: Optional[Sequence] = None) -> Select:
    """``stmt`` (already scoped) narrowed by the keyword and filters, ordered.

    ``keyword``: the resource's own keyword clause; by default the ``search`` fields
    contain the keyword (OR)."""
    if query.keyword:
        if keyword is not None:
            stmt = stmt.where(keyword(query.keyword))
        else:
            searched = [_column(model, f).contains(query.keyword, autoescape=True) for f in fields if f.search]
            if searched:
                stmt = stmt.where(or_(*searched))
    if query.filters:
        stmt = stmt.where(and_(*(filter_clause(model, f, op, value) for f, op, value in query.filters)))
    if query.order is not None:
        f, direction = query.order
        column = _column(model, f)
        stmt = stmt.order_by(column.desc() if direction == "desc" else column.asc(), model.id.desc())
    else:
        stmt = stmt.order_by(*(default_order if default_order is not None else (model.id.desc(),)))
    return stmt

"""The service side of a declared resource: list, read, create, update, delete — scoped,
validated, audited, each write one operation (app/platform/operations.py).

:class:`ModelService` serves any model from its declared fields. A module with rules of
its own subclasses it and overrides the hooks (``validate``, ``before_delete``,
``after_write``, ``keyword_clause``, ``to_dict``) or whole methods; the registry's
enterprises and staff wrap their own services this way. Views call only this
interface, so the pages, the REST API and the export of a resource share every rule.

Who sees what: every read goes through ``app.security.scope`` (a row outside the
caller's scope is :class:`OutOfScope`, a 404); every write is checked with
``scope.check_write`` on the values it would store. Reads of a ``personal`` resource's
detail are audited (SPEC §8).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from sqlalchemy import ColumnElement, Select, delete, select
from sqlalchemy.exc import IntegrityError

from app.platform import audit
from app.platform.clock import to_local
from app.domain.errors import Conflict, ServiceError, ValidationFailed
from app.domain.fields import Field, clean_record, row_ids
from app.domain.i18n import _
from app.domain.identity import mask_id, mask_phone
from app.platform.operations import operation
from app.security import scope as S
from app.services.listing import ListQuery, apply_list_query
from app.services.paging import Page, paginate

MASKS: dict[str, Callable[[Any], Any]] = {"id": mask_id, "phone": mask_phone}


def read_attr(row: Any, path: str) -> Any:
    """``row.a.b`` for ``path`` "a.b" (None when a link is missing); a method named by
    the path's last part is called (``shown_body``: what anyone may read now)."""
    value = row
    for part in path.split("."):
        if value is None:
            return None
        value = getattr(value, part)
    return value() if callable(value) and not isinstance(value, type) else value


def json_value(value: Any) -> Any:
    """A value as the API answers it: times ISO 8601 in district time (with the offset),
    dates ISO 8601; anything else as it is."""
    if isinstance(value, datetime):
        return to_local(value).isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def masked(f: Field, value: Any) -> Any:
    if f.mask and value:
        return MASKS[f.mask](value)
    return value


class ModelService:
    """CRUD of ``model`` through its declared ``fields``.

    ``entity``: the name audit rows carry (default: the model's class name).
    ``personal``: detail reads are audited. ``default_order``: list order when the
    request gives none (default newest first).

    ``output_schemas``: the keys a subclass's :meth:`to_dict` adds beyond the output
    fields, each with its JSON schema (OpenAPI 3.0), so the document declares every
    key the API answers (views/openapi.py ``row_schema``); always present.
    """

    output_schemas: Mapping[str, dict[str, Any]] = {}

    def __init__(self, model: type, fields: Sequence[Field], *, entity: Optional[str] = None,
                 personal: bool = False, default_order: Optional[Sequence] = None) -> None:
        self.model = model
        self.fields = list(fields)
        self.entity = entity or model.__name__
        self.personal = personal
        self.default_order = default_order

    # --- reading ------------------------------------------------------------------

    def base_query(self, scope: S.Scope) -> Select:
        return S.apply(select(self.model), self.model, scope)

    def keyword_clause(self, keyword: str) -> Optional[ColumnElement[bool]]:
        """The keyword search; None: the ``search`` fields contain it (the default)."""
        return None

    def query(self, scope: S.Scope, query: ListQuery) -> Select:
        """The rows of ``scope`` matching the list request, ordered (not paged)."""
        custom = self.keyword_clause(query.keyword) if query.keyword else None
        return apply_list_query(self.base_query(scope), self.model, query, self.fields,
                                keyword=(lambda _kw: custom) if custom is not None else None,
                                default_order=self.default_order)

    def page(self, session, scope: S.Scope, query: ListQuery) -> Page:
        return paginate(session, self.query(scope, query), query.page, query.size)

    def get(self, session, scope: S.Scope, pk: Any):
        """:raise OutOfScope: no such row for this caller (404)."""
        return S.get_or_404(session, self.model, pk, scope)

    @operation
    def read(self, session, scope: S.Scope, pk: Any, reading: Optional[Callable[[Any], Any]] = None):
        """A row's detail (audited for a personal resource); with ``reading`` what it
        reads of the row, computed before the audit row is committed."""
        row = self.get(session, scope, pk)
        result = reading(row) if reading else row
        if self.personal:
            audit.record("view", self.entity, row.id)
        return result

    def input_fields(self) -> list[Field]:
        """What POST/PUT take (the OpenAPI request body): the writable fields."""
        return [f for f in self.fields if f.writable]

    def to_dict(self, row: Any, *, masked_values: bool = False) -> dict[str, Any]:
        out = {"id": row.id}
        for f in self.fields:
            if not f.output:
                continue
            value = read_attr(row, f.source)
            out[f.key] = json_value(masked(f, value) if masked_values else value)
        return out

    # --- writing ------------------------------------------------------------------

    def clean(self, session, raw: Mapping[str, Any], current: Any = None) -> dict[str, Any]:
        """Typed values from ``raw`` (partial for an update). :raise ValidationFailed."""
        if not isinstance(raw, Mapping):
            raise ServiceError(BODY_NOT_OBJECT)
        values, errors = clean_record(self.fields, raw, partial=current is not None, creating=current is None)
        if errors:
            raise ValidationFailed(errors)
        return values

    def validate(self, session, values: dict[str, Any], current: Any = None) -> None:
        """Rules beyond single fields (uniqueness, cross-field); raise a ServiceError."""

    def after_write(self, session, row: Any, action: str) -> None:
        """Called after a create or update is flushed (e.g. caches to refresh)."""

    def before_delete(self, session, rows: list[Any]) -> None:
        """Refuse a delete by raising (e.g. :class:`Conflict` when rows are in use)."""

    def after_delete(self, session, rows: list[Any]) -> None:
        """Called after rows were deleted (e.g. caches to refresh)."""

    def audit_fields(self) -> list[str]:
        return [f.source for f in self.fields if f.writable]

    @operation
    def create(self, session, scope: S.Scope, raw: Mapping[str, Any]):
        """:raise ValidationFailed, Conflict, OutOfScope (values outside the caller's scope)."""
        values = self.clean(session, raw)
        self.validate(session, values)
        S.check_write(session, self.model, values, scope)
        row = self.model(**values)
        session.add(row)
        self._flush(session)
        self.after_write(session, row, "create")
        audit.record("create", self.entity, row.id, after=audit.snapshot(row, self.audit_fields()))
        return row

    @operation
    def update(self, session, scope: S.Scope, pk: Any, raw: Mapping[str, Any]):
        """Partial update. :raise OutOfScope (row or new values), ValidationFailed, Conflict."""
        row = self.get(session, scope, pk)
        before = audit.snapshot(row, self.audit_fields())
        values = self.clean(session, raw, current=row)
        merged = {**{k: getattr(row, k) for k in before}, **values}
        self.validate(session, merged, row)
        S.check_write(session, self.model, merged, scope)
        for key in values:
            setattr(row, key, merged[key])  # as validate() may have normalised it
        self._flush(session)
        self.after_write(session, row, "update")
        audit.record("update", self.entity, row.id, before=before, after=audit.snapshot(row, self.audit_fields()))
        return row

    @operation
    def delete_many(self, session, scope: S.Scope, ids: Iterable[Any]) -> int:
        """Delete the rows among ``ids`` that are in scope; how many. Ids outside the
        scope are skipped as if they did not exist."""
        wanted = row_ids(ids)
        if not wanted:
            return 0
        rows = list(session.execute(self.base_query(scope).where(self.model.id.in_(wanted))).unique().scalars())
        if not rows:
            return 0
        self.before_delete(session, rows)
        for row in rows:
            audit.record("delete", self.entity, row.id, before=audit.snapshot(row, self.audit_fields()))
        try:
            session.execute(delete(self.model).where(self.model.id.in_([r.id for r in rows])))
        except IntegrityError:
            raise Conflict(IN_USE) from None
        self.after_delete(session, rows)
        return len(rows)

    @staticmethod
    def _flush(session) -> None:
        try:
            session.flush()
        except IntegrityError:
            raise Conflict(DUPLICATE) from None


BODY_NOT_OBJECT = _("请求内容应为 JSON 对象")
DUPLICATE = _("数据已存在（编码或名称重复）")
IN_USE = _("数据正在被使用，不能删除")

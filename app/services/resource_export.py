"""导出全部 of a declared resource: every row in the caller's scope matching the list's
filter, as .xlsx, through the registry's streamed writer (text cells for personal and
code columns, formulas neutralised, a choice column's labels as the list shows them), audited with its row count and filter."""
from __future__ import annotations

from typing import Any

from app.domain.fields import Field
from app.platform.operations import operation
from app.security import scope as S
from app.services import exports
from app.services.listing import ListQuery
from app.services.resources import masked, read_attr

BATCH = 2000


def export_fields(fields: list[Field]) -> list[Field]:
    return [f for f in fields if f.detail and f.kind != "json"]


def _cell(f: Field, value: Any, full: bool, labels: dict) -> Any:
    if labels and value in labels:  # a choice column: its label, as the list shows it
        return str(labels[value])
    if isinstance(value, list):
        value = "\n".join(str(v) for v in value)
    return value if full else masked(f, value)


@operation
def export_rows(session, scope: S.Scope, resource: Any, query: ListQuery) -> exports.Export:
    """The resource's rows as an :class:`exports.Export`. Personal values (``mask``
    fields) are masked unless the caller may read full numbers (``scope.full_numbers``)."""
    full = scope.full_numbers
    service = resource.service
    fields = export_fields(service.fields)
    stmt = service.query(scope, query).execution_options(yield_per=BATCH)
    text_columns = [i for i, f in enumerate(fields) if f.mask or f.extra.get("text")]
    labels = [dict(f.choice_pairs()) if f.kind == "choice" else {} for f in fields]

    def rows():
        for row in session.execute(stmt).scalars():
            yield [_cell(f, read_attr(row, f.source), full, labels[i]) for i, f in enumerate(fields)]

    title = str(resource.export_title or resource.title)
    file, count = exports.write_sheet([f.label for f in fields], text_columns, rows(), title)
    exports.audit_export(service.entity, None, count, exports.describe(**query.describe()), full)
    return exports.Export(file, f"{title}_{exports.stamp()}.xlsx", count)

"""Exports of the registry (导出全部, SPEC §2): every row the user sees under the
current filter, as an .xlsx.

Rows come from the same scope-aware statements as the lists (``staff_service.query``,
``enterprise_service.query``), are read in batches (``yield_per``, never all objects
at once) and written by ``app.sheets.writer.ExportWriter`` (XlsxWriter
``constant_memory``: ID and phone cells as text, cells starting with = + - @
neutralised) into an anonymous temporary file. Every export is audited with its
row count, its filter and whether its ID numbers and phones were full or masked
(SPEC §8).

Full ID numbers and phones only go to users whose scope says ``full_numbers``
(app/security/personal_data.py); anyone else — the task force, statistics-only roles
— gets them masked (``mask_id`` / ``mask_phone``) in every column that holds one.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator, Optional

from flask import send_file
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from app.domain.i18n import _
from app.domain.identity import mask_id, mask_phone
from app.domain.redaction import mask_text
from app.platform import audit
from app.platform.clock import district_tz, local_now
from app.platform.operations import operation
from app.security import scope as S
from app.services import enterprises as enterprise_service
from app.services import lookups
from app.services import staff as staff_service
from app.services.health.status import lookup as health_status
from app.sheets.writer import ExportWriter
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.regions import Town
from models.staff import Staff

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH = 2000

# The staff ledger of seed 001 §2.3, page and export alike (key, label), in the manual's
# order; the page adds 操作 (查看详情 / 查看核酸 / 疫苗接种).
LEDGER_COLUMNS = (
    ("enterprise", _("企业名称")), ("name", _("姓名")), ("town", _("所属镇街")), ("phone", _("手机号码")),
    ("id_number", _("身份证号码")), ("head_name", _("负责人姓名")), ("head_phone", _("负责人电话")),
    ("address", _("居住地址")), ("result", _("最近一次核酸检测结果")), ("tested_at", _("最近一次核酸检测时间")),
    ("dose1", _("第一针疫苗接种时间")), ("dose2", _("第二针疫苗接种时间")), ("dose3", _("第三针疫苗接种时间")),
)
# The export's further columns (SPEC §2 and seed 000 §2.5), after the ledger's.
MORE_HEADERS = (_("证件类型"), _("人员类别"), _("最近一次核酸采样时间"))
STAFF_HEADERS = tuple(label for _key, label in LEDGER_COLUMNS) + MORE_HEADERS
STAFF_TEXT_COLUMNS = (3, 4, 6)  # 手机号码, 身份证号码, 负责人电话
STAFF_MASKS = {3: mask_phone, 4: mask_id, 6: mask_phone}

ENTERPRISE_HEADERS = (
    _("主体名称"), _("主体类型"), _("所属镇街"), _("所属网格"), _("主体地址"),
    _("负责人姓名"), _("负责人电话"), _("统一社会信用代码"), _("人员数量"),
)
ENTERPRISE_TEXT_COLUMNS = (6, 7)  # 负责人电话, 统一社会信用代码
ENTERPRISE_MASKS = {6: mask_phone}

NUMBERS_FULL = _("证件号码和手机号码完整")
NUMBERS_MASKED = _("证件号码和手机号码已脱敏")


@dataclass
class Export:
    """A finished export: the open temporary file (at position 0), its name, its rows."""

    file: IO[bytes]
    filename: str
    rows: int


def stamp() -> str:
    return local_now().strftime("%Y%m%d%H%M")


def _safe(text: str) -> str:
    return "".join("_" if ch in '/\\:*?"<>|' else ch for ch in text).strip()


def describe(**filters: Any) -> str:
    """The filter as the audit log shows it: 'q=张; enterprise_id=3' (or 全部)."""
    parts = [f"{k}={v}" for k, v in filters.items() if v not in (None, "")]
    return "; ".join(parts) or str(_("全部"))


def _masking(full: bool, masks: dict[int, Any], base_width: int):
    """A function masking a row's ID and phone cells (and any such number in the
    declared extra fields after ``base_width``) — or leaving it alone when ``full``."""
    if full:
        return lambda values: values

    def mask(values: list) -> list:
        for index, hide in masks.items():
            if values[index]:
                values[index] = hide(values[index])
        for index in range(base_width, len(values)):
            values[index] = mask_text(values[index])
        return values

    return mask


def audit_export(entity: str, entity_id: Any, count: int, detail: str, full: bool) -> None:
    """The export's audit row: rows, filter, and whether the numbers were full."""
    audit.record("export", entity, entity_id, rows=count,
                 detail=f"{detail}; {NUMBERS_FULL if full else NUMBERS_MASKED}",
                 after={"rows": count, "numbers": "full" if full else "masked"})


def write_sheet(headers, text_columns, rows: Iterator[list], sheet_title: str,
                notes: Optional[Callable[[], tuple[str, list[str]]]] = None) -> tuple[IO[bytes], int]:
    """The rows as an .xlsx in a temporary file (at position 0) and their count; ``notes()``
    (called once the rows are written): ``(title, lines)`` of a second sheet saying what
    the list means."""
    target = tempfile.TemporaryFile(prefix="sentinel-export-")
    try:
        with ExportWriter(target, [str(h) for h in headers], text_columns,
                          sheet_title=sheet_title, tz=district_tz()) as writer:
            for values in rows:
                writer.write_row(values)
            if notes is not None:
                writer.add_notes(*notes())
    except BaseException:
        target.close()
        raise
    target.seek(0)
    return target, writer.rows_written


@operation
def staff_export(session, scope: S.Scope, q: Optional[str] = None, enterprise_id: Any = None,
                 bucket: Optional[str] = None, *, base: Any = None, detail: Optional[str] = None,
                 name: Optional[str] = None) -> Export:
    """All staff visible to ``scope`` matching the list filter, as an .xlsx.

    The test and vaccine columns come from each person's health summary (one outer
    join, no query per row); ``bucket`` keeps only the people of one test-status bucket
    (``unmatched``: the 未匹配 list). With ``enterprise_id`` the enterprise type's extra
    staff fields follow. :raise OutOfScope: ``enterprise_id`` is not an enterprise in scope (404).
    ``base``: a scoped ``select(Staff)`` to export instead of the list filter (the
    statistics' drill-downs), with ``detail`` for the audit row and ``name`` for the file.
    """
    extra_fields: tuple = ()
    enterprise = None
    if enterprise_id:
        enterprise = S.get_or_404(session, Enterprise, enterprise_id, scope)
        extra_fields = lookups.declaration(enterprise.type).staff_fields
    # Aliases: the scope clause's subquery selects from ``enterprise`` itself and must
    # not be correlated with the join below.
    company, town = aliased(Enterprise), aliased(Town)
    stmt = (
        (base if base is not None else staff_service.query(scope, q, enterprise.id if enterprise else None))
        .with_only_columns(
            company.name, Staff.name, town.name, Staff.phone, Staff.id_number,
            company.head_name, company.head_phone, Staff.address, Staff.id_type, Staff.category,
            *([Staff.extras] if extra_fields else []),  # JSON decoded per row only when shown
            maintain_column_froms=False,
        )
        .select_from(Staff)
        .join(company, Staff.enterprise_id == company.id)
        .join(town, company.town_id == town.id)
    )
    now, span = health_status.utcnow(), health_status.window()
    stmt, health = health_status.join_summary(stmt)
    if bucket:
        stmt = stmt.where(health_status.bucket_clause(bucket, now, health.sampled_at, span))
    stmt = stmt.add_columns(*health.labelled())
    base_width = 10  # the selected registry columns above
    mask = _masking(scope.full_numbers, STAFF_MASKS, len(STAFF_HEADERS))

    def rows():
        for row in session.execute(stmt.execution_options(yield_per=BATCH)):
            extras = (row[base_width] or {}) if extra_fields else {}
            h = health_status.status_row(row._mapping, now, span)
            yield mask(list(row[:8]) + [
                h.result_label or None, h.tested_at, h.dose_cell(1), h.dose_cell(2), h.dose_cell(3),
                row[8], row[9], h.sampled_at,
            ] + [extras.get(f.key) for f in extra_fields])

    headers = STAFF_HEADERS + tuple(f.label for f in extra_fields)
    title = name or (_("未匹配人员") if bucket == "unmatched" else _("人员信息"))
    file, count = write_sheet(headers, STAFF_TEXT_COLUMNS, rows(), str(title))
    audit_export("Staff", enterprise.id if enterprise else None, count,
           detail or describe(q=q, enterprise_id=enterprise.id if enterprise else None, bucket=bucket),
           scope.full_numbers)
    middle = f"_{_safe(enterprise.name)}" if enterprise else ""
    return Export(file, f"{title}{middle}_{stamp()}.xlsx", count)


@operation
def enterprise_export(session, scope: S.Scope, q: Optional[str] = None, town_id: Any = None,
                      type_id: Any = None) -> Export:
    """All enterprises visible to ``scope`` matching the list filter, as an .xlsx.

    With ``type_id`` the type's extra enterprise fields follow the base columns.
    """
    extra_fields: tuple = ()
    if type_id:
        etype = session.execute(select(EnterpriseType).where(EnterpriseType.id == int(type_id))).scalar()
        extra_fields = lookups.declaration(etype).enterprise_fields if etype else ()
    headcount = (
        select(func.count(Staff.id)).where(Staff.enterprise_id == Enterprise.id).scalar_subquery()
    )
    stmt = enterprise_service.query(scope, q, town_id, type_id).add_columns(headcount)
    mask = _masking(scope.full_numbers, ENTERPRISE_MASKS, len(ENTERPRISE_HEADERS))

    def rows():
        for e, count in session.execute(stmt.execution_options(yield_per=BATCH)):
            extras = e.extras or {}
            yield mask([
                e.name, e.type.name, e.town.name, e.grid.name if e.grid else None, e.address,
                e.head_name, e.head_phone, e.credit_code, count,
            ] + [extras.get(f.key) for f in extra_fields])

    headers = ENTERPRISE_HEADERS + tuple(f.label for f in extra_fields)
    file, count = write_sheet(headers, ENTERPRISE_TEXT_COLUMNS, rows(), str(_("企业信息")))
    audit_export("Enterprise", None, count, describe(q=q, town_id=town_id, type_id=type_id), scope.full_numbers)
    return Export(file, f"{_('企业信息')}_{stamp()}.xlsx", count)


def download(export: Export):
    """The export as an attachment; the Chinese name travels as filename*=UTF-8''…"""
    response = send_file(export.file, mimetype=MIMETYPE, as_attachment=True,
                         download_name=export.filename, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Export-Rows"] = str(export.rows)
    return response

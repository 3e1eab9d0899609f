"""The nightly check's results as users read them: the 未按规定检测 list of a day (scoped
like staff: a town sees its town's people, a bureau its types', a head their
enterprises'), its .xlsx, the counts on the home pages and one person's compliance.

Only stored results are read: a day's list is what that day's check found (re-runs
replace it), so yesterday's list still reads as it was.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import Any, Iterable, Iterator, Mapping, Optional

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased

from app.domain import testing_rules as TR
from app.domain.errors import RuleError, ValidationFailed
from app.domain.i18n import _
from app.domain.identity import mask_phone
from app.platform.clock import district_tz, local_today, to_local
from app.platform.operations import operation
from app.security import scope as S
from app.services import exports
from app.services.paging import Page
from app.sheets.writer import TIME_FORMAT, RowCells
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.regions import Town
from models.rules import ComplianceResult
from models.staff import Staff

# The alert file's columns (seed 001 §2.6), then what the screen's export adds.
ALERT_HEADERS = (_("企业名称"), _("姓名"), _("手机号码"), _("负责人姓名"), _("负责人电话"), _("最近一次核酸检测时间"))
ALERT_TEXT_COLUMNS = (2, 4)
EXTRA_HEADERS = (_("所属镇街"), _("主体类型"), _("人员类别"), _("核酸检测规则"), _("规则期内检测次数"), _("最近一次核酸采样时间"))


@dataclass(frozen=True)
class Filters:
    day: date
    enterprise_type: Optional[str] = None  # type code
    category: Optional[str] = None
    town: Optional[str] = None  # town name
    enterprise_id: Optional[int] = None  # one enterprise (a head's home links to its own)

    def describe(self) -> str:
        return exports.describe(date=self.day.isoformat(), enterprise_type=self.enterprise_type,
                                category=self.category, town=self.town, enterprise_id=self.enterprise_id)


def parse_filters(args: Mapping[str, Any]) -> Filters:
    """``?date=YYYY-MM-DD`` (default today, district time), ``enterprise_type``, ``category``,
    ``town``, ``enterprise_id``. :raise ValidationFailed: a date that is not one, an
    enterprise id that is not a number."""
    raw = (args.get("date") or "").strip()
    try:
        day = date.fromisoformat(raw) if raw else local_today()
    except ValueError:
        raise ValidationFailed([RuleError("date", _("日期格式不正确，应为 2022-06-08"))]) from None
    text = lambda key: (args.get(key) or "").strip() or None  # noqa: E731
    enterprise = text("enterprise_id")
    if enterprise is not None and not (enterprise.isascii() and enterprise.isdigit() and len(enterprise) < 10):
        raise ValidationFailed([RuleError("enterprise_id", _("“%(label)s”格式不正确", label=_("企业编号")))])
    return Filters(day, text("enterprise_type"), text("category"), text("town"),
                   int(enterprise) if enterprise is not None else None)


@dataclass
class BrokenRow:
    staff_id: int
    enterprise_name: str
    name: str
    phone: Optional[str]
    head_name: str
    head_phone: str
    town: str
    type_name: str
    category: Optional[str]
    rule: str
    samplings: int
    last_sampled_at: Optional[datetime]
    last_tested_at: Optional[datetime]
    enterprise_id: Optional[int] = None

    def to_dict(self) -> dict[str, Any]:
        """The row as a list shows it: phones masked for everyone (the export and the
        person's page show them in full to the roles that may see them)."""
        hide = lambda v: mask_phone(v) if v else v  # noqa: E731
        return {
            "staff_id": self.staff_id, "enterprise_name": self.enterprise_name, "name": self.name,
            "phone": hide(self.phone), "head_name": self.head_name, "head_phone": hide(self.head_phone),
            "town": self.town, "enterprise_type": self.type_name, "category": self.category,
            "rule": str(TR.rule_by_name(self.rule).name), "samplings": self.samplings,
            "last_sampled_at": _iso(self.last_sampled_at), "last_tested_at": _iso(self.last_tested_at),
        }


def _iso(moment: Optional[datetime]) -> Optional[str]:
    return to_local(moment).isoformat(timespec="seconds") if moment else None


def broken_query(scope: S.Scope, filters: Filters, *, extra: Iterable = ()) -> Select:
    """The people who broke their rule on ``filters.day``, within ``scope``, ordered by
    enterprise and name (``extra``: more WHERE clauses, e.g. one setting's rows)."""
    company, town, etype = aliased(Enterprise), aliased(Town), aliased(EnterpriseType)
    stmt = (
        select(Staff.id, company.name, Staff.name, Staff.phone, company.head_name, company.head_phone, town.name,
               etype.name, Staff.category, ComplianceResult.rule, ComplianceResult.samplings,
               ComplianceResult.last_sampled_at, ComplianceResult.last_tested_at, Staff.enterprise_id)
        .select_from(ComplianceResult)
        .join(Staff, Staff.id == ComplianceResult.staff_id)
        .join(company, company.id == Staff.enterprise_id)
        .join(town, town.id == company.town_id)
        .join(etype, etype.id == company.type_id)
        .where(ComplianceResult.day == filters.day, ComplianceResult.compliant.is_(False),
               S.clause(ComplianceResult, scope), *extra)
        .order_by(company.name, Staff.name, Staff.id)
    )
    if filters.enterprise_type:
        stmt = stmt.where(etype.code == filters.enterprise_type)
    if filters.category:
        stmt = stmt.where(Staff.category == filters.category)
    if filters.town:
        stmt = stmt.where(town.name == filters.town)
    if filters.enterprise_id is not None:
        stmt = stmt.where(Staff.enterprise_id == filters.enterprise_id)
    return stmt


def broken_rows(session, stmt: Select) -> Iterator[BrokenRow]:
    for row in session.execute(stmt.execution_options(yield_per=exports.BATCH)):
        yield BrokenRow(*row)


def page(session, scope: S.Scope, filters: Filters, page_no: int, size: int) -> Page:
    stmt = broken_query(scope, filters)
    total = session.execute(stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)).scalar_one()
    items = list(broken_rows(session, stmt.limit(size).offset((page_no - 1) * size)))
    return Page(items, total, page_no, size)


def count_broken(session, scope: S.Scope, day: Optional[date] = None, enterprise_id: Optional[int] = None) -> int:
    """未按规定检测 of ``day`` (default today) within ``scope`` (the home pages' number),
    of one enterprise with ``enterprise_id``."""
    stmt = select(func.count()).select_from(ComplianceResult).where(
        ComplianceResult.day == (day or local_today()), ComplianceResult.compliant.is_(False),
        S.clause(ComplianceResult, scope))
    if enterprise_id is not None:
        stmt = stmt.where(ComplianceResult.staff_id.in_(select(Staff.id).where(Staff.enterprise_id == enterprise_id)))
    return session.execute(stmt).scalar_one()


def alert_cells(row: BrokenRow, full_numbers: bool, tz: Optional[tzinfo] = None) -> list:
    """The alert file's six cells of ``row`` (the time as district wall-clock text;
    ``tz``: the district zone, looked up once by a caller writing many rows)."""
    if full_numbers:
        phone, head_phone = row.phone, row.head_phone
    else:
        phone = mask_phone(row.phone) if row.phone else row.phone
        head_phone = mask_phone(row.head_phone) if row.head_phone else row.head_phone
    tested = to_local(row.last_tested_at, tz).strftime(TIME_FORMAT) if row.last_tested_at else None
    return [row.enterprise_name, row.name, phone, row.head_name, head_phone, tested]


def notes(day: date, rule_codes: Iterable[str]) -> tuple[str, list[str]]:
    """The 说明 sheet of a list of ``day``: how each rule was checked, and who is not listed."""
    lines = [str(_("核查日期：%(day)s（区内时间）", day=day.isoformat()))]
    for code in sorted(set(rule_codes), key=lambda c: (TR.rule_by_name(c).d, TR.rule_by_name(c).n)):
        rule = TR.rule_by_name(code)
        first, last = TR.window_days(rule, day)[0], TR.window_days(rule, day)[-1]
        lines.append(str(_("%(rule)s：%(first)s 至 %(last)s 采样不少于 %(n)d 次（当天不计，同一采样时间的重复记录计一次）",
                           rule=rule.name, first=first.isoformat(), last=last.isoformat(), n=rule.n)))
    lines.append(str(NEWCOMERS))
    return str(_("说明")), lines


NEWCOMERS = _("登记未满规则天数（如三天两检为3天）且尚未达到规则的新登记人员暂不列入名单；登记前的采样记录同样计入。")


def alert_row_cells(tz: Optional[tzinfo] = None) -> RowCells:
    """How the alert file's writer makes its cells: rows prepared with it go into any
    alert file as they are (``write_alert_file``)."""
    return RowCells(len(ALERT_HEADERS), ALERT_TEXT_COLUMNS, tz)


def write_alert_file(cells: Iterable[list], title: str, day: date, rule_codes: Iterable[str]):
    """The alert's .xlsx (its six columns — ``alert_cells`` of each row, or those made once
    by ``alert_row_cells().prepare`` — and a 说明 sheet) as an open temporary file and its
    row count."""
    return exports.write_sheet(ALERT_HEADERS, ALERT_TEXT_COLUMNS, cells, title, notes=lambda: notes(day, rule_codes))


@operation
def export(session, scope: S.Scope, filters: Filters) -> exports.Export:
    """导出: the day's list within ``scope`` as .xlsx (the alert file's columns, then town,
    type, category, rule, samplings, latest sampling); audited like every export."""
    codes: set[str] = set()
    tz = district_tz()

    def cells():
        for r in broken_rows(session, broken_query(scope, filters)):
            codes.add(r.rule)
            yield alert_cells(r, scope.full_numbers, tz) + [
                r.town, r.type_name, r.category, str(TR.rule_by_name(r.rule).name), r.samplings, r.last_sampled_at]

    title = str(_("未按规定检测人员"))
    file, count = exports.write_sheet(ALERT_HEADERS + EXTRA_HEADERS, ALERT_TEXT_COLUMNS, cells(), title,
                                      notes=lambda: notes(filters.day, codes))
    exports.audit_export("ComplianceResult", None, count, filters.describe(), scope.full_numbers)
    return exports.Export(file, f"{title}_{filters.day.isoformat()}_{exports.stamp()}.xlsx", count)


def person_compliance(session, staff_id: int) -> Optional[dict[str, Any]]:
    """The person's latest result: ``{"rule", "compliant", "samplings", "evaluated_on"}``
    (None when no rule has been checked for them)."""
    row = session.execute(
        select(ComplianceResult).where(ComplianceResult.staff_id == staff_id, ComplianceResult.day <= local_today())
        .order_by(ComplianceResult.day.desc()).limit(1)).scalar_one_or_none()
    if row is None:
        return None
    return {"rule": str(TR.rule_by_name(row.rule).name), "compliant": row.compliant,
            "samplings": row.samplings, "evaluated_on": row.day.isoformat()}

"""数据统计 (SPEC §3): the test and vaccine tables, their drill-downs and exports.

* ``test_stats(session, scope, start, end)``: 核酸检测统计 per town × staff category
  over district-local days [start, end] (``samplings``; definitions in
  ``app.domain.stats_rules``).
* ``vaccine_stats(session, scope)``: 疫苗接种统计 per town (``vaccinations``).
* ``people(...)``: the staff behind one number, as a scoped ``select(Staff)`` built on
  the staff list's own query (``app.services.staff.query``), for the page and the
  .xlsx (``app.services.exports.staff_export``). ``enterprise_people`` for 主体数量.
* ``export_table(table)``: the table as .xlsx, audited like every export.

Scope: every statement goes through ``app.security.scope`` (staff and enterprise
clauses; the towns listed are ``town_clause``): a town user sees its town, a bureau
user the enterprises of its types in every town, the task force and admin everything.
A drill-down to a town outside the scope is a 404; people outside it never appear.

Rows: every town in scope that has at least one enterprise in the caller's scope (in
the configured order; ``_towns_with_enterprises``) — a bureau does not get a row of
zeros for each town where none of its enterprises are; the test table has one row per
staff category present in the town (a town whose enterprises have no staff: one row of
zeros, category blank); the total row sums the rows. The page, the API and the export
all read these rows. ``computed_at`` (统计时间) is the moment of
computation in district time.

Cost and cache: the heavy part — counts per enterprise (× category) over every staff
row, ``samplings.enterprise_counts`` / ``vaccinations.enterprise_counts`` — is the
same for every user, so it is computed once and kept in Redis for
``STATS_CACHE_SECONDS`` (default 120; 0 turns the cache off), keyed by the table, its
period (or today's date) and a generation that every vaccine product edit bumps. The
``stats.warm`` job recomputes the default period (the last 7 days) and today's vaccine
counts every minute, so those pages never wait for them; another period is computed
on its first request. Each request then keeps the enterprises of the caller's scope
(``scope.clause(Enterprise)``) and sums them per town. 统计时间 is the moment the
counts were computed: a page is at most about a minute behind the data, and says so.
"""
from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Callable, Optional

from flask import current_app, has_app_context
from sqlalchemy import Select, func, or_, select

from app.domain import stats_rules
from app.domain.errors import OutOfScope
from app.domain.health import percent
from app.domain.i18n import _
from app.platform import audit
from app.platform.clock import MINUTE_FORMAT, local_now, local_today
from app.platform.kv import get_redis, key
from app.platform.operations import operation, transaction
from app.security import scope as S
from app.services import enterprises as enterprise_service
from app.services import exports, lookups
from app.services import staff as staff_service
from app.services.health.feeds import vaccine_products
from app.services.health.statistics import samplings, vaccinations
from app.sheets.writer import stream_xlsx
from models.enterprises import Enterprise
from models.staff import Staff

log = logging.getLogger(__name__)

TESTS, VACCINES = "tests", "vaccines"
NO_CATEGORY = "~"  # drill-down parameter of the rows whose category is blank
TIME_FORMAT = MINUTE_FORMAT  # 统计时间 as every page shows a time: to the minute


@dataclass
class StatsTable:
    kind: str
    rows: list[dict[str, Any]]
    total: dict[str, Any]
    computed_at: str  # ISO 8601 in district time
    start: Optional[str] = None
    end: Optional[str] = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def columns(self):
        return samplings.COLUMNS if self.kind == TESTS else vaccinations.COLUMNS

    @property
    def computed_label(self) -> str:
        return datetime.fromisoformat(self.computed_at).strftime(TIME_FORMAT)

    def as_json(self) -> dict[str, Any]:
        """The API answer (SPEC §9: rows and total)."""
        out: dict[str, Any] = {"computed_at": self.computed_at}
        if self.kind == TESTS:
            out.update(start=self.start, end=self.end)
        out["columns"] = [{"key": k, "label": str(label)} for k, label, _m in self.columns]
        out["rows"] = self.rows
        out["total"] = self.total
        return out


def period(start_text: Optional[str], end_text: Optional[str], now: Optional[datetime] = None) -> tuple[date, date]:
    """The requested period; RuleError (Chinese, 400) for bad dates, or a range longer
    than, or starting before, the days whose test records are kept (TEST_RETENTION_DAYS)."""
    earliest, today = period_bounds(now)
    return stats_rules.parse_period(start_text, end_text, today, max_days=(today - earliest).days + 1,
                                    earliest=earliest)


def period_bounds(now: Optional[datetime] = None) -> tuple[date, date]:
    """(first day whose test records are kept, today): what the date pickers allow."""
    today = local_today(now)
    return today - timedelta(days=int(current_app.config.get("TEST_RETENTION_DAYS") or 14) - 1), today


# --- cache -------------------------------------------------------------------------

def _cache_seconds() -> int:
    return int(current_app.config.get("STATS_CACHE_SECONDS", 120)) if has_app_context() else 0


def _cache_key(*parts: Any) -> str:
    generation = get_redis().get(key("stats", "generation")) or b"0"
    return key("stats", generation.decode(), *parts)


def bump_generation() -> None:
    """Forget every cached computation (a vaccine product changed)."""
    if not _cache_seconds():
        return
    try:
        get_redis().incr(key("stats", "generation"))
    except Exception:  # the cache is an optimisation: never fail a save for it
        log.warning("could not reset the statistics cache", exc_info=True)


def _shared(parts: tuple, compute: Callable[[], list], force: bool = False) -> tuple[str, list]:
    """``(computed_at, rows)`` of a computation that is the same for every user (counts
    per enterprise), from the cache when it is fresh enough (``force``: recompute)."""
    seconds = _cache_seconds()
    cache_key = None
    if seconds:
        try:
            cache_key = _cache_key(*parts)
            hit = None if force else get_redis().get(cache_key)
            if hit:
                cached = json.loads(hit)
                return cached["computed_at"], cached["rows"]
        except Exception:
            log.warning("statistics cache unavailable", exc_info=True)
            cache_key = None
    computed_at, rows = local_now().isoformat(), compute()
    if cache_key:
        try:
            get_redis().setex(cache_key, seconds, json.dumps({"computed_at": computed_at, "rows": rows},
                                                             ensure_ascii=False))
        except Exception:
            log.warning("statistics cache unavailable", exc_info=True)
    return computed_at, rows


def _town_of(session, scope: S.Scope) -> dict[int, int]:
    """enterprise id → town id, for the enterprises in ``scope`` (app.security.scope);
    the staff clause is "staff of these enterprises", so keeping their counts scopes them."""
    stmt = select(Enterprise.id, Enterprise.town_id).where(S.clause(Enterprise, scope))
    return dict(session.execute(stmt).all())


def _towns_with_enterprises(session, scope: S.Scope, town_of: dict[int, int]) -> list:
    """The towns in scope (configured order) where the scope holds at least one
    enterprise: the rows of both tables."""
    present = set(town_of.values())
    return [town for town in lookups.towns_in_scope(session, scope) if town.id in present]


# --- tables ------------------------------------------------------------------------

def _total(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: sum(r[k] for r in rows) for k in keys}


def _add(target: dict[str, int], values: dict[str, int]) -> None:
    for key, value in values.items():
        target[key] = target.get(key, 0) + value


def _test_rates(row: dict[str, Any]) -> dict[str, Any]:
    row["coverage"] = percent(row["tested"], row["staff"])
    return row


def _test_counts(session, start: date, end: date, force: bool = False) -> tuple[str, list]:
    return _shared((TESTS, start.isoformat(), end.isoformat()), lambda: [
        [enterprise_id, cat, values]
        for (enterprise_id, cat), values in samplings.enterprise_counts(session, start, end).items()], force)


def _vaccine_counts(session, force: bool = False) -> tuple[str, list]:
    return _shared((VACCINES, local_today().isoformat()), lambda: [
        [enterprise_id, values]
        for enterprise_id, values in vaccinations.enterprise_counts(session, eligibility(session)).items()], force)


def warm(session) -> dict[str, Any]:
    """Recompute the shared counts of the default period and of today's vaccine table
    into the cache (the ``stats.warm`` job, every minute), so that no page waits for
    them. Nothing to do when the cache is off."""
    if not _cache_seconds():
        return {"cache": "off"}
    out: dict[str, Any] = {}
    with transaction(session):  # reads only: ends the read snapshot when done
        started = datetime.now()
        start, end = period(None, None)
        out["tests_rows"] = len(_test_counts(session, start, end, force=True)[1])
        out["tests_ms"] = int((datetime.now() - started).total_seconds() * 1000)
        started = datetime.now()
        out["vaccines_rows"] = len(_vaccine_counts(session, force=True)[1])
        out["vaccines_ms"] = int((datetime.now() - started).total_seconds() * 1000)
    return out


def test_stats(session, scope: S.Scope, start: date, end: date) -> StatsTable:
    """核酸检测统计 of the staff in ``scope`` for the local days [start, end]."""
    computed_at, counted = _test_counts(session, start, end)
    town_of = _town_of(session, scope)
    found: dict[tuple[int, str], dict[str, int]] = {}
    for enterprise_id, cat, values in counted:
        if enterprise_id in town_of:
            _add(found.setdefault((town_of[enterprise_id], cat), dict.fromkeys(samplings.COUNTS, 0)), values)
    rows = []
    for town in _towns_with_enterprises(session, scope, town_of):
        for cat in sorted(cat for town_id, cat in found if town_id == town.id) or [""]:
            values = found.get((town.id, cat), dict.fromkeys(samplings.COUNTS, 0))
            rows.append(_test_rates({"town_id": town.id, "town": town.name, "category": cat or None, **values}))
    total = _test_rates({"town_id": None, "town": str(_("合计")), "category": None,
                         **_total(rows, samplings.COUNTS)})
    return StatsTable(TESTS, rows, total, computed_at, start.isoformat(), end.isoformat())


def _vaccine_rates(row: dict[str, Any]) -> dict[str, Any]:
    for n in (1, 2, 3):
        row[f"dose{n}_rate"] = percent(row[f"dose{n}_vaccinated"], row["staff"])
    return row


def eligibility(session, now: Optional[datetime] = None) -> vaccinations.Eligibility:
    return vaccinations.Eligibility(session, vaccine_products.products(session), local_today(now))


def vaccine_stats(session, scope: S.Scope) -> StatsTable:
    """疫苗接种统计 of the enterprises and staff in ``scope``, as of today (district time)."""
    today = local_today()
    computed_at, counted = _vaccine_counts(session)
    town_of = _town_of(session, scope)
    found: dict[int, dict[str, int]] = {}
    for enterprise_id, town_id in town_of.items():
        found.setdefault(town_id, dict.fromkeys(vaccinations.COUNTS, 0))["enterprises"] += 1
    for enterprise_id, values in counted:
        if enterprise_id in town_of:
            _add(found[town_of[enterprise_id]], values)
    rows = []
    for town in _towns_with_enterprises(session, scope, town_of):
        values = found.get(town.id, dict.fromkeys(vaccinations.COUNTS, 0))
        rows.append(_vaccine_rates({"town_id": town.id, "town": town.name, **values}))
    total = _vaccine_rates({"town_id": None, "town": str(_("合计")), **_total(rows, vaccinations.COUNTS)})
    return StatsTable(VACCINES, rows, total, computed_at, extra={"today": today.isoformat()})


def chart_data(table: StatsTable) -> dict[str, Any]:
    """What the chart under a table draws (per town): stacked 已检测/未检测 people for
    the tests, 完成率 (%) per dose for the vaccines."""
    towns: dict[Any, dict[str, Any]] = {}
    for row in table.rows:
        entry = towns.setdefault(row["town_id"], {"town": row["town"], **{k: 0 for k in (
            samplings.COUNTS if table.kind == TESTS else vaccinations.COUNTS)}})
        for key in entry:
            if key != "town":
                entry[key] += row[key]
    names = [t["town"] for t in towns.values()]
    if table.kind == TESTS:
        series = [
            {"name": str(_("核酸检测人数")), "stack": "people", "data": [t["tested"] for t in towns.values()]},
            {"name": str(_("未核酸检测人数")), "stack": "people", "data": [t["untested"] for t in towns.values()]},
        ]
        return {"categories": names, "series": series, "percent": False}
    series = [
        {"name": str(_("完成%(dose)s接种率", dose=vaccinations.DOSE_WORDS[n])),
         "data": [round(t[f"dose{n}_vaccinated"] * 100 / t["staff"], 2) if t["staff"] else 0 for t in towns.values()]}
        for n in (1, 2, 3)
    ]
    return {"categories": names, "series": series, "percent": True}


# --- drill-downs -------------------------------------------------------------------

@dataclass
class Drill:
    """What a number's link names: table, measure, town (None: all), category, period."""

    kind: str
    measure: str
    town_id: Optional[int] = None
    category: Optional[str] = None  # None: every category; NO_CATEGORY: blank ones
    start: Optional[date] = None
    end: Optional[date] = None

    def describe(self) -> str:
        parts = [f"{self.kind}:{self.measure}"]
        for name in ("town_id", "category", "start", "end"):
            value = getattr(self, name)
            if value not in (None, ""):
                parts.append(f"{name}={value}")
        return "; ".join(parts)


def check_drill(session, scope: S.Scope, drill: Drill) -> None:
    """:raise KeyError: unknown measure (404). :raise OutOfScope: a town outside the scope."""
    measures = samplings.MEASURES if drill.kind == TESTS else vaccinations.MEASURES
    if drill.kind not in (TESTS, VACCINES) or drill.measure not in measures:
        raise KeyError(drill.measure)
    if drill.town_id is not None and drill.town_id not in {t.id for t in lookups.towns_in_scope(session, scope)}:
        raise OutOfScope("Town", drill.town_id)


def people(session, scope: S.Scope, drill: Drill, now: Optional[datetime] = None) -> Select:
    """``select(Staff)`` of the people behind one number (scoped, newest first)."""
    check_drill(session, scope, drill)
    stmt = staff_service.query(scope)
    if drill.town_id is not None:
        stmt = stmt.where(Staff.enterprise_id.in_(select(Enterprise.id).where(Enterprise.town_id == drill.town_id)))
    if drill.category == NO_CATEGORY:
        stmt = stmt.where(or_(Staff.category.is_(None), func.trim(Staff.category) == ""))
    elif drill.category:
        stmt = stmt.where(Staff.category == drill.category)
    if drill.kind == TESTS:
        return stmt.where(samplings.people_clause(drill.measure, drill.start, drill.end))
    return stmt.where(vaccinations.people_clause(drill.measure, eligibility(session, now)))


def enterprise_people(session, scope: S.Scope, town_id: Optional[int]) -> Select:
    """主体数量's drill-down: the enterprises in scope (of one town)."""
    check_drill(session, scope, Drill(VACCINES, "enterprises", town_id))
    return enterprise_service.query(scope, None, town_id)


def drill_title(drill: Drill, town_name: Optional[str]) -> str:
    labels = samplings.MEASURE_LABELS if drill.kind == TESTS else vaccinations.MEASURE_LABELS
    parts = [town_name or str(_("全部镇街"))]
    if drill.category == NO_CATEGORY:
        parts.append(str(_("未填写人员类别")))
    elif drill.category:
        parts.append(drill.category)
    parts.append(str(labels[drill.measure]))
    if drill.kind == TESTS and drill.start:
        parts.append(f"{drill.start:%Y-%m-%d}～{drill.end:%Y-%m-%d}")
    return " · ".join(parts)


def export_people(session, scope: S.Scope, drill: Drill, title: str) -> exports.Export:
    """The people behind one number as the registry's staff .xlsx (audited)."""
    if drill.measure == "enterprises":
        return exports.enterprise_export(session, scope, None, drill.town_id)
    return exports.staff_export(session, scope, base=people(session, scope, drill), detail=drill.describe(),
                                name=title)


# --- table export ------------------------------------------------------------------

def _cell(row: dict[str, Any], key: str) -> Any:
    value = row.get(key)
    return "" if value is None else value


@operation
def export_table(table: StatsTable) -> exports.Export:
    """The table, its total row, 统计时间 (and the period) as .xlsx; audited."""
    headers = [str(label) for _k, label, _m in table.columns]
    keys = [k for k, _l, _m in table.columns]
    lines = [[_cell(r, k) for k in keys] for r in table.rows]
    lines.append([_cell(table.total, k) for k in keys])
    lines.append([])
    if table.kind == TESTS:
        lines.append([str(_("查询时间段")), f"{table.start} 00:00 - {table.end} 23:59"])
    lines.append([str(_("统计时间")), table.computed_label])
    buffer = io.BytesIO()
    title = str(_("核酸检测统计") if table.kind == TESTS else _("疫苗接种统计"))
    stream_xlsx(buffer, headers, lines, sheet_title=title)
    buffer.seek(0)
    detail = f"{table.kind}" + (f"; start={table.start}; end={table.end}" if table.kind == TESTS else "")
    audit.record("export", "Statistics", rows=len(table.rows) + 1, detail=detail)
    stamp = datetime.fromisoformat(table.computed_at).strftime("%Y%m%d%H%M")
    return exports.Export(buffer, f"{title}_{stamp}.xlsx", len(table.rows) + 1)

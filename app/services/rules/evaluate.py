"""The nightly check (``rules.evaluate``): every person with a rule gets the day's result.

For the district day ``day`` and each active setting, the people it covers get one
``ComplianceResult`` row: the rule, the distinct samplings in the rule's window (the D
days before ``day``), compliant or not (``None``: registered inside the window and short
of the rule — not reported until their first full window), the latest sampling and test.

Built on what the feed maintains (``health_source``: one summary row per person with its
day bits), not a rescan of the records. A re-run replaces the day's rows of the setting
(the feed arrived late, the rule changed); other days are never touched, so a past day's
list reads as it was. One run at a time per database (an advisory lock on PostgreSQL;
SQLite serialises writers); each setting is one transaction.
"""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from typing import Iterable, Optional

from sqlalchemy import delete, select, text

from app.domain import testing_rules as TR
from app.domain.health import local_date, local_midnight_utc, utc_naive
from app.platform.clock import district_tz, local_today
from app.platform.database import copy_text, is_pg, stage_rows
from app.platform.operations import transaction
from app.services.rules import health_source as HS
from app.services.rules.runs import record_run
from models.mixins import utcnow
from models.rules import AlertSetting, ComplianceResult

log = logging.getLogger(__name__)

LOCK_ID = 727_414  # pg_advisory_xact_lock: one evaluation of a setting at a time
EVALUATE = "evaluate"
_COLUMNS = ("day DATE, staff_id INTEGER, setting_id INTEGER, rule VARCHAR(8), samplings SMALLINT, "
            "compliant BOOLEAN, last_sampled_at TIMESTAMP, last_tested_at TIMESTAMP, evaluated_at TIMESTAMP")
_NAMES = [c.split()[0] for c in _COLUMNS.split(", ")]


def active_settings(session, ids: Optional[Iterable[int]] = None) -> list[AlertSetting]:
    stmt = select(AlertSetting).where(AlertSetting.active.is_(True)).order_by(AlertSetting.id)
    if ids is not None:
        stmt = stmt.where(AlertSetting.id.in_(list(ids)))
    return list(session.execute(stmt).scalars())


def evaluate(session, day: Optional[date] = None, setting_ids: Optional[Iterable[int]] = None) -> dict:
    """Check every active setting (or those of ``setting_ids``) for ``day`` (default
    today, district time); ``{"day", "settings", "people", "broken"}``."""
    day = day or local_today()
    totals = {"day": day.isoformat(), "settings": 0, "people": 0, "broken": 0}
    for setting_id in [s.id for s in active_settings(session, setting_ids)]:
        people, broken = evaluate_setting(session, setting_id, day)
        totals["settings"] += 1
        totals["people"] += people
        totals["broken"] += broken
    return totals


def evaluate_setting(session, setting_id: int, day: date) -> tuple[int, int]:
    """One setting's results of ``day``, replacing earlier ones, in one transaction;
    ``(people, broken)``."""
    with transaction(session):
        if is_pg(session):
            session.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_ID}, :sid)"), {"sid": setting_id})
        setting = session.get(AlertSetting, setting_id, populate_existing=True)
        if setting is None or not setting.active:
            return 0, 0
        rows = results(session, setting, day)
        session.execute(delete(ComplianceResult).where(ComplianceResult.day == day,
                                                       ComplianceResult.setting_id == setting.id))
        _write(session, day, rows)
        broken = sum(1 for r in rows if r[5] is False)
        record_run(session, day, EVALUATE, setting.id, people=len(rows), broken=broken)
        log.info("rules: setting %s checked for %s: %s people, %s broken", setting.id, day, len(rows), broken)
        return len(rows), broken


def results(session, setting: AlertSetting, day: date) -> list[tuple]:
    """The result rows of ``setting``'s people for ``day`` (see the module docstring): the
    window's days are one mask over each summary's day bits; only people with a day of
    several records (or of eight or more, which the bits count modulo 8) are counted
    again from the records, by the database."""
    rule = TR.rule_by_name(setting.rule)
    tz = district_tz()
    people = list(HS.people_of_setting(session, setting))
    counted: dict[int, int] = {}
    several: dict[str, tuple[tuple[int, ...], int, date]] = {}  # key → what splits its window
    masks: dict[Optional[date], int] = {}  # one per tally day (nearly everyone's is the feed's last day)
    for p in people:
        mask = masks.get(p.tally_day)
        if mask is None:
            mask = masks[p.tally_day] = TR.window_mask(p.tally_day, rule, day, HS.BIT_DAYS)
        low, doubtful = TR.days_from_bits(p.planes, mask)
        counted[p.staff_id] = low
        if doubtful and p.id_key:
            several[p.id_key] = (p.planes, mask, p.tally_day)
    keys = [p.id_key for p in people if p.id_key]
    days = TR.window_days(rule, day)
    many = HS.many_test_keys(session, keys, days[0], days[-1]) if keys else set()
    # Counted over the whole window: a day of eight records or more (the bits count modulo
    # 8) and, on SQLite (one records table, no day partitions), every doubtful person.
    whole = set(many) if is_pg(session) else many | set(several)
    exact: dict[str, int] = {}
    if whole:
        start, end = TR.window(rule, day, tz)
        exact = HS.distinct_samplings(session, sorted(whole), start, end)
    # PostgreSQL, the others: one sampling per day of one record, the days of several
    # counted again — one probe into the one partition of each such day
    spans, single, bounds = [], {}, {}
    for key, (planes, mask, tally_day) in several.items():
        if key in whole:
            continue
        single[key], again = TR.split_from_bits(planes, mask, tally_day)
        for d in again:
            if d not in bounds:
                bounds[d] = (local_midnight_utc(d, tz), local_midnight_utc(d + timedelta(days=1), tz))
            spans.append((key, *bounds[d]))
    found = HS.distinct_samplings_in(session, spans) if spans else {}
    exact.update({key: n + found.get(key, 0) for key, n in single.items()})
    doubtful = set(exact) | whole
    now = utcnow()
    # only a registration inside the window changes a verdict (TR.verdict): the others'
    # dates are not worked out
    recent = local_midnight_utc(day - timedelta(days=rule.d - 1), tz)
    rows = []
    for p in people:
        samplings = exact.get(p.id_key, 0) if p.id_key in doubtful else counted[p.staff_id]
        registered = local_date(p.created_at, tz) if p.created_at and utc_naive(p.created_at) >= recent else None
        verdict = TR.verdict(samplings, rule, day, registered)
        rows.append((day, p.staff_id, setting.id, rule.code, min(samplings, 32767), verdict.compliant,
                     p.last_sampled_at, p.last_tested_at, now))
    return rows


def _write(session, day: date, rows: list[tuple]) -> None:
    """The setting's rows of ``day``; a person moved to another setting since an earlier
    run of the day loses that setting's row (this run wins). PostgreSQL: straight in by
    COPY; SQLite: through a staged table."""
    if is_pg(session):
        session.execute(text("DELETE FROM compliance_result WHERE day = :day AND staff_id = ANY(:ids)"),
                        {"day": day, "ids": [r[1] for r in rows]})
        copy_text(session, "compliance_result", _NAMES, map(_copy_line, rows))
        return
    stage_rows(session, "rule_results", _COLUMNS, rows, sqlite_row=_sqlite_row)
    session.execute(text("DELETE FROM compliance_result WHERE day = :day AND staff_id IN "
                         "(SELECT staff_id FROM rule_results)"), {"day": day})
    names = ", ".join(_NAMES)
    session.execute(text(f"INSERT INTO compliance_result ({names}) SELECT {names} FROM rule_results"))


_NULL = "\\N"
_BOOL = {True: "t", False: "f", None: _NULL}


def _copy_line(row: tuple) -> str:
    """A result row in COPY's text format (no value of it needs escaping: dates, numbers,
    a rule code)."""
    day, staff_id, setting_id, rule, samplings, compliant, sampled, tested, evaluated = row
    return (f"{day}\t{staff_id}\t{setting_id}\t{rule}\t{samplings}\t{_BOOL[compliant]}\t"
            f"{_NULL if sampled is None else sampled}\t{_NULL if tested is None else tested}\t{evaluated}\n")


def _sqlite_row(row: tuple) -> tuple:
    return tuple(_sqlite_value(v) for v in row)


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value

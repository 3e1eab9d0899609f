"""核酸检测统计: counts per enterprise × staff category over a period, set-based SQL.

Definitions: ``app.domain.stats_rules`` (per staff row; a tested person is exactly one
of 阳性 / 未出结果 / 阴性). ``enterprise_counts`` groups every staff row by (enterprise,
category) — the same for every user, so it is computed once and shared
(``app.services.health.statistics.tables`` keeps the enterprises of the user's scope and sums them
per town) — LEFT JOINed on PostgreSQL, for a period the pickers offer, to the
summaries' *day bits* (one row per person: ``day_bits``; the period becomes a mask
over each key's bits), else to the SamplingDaily rows of the period summed per key
(``person_tests``; a row per person and day). Drill-downs (``people_clause``) select
the staff behind a number with the same classes, so a list always has as many people
as its number.

Staff without a key (no valid ID number yet) join nothing: they count as untested.
"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import date
from typing import Any, Optional

from sqlalchemy import ColumnElement, Date, and_, bindparam, case, exists, func, select, text

from app.domain import stats_rules
from app.domain.i18n import _
from app.platform import clock, database
from app.services.health.status import day_bits
from models.health import SamplingDaily
from models.staff import Staff

# (key, label, drill-down measure or None)
COLUMNS = (
    ("town", _("所属镇街"), None),
    ("category", _("人员类别"), None),
    ("staff", _("人员数量"), "staff"),
    ("untested", _("未核酸检测人数"), "untested"),
    ("tests", _("核酸检测人次"), "tested"),
    ("tested", _("核酸检测人数"), "tested"),
    ("coverage", _("覆盖率"), None),
    ("negative", _("阴性人数"), "negative"),
    ("positive", _("阳性人数"), "positive"),
    ("pending", _("未出结果人数"), "pending"),
)
COUNTS = ("staff", "untested", "tests", "tested", "negative", "positive", "pending")
MEASURES = ("staff", "untested", "tested", "negative", "positive", "pending")
MEASURE_LABELS = {
    "staff": _("人员"), "untested": _("未核酸检测人员"), "tested": _("核酸检测人员"),
    "negative": _("阴性人员"), "positive": _("阳性人员"), "pending": _("未出结果人员"),
}
OUTCOME_LABELS = {
    stats_rules.POSITIVE: _("阳性"), stats_rules.PENDING: _("未出结果"), stats_rules.NEGATIVE: _("阴性"),
    stats_rules.UNTESTED: _("未检测"),
}


def _sums(start: date, end: date):
    """SamplingDaily of the period, per staff key: tests, positives, pendings."""
    tests = func.sum(SamplingDaily.tests)
    positive = func.sum(SamplingDaily.positive)
    pending = func.sum(SamplingDaily.pending)
    stmt = (
        select(SamplingDaily.id_key)
        .where(SamplingDaily.day >= start, SamplingDaily.day <= end, SamplingDaily.tests > 0)
        .group_by(SamplingDaily.id_key)
    )
    return stmt, tests, positive, pending


def _outcome(measure: str, positive, pending) -> ColumnElement[bool] | None:
    """The predicate of a tested person's class (None: every tested person)."""
    if measure == "positive":
        return positive > 0
    if measure == "pending":
        return and_(positive == 0, pending > 0)
    if measure == "negative":
        return and_(positive == 0, pending == 0)
    return None


def person_tests(start: date, end: date):
    """Subquery: id_key, tests, positive, pending — one row per key tested in the period."""
    stmt, tests, positive, pending = _sums(start, end)
    return stmt.add_columns(tests.label("tests"), positive.label("positive"), pending.label("pending")).subquery("p")


def _has(start: date, end: date, *conditions) -> ColumnElement[bool]:
    """EXISTS a SamplingDaily row of the person's key in the period meeting ``conditions``
    (a semi- or, negated, an anti-join: never NOT IN over a million keys)."""
    return exists().where(SamplingDaily.id_key == Staff.id_key, SamplingDaily.day >= start, SamplingDaily.day <= end,
                          *conditions)


def people_clause(measure: str, start: date, end: date) -> ColumnElement[bool]:
    """Staff behind one number of the table (``MEASURES``); KeyError for another.

    Same classes as :func:`enterprise_counts`, written as semi-joins on the rows that
    decide them (a positive row, a pending row, any row): no per-key aggregate."""
    if measure not in MEASURES:
        raise KeyError(measure)
    if measure == "staff":
        return Staff.id.is_not(None)
    tested = _has(start, end, SamplingDaily.tests > 0)
    positive = _has(start, end, SamplingDaily.positive > 0)
    pending = _has(start, end, SamplingDaily.pending > 0)
    if measure == "untested":
        return ~tested
    if measure == "tested":
        return tested
    if measure == "positive":
        return positive
    if measure == "pending":
        return and_(pending, ~positive)
    return and_(tested, ~positive, ~pending)


def _flag(condition) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@contextmanager
def _analytics(session):
    """PostgreSQL settings for one big aggregate: no JIT (its compile time is a tenth of
    the query), room to hash 200,000 keys in memory, and no parallel workers — PG 15
    runs the per-key aggregate under a LEFT JOIN once per worker, which on two cores is
    twice as slow as a single process (bench/README.md). Reset afterwards."""
    pg = database.is_pg(session)
    settings = ("jit", "work_mem", "max_parallel_workers_per_gather")
    if pg:
        session.execute(text("SET LOCAL jit = off"))
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        session.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
    try:
        yield
    finally:
        if pg:
            for name in settings:
                session.execute(text(f"SET LOCAL {name} TO DEFAULT"))


def covered_by_day_bits(start: date, end: date, today: Optional[date] = None) -> bool:
    """Whether the summaries' day bits hold the period: it starts within the last
    ``BIT_DAYS`` - 2 days (a day of slack for a key's latest day after today)."""
    today = today or clock.local_today()
    return start <= end and (today - start).days <= day_bits.BIT_DAYS - 2


def enterprise_counts(session, start: date, end: date, *, use_day_bits: Optional[bool] = None
                      ) -> dict[tuple[int, str], dict[str, int]]:
    """(enterprise id, category or '') → the counts of ``COUNTS``, for every staff row.

    Read on PostgreSQL from the summaries' day bits (one row per person) when they
    cover the period, else from SamplingDaily (a row per person and day: on SQLite always,
    where computing the masks and bit counts row by row takes longer than that
    aggregate, 2.2 s against 1.5 s at 200,000 staff); ``use_day_bits`` forces one of them.
    No scope here: the result is the same for every user and may be cached; callers keep
    the enterprises of the user's scope (``app.services.health.statistics.tables``)."""
    if use_day_bits is None:  # SQLite: its per-row expressions cost more than the aggregate saves
        use_day_bits = database.is_pg(session) and covered_by_day_bits(start, end)
    with _analytics(session):
        if use_day_bits:
            result = _counts_from_day_bits(session, start, end)
        else:
            result = session.execute(_counts_from_tallies(start, end)).all()
    out: dict[tuple[int, str], dict[str, int]] = {}
    for enterprise_id, cat, staff, tested, tests, negative, positive, pending in result:
        key = (enterprise_id, (cat or "").strip())
        row = out.setdefault(key, dict.fromkeys(COUNTS, 0))
        for name, value in (("staff", staff), ("tested", tested), ("tests", tests), ("negative", negative),
                            ("positive", positive), ("pending", pending)):
            row[name] += int(value or 0)
        row["untested"] = row["staff"] - row["tested"]
    return out


def _popcount(dialect_name: str, expression: str) -> str:
    """SQL for the number of bits set (SQLite: ``bit_count``, ``app.platform.database``)."""
    if dialect_name == "postgresql":
        return f"bit_count(CAST({expression} AS BIT(64)))"
    return f"bit_count({expression})"


def _counts_from_day_bits(session, start: date, end: date) -> list[tuple]:
    """The counts from the summaries' day bits: per staff row, the period's mask over
    its key's bits (bit i = ``tally_day`` - i days); tests = the bit planes of each
    day's count, plus the multiples of 8 of the rare days with 8 or more tests
    (``day_bits.MANY_TESTS``, from SamplingDaily). Same classes as the SamplingDaily path."""
    name = database.dialect(session)
    mask = day_bits.period_mask_sql("h.t")
    tested = "((h.tests_b0 | h.tests_b1 | h.tests_b2) & h.m) <> 0"
    positive = "(h.positive_days & h.m) <> 0"
    pending = f"NOT {positive} AND (h.pending_days & h.m) <> 0"
    negative = f"{tested} AND ((h.positive_days | h.pending_days) & h.m) = 0"
    tests = " + ".join(f"{weight} * {_popcount(name, f'(h.tests_b{plane} & h.m)')}"
                       for plane, weight in ((0, 1), (1, 2), (2, 4)))
    flag = "sum(CASE WHEN {} THEN 1 ELSE 0 END)"
    rows = session.execute(text(
        "SELECT s.enterprise_id, coalesce(s.category, '') AS cat, count(s.id), "
        f"{flag.format(tested)}, coalesce(sum({tests}), 0), {flag.format(negative)}, "
        f"{flag.format(positive)}, {flag.format(pending)} "
        "FROM staff s LEFT JOIN (SELECT id_key, tests_b0, tests_b1, tests_b2, positive_days, pending_days, "
        f"  {mask} AS m FROM (SELECT *, {day_bits.day_number_sql(name, 'tally_day')} AS t FROM health_summary) h"
        ") h ON h.id_key = s.id_key GROUP BY s.enterprise_id, coalesce(s.category, '')"
    ), day_bits.period_params(start, end)).all()
    many = dict(((e, c), int(n or 0)) for e, c, n in session.execute(text(
        f"SELECT s.enterprise_id, coalesce(s.category, ''), sum(d.tests - d.tests % {day_bits.MANY_TESTS}) "
        f"FROM test_daily d JOIN staff s ON s.id_key = d.id_key WHERE d.tests >= {day_bits.MANY_TESTS} "
        "AND d.day >= :start AND d.day <= :end GROUP BY s.enterprise_id, coalesce(s.category, '')"
    ).bindparams(*_date_params({"start": start, "end": end}))))
    return [(e, c, staff, tested_n, int(tests_n or 0) + many.get((e, c), 0), neg, pos, pen)
            for e, c, staff, tested_n, tests_n, neg, pos, pen in rows]


def _date_params(values: dict[str, date]):
    return [bindparam(name, value=value, type_=Date) for name, value in values.items()]


def _counts_from_tallies(start: date, end: date):
    """The counts from SamplingDaily: its rows of the period summed per key, LEFT JOINed to
    every staff row (any period; on PostgreSQL 1.8 times the time of the day bits at
    200,000 staff, bench/README.md)."""
    p = person_tests(start, end)
    category = func.coalesce(Staff.category, "")
    stmt = (
        select(
            Staff.enterprise_id, category,
            func.count(Staff.id), func.count(p.c.id_key), func.coalesce(func.sum(p.c.tests), 0),
            _flag(_outcome("negative", p.c.positive, p.c.pending)),
            _flag(_outcome("positive", p.c.positive, p.c.pending)),
            _flag(_outcome("pending", p.c.positive, p.c.pending)),
        )
        .outerjoin(p, p.c.id_key == Staff.id_key)
        .group_by(Staff.enterprise_id, category)
    )
    return stmt


def person_numbers(session, keys: list[str], start: date, end: date) -> dict[str, tuple[int, str]]:
    """id_key → (tests, class label) over the period, for the people of one page
    (keys without a test in the period are left out: 0 tests, 未检测)."""
    if not keys:
        return {}
    stmt, tests, positive, pending = _sums(start, end)
    stmt = stmt.add_columns(tests, positive, pending).where(SamplingDaily.id_key.in_(set(keys)))
    return {k: (int(t or 0), str(OUTCOME_LABELS[stats_rules.test_outcome(t or 0, pos or 0, pen or 0)]))
            for k, t, pos, pen in session.execute(stmt)}

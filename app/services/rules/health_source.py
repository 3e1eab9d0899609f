"""Everything the rules read of the health data, in one module (the health package's
tables are being renamed: a merge fixes this file alone).

The nightly check reads one summary row per person — its *day bits*
(``app.services.health.day_bits``: per day of the last 62, the count of test records
modulo 8) and the latest sampling and test times — and goes back to the records only for
the few people whose window holds a day with two or more records (one sampling may have
been sent twice) or eight or more (the bits count modulo 8).
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Iterable, Iterator, NamedTuple, Optional

from sqlalchemy import and_, func, or_, select, text

from app.services.health.status.day_bits import BIT_DAYS, MANY_TESTS
from models.enterprises import Enterprise
from models.health import HealthSummary, SamplingDaily, SamplingRecord
from models.rules import AlertSetting
from models.staff import Staff

__all__ = ["BIT_DAYS", "PersonBits", "distinct_samplings", "distinct_samplings_in", "many_test_keys",
           "people_of_setting"]


class PersonBits(NamedTuple):
    staff_id: int
    created_at: Optional[datetime]
    id_key: Optional[str]
    tally_day: Optional[date]
    planes: tuple[int, ...]
    last_sampled_at: Optional[datetime]
    last_tested_at: Optional[datetime]


def setting_people(setting: AlertSetting):
    """The clause of the staff a setting covers: its type's people of its category, or —
    for a setting without category — of every category no active setting of the type
    names."""
    of_type = Staff.enterprise_id.in_(select(Enterprise.id).where(Enterprise.type_id == setting.type_id))
    if setting.category:
        return and_(of_type, Staff.category == setting.category)
    named = select(AlertSetting.category).where(
        AlertSetting.type_id == setting.type_id, AlertSetting.active.is_(True), AlertSetting.category.is_not(None))
    return and_(of_type, or_(Staff.category.is_(None), Staff.category.not_in(named)))


def people_of_setting(session, setting: AlertSetting) -> Iterator[PersonBits]:
    """Each person the setting covers with their summary's bits (None without records)."""
    stmt = (
        select(Staff.id, Staff.created_at, Staff.id_key, HealthSummary.tally_day, HealthSummary.tests_b0,
               HealthSummary.tests_b1, HealthSummary.tests_b2, HealthSummary.last_sampled_at,
               HealthSummary.last_tested_at)
        .outerjoin(HealthSummary, HealthSummary.id_key == Staff.id_key)
        .where(setting_people(setting))
    )
    # one setting covers one type's people (a few tens of thousands): fetched at once,
    # a server-side cursor's round trips cost more than the rows' memory
    for row in session.execute(stmt).all():
        yield PersonBits(row[0], row[1], row[2], row[3], (row[4] or 0, row[5] or 0, row[6] or 0), row[7], row[8])


def many_test_keys(session, keys: Iterable[str], first: date, last: date) -> set[str]:
    """Keys among ``keys`` with a day of ``MANY_TESTS`` or more records in ``first..last``
    (the partial index ``ix_test_daily_many`` serves it)."""
    stmt = select(SamplingDaily.id_key).where(SamplingDaily.tests >= MANY_TESTS, SamplingDaily.day >= first,
                                          SamplingDaily.day <= last)
    wanted = set(keys)
    return {k for k in session.execute(stmt).scalars() if k in wanted}


def distinct_samplings(session, keys: list[str], start: datetime, end: datetime) -> dict[str, int]:
    """Distinct sampling times of each of ``keys`` in ``start <= t < end`` (naive UTC),
    counted by the database on the ``(id_key, sampled_at)`` index; keys without any: absent."""
    out: dict[str, int] = {}
    for i in range(0, len(keys), 1000):
        stmt = (select(SamplingRecord.id_key, func.count(func.distinct(SamplingRecord.sampled_at)))
                .where(SamplingRecord.id_key.in_(keys[i:i + 1000]), SamplingRecord.sampled_at >= start,
                       SamplingRecord.sampled_at < end)
                .group_by(SamplingRecord.id_key))
        out.update(session.execute(stmt).tuples().all())
    return out


def distinct_samplings_in(session, spans: list[tuple[str, datetime, datetime]]) -> dict[str, int]:
    """Distinct sampling times of each key within its spans ``(key, start, end)`` (naive
    UTC, start inclusive; a key's spans do not overlap: the district days of several
    records). PostgreSQL: one index probe per span into the one partition of its day,
    instead of one per key and day of the window; the spans go as three arrays, parsed
    and planned in a blink however many there are."""
    out: dict[str, int] = {}
    records = SamplingRecord.__table__.name
    for i in range(0, len(spans), 5000):
        chunk = spans[i:i + 5000]
        rows = session.execute(text(
            "SELECT v.k, count(DISTINCT r.sampled_at) FROM unnest(CAST(:k AS varchar[]), "
            "CAST(:lo AS timestamp[]), CAST(:hi AS timestamp[])) AS v(k, lo, hi) "
            f"JOIN {records} r ON r.id_key = v.k AND r.sampled_at >= v.lo AND r.sampled_at < v.hi "
            "GROUP BY v.k"), {"k": [c[0] for c in chunk], "lo": [c[1] for c in chunk], "hi": [c[2] for c in chunk]})
        for key, n in rows.tuples():
            out[key] = out.get(key, 0) + n
    return out


def count_people(session, setting: AlertSetting) -> int:
    return session.execute(select(func.count()).select_from(Staff).where(setting_people(setting))).scalar_one()

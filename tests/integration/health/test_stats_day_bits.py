"""核酸检测统计 from the summaries' day bits (one row per person) give the numbers the
daily tallies give (a row per person and day), for every period a user can pick, as
the feeds, result corrections, refreshes and the retention purge keep them."""
from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.services.health.statistics import samplings
from app.services.health.status import day_bits, summary
from tests.conftest import PASSWORD, api_token
from tests.integration import factories as F
from tests.integration.health.stats_factories import keyed_staff

TZ = ZoneInfo("Asia/Shanghai")
TESTS_URL = "/api/v1/feeds/tests"
CATEGORIES = ("高风险人员", "管理人员", None)


def _local(moment: datetime) -> str:
    return moment.astimezone(TZ).replace(tzinfo=None, microsecond=0).isoformat()


def _row(number: str, sampled: datetime, result: str, institution: str) -> dict:
    row = {"id_number": number, "sampled_at": _local(sampled), "result": result, "institution": institution}
    if result != "pending":
        row["tested_at"] = _local(min(sampled + timedelta(hours=1), datetime.now(TZ)))
    return row


@pytest.fixture(scope="module")
def people(app):
    """Two enterprises, 24 people of three categories, three weeks of tests through the
    feed: random days and results, several tests on some days, one person tested 11
    times in one day (more than the bit planes hold), pending results resolved later."""
    rng = random.Random(20261202)
    enterprises = [F.make_enterprise(app, F.tag() + "位图企业") for _ in range(2)]
    numbers = []
    for i in range(24):
        number = F.id_number()
        keyed_staff(app, enterprises[i % 2], CATEGORIES[i % 3], number=number)
        numbers.append(number)
    now = datetime.now(TZ)
    rows, pending = [], []
    for number in numbers[:20]:  # four people never tested
        for _ in range(rng.randrange(1, 30)):
            sampled = now - timedelta(minutes=rng.randrange(30, 21 * 24 * 60))
            result = rng.choice(("negative",) * 8 + ("positive", "pending"))
            row = _row(number, sampled, result, rng.choice(("甲检测所", "乙检测所")))
            rows.append(row)
            if result == "pending" and rng.random() < 0.5:
                pending.append({**row, "result": "negative", "tested_at": _local(now)})
    busy = (now - timedelta(days=2)).replace(hour=10, minute=0, second=0)
    rows += [_row(numbers[0], busy + timedelta(minutes=5 * i), "negative", "丙检测所") for i in range(11)]
    client = app.test_client()
    headers = api_token(client, "feed", PASSWORD)
    for batch in (rows[: len(rows) // 2], rows[len(rows) // 2:], pending):
        response = client.post(TESTS_URL, json=batch, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert response.json["rejected"] == []
    return {"enterprises": enterprises, "numbers": numbers}


def _counts(app, enterprises, start: date, end: date, day_bits: bool) -> dict:
    def read(session):
        counts = samplings.enterprise_counts(session, start, end, use_day_bits=day_bits)
        return {k: v for k, v in counts.items() if k[0] in enterprises}

    return F.in_db(app, read)


def _periods(first: date, last: date):
    day = first
    while day <= last:
        for length in (1, 2, 3, 7, 14):
            if day + timedelta(days=length - 1) <= last:
                yield day, day + timedelta(days=length - 1)
        day += timedelta(days=1)


def _assert_same_for_every_period(app, enterprises, first: date, last: date) -> int:
    checked = 0
    for start, end in _periods(first, last):
        bits = _counts(app, enterprises, start, end, day_bits=True)
        tallies = _counts(app, enterprises, start, end, day_bits=False)
        assert bits == tallies, (start, end)
        checked += 1
    return checked


def test_day_bits_give_the_tallies_numbers_for_every_period(app, people):
    today = datetime.now(TZ).date()
    enterprises = people["enterprises"]
    week = _counts(app, enterprises, today - timedelta(days=6), today, day_bits=True)
    assert sum(v["tested"] for v in week.values()) > 10
    assert sum(v["positive"] for v in week.values()) > 0 and sum(v["pending"] for v in week.values()) > 0
    assert sum(v["tests"] for v in week.values()) > sum(v["tested"] for v in week.values())  # several a day
    assert _assert_same_for_every_period(app, enterprises, today - timedelta(days=13), today) == 14 + 13 + 12 + 8 + 1


def test_a_day_of_eleven_tests_counts_eleven(app, people):
    """The bit planes hold a day's count modulo 8; the rest comes from the tallies."""
    today = datetime.now(TZ).date()
    busy = today - timedelta(days=2)
    both = [_counts(app, people["enterprises"], busy, busy, day_bits=flag) for flag in (True, False)]
    assert both[0] == both[1]
    assert sum(v["tests"] for v in both[0].values()) >= 11


def test_refresh_and_purge_keep_the_day_bits_right(app, people):
    """Recomputing the summaries from the records gives the same bits as the feeds'
    increments; after the retention purge, every period the pickers still offer agrees."""
    from app.services.health.feeds.keys import staff_keys
    from app.services.health.feeds.retention import purge
    from models.health import HealthSummary

    with app.app_context():
        keys = [staff_keys(n)[0] for n in people["numbers"]]
    columns = [getattr(HealthSummary, c) for c in ("id_key",) + day_bits.BIT_COLUMNS]

    def bits(session):
        return sorted(session.execute(select(*columns).where(HealthSummary.id_key.in_(keys))).all())

    def refreshed(session):
        summary.refresh_keys(session, keys)
        session.commit()
        return bits(session)

    incremental = F.in_db(app, bits)
    assert any(row[1] is not None for row in incremental)
    assert F.in_db(app, refreshed) == incremental

    later = datetime.utcnow() + timedelta(days=3)
    F.in_db(app, lambda s: purge(s, later))
    today = datetime.now(TZ).date()
    first_offered = today + timedelta(days=3) - timedelta(days=13)  # stats.period_bounds three days on
    _assert_same_for_every_period(app, people["enterprises"], first_offered, today)


def test_periods_beyond_the_bits_use_the_tallies():
    today = date(2026, 12, 2)
    assert samplings.covered_by_day_bits(today - timedelta(days=13), today, today)
    assert samplings.covered_by_day_bits(today - timedelta(days=day_bits.BIT_DAYS - 2), today, today)
    assert not samplings.covered_by_day_bits(today - timedelta(days=day_bits.BIT_DAYS - 1), today, today)


def test_a_refresh_clears_the_bits_of_days_no_longer_tallied(app):
    """Day bits follow the tallies: a vaccinated person whose tests all left the window
    keeps the summary (for the doses) and, once refreshed, no test days."""
    from app.services.health.feeds.retention import purge
    from models.health import HealthSummary, SamplingDaily
    from tests.integration.health.health_factories import add_doses

    enterprise = F.make_enterprise(app, F.tag() + "位图企业")
    number = F.id_number()
    staff_id, key = keyed_staff(app, enterprise, number=number)
    client = app.test_client()
    old = datetime.now(TZ) - timedelta(days=13)
    response = client.post(TESTS_URL, json=[_row(number, old, "negative", "甲检测所")],
                           headers=api_token(client, "feed", PASSWORD))
    assert response.json["stored"] == 1
    add_doses(app, staff_id, {1: date(2021, 5, 1)})
    assert F.in_db(app, lambda s: s.get(HealthSummary, key).tally_day) == old.date()
    F.in_db(app, lambda s: purge(s, datetime.utcnow() + timedelta(days=3)))

    def refreshed(session):
        summary.refresh_keys(session, [key])
        session.commit()
        row = session.get(HealthSummary, key)
        days = session.execute(select(SamplingDaily).where(SamplingDaily.id_key == key)).all()
        return days, row.max_dose, [getattr(row, c) for c in day_bits.BIT_COLUMNS]

    assert F.in_db(app, refreshed) == ([], 1, [None, 0, 0, 0, 0, 0])


def test_concurrent_feeds_keep_tallies_and_day_bits_exact(app):
    """Six feed requests at once for the same people, on the same and on different days,
    some rows sent twice: every record stored once, and the tallies and day bits the
    requests left are what a recomputation from the records gives."""
    import threading

    from app.services.health.feeds.keys import staff_keys
    from models.health import HealthSummary, SamplingDaily

    rng = random.Random(6)
    enterprise = F.make_enterprise(app, F.tag() + "并发企业")
    numbers = [F.id_number() for _ in range(8)]
    for number in numbers:
        keyed_staff(app, enterprise, number=number)
    now = datetime.now(TZ)
    pool = [_row(rng.choice(numbers), now - timedelta(seconds=rng.randrange(1800, 10 * 86400)),
                 rng.choice(("negative", "negative", "positive", "pending")), "甲检测所") for _ in range(240)]
    batches = [rng.sample(pool, 60) for _ in range(6)]  # overlapping: records in several requests
    client = app.test_client()
    headers = api_token(client, "feed", PASSWORD)
    barrier, answers = threading.Barrier(len(batches)), []

    def send(batch):
        barrier.wait()
        answers.append(app.test_client().post(TESTS_URL, json=batch, headers=headers))

    threads = [threading.Thread(target=send, args=(b,)) for b in batches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a.status_code for a in answers] == [200] * len(batches), [a.get_data(as_text=True)[:300] for a in answers]
    distinct = {(r["id_number"], r["sampled_at"], r["institution"]) for batch in batches for r in batch}
    assert sum(a.json["stored"] - a.json["updated"] for a in answers) == len(distinct)
    with app.app_context():
        keys = [staff_keys(n)[0] for n in numbers]

    def state(session):
        days = session.execute(select(SamplingDaily.id_key, SamplingDaily.day, SamplingDaily.tests, SamplingDaily.positive,
                                      SamplingDaily.pending).where(SamplingDaily.id_key.in_(keys))).all()
        bits = session.execute(select(HealthSummary.id_key, *[getattr(HealthSummary, c) for c in day_bits.BIT_COLUMNS])
                               .where(HealthSummary.id_key.in_(keys))).all()
        return sorted(days), sorted(bits)

    def recomputed(session):
        summary.refresh_keys(session, keys)
        session.commit()
        return state(session)

    left = F.in_db(app, state)
    assert sum(row[2] for row in left[0]) == len(distinct)
    assert F.in_db(app, recomputed) == left

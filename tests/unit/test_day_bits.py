"""Day bits (app.services.health.status.day_bits): the SQL that builds a person's bits from
their daily tallies and the SQL that masks a period over them, run on an in-memory
SQLite and checked against the rule written out in Python."""
from __future__ import annotations

import random
import sqlite3
from datetime import date, timedelta

from hypothesis import given, strategies as st

from app.services.health.status import day_bits

TODAY = date(2026, 12, 2)


def _mask_in_python(tally: date | None, start: date, end: date) -> int:
    """Bit i set when the day ``tally - i`` lies in [start, end] and i < BIT_DAYS."""
    if tally is None:
        return 0
    return sum(1 << i for i in range(day_bits.BIT_DAYS) if start <= tally - timedelta(days=i) <= end)


def _mask_in_sql(tally: date | None, start: date, end: date) -> int:
    conn = sqlite3.connect(":memory:")
    number = None if tally is None else day_bits.day_number(tally)
    sql = "SELECT " + day_bits.period_mask_sql(":t")
    return conn.execute(sql, {"t": number, **day_bits.period_params(start, end)}).fetchone()[0]


@given(st.one_of(st.none(), st.integers(-3, 80)), st.integers(-5, 70), st.integers(0, 70))
def test_the_period_mask_covers_exactly_the_days_of_the_period(tally_back, start_back, length):
    tally = None if tally_back is None else TODAY - timedelta(days=tally_back)
    start = TODAY - timedelta(days=start_back)
    end = start + timedelta(days=length)
    assert _mask_in_sql(tally, start, end) == _mask_in_python(tally, start, end)


def _schema(conn):
    conn.execute("CREATE TABLE test_daily (id_key TEXT, day DATE, tests INT, negative INT, positive INT, pending INT)")
    conn.execute("CREATE TABLE health_summary (id_key TEXT PRIMARY KEY, tally_day DATE, tests_b0 INT DEFAULT 0, "
                 "tests_b1 INT DEFAULT 0, tests_b2 INT DEFAULT 0, positive_days INT DEFAULT 0, "
                 "pending_days INT DEFAULT 0)")


def test_recomputed_bits_hold_each_days_count_positives_and_pendings():
    rng = random.Random(7)
    conn = sqlite3.connect(":memory:")
    _schema(conn)
    days: dict[str, dict[date, tuple[int, int, int]]] = {}
    for k in range(40):
        key = f"k{k}"
        conn.execute("INSERT INTO health_summary (id_key) VALUES (?)", (key,))
        for back in rng.sample(range(90), rng.randrange(0, 12)):
            tests = rng.choice((1, 1, 1, 2, 3, 7, 8, 11))
            positive, pending = rng.randrange(0, 2), rng.randrange(0, 2)
            days.setdefault(key, {})[TODAY - timedelta(days=back)] = (tests, positive, pending)
            conn.execute("INSERT INTO test_daily VALUES (?, ?, ?, 0, ?, ?)",
                         (key, (TODAY - timedelta(days=back)).isoformat(), tests, positive, pending))
    conn.execute(day_bits.recompute_sql("sqlite", "SELECT id_key FROM health_summary"))
    for key, tally, b0, b1, b2, pos, pen in conn.execute("SELECT * FROM health_summary"):
        mine = days.get(key, {})
        if not mine:
            assert (tally, b0, b1, b2, pos, pen) == (None, 0, 0, 0, 0, 0)
            continue
        latest = max(mine)
        assert tally == latest.isoformat()
        for day, (tests, positive, pending) in mine.items():
            i = (latest - day).days
            if i >= day_bits.BIT_DAYS:
                continue  # beyond the bits: statistics of such periods read the tallies
            count = ((b0 >> i) & 1) + 2 * ((b1 >> i) & 1) + 4 * ((b2 >> i) & 1)
            assert count == tests % 8
            assert (pos >> i) & 1 == (positive > 0) and (pen >> i) & 1 == (pending > 0)
        kept = {(latest - d).days for d in mine if (latest - d).days < day_bits.BIT_DAYS}
        assert {i for i in range(64) if ((b0 | b1 | b2) >> i) & 1} == {
            i for i in kept if mine[latest - timedelta(days=i)][0] % 8}

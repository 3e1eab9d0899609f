"""Day bits: a person's test tallies of the last ``BIT_DAYS`` days, in their summary.

``health_summary`` carries for its key the bits of the key's SamplingDaily rows over the 62
days up to the key's latest day (``tally_day``; bit i is the day ``tally_day`` - i):
``tests_b0..b2`` are the bit planes of each day's test count (count mod 8),
``positive_days`` / ``pending_days`` the days with a positive / pending test. The test
statistics of a period then read one summary row per person (``period_mask_sql`` over
its bits) instead of a SamplingDaily row per person and day (``statistics.samplings``); days of
``MANY_TESTS`` or more tests add their multiples of 8 from SamplingDaily.

Kept by ``summary`` wherever SamplingDaily changes: ``recompute_sql`` (refresh, rebuild,
SQLite ingest, the migration that added the bits), ``SHIFT_ON_INGEST`` (PostgreSQL
ingest). SQL only, no app needed.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import text

from app.platform import database

BIT_DAYS = 62  # bits 0..61 of a BIGINT: bit i is the day ``tally_day - i``
PLANES = 3  # bit planes of a day's test count
MANY_TESTS = 1 << PLANES  # from this many tests in one day the planes (count mod 8) need test_daily
BIT_COLUMNS = ("tally_day", "tests_b0", "tests_b1", "tests_b2", "positive_days", "pending_days")
RESET = "tally_day = NULL, tests_b0 = 0, tests_b1 = 0, tests_b2 = 0, positive_days = 0, pending_days = 0"


_EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    """Days since 1970-01-01 (``day_number_sql`` of the same date)."""
    return (day - _EPOCH).days


def day_number_sql(dialect_name: str, column: str) -> str:
    """SQL for the days since 1970-01-01 of a date column, computed once per row where a
    statement compares it with several day numbers (SQLite's julianday is not free)."""
    if dialect_name == "postgresql":
        return f"({column} - DATE '1970-01-01')"
    return f"CAST(julianday({column}) - 2440587.5 AS INTEGER)"


def days_between_sql(dialect_name: str, later: str, earlier: str) -> str:
    """SQL for the whole days from date ``earlier`` to date ``later``."""
    return f"({day_number_sql(dialect_name, later)} - {day_number_sql(dialect_name, earlier)})"


# the bit of a SamplingDaily row (alias {t}) in each column of BIT_COLUMNS[1:]
_BIT_RULES = tuple(f"({{t}}.tests / {1 << plane}) % 2 = 1" for plane in range(PLANES)) + (
    "{t}.positive > 0", "{t}.pending > 0")


def _bits(aggregate: str, alias: str, offset: str) -> str:
    """The select list of the day bits of rows ``alias`` (day at ``offset`` days before the
    key's latest), combined by ``aggregate`` (sum of distinct powers of two = bit_or)."""
    return ", ".join(
        f"{aggregate}(CASE WHEN {rule.format(t=alias)} THEN CAST(1 AS BIGINT) << {offset} ELSE 0 END) AS {column}"
        for column, rule in zip(BIT_COLUMNS[1:], _BIT_RULES))


def recompute_sql(dialect_name: str, keys_sql: str) -> str:
    """UPDATE the day bits of the summaries whose keys ``keys_sql`` selects, from their
    SamplingDaily rows (the key's latest day is ``tally_day``, bit i its i-th day before):
    ``tests_b0..b2`` are the bit planes of each day's test count (count mod 8),
    ``positive_days`` / ``pending_days`` the days with a positive / pending test.
    Statistics of a period then read one summary row per person instead of a SamplingDaily
    row per person and day (``statistics.samplings``). Summaries without rows keep their bits:
    callers reset them first where rows may have gone (``RESET``). No app needed
    (the migration that added the bits runs it too)."""
    off = days_between_sql(dialect_name, "m.tally", "d.day")
    return (
        "UPDATE health_summary SET tally_day = b.tally, "
        + ", ".join(f"{c} = b.{c}" for c in BIT_COLUMNS[1:])
        + f" FROM (SELECT d.id_key, m.tally, {_bits('sum', 'd', off)}"
        " FROM test_daily d JOIN (SELECT id_key, max(day) AS tally FROM test_daily "
        f"  WHERE id_key IN ({keys_sql}) GROUP BY id_key) m ON m.id_key = d.id_key"
        f" WHERE {off} < {BIT_DAYS} AND d.tests > 0 GROUP BY d.id_key, m.tally) b "
        "WHERE health_summary.id_key = b.id_key")


# On ingest (PostgreSQL): the days the fold changed (feed_days, with their new totals)
# as bits from the batch's latest day per key (x.top), then, against the summary row the
# fold has just locked, both moved to the new latest day: the stored bits with the
# changed days cleared, the batch's bits set. The same result as recompute_sql, without
# reading the key's other SamplingDaily rows; one join with health_summary.
_FULL = (1 << BIT_DAYS) - 1
_NEW_TALLY = "GREATEST(h.tally_day, x.top)"


def _moved(bits: str, shift: str) -> str:
    """``bits`` shifted ``shift`` days older, days beyond the window dropped."""
    return (f"(CASE WHEN {shift} IS NULL OR {shift} >= {BIT_DAYS} THEN 0 "
            f"ELSE ({bits} << {shift}) & {_FULL} END)")


def _shift_column(column: str) -> str:
    kept, batch = f"({_NEW_TALLY} - h.tally_day)", f"({_NEW_TALLY} - x.top)"
    return (f"{column} = ({_moved('h.' + column, kept)} & ~{_moved('x.changed', batch)}) "
            f"| {_moved('x.' + column, batch)}")


SHIFT_ON_INGEST = (
    f"UPDATE health_summary h SET tally_day = {_NEW_TALLY}, "
    + ", ".join(_shift_column(c) for c in BIT_COLUMNS[1:])
    + " FROM (SELECT f.id_key, t.top, bit_or(CAST(1 AS BIGINT) << (t.top - f.day)) AS changed, "
    + _bits("bit_or", "f", "(t.top - f.day)")
    + " FROM feed_days f JOIN (SELECT id_key, max(day) AS top FROM feed_days GROUP BY id_key) t "
    f"  ON t.id_key = f.id_key WHERE t.top - f.day < {BIT_DAYS} GROUP BY f.id_key, t.top) x "
    "WHERE h.id_key = x.id_key")


def refresh(session, keys_sql: str, **params) -> None:
    """``recompute_sql`` on the session (``keys_sql`` may use the transaction's temporary
    tables and bound ``params``)."""
    session.execute(text(recompute_sql(database.dialect(session), keys_sql)), params)


def period_mask_sql(day_number: str) -> str:
    """SQL for the mask of the period ``:start_n``..``:end_n`` (``period_params``) over
    the bits of a row whose ``tally_day`` has the day number ``day_number``: 0 when the
    row has no bits or none of them falls in the period."""
    since, until = f"({day_number} - :start_n)", f"({day_number} - :end_n)"  # bits of first and last day
    top = BIT_DAYS - 1
    low = f"(CASE WHEN {until} > 0 THEN {until} ELSE 0 END)"
    high = f"(CASE WHEN {since} < {top} THEN {since} ELSE {top} END)"
    return (f"CASE WHEN {day_number} IS NULL OR {since} < 0 OR {until} > {top} THEN 0 "
            f"ELSE ((CAST(1 AS BIGINT) << ({high} - {low} + 1)) - 1) << {low} END")


def period_params(start: date, end: date) -> dict[str, int]:
    return {"start_n": day_number(start), "end_n": day_number(end)}

"""Unit tests for app.domain.testing_rules: N sampling events in the D days before today."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import testing_rules as tr
from app.domain.errors import RuleError

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2022, 6, 8)


def local(*args):
    """Naive UTC of a district wall time."""
    return datetime(*args, tzinfo=TZ).astimezone(timezone.utc).replace(tzinfo=None)


def ok(rule_name, times, today=TODAY):
    return tr.complies(times, tr.rule_by_name(rule_name), today, TZ)


def test_rules_table():
    """The alert settings offer the manual's eight rules with their N and D."""
    assert [(r.name, r.n, r.d) for r in tr.RULES] == [
        ("一天一检", 1, 1), ("两天一检", 1, 2), ("三天一检", 1, 3), ("三天两检", 2, 3),
        ("七天一检", 1, 7), ("七天两检", 2, 7), ("七天三检", 3, 7), ("十四天一检", 1, 14),
    ]
    assert len({r.code for r in tr.RULES}) == len(tr.RULES)


def test_rule_lookup_by_name_or_code():
    """A rule is found by its Chinese name or its stored code; an unknown one is refused."""
    assert tr.rule_by_name(" 三天两检 ") is tr.rule_by_name("3d2")
    with pytest.raises(RuleError) as exc:
        tr.rule_by_name("五天一检")
    assert "一天一检" in str(exc.value)


def test_one_a_day_counts_yesterday_only():
    """一天一检 checked on June 8 needs a sampling on June 7 (district time); today's does not count."""
    assert ok("一天一检", [local(2022, 6, 7, 0, 0)])
    assert ok("一天一检", [local(2022, 6, 7, 23, 59, 59)])
    assert not ok("一天一检", [local(2022, 6, 6, 23, 59, 59)])
    assert not ok("一天一检", [local(2022, 6, 8, 0, 1)])
    assert not ok("一天一检", [])


def test_two_day_and_fourteen_day_windows():
    """两天一检 looks at yesterday and the day before; 十四天一检 at the 14 days before today."""
    assert ok("两天一检", [local(2022, 6, 6, 9)])
    assert not ok("两天一检", [local(2022, 6, 5, 23)])
    assert ok("十四天一检", [local(2022, 5, 25, 0, 0)])
    assert not ok("十四天一检", [local(2022, 5, 24, 23, 59)])


def test_duplicate_feed_rows_count_once():
    """Two feed rows of one sampling (same time) do not make 三天两检; two samplings the same day do."""
    t = local(2022, 6, 6, 9)
    assert not ok("三天两检", [t, t])
    assert ok("三天两检", [t, t + timedelta(hours=6)])
    assert ok("七天三检", [local(2022, 6, 1, 8), local(2022, 6, 4, 8), local(2022, 6, 7, 8)])
    assert not ok("七天三检", [local(2022, 5, 31, 23), local(2022, 6, 4, 8), local(2022, 6, 7, 8)])


def test_aware_times_and_window_bounds():
    """Times with offsets count like stored UTC times; the SQL window is local midnight to local midnight."""
    aware = datetime(2022, 6, 7, 8, tzinfo=TZ)
    assert ok("一天一检", [aware])
    assert tr.window(tr.rule_by_name("三天一检"), TODAY, TZ) == (datetime(2022, 6, 4, 16), datetime(2022, 6, 7, 16))


samplings = st.lists(st.datetimes(min_value=datetime(2022, 5, 15), max_value=datetime(2022, 6, 10)), max_size=8)


def model_count(times, rule, today):
    """Independent model: distinct times whose district day is within the D days before today."""
    days = {today - timedelta(days=k) for k in range(1, rule.d + 1)}
    return len({t for t in times if t.replace(tzinfo=timezone.utc).astimezone(TZ).date() in days})


@given(samplings, st.sampled_from(tr.RULES))
def test_matches_the_independent_model(times, rule):
    """Compliance is exactly "at least N distinct samplings on the D days before today"."""
    assert tr.count_events(times, rule, TODAY, TZ) == model_count(times, rule, TODAY)
    assert tr.complies(times, rule, TODAY, TZ) == (model_count(times, rule, TODAY) >= rule.n)


@given(samplings, samplings, st.sampled_from(tr.RULES))
def test_more_samplings_never_break_a_rule(times, extra, rule):
    """Adding sampling records can only turn a breach into compliance, never the reverse."""
    if tr.complies(times, rule, TODAY, TZ):
        assert tr.complies(times + extra, rule, TODAY, TZ)


@given(samplings, st.sampled_from(tr.RULES), st.datetimes(min_value=datetime(2022, 6, 7, 16), max_value=datetime(2022, 7, 1)))
def test_samplings_from_today_on_do_not_count(times, rule, later):
    """A sampling today or later changes nothing about today's check."""
    assert tr.complies(times + [later], rule, TODAY, TZ) == tr.complies(times, rule, TODAY, TZ)

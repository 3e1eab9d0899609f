"""Unit tests for jobs.crontab: district-local crontabs turned into UTC ones for rq cron."""

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.crontab import to_utc, utc_offset_minutes

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = datetime(2022, 6, 1, 0, 0, tzinfo=timezone.utc)


def local_fire_times(expr, count=40):
    """Fire instants of ``expr`` read in Shanghai time (croniter's own tz handling)."""
    it = croniter(expr, START.astimezone(SHANGHAI))
    return [it.get_next(datetime).astimezone(timezone.utc) for _ in range(count)]


def utc_fire_times(exprs, count=40):
    times = set()
    for expr in exprs:
        it = croniter(expr, START)
        times.update(it.get_next(datetime) for _ in range(count))
    return sorted(times)[:count]


def test_nightly_job_at_3_30_runs_at_19_30_utc():
    """The nightly purge set for 03:30 district time runs at 03:30 in Shanghai, not 03:30 UTC."""
    assert to_utc("30 3 * * *", 480) == ["30 19 * * *"]


def test_every_minute_is_unchanged():
    """A job that runs every minute keeps running every minute."""
    assert to_utc("* * * * *", 480) == ["* * * * *"]


def test_weekday_moves_with_the_day():
    """A Monday 02:00 local job fires on Sunday 18:00 UTC, which is Monday in Shanghai."""
    assert to_utc("0 2 * * 1", 480) == ["0 18 * * 0"]


def test_day_of_month_across_midnight_is_refused():
    """A monthly rule that would cross midnight is refused rather than silently shifted."""
    with pytest.raises(ValueError):
        to_utc("0 2 1 * *", 480)


def test_shanghai_offset():
    """The district's zone is eight hours ahead of UTC."""
    assert utc_offset_minutes("Asia/Shanghai") == 480


@settings(max_examples=60, deadline=None)
@given(
    minute=st.integers(0, 59),
    hours=st.sets(st.integers(0, 23), min_size=1, max_size=5),
    dow=st.one_of(st.just("*"), st.sets(st.integers(0, 6), min_size=1, max_size=3)),
)
def test_converted_crontab_fires_at_the_same_instants(minute, hours, dow):
    """Whatever the hours and weekdays, the UTC crontab fires exactly when the local one would."""
    dow_text = dow if dow == "*" else ",".join(str(d) for d in sorted(dow))
    local = f"{minute} {','.join(str(h) for h in sorted(hours))} * * {dow_text}"
    assert utc_fire_times(to_utc(local, 480)) == local_fire_times(local)

"""The district clock (app/platform/clock.py): stored naive-UTC times read as district
times, and district days as UTC bounds."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest
from flask import Flask

from app.platform import clock


@pytest.fixture
def district():
    bare = Flask(__name__)  # the clock reads only TIMEZONE; no Sentinel app needed
    bare.config["TIMEZONE"] = "Asia/Shanghai"
    with bare.app_context():
        yield bare


def test_a_stored_time_reads_as_district_time(district):
    """A record stored at 17:30 UTC shows as 01:30 the next morning in the district."""
    local = clock.to_local(datetime(2022, 6, 7, 17, 30))
    assert (local.date(), local.hour, local.minute) == (date(2022, 6, 8), 1, 30)
    assert clock.to_local(datetime(2022, 6, 7, 17, 30, tzinfo=timezone.utc)) == local


def test_today_is_the_district_day(district):
    """Just after 16:00 UTC it is already tomorrow in the district, to the second."""
    now = datetime(2022, 6, 7, 16, 0, 5, 123456, tzinfo=timezone.utc)
    assert clock.local_today(now) == date(2022, 6, 8)
    assert clock.local_now(now).microsecond == 0


def test_a_district_day_in_utc(district):
    """A district day runs from 16:00 UTC the day before to 16:00 UTC on the day."""
    assert clock.day_bounds_utc(date(2022, 6, 8)) == (datetime(2022, 6, 7, 16), datetime(2022, 6, 8, 16))


def test_the_zone_is_configured(district):
    """Another TIMEZONE moves every answer with it."""
    district.config["TIMEZONE"] = "UTC"
    assert clock.local_today(datetime(2022, 6, 7, 23, 59)) == date(2022, 6, 7)
    assert clock.district_tz().key == "UTC"

"""The district clock: times are stored as naive UTC, shown and computed in the
district's time zone (``TIMEZONE``, default Asia/Shanghai); calendar-day rules use
local days (SPEC conventions).

Every module asks this one for the zone and for "now" in it. The arithmetic itself is
pure and takes the zone as an argument (``app.domain.health``: ``utc_naive``,
``local_date``, ``local_midnight_utc``); jobs/crontab.py converts crontabs from the
zone's name on its own, outside any app.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Optional
from zoneinfo import ZoneInfo

from flask import current_app

from app.domain.health import local_midnight_utc, utc_naive

DEFAULT_TIMEZONE = "Asia/Shanghai"
MINUTE_FORMAT = "%Y-%m-%d %H:%M"  # how pages show a time


def tz_name() -> str:
    """The configured zone's name (``TIMEZONE``)."""
    return current_app.config.get("TIMEZONE") or DEFAULT_TIMEZONE


def district_tz() -> ZoneInfo:
    """The district's time zone (``ZoneInfo`` caches one instance per name)."""
    return ZoneInfo(tz_name())


def to_local(moment: datetime, tz: Optional[tzinfo] = None) -> datetime:
    """A naive-UTC (as stored) or aware datetime as an aware district-local one (``tz``:
    the district zone when a caller converting many values looked it up once)."""
    return utc_naive(moment).replace(tzinfo=timezone.utc).astimezone(tz or district_tz())


def local_text(moment: Optional[datetime | date]) -> str:
    """A stored time (naive UTC) as the district reads it, to the minute; a date as
    ISO; '' for None."""
    if moment is None:
        return ""
    if not isinstance(moment, datetime):
        return moment.isoformat()
    return to_local(moment).strftime(MINUTE_FORMAT)


def local_iso(moment: Optional[datetime]) -> Optional[str]:
    """ISO 8601 with the district offset (2022-06-07T10:30:00+08:00), for the API."""
    if moment is None:
        return None
    return to_local(moment).isoformat()


def local_now(now: Optional[datetime] = None) -> datetime:
    """``now`` (default: the current instant; naive means UTC) in district time, to the second."""
    return to_local(now or datetime.now(timezone.utc)).replace(microsecond=0)


def local_today(now: Optional[datetime] = None) -> date:
    """The district calendar day of ``now`` (default: today)."""
    return local_now(now).date()


def day_bounds_utc(day: date) -> tuple[datetime, datetime]:
    """Naive UTC of district midnight on ``day`` and on the next day: the day is
    ``start <= t < end`` for stored times."""
    tz = district_tz()
    return local_midnight_utc(day, tz), local_midnight_utc(day + timedelta(days=1), tz)

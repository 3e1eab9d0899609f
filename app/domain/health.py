"""Test-status rules of one person: buckets, checkpoint labels, 7-day history.

All times are naive UTC (as stored) or timezone-aware; ``utc_naive`` brings either to
naive UTC. Calendar-day questions take the district's ``tz`` (Asia/Shanghai).

Buckets (seed 001 §2.4.2, 核酸检测统计以核酸采样时间为准), by the age n of the latest
*sampling* time:  24小时 n ≤ 24 h · 48小时 24 < n ≤ 48 h · 72小时 48 < n ≤ 72 h ·
大于72小时 n > 72 h · 未匹配 no record within the window (14 days by default; a
record older than the window counts as none, even before the purge removes it).
A sampling time slightly in the future (clock skew) counts as 24小时.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone, tzinfo
from operator import attrgetter
from typing import Callable, Iterable, TypeVar

from app.domain.i18n import _


def N_(text: str) -> str:
    """Marks a contract value for the catalog without translating it here (msgid == value)."""
    return text


WINDOW = timedelta(days=14)

BUCKET_24H = "24h"
BUCKET_48H = "48h"
BUCKET_72H = "72h"
BUCKET_OVER_72H = "over72h"
BUCKET_UNMATCHED = "unmatched"
BUCKETS = (BUCKET_24H, BUCKET_48H, BUCKET_72H, BUCKET_OVER_72H, BUCKET_UNMATCHED)  # display order
BUCKET_LABELS = {
    BUCKET_24H: _("24小时"),
    BUCKET_48H: _("48小时"),
    BUCKET_72H: _("72小时"),
    BUCKET_OVER_72H: _("大于72小时"),
    BUCKET_UNMATCHED: _("未匹配"),
}
# The ranges the head's home shows under each count (seed 001 §2.4: 24小时 (n≤24小时) …).
BUCKET_RANGES = {
    BUCKET_24H: _("n≤24小时"),
    BUCKET_48H: _("24<n≤48小时"),
    BUCKET_72H: _("48<n≤72小时"),
    BUCKET_OVER_72H: _("n>72小时"),
}
# The data-source line under the counts (seed 001 §2.4, word for word; the days follow the window).
DATA_SOURCE_NOTE = _("核酸检测统计以核酸采样时间为准。系统核酸数据源为广州市内近%(days)d天的核酸检测数据。")
_H24, _H48, _H72 = timedelta(hours=24), timedelta(hours=48), timedelta(hours=72)
_UPPER = {BUCKET_24H: _H24, BUCKET_48H: _H48, BUCKET_72H: _H72}  # n ≤ upper
_LOWER = {BUCKET_48H: _H24, BUCKET_72H: _H48, BUCKET_OVER_72H: _H72}  # n > lower

UNMATCHED_NOTE = _(
    "未匹配表示在下发的核酸库里面没有找到该人员近14天的核酸检测数据记录。其原因有可能是人员身份证号码"
    "录入有误无法匹配核酸库数据，或者该人员确实无近14日的核酸检测记录。"
)
UNMATCHED_HINTS = (
    _("核查证件号码是否正确？身份证号码要正确，有x结尾的记得写成大写X；"),
    _("核查录入系统的证件号码和核酸码证件号码是否一致？录入系统的证件号码要和核酸码填写的证件号码一致；"),
    _("核查是不是在本市采样点做核酸的？需要在本市近14天有做核酸检测的，才能匹配到。"),
)

# Checkpoint labels (seed 002): contract values of the scan answer's ``test_label``.
LABEL_24H_NEGATIVE = N_("24小时阴性")
LABEL_48H_NEGATIVE = N_("48小时阴性")
LABEL_72H_NEGATIVE = N_("72小时阴性")
LABEL_7D_NEGATIVE = N_("7天阴性")
_CHECKPOINT_STEPS = (
    (_H24, LABEL_24H_NEGATIVE),
    (_H48, LABEL_48H_NEGATIVE),
    (_H72, LABEL_72H_NEGATIVE),
    (timedelta(days=7), LABEL_7D_NEGATIVE),
)
HISTORY_DAYS = 7


def utc_naive(moment: datetime) -> datetime:
    """Naive UTC of a naive-UTC or aware datetime."""
    if moment.tzinfo is None:
        return moment
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def local_date(moment: datetime, tz: tzinfo) -> date:
    """The district calendar day of a naive-UTC or aware datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(tz).date()


def local_midnight_utc(day: date, tz: tzinfo) -> datetime:
    """Naive UTC of 00:00 district time on ``day``."""
    return utc_naive(datetime.combine(day, time(0), tzinfo=tz))


def bucket_of(latest_sampled_at: datetime | None, now: datetime, window: timedelta = WINDOW) -> str:
    """The bucket code (see BUCKETS) of a person whose latest sampling was at
    ``latest_sampled_at`` (None: no record)."""
    if latest_sampled_at is None:
        return BUCKET_UNMATCHED
    age = utc_naive(now) - utc_naive(latest_sampled_at)
    if age <= _H24:
        return BUCKET_24H
    if age <= _H48:
        return BUCKET_48H
    if age <= _H72:
        return BUCKET_72H
    if age <= window:
        return BUCKET_OVER_72H
    return BUCKET_UNMATCHED


def bucket_range(bucket: str, now: datetime, window: timedelta = WINDOW) -> tuple[datetime | None, datetime | None]:
    """``(start, end)`` in naive UTC such that a latest sampling time s is in ``bucket``
    iff ``start <= s < end`` (None: unbounded), for SQL filters. For 未匹配 the range is
    ``(None, now - window)`` and a person *without* a record belongs to it as well.
    Raises KeyError for an unknown bucket."""
    now = utc_naive(now)
    if bucket == BUCKET_UNMATCHED:
        return None, now - window
    if bucket not in BUCKET_LABELS:
        raise KeyError(bucket)
    start = now - (window if bucket == BUCKET_OVER_72H else _UPPER[bucket])
    end = now - _LOWER[bucket] if bucket in _LOWER else None
    return start, end


def checkpoint_test_label(
    latest_negative_sampled_at: datetime | None,
    now: datetime,
    *,
    latest_positive_sampled_at: datetime | None = None,
) -> str | None:
    """24小时阴性 / 48小时阴性 / 72小时阴性 / 7天阴性 by the age of the latest negative
    sampling (n ≤ 24 h, ≤ 48 h, ≤ 72 h, ≤ 168 h); None otherwise, and the caller shows
    the latest sampling time and result. A positive sampled at or after that negative
    (``latest_positive_sampled_at``) also gives None: a newer positive is never hidden
    behind an older negative."""
    if latest_negative_sampled_at is None:
        return None
    negative = utc_naive(latest_negative_sampled_at)
    if latest_positive_sampled_at is not None and utc_naive(latest_positive_sampled_at) >= negative:
        return None
    age = utc_naive(now) - negative
    for limit, label in _CHECKPOINT_STEPS:
        if age <= limit:
            return label
    return None


def history_start(now: datetime, tz: tzinfo, days: int = HISTORY_DAYS) -> datetime:
    """Naive UTC start of the 查看核酸 history: 00:00 district time, ``days - 1`` days
    before today (today and the six days before it)."""
    return local_midnight_utc(local_date(now, tz) - timedelta(days=days - 1), tz)


T = TypeVar("T")


def select_history(
    records: Iterable[T],
    now: datetime,
    tz: tzinfo,
    days: int = HISTORY_DAYS,
    key: Callable[[T], datetime] = attrgetter("sampled_at"),
) -> list[T]:
    """The records of the 7-day history (sampled from ``history_start`` on, not later
    than now plus ten minutes of clock skew), newest sampling first."""
    start = history_start(now, tz, days)
    end = utc_naive(now) + timedelta(minutes=10)
    chosen = [r for r in records if start <= utc_naive(key(r)) <= end]
    chosen.sort(key=lambda r: utc_naive(key(r)), reverse=True)
    return chosen


def percent(part: int, whole: int) -> str:
    """A rate as the statistics tables print it: 36.98%; 0.00% when ``whole`` is 0."""
    if whole <= 0:
        return "0.00%"
    return f"{part * 100 / whole:.2f}%"

"""Crontabs written in district local time, turned into UTC ones for ``rq cron``.

``rq cron`` evaluates crontabs in UTC; jobs/registry.py writes them in the
district's time (``TIMEZONE``, Asia/Shanghai = UTC+8, no daylight saving). For a
whole-hour offset the hour field is shifted; hours that move to the previous or next
day shift the day-of-week field too (one crontab per day shift). Day-of-month and
month restrictions cannot be shifted across midnight and are refused, as are
offsets that are not whole hours. The offset is the one in force when ``rq cron``
starts (restart it after a daylight-saving change in zones that have one).
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from zoneinfo import ZoneInfo


def utc_offset_minutes(tz_name: str, at: datetime | None = None) -> int:
    offset = ZoneInfo(tz_name).utcoffset(at or datetime.now())
    return int(offset.total_seconds() // 60) if offset is not None else 0


def _expand(field: str, low: int, high: int) -> list[int]:
    """The values a numeric crontab field (``*``, ``a``, ``a-b``, ``*/n``, ``a-b/n``, lists) matches."""
    values: set[int] = set()
    for part in field.split(","):
        rng, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if rng == "*":
            start, end = low, high
        elif "-" in rng:
            start, end = (int(x) for x in rng.split("-", 1))
        else:
            start = int(rng)
            end = high if step_text else start
        if not (low <= start <= end <= high) or step < 1:
            raise ValueError(f"crontab field {field!r} out of range {low}-{high}")
        values.update(range(start, end + 1, step))
    return sorted(values)


def _join(values: list[int]) -> str:
    return ",".join(str(v) for v in sorted(set(values)))


def to_utc(expr: str, offset_minutes: int) -> list[str]:
    """The UTC crontab(s) equivalent to local ``expr`` at UTC+``offset_minutes``."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"crontab {expr!r} needs 5 fields")
    if offset_minutes % 60:
        raise ValueError("only whole-hour UTC offsets are supported")
    minute, hour, dom, month, dow = fields
    shift_hours = offset_minutes // 60
    if shift_hours == 0 or hour == "*":
        return [expr]
    by_day: dict[int, list[int]] = defaultdict(list)
    for h in _expand(hour, 0, 23):
        day, utc_hour = divmod(h - shift_hours, 24)
        by_day[day].append(utc_hour)
    out = []
    for day, hours in sorted(by_day.items()):
        day_dow = dow
        if day:
            if dom != "*" or month != "*":
                raise ValueError(f"crontab {expr!r}: cannot move a day-of-month rule across midnight")
            if dow != "*":
                day_dow = _join([(d % 7 + day) % 7 for d in _expand(dow, 0, 7)])
        out.append(" ".join([minute, _join(hours), dom, month, day_dow]))
    return out

"""Testing-frequency rules (seed 001 §2.5–2.6, SPEC §4).

A rule asks for N sampling events within the D district calendar days before today
(today itself excluded): 三天两检 checked on June 8 counts samplings of June 5, 6 and 7.
Feed rows of one sampling (same sampling time) count once; samplings at different times
count separately, even on the same day ("少于两次核酸检测记录").
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Iterable
from urllib.parse import urlsplit

from app.domain.errors import RuleError
from app.domain.health import N_, local_midnight_utc, utc_naive
from app.domain.i18n import _


@dataclass(frozen=True)
class FrequencyRule:
    """N sampling events within D days; ``code`` is the stable stored form."""

    code: str
    name: str
    n: int
    d: int


RULES = (
    FrequencyRule("1d1", N_("一天一检"), 1, 1),
    FrequencyRule("2d1", N_("两天一检"), 1, 2),
    FrequencyRule("3d1", N_("三天一检"), 1, 3),
    FrequencyRule("3d2", N_("三天两检"), 2, 3),
    FrequencyRule("7d1", N_("七天一检"), 1, 7),
    FrequencyRule("7d2", N_("七天两检"), 2, 7),
    FrequencyRule("7d3", N_("七天三检"), 3, 7),
    FrequencyRule("14d1", N_("十四天一检"), 1, 14),
)
_BY_KEY = {**{r.name: r for r in RULES}, **{r.code: r for r in RULES}}
MAX_DAYS = max(r.d for r in RULES)


def rule_by_name(name: str) -> FrequencyRule:
    """The rule called ``name`` (一天一检 …) or with that code (1d1 …); RuleError if none."""
    rule = _BY_KEY.get(str(name or "").strip())
    if rule is None:
        raise RuleError("rule", _("核酸检测规则不正确，应为：%(names)s", names="、".join(r.name for r in RULES)))
    return rule


def window(rule: FrequencyRule, today: date, tz: tzinfo) -> tuple[datetime, datetime]:
    """``(start, end)`` naive UTC: a sampling time s counts iff ``start <= s < end``
    (00:00 district time D days before today up to 00:00 today)."""
    return local_midnight_utc(today - timedelta(days=rule.d), tz), local_midnight_utc(today, tz)


def count_events(sampling_times: Iterable[datetime], rule: FrequencyRule, today: date, tz: tzinfo) -> int:
    """Distinct sampling times (naive UTC or aware) inside the rule's window."""
    start, end = window(rule, today, tz)
    return len({t for t in map(utc_naive, sampling_times) if start <= t < end})


def complies(sampling_times: Iterable[datetime], rule: FrequencyRule, today: date, tz: tzinfo) -> bool:
    """Did the person meet ``rule`` as checked on ``today`` (local date)?"""
    return count_events(sampling_times, rule, today, tz) >= rule.n


# --- the nightly check from the day bits (app/services/health/day_bits.py) -----------

def window_days(rule: FrequencyRule, today: date) -> list[date]:
    """The D district days the rule looks at, oldest first (today excluded)."""
    return [today - timedelta(days=k) for k in range(rule.d, 0, -1)]


def day_counts_from_bits(tally_day: date | None, planes: Iterable[int], days: Iterable[date],
                         bit_days: int = 62) -> list[int]:
    """Each day's test count (modulo 2**len(planes)) from a summary's day bits: bit i of
    each plane is the day ``tally_day - i``; days outside the bits count 0. (Day by day:
    the reference :func:`window_mask` and :func:`bounds_from_bits` are tested against.)"""
    planes = list(planes)
    out = []
    for day in days:
        shift = (tally_day - day).days if tally_day is not None else -1
        if shift < 0 or shift >= bit_days:
            out.append(0)
            continue
        out.append(sum(((int(p or 0) >> shift) & 1) << k for k, p in enumerate(planes)))
    return out


def bounds_from_counts(counts: Iterable[int]) -> tuple[int, int]:
    """``(low, high)`` for the distinct samplings of days with these record counts: a day
    with records holds at least one sampling, and at most one per record (two records of
    one day may be one sampling sent twice)."""
    counts = list(counts)
    return sum(1 for c in counts if c > 0), sum(counts)


def window_mask(tally_day: date | None, rule: FrequencyRule, today: date, bit_days: int = 62) -> int:
    """The bits of a summary whose latest day is ``tally_day`` (bit i = the day
    ``tally_day - i``) that fall in the rule's window (the D days before ``today``)."""
    if tally_day is None:
        return 0
    low = (tally_day - (today - timedelta(days=1))).days  # bit of yesterday
    high = low + rule.d - 1  # bit of the window's first day
    low, high = max(low, 0), min(high, bit_days - 1)
    if high < low:
        return 0
    return ((1 << (high - low + 1)) - 1) << low


def days_from_bits(planes: tuple[int, ...], mask: int) -> tuple[int, bool]:
    """``(low, doubtful)`` of :func:`bounds_from_bits` without the upper bound: the masked
    days with records, and whether one of them holds two or more (the nightly check's
    hot path)."""
    rest = 0
    for p in planes[1:]:
        rest |= p
    return ((planes[0] | rest) & mask).bit_count(), bool(rest & mask)


def split_from_bits(planes: tuple[int, ...], mask: int, tally_day: date) -> tuple[int, list[date]]:
    """``(single, several)`` of the masked days, from the bit planes of each day's record
    count: how many days hold exactly one record (one sampling each), and which days hold
    two to seven (their distinct sampling times must be counted from the records). A day
    of eight records reads as none here: such people are counted from the records over
    the whole window instead (``MANY_TESTS``)."""
    p0, p1, p2 = (int(p) for p in (tuple(planes) + (0, 0, 0))[:3])
    single = (mask & p0 & ~p1 & ~p2).bit_count()
    bits = mask & (p1 | p2)
    several = []
    while bits:
        low = bits & -bits
        several.append(tally_day - timedelta(days=low.bit_length() - 1))
        bits ^= low
    return single, several


def bounds_from_bits(planes: tuple[int, ...], mask: int) -> tuple[int, int, bool]:
    """``(low, high, doubtful)`` of the distinct samplings in the masked days, from the bit
    planes of each day's record count: a day with records holds at least one sampling
    (``low`` counts the days), at most one per record (``high``); ``doubtful``: some day
    holds two or more records (one sampling may have been sent twice)."""
    any_day = 0
    for p in planes:
        any_day |= p
    high = sum((int(p) & mask).bit_count() << k for k, p in enumerate(planes))
    many = 0
    for p in planes[1:]:
        many |= p
    return (any_day & mask).bit_count(), high, bool(many & mask)


@dataclass(frozen=True)
class Verdict:
    samplings: int
    compliant: bool | None  # None: registered inside the window and short of the rule


def verdict(samplings: int, rule: FrequencyRule, today: date, registered_on: date | None) -> Verdict:
    """The day's result: compliant when the window holds N samplings. A person registered
    fewer than D days before ``today`` (the window reaches back before they were staff)
    and short of N is not judged yet (``None``): they are not reported until their first
    full window. Samplings from before the registration count (the feed has them)."""
    if samplings >= rule.n:
        return Verdict(samplings, True)
    if registered_on is not None and registered_on > today - timedelta(days=rule.d):
        return Verdict(samplings, None)
    return Verdict(samplings, False)


# --- what 告警设置 accepts -------------------------------------------------------------

def clean_time(raw: object, field: str, label: str) -> str:
    """``HH:MM`` (district time) from "9:00", "09:00" …; RuleError otherwise."""
    text = str(raw or "").strip().replace("：", ":")
    parts = text.split(":")
    if len(parts) == 2 and all(p.isdigit() and 1 <= len(p) <= 2 for p in parts):
        hour, minute = int(parts[0]), int(parts[1])
        if 0 <= hour < 24 and 0 <= minute < 60:
            return f"{hour:02d}:{minute:02d}"
    raise RuleError(field, _("“%(label)s”应为时间，如 09:00", label=label))


def clean_webhook(raw: object, allow_private: bool = False) -> str:
    """A messenger-group robot URL: http(s) with a host; RuleError otherwise. Unless
    ``allow_private`` (the ``WEBHOOK_ALLOW_PRIVATE`` setting), a host that is this
    machine or an internal address (loopback, private, shared, link-local, unspecified,
    reserved, multicast; an IP in any spelling, ``localhost``) is refused too: the
    server would send what users typed to its own network."""
    text = str(raw or "").strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
    except ValueError:
        parts = host = None
    if parts is None or parts.scheme not in ("http", "https") or not host or len(text) > 500:
        raise RuleError("recipients", _("群机器人地址应为 http:// 或 https:// 开头的网址：%(url)s", url=text[:80]))
    if not allow_private and is_internal_host(host):
        raise RuleError("recipients", _("群机器人地址不能是本机或内网地址：%(url)s", url=text[:80]))
    return text


def is_internal_host(host: str) -> bool:
    """Whether ``host`` (a URL's host name) names this machine or an internal address;
    IPv4 in the short or numeric spellings HTTP clients accept ("127.1", "2130706433")
    counts as the address it means. Names are not resolved (no network here): the
    sender checks the addresses a name resolves to with :func:`is_internal_address`."""
    host = host.strip().rstrip(".").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return False
    return _is_internal_ip(address)


def is_internal_address(address: str) -> bool:
    """Whether ``address``, an IP address as a resolver gives it ("10.0.0.7", "::1",
    "fe80::1%eth0"), is this machine or an internal address (as :func:`is_internal_host`
    counts them). Anything that is not an IP address counts as internal: the caller
    was about to connect to it, and cannot tell where it leads."""
    try:
        parsed = ipaddress.ip_address(str(address).split("%", 1)[0])
    except ValueError:
        return True
    return _is_internal_ip(parsed)


def _is_internal_ip(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Not a public unicast address: private, loopback, link-local, unspecified, reserved,
    multicast, or otherwise not global (the shared 100.64.0.0/10, where some clouds keep
    their metadata service, e.g. 100.100.100.200)."""
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    return (not address.is_global or address.is_private or address.is_loopback or address.is_link_local
            or address.is_unspecified or address.is_reserved or address.is_multicast)

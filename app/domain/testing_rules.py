"""Testing-frequency rules (seed 001 §2.5–2.6, SPEC §4).

A rule asks for N sampling events within the D district calendar days before today
(today itself excluded): 三天两检 checked on June 8 counts samplings of June 5, 6 and 7.
Feed rows of one sampling (same sampling time) count once; samplings at different times
count separately, even on the same day ("少于两次核酸检测记录").
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Iterable

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

"""Rules of the statistics pages (SPEC §3 数据统计, seed 001 §2.4.1), free of the app.

Test statistics, per staff row over a period of district-local days [start, end]
(SamplingDaily keeps, per staff key and local sampling day, how many tests and of which
results; 核酸检测统计以核酸采样时间为准):

* 人员数量: staff rows; 核酸检测人次: tests sampled in the period; 核酸检测人数: staff
  with at least one; 未核酸检测人数 = 人员数量 − 核酸检测人数; 覆盖率 = 检测人数 / 人员数量.
* Each tested person counts once in exactly one of: 阳性 (any positive in the period),
  else 未出结果 (any pending), else 阴性 — so 阴性 + 阳性 + 未出结果 = 核酸检测人数
  (:func:`test_outcome`).
* The same person registered in two enterprises is two staff rows and counts in both
  (as the registry lists them); the total row is the sum of the rows.

Vaccine statistics (per staff row, today in district time): 可接种 / 接种 per dose as
``app.domain.vaccines`` defines them; 完成率 = 接种人数 / 工作人员数量 (the manual's
table: 4005 / 4479 = 89.42%). :func:`eligibility_cutoffs` turns a product's interval
into "dose n-1 given on or before this day", so SQL can count eligibility per product
without computing it per person.
"""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, timedelta
from typing import Iterable, Optional

from app.domain import vaccines
from app.domain.errors import RuleError
from app.domain.i18n import _

DEFAULT_DAYS = 7
MAX_DAYS = 31
_DATE_RE = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")

POSITIVE = "positive"
PENDING = "pending"
NEGATIVE = "negative"
UNTESTED = "untested"


def parse_day(text: Optional[str], field: str) -> Optional[date]:
    """A YYYY-MM-DD day, None when blank; RuleError for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        if not _DATE_RE.match(text):
            raise ValueError(text)
        year, month, day = (int(p) for p in text.split("-"))
        return date(year, month, day)
    except ValueError:
        label = _("开始日期") if field == "start" else _("结束日期")
        raise RuleError(field, _("%(label)s格式不正确，应为YYYY-MM-DD，例如2022-06-07", label=label))


def parse_period(start_text: Optional[str], end_text: Optional[str], today: date,
                 max_days: int = MAX_DAYS, default_days: int = DEFAULT_DAYS,
                 earliest: Optional[date] = None) -> tuple[date, date]:
    """The period [start, end] (local days, both included) a user asked for.

    Blank end: today; blank start: ``default_days`` days ending on ``end`` (the last 7
    days, today included). RuleError (Chinese) for a bad format, an end before the
    start, more than ``max_days`` days, or a start before ``earliest`` (the first day
    whose test records are still kept).
    """
    start = parse_day(start_text, "start")
    end = parse_day(end_text, "end")
    end = end or today
    start = start or end - timedelta(days=default_days - 1)
    if end < start:
        raise RuleError("end", _("结束日期不能早于开始日期"))
    if (end - start).days + 1 > max_days:
        raise RuleError("end", _("查询时间段不能超过%(n)d天", n=max_days))
    if earliest is not None and start < earliest:
        raise RuleError("start", _("开始日期不能早于%(day)s（核酸检测数据只保留近%(n)d天）",
                                   day=earliest.isoformat(), n=(today - earliest).days + 1))
    return start, end


def test_outcome(tests: int, positive: int, pending: int) -> str:
    """One person's class over the period: positive, pending, negative or untested."""
    if not tests:
        return UNTESTED
    if positive:
        return POSITIVE
    if pending:
        return PENDING
    return NEGATIVE


def eligibility_cutoffs(dose_n: int, names: Iterable[Optional[str]], products: Iterable[vaccines.Product],
                        today: date) -> tuple[dict[Optional[date], list[str]], Optional[date]]:
    """For dose ``dose_n`` (2 or 3): the product names (as recorded on the previous
    dose) grouped by their cutoff day — a person whose dose n-1 was given on or before
    the cutoff may take dose n today — and the cutoff of a blank or unknown name (the
    default product). Names of a product without an n-th dose are grouped under None
    (never eligible); so is the default cutoff when the default product has none.

    Equivalent to ``vaccines.eligible_for`` for a person whose latest dose is n-1 and
    whose record of it names that product.
    """
    if dose_n not in (2, 3):
        raise ValueError("dose must be 2 or 3")
    products = tuple(products)

    def cutoff(product: vaccines.Product) -> Optional[date]:
        interval = product.interval_before(dose_n)
        return None if interval is None else today - timedelta(days=interval)

    default_cut = cutoff(vaccines.default_product(products))
    groups: dict[Optional[date], list[str]] = defaultdict(list)
    for name in sorted({n for n in names if n and n.strip()}):
        found = vaccines.find_product(name, products)
        groups[cutoff(found) if found is not None else default_cut].append(name)
    return dict(groups), default_cut

"""疫苗接种统计: per town, set-based SQL on HealthSummary with per-product eligibility.

Per staff row (its key's HealthSummary; none = no record):

* 第n针接种: highest recorded dose ≥ n (dose 3 implies 2 and 1, dose 2 implies 1).
* 第一针可接种: no dose recorded.
* 第二/三针可接种: highest dose is n-1, and the product of that dose has an n-th dose
  whose interval has passed since it was given (``app.domain.vaccines``). The summary
  keeps the raw product name of the highest dose; the few distinct names are resolved
  to products in Python (``vaccines.find_product``; blank or unknown: the default
  product), grouped by cutoff day (``stats_rules.eligibility_cutoffs``) and compared
  in SQL: ``dose{n-1}_at <= cutoff`` per group of names.
  Deviation from ``vaccines.eligible_from``: a person whose latest record names no
  known product gets the default product directly — the summary does not keep the
  products named by their other records.
* 完成率 = 接种人数 / 工作人员数量.

Products come from the table the admin edits (``vaccine_products.products``): an edit
changes the next computation.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from sqlalchemy import ColumnElement, and_, case, exists, false, func, or_, select, true

from app.domain import stats_rules, vaccines
from app.domain.i18n import _
from models.health import HealthSummary as H
from models.staff import Staff

DOSE_WORDS = {1: _("第一针"), 2: _("第二针"), 3: _("第三针")}
COLUMNS = (
    ("town", _("所属镇街"), None),
    ("enterprises", _("主体数量"), "enterprises"),
    ("staff", _("工作人员数量"), "staff"),
) + tuple(
    item for n in vaccines.DOSES for item in (
        (f"dose{n}_eligible", _("%(dose)s可接种人数", dose=DOSE_WORDS[n]), f"dose{n}_eligible"),
        (f"dose{n}_vaccinated", _("%(dose)s接种人数", dose=DOSE_WORDS[n]), f"dose{n}_vaccinated"),
        (f"dose{n}_rate", _("完成%(dose)s接种率", dose=DOSE_WORDS[n]), None),
    )
)
# The page groups each dose's columns under its DOSE_WORDS heading, with these short names.
PART_LABELS = {"eligible": _("可接种人数"), "vaccinated": _("接种人数"), "rate": _("完成率")}
COUNTS = ("enterprises", "staff") + tuple(f"dose{n}_{k}" for n in vaccines.DOSES for k in ("eligible", "vaccinated"))
MEASURES = ("enterprises", "staff") + tuple(f"dose{n}_{k}" for n in vaccines.DOSES for k in ("eligible", "vaccinated"))
MEASURE_LABELS = {"enterprises": _("主体"), "staff": _("工作人员")}
MEASURE_LABELS.update({f"dose{n}_eligible": _("%(dose)s可接种人员", dose=DOSE_WORDS[n]) for n in vaccines.DOSES})
MEASURE_LABELS.update({f"dose{n}_vaccinated": _("%(dose)s已接种人员", dose=DOSE_WORDS[n]) for n in vaccines.DOSES})

_DOSE_AT = {1: H.dose1_at, 2: H.dose2_at, 3: H.dose3_at}


class Eligibility:
    """SQL predicates on HealthSummary for 可接种 of each dose, built for one day and
    one set of products (the distinct product names are read once)."""

    def __init__(self, session, products: Iterable[vaccines.Product], today: date) -> None:
        self.products = tuple(products)
        self.today = today
        names = session.execute(
            select(H.product).where(self.highest().in_((1, 2)), H.product.is_not(None)).distinct()).scalars()
        self.names = [n for n in names if n]
        self._cache: dict[int, ColumnElement[bool]] = {}

    @staticmethod
    def highest():
        """The highest dose done: the recorded maximum or the latest dose with a date
        (as ``app.services.health.status.lookup.status_row`` reads it); 0 without a summary."""
        return case(
            (or_(H.dose3_at.is_not(None), H.max_dose >= 3), 3),
            (or_(H.dose2_at.is_not(None), H.max_dose >= 2), 2),
            (or_(H.dose1_at.is_not(None), H.max_dose >= 1), 1),
            else_=0,
        )

    def eligible(self, dose_n: int) -> ColumnElement[bool]:
        """可接种 of ``dose_n`` for a row joined to (or selected from) HealthSummary."""
        if dose_n == 1:
            return self.highest() == 0
        if dose_n not in self._cache:
            groups, default_cut = stats_rules.eligibility_cutoffs(dose_n, self.names, self.products, self.today)
            previous = _DOSE_AT[dose_n - 1]
            parts = [and_(H.product.in_(names), previous <= cut) for cut, names in groups.items() if cut is not None]
            if default_cut is not None:
                named = [n for names in groups.values() for n in names]
                unknown = or_(H.product.is_(None), H.product.not_in(named)) if named else true()
                parts.append(and_(unknown, previous <= default_cut))
            self._cache[dose_n] = and_(self.highest() == dose_n - 1, or_(*parts)) if parts else false()
        return self._cache[dose_n]

    def vaccinated(self, dose_n: int) -> ColumnElement[bool]:
        return self.highest() >= dose_n


def _flag(condition) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def enterprise_counts(session, rules: Eligibility) -> dict[int, dict[str, int]]:
    """enterprise id → the staff counts of ``COUNTS`` (all but ``enterprises``), for
    every staff row. No scope here: the result is the same for every user and may be
    cached; callers keep the enterprises of the user's scope (``stats.vaccine_stats``)."""
    columns = [func.count(Staff.id)]
    for n in vaccines.DOSES:
        columns += [_flag(rules.eligible(n)), _flag(rules.vaccinated(n))]
    stmt = (
        select(Staff.enterprise_id, *columns)
        .outerjoin(H, H.id_key == Staff.id_key)
        .group_by(Staff.enterprise_id)
    )
    out: dict[int, dict[str, int]] = {}
    for enterprise_id, *values in session.execute(stmt):
        out[enterprise_id] = {key: int(value or 0) for key, value in zip(COUNTS[1:], values)}
    return out


def people_clause(measure: str, rules: Eligibility) -> ColumnElement[bool]:
    """Staff behind one number of the table (``MEASURES`` except enterprises), as
    EXISTS on the person's summary (never NOT IN over the whole summary table)."""
    if measure not in MEASURES or measure == "enterprises":
        raise KeyError(measure)
    if measure == "staff":
        return Staff.id.is_not(None)
    n, kind = int(measure[4]), measure.split("_", 1)[1]
    if kind == "eligible" and n == 1:
        return ~exists().where(H.id_key == Staff.id_key, rules.highest() >= 1)
    condition = rules.eligible(n) if kind == "eligible" else rules.vaccinated(n)
    return exists().where(H.id_key == Staff.id_key, condition)


def person_doses(session, keys: list[str]) -> dict[str, H]:
    """id_key → HealthSummary, for the people of one page."""
    if not keys:
        return {}
    return {h.id_key: h for h in session.execute(select(H).where(H.id_key.in_(set(keys)))).scalars()}

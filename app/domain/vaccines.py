"""Vaccination rules: doses done, labels, and who may take the next dose (SPEC §3).

Products are data (``data/vaccine_products.json``, later a table an admin edits): dose
counts of the primary series and of boosters, and the days to wait before each dose.

Counting rule (seed 001 §2.4.1): a recorded third dose implies the first and second, a
second implies the first.

可接种 (eligible) for dose n, per person:
* dose 1: no vaccination record at all;
* dose 2 / 3: dose n-1 done, dose n not done, the product of dose n-1 has an n-th dose
  (primary or booster) and its interval has passed since dose n-1 (the latest record of
  dose n-1 counts).
The product of dose n-1 is found by name, alias or maker in its record; when that
record names none we know, the product named by the person's other records; failing
that the *default product* (the one marked ``"default": true`` in the data, else the
built-in two doses 21 days apart plus one booster after 90 days: the inactivated
vaccines, which most people in the district received). A blank product is therefore
never a reason to deny eligibility, nor to grant it early against a known product.

A record is any object with ``dose``, ``vaccinated_at`` (date or datetime) and
``product`` attributes, or a mapping with those keys.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping

from app.domain.errors import RuleError
from app.domain.health import N_
from app.domain.i18n import _

DOSES = (1, 2, 3)
DATA_PATH = Path(__file__).resolve().parents[2] / "data" / "vaccine_products.json"

LABEL_NONE = N_("未接种疫苗")
LABELS = {1: N_("已完成接种一针"), 2: N_("已完成接种二针"), 3: N_("已完成接种三针")}


@dataclass(frozen=True)
class Product:
    code: str
    name: str
    maker: str = ""
    aliases: tuple[str, ...] = ()
    primary_doses: int = 2
    primary_interval_days: int | None = 21
    booster_doses: int = 1
    booster_interval_days: int | None = 90
    default: bool = False

    @property
    def total_doses(self) -> int:
        return self.primary_doses + self.booster_doses

    def interval_before(self, dose_n: int) -> int | None:
        """Days to wait after dose n-1 before dose n; None when the product has no dose n."""
        if dose_n < 1 or dose_n > self.total_doses:
            return None
        if dose_n == 1:
            return 0
        if dose_n <= self.primary_doses:
            return self.primary_interval_days or 0
        return self.booster_interval_days or 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code, "name": self.name, "maker": self.maker, "aliases": list(self.aliases),
            "primary_doses": self.primary_doses, "primary_interval_days": self.primary_interval_days,
            "booster_doses": self.booster_doses, "booster_interval_days": self.booster_interval_days,
            "default": self.default,
        }


BUILTIN_DEFAULT = Product("default", "新冠病毒灭活疫苗（Vero细胞）", default=True)


def _count(raw: Mapping[str, Any], key: str, low: int, high: int, *, optional: bool = False) -> int | None:
    value = raw.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise RuleError(key, _("疫苗参数“%(key)s”应为%(low)d至%(high)d之间的整数", key=key, low=low, high=high))
    return value


def product_from_dict(raw: Mapping[str, Any]) -> Product:
    """A Product from its data form; RuleError for a missing name or a bad number."""
    name = str(raw.get("name") or "").strip()
    if not name:
        raise RuleError("name", _("疫苗名称不能为空"))
    aliases = raw.get("aliases") or ()
    if isinstance(aliases, str):
        aliases = re.split(r"[,，、\n]", aliases)
    product = Product(
        code=str(raw.get("code") or name).strip(),
        name=name,
        maker=str(raw.get("maker") or "").strip(),
        aliases=tuple(a.strip() for a in aliases if str(a).strip()),
        primary_doses=_count(raw, "primary_doses", 1, 3),
        primary_interval_days=_count(raw, "primary_interval_days", 0, 3650, optional=True),
        booster_doses=_count(raw, "booster_doses", 0, 2),
        booster_interval_days=_count(raw, "booster_interval_days", 0, 3650, optional=True),
        default=bool(raw.get("default", False)),
    )
    if product.total_doses > len(DOSES):
        raise RuleError("booster_doses", _("疫苗总剂次不能超过%(n)d针", n=len(DOSES)))
    return product


def load_products(path: Path | str = DATA_PATH) -> tuple[Product, ...]:
    """The products of a JSON file (``{"products": [...]}``), in file order."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    return tuple(product_from_dict(p) for p in data["products"])


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).lower()


def find_product(name: str | None, products: Iterable[Product]) -> Product | None:
    """The product a feed's product text names, or None.

    Every known part (name, maker, aliases, code) that the text contains scores its
    length; the best score wins, the earlier product on a tie. So "科兴" or
    "新冠病毒灭活疫苗（Vero细胞）科兴" find 科兴's product, and the bare shared name finds
    the first product of that name (full-width or half-width brackets alike).
    """
    if not name or not name.strip():
        return None
    key = _norm(name)
    best, best_score = None, 0
    for product in products:
        parts = {_norm(p) for p in (product.name, product.maker, product.code, *product.aliases) if p}
        score = sum(len(p) for p in parts if p in key)
        if score > best_score:
            best, best_score = product, score
    return best


def default_product(products: Iterable[Product]) -> Product:
    """The product marked default, else BUILTIN_DEFAULT."""
    return next((p for p in products if p.default), BUILTIN_DEFAULT)


def doses_done(recorded_doses: Iterable[int]) -> set[int]:
    """Doses counted as done: every dose up to the highest recorded one (3 → {1, 2, 3})."""
    highest = max((d for d in recorded_doses if d in DOSES), default=0)
    return set(range(1, highest + 1))


def vaccine_label(doses: Iterable[int]) -> str:
    """已完成接种一针 / 二针 / 三针, or 未接种疫苗 (contract values of the scan answer)."""
    done = doses_done(doses)
    return LABELS[max(done)] if done else LABEL_NONE


def _field(record: Any, name: str) -> Any:
    return record.get(name) if isinstance(record, Mapping) else getattr(record, name, None)


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def dose_dates(records: Iterable[Any]) -> dict[int, date | None]:
    """Each done dose with the date of its latest record; None for an implied dose."""
    records = list(records)
    done = doses_done(_field(r, "dose") for r in records)
    out: dict[int, date | None] = {d: None for d in sorted(done)}
    for r in records:
        dose, when = _field(r, "dose"), _field(r, "vaccinated_at")
        if dose in out and when is not None:
            day = _day(when)
            out[dose] = day if out[dose] is None or day > out[dose] else out[dose]
    return out


def _product_of(previous: list[Any], records: list[Any], products: tuple[Product, ...]) -> Product:
    for group in (previous, sorted(records, key=lambda r: _field(r, "dose") or 0)):
        for r in group:
            found = find_product(_field(r, "product"), products)
            if found is not None:
                return found
    return default_product(products)


def eligible_from(dose_n: int, records: Iterable[Any], products: Iterable[Product]) -> date | None:
    """The first day a person may take ``dose_n``; None if they may not (dose done, the
    previous dose missing, or a product without that dose). ``date.min`` for dose 1
    when there is no record."""
    if dose_n not in DOSES:
        raise ValueError(f"dose must be one of {DOSES}")
    records, products = list(records), tuple(products)
    done = doses_done(_field(r, "dose") for r in records)
    if dose_n == 1:
        return date.min if not done else None
    if dose_n in done or dose_n - 1 not in done:
        return None
    previous = [r for r in records if _field(r, "dose") == dose_n - 1 and _field(r, "vaccinated_at")]
    if not previous:
        return None
    previous.sort(key=lambda r: _day(_field(r, "vaccinated_at")), reverse=True)
    interval = _product_of(previous, records, products).interval_before(dose_n)
    if interval is None:
        return None
    return _day(_field(previous[0], "vaccinated_at")) + timedelta(days=interval)


def eligible_for(dose_n: int, records: Iterable[Any], products: Iterable[Product], today: date) -> bool:
    """可接种: may the person take ``dose_n`` on ``today`` (see the module rules)."""
    first_day = eligible_from(dose_n, records, products)
    return first_day is not None and today >= first_day

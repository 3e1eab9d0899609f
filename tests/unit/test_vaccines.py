"""Unit tests for app.domain.vaccines: products, doses done, labels, eligibility."""

import json
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import vaccines as v
from app.domain.errors import RuleError

PRODUCTS = v.load_products()
D = date(2022, 1, 10)
INACTIVATED = "新冠病毒灭活疫苗（Vero细胞）"
CHO = "重组新冠病毒疫苗（CHO细胞）"
AD5 = "重组新冠病毒疫苗（5型腺病毒载体）"


def rec(dose, day, product=INACTIVATED):
    return SimpleNamespace(dose=dose, vaccinated_at=day, product=product)


def eligible(n, records, today):
    return v.eligible_for(n, records, PRODUCTS, today)


def test_default_products_follow_the_reference():
    """The shipped products are the five of REFERENCE.md with their dose counts and intervals."""
    by_code = {p.code: p for p in PRODUCTS}
    assert set(by_code) == {"sinopharm_beijing", "sinopharm_wuhan", "sinovac", "zhifei", "cansino"}
    assert (by_code["zhifei"].primary_doses, by_code["zhifei"].booster_doses, by_code["zhifei"].primary_interval_days) == (3, 0, 28)
    assert (by_code["cansino"].primary_doses, by_code["cansino"].booster_doses) == (1, 1)
    assert by_code["sinovac"].interval_before(2) == 21 and by_code["sinovac"].interval_before(3) == 90
    assert v.default_product(PRODUCTS).code == "sinopharm_beijing"
    raw = json.loads(v.DATA_PATH.read_text(encoding="utf-8"))["products"][0]
    assert v.product_from_dict(raw).to_dict() == {**raw, "aliases": list(raw["aliases"])}


@pytest.mark.parametrize("recorded,done", [
    (set(), set()), ({1}, {1}), ({2}, {1, 2}), ({3}, {1, 2, 3}), ({1, 3}, {1, 2, 3}), ({0, 4}, set()),
])
def test_higher_dose_implies_lower(recorded, done):
    """A recorded third dose counts the first and second as done, a second the first."""
    assert v.doses_done(recorded) == done


@given(st.sets(st.integers(min_value=0, max_value=5)))
def test_dose_implication_is_idempotent_and_monotone(recorded):
    """Counting twice changes nothing, and recording more doses never un-does one."""
    done = v.doses_done(recorded)
    assert v.doses_done(done) == done
    assert done <= v.doses_done(recorded | {3})


@pytest.mark.parametrize("doses,label", [(set(), "未接种疫苗"), ({1}, "已完成接种一针"), ({2}, "已完成接种二针"), ({3}, "已完成接种三针")])
def test_vaccine_labels(doses, label):
    """The checkpoint shows 已完成接种二针 for a recorded second dose, 未接种疫苗 without records."""
    assert v.vaccine_label(doses) == label


@pytest.mark.parametrize("text,code", [
    ("科兴", "sinovac"), (INACTIVATED, "sinopharm_beijing"), ("新冠病毒灭活疫苗(Vero细胞)", "sinopharm_beijing"),
    ("新冠病毒灭活疫苗（Vero细胞） 科兴", "sinovac"), ("武汉生物新冠病毒灭活疫苗", "sinopharm_wuhan"),
    ("克威莎", "cansino"), (CHO, "zhifei"), ("coronavac", "sinovac"),
])
def test_find_product(text, code):
    """A feed's product text finds its product by name, maker or alias, whatever brackets or case."""
    assert v.find_product(text, PRODUCTS).code == code


@pytest.mark.parametrize("text", [None, "", "流感疫苗"])
def test_unknown_product_text(text):
    """A blank or foreign product name finds nothing (the default applies later)."""
    assert v.find_product(text, PRODUCTS) is None


def test_first_dose_only_without_any_record():
    """第一针可接种 counts people with no vaccination record at all."""
    assert eligible(1, [], D)
    assert not eligible(1, [rec(1, D)], D + timedelta(days=999))
    assert not eligible(1, [rec(3, D)], D)


def test_second_dose_after_the_interval():
    """An inactivated first dose makes the second available 21 days later, not before."""
    records = [rec(1, D)]
    assert not eligible(2, records, D + timedelta(days=20))
    assert eligible(2, records, D + timedelta(days=21))
    assert not eligible(2, records + [rec(2, D + timedelta(days=25))], D + timedelta(days=60))
    assert not eligible(2, [], D)


def test_third_dose_booster_and_primary():
    """The third dose is a booster 90 days after two inactivated doses, or the CHO vaccine's third 28 days after."""
    two = [rec(1, D), rec(2, D + timedelta(days=21))]
    assert not eligible(3, two, D + timedelta(days=21 + 89))
    assert eligible(3, two, D + timedelta(days=21 + 90))
    cho = [rec(1, D, CHO), rec(2, D + timedelta(days=28), CHO)]
    assert eligible(3, cho, D + timedelta(days=56)) and not eligible(3, cho, D + timedelta(days=55))
    assert not eligible(3, two + [rec(3, D + timedelta(days=200))], D + timedelta(days=400))


def test_single_dose_vaccine_booster():
    """After one 康希诺 dose the second (its booster) comes after 90 days, and there is no third."""
    assert not eligible(2, [rec(1, D, AD5)], D + timedelta(days=89))
    assert eligible(2, [rec(1, D, AD5)], D + timedelta(days=90))
    assert not eligible(3, [rec(1, D, AD5), rec(2, D + timedelta(days=90), AD5)], D + timedelta(days=999))


def test_implied_doses_are_not_eligible():
    """Someone with only a third dose recorded is not counted as waiting for the second."""
    assert not eligible(2, [rec(3, D)], D + timedelta(days=999))
    assert not eligible(3, [rec(3, D)], D + timedelta(days=999))


def test_product_of_the_previous_dose_decides():
    """A CHO second dose after an inactivated first one waits 28 days, not 90, for the third."""
    mixed = [rec(1, D), rec(2, D + timedelta(days=30), CHO)]
    assert eligible(3, mixed, D + timedelta(days=58))


def test_unknown_product_uses_the_default():
    """A record without a known product follows the default (inactivated: 21 days, booster 90)."""
    assert eligible(2, [rec(1, D, None)], D + timedelta(days=21))
    assert not eligible(2, [rec(1, D, "某疫苗")], D + timedelta(days=20))
    assert v.eligible_from(2, [rec(1, D, None)], []) == D + timedelta(days=21)  # built-in default
    custom = [v.Product("x", "甲疫苗", primary_doses=2, primary_interval_days=35, default=True)]
    assert v.eligible_from(2, [rec(1, D, None)], custom) == D + timedelta(days=35)


def test_other_record_names_the_product():
    """A dose recorded without product takes the product of the person's other records."""
    records = [rec(1, D, CHO), rec(2, D + timedelta(days=28), "")]
    assert v.eligible_from(3, records, PRODUCTS) == D + timedelta(days=56)


def test_latest_record_of_previous_dose_counts_and_mappings_work():
    """A duplicate first-dose record with a later date delays the second; dict records and datetimes work."""
    records = [{"dose": 1, "vaccinated_at": datetime(2022, 1, 1, 9), "product": "科兴"},
               {"dose": 1, "vaccinated_at": D, "product": "科兴"}]
    assert v.eligible_from(2, records, PRODUCTS) == D + timedelta(days=21)


def test_dose_dates():
    """The staff detail shows each dose with its date; an implied dose has no date."""
    assert v.dose_dates([rec(3, D), rec(1, D - timedelta(days=100))]) == {1: D - timedelta(days=100), 2: None, 3: D}
    assert v.dose_dates([]) == {}


def test_bad_dose_number():
    """Asking about a fourth dose is a programming error."""
    with pytest.raises(ValueError):
        v.eligible_from(4, [], PRODUCTS)


@pytest.mark.parametrize("raw,field", [
    ({"primary_doses": 2, "booster_doses": 1}, "name"),
    ({"name": "x", "primary_doses": 0, "booster_doses": 1}, "primary_doses"),
    ({"name": "x", "primary_doses": "2", "booster_doses": 1}, "primary_doses"),
    ({"name": "x", "primary_doses": 3, "booster_doses": 1}, "booster_doses"),
    ({"name": "x", "primary_doses": 2, "booster_doses": 1, "primary_interval_days": -1}, "primary_interval_days"),
])
def test_product_data_is_validated(raw, field):
    """An admin's product with a missing name, bad dose counts or a negative interval is refused."""
    with pytest.raises(RuleError) as exc:
        v.product_from_dict(raw)
    assert exc.value.field == field


def test_product_aliases_from_text():
    """Aliases typed as one comma-separated text become a list."""
    p = v.product_from_dict({"name": "x", "primary_doses": 1, "booster_doses": 0, "aliases": "甲，乙,丙"})
    assert p.aliases == ("甲", "乙", "丙")


@given(st.sampled_from([INACTIVATED, CHO, AD5, None]), st.integers(min_value=1, max_value=2),
       st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=200))
def test_eligibility_never_expires(product, dose, day_a, day_b):
    """Once someone may take the next dose, they stay eligible on every later day until they take it."""
    records = [rec(d, D + timedelta(days=30 * (d - 1)), product) for d in range(1, dose + 1)]
    early, late = sorted((D + timedelta(days=day_a), D + timedelta(days=day_b)))
    if eligible(dose + 1, records, early):
        assert eligible(dose + 1, records, late)

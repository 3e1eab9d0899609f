"""Unit tests for app.domain.stats_rules: the period a user asks for, a person's test
class over it, and per-product cutoffs that agree with the vaccine eligibility rule."""

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.domain import stats_rules as r
from app.domain import vaccines as v
from app.domain.errors import RuleError

TODAY = date(2022, 6, 8)
PRODUCTS = v.load_products()
NAMES = ["新冠病毒灭活疫苗（Vero细胞）科兴", "重组新冠病毒疫苗（CHO细胞）", "康希诺", "北京生物", "某某未知疫苗"]


def test_default_period_is_the_last_seven_days():
    """No dates: today and the six days before it."""
    assert r.parse_period(None, "", TODAY) == (date(2022, 6, 2), TODAY)


def test_start_only_runs_to_today_and_end_only_takes_seven_days():
    """A start alone runs to today; an end alone covers the seven days ending there."""
    assert r.parse_period("2022-06-05", None, TODAY) == (date(2022, 6, 5), TODAY)
    assert r.parse_period(None, "2022-06-07", TODAY) == (date(2022, 6, 1), date(2022, 6, 7))


def test_one_day_period():
    """The manual's example: one day, 2022-06-07 00:00 - 23:59."""
    assert r.parse_period("2022-06-07", "2022-06-07", TODAY) == (date(2022, 6, 7), date(2022, 6, 7))


@pytest.mark.parametrize("start, end, field, text", [
    ("2022/06/07", None, "start", "开始日期格式不正确"),
    ("2022-02-30", None, "start", "开始日期格式不正确"),
    (None, "tomorrow", "end", "结束日期格式不正确"),
    ("2022-06-07", "2022-06-06", "end", "结束日期不能早于开始日期"),
    ("2022-05-01", "2022-06-01", "end", "查询时间段不能超过31天"),
])
def test_bad_periods_are_refused_in_chinese(start, end, field, text):
    """Bad formats, an end before the start and ranges over 31 days are refused, naming the field."""
    with pytest.raises(RuleError) as err:
        r.parse_period(start, end, TODAY)
    assert err.value.field == field and text in str(err.value)


def test_thirty_one_days_are_allowed():
    """The longest period is 31 days, both ends included."""
    assert r.parse_period("2022-05-01", "2022-05-31", TODAY)[1] == date(2022, 5, 31)


@pytest.mark.parametrize("tests, positive, pending, expected", [
    (0, 0, 0, r.UNTESTED), (2, 0, 0, r.NEGATIVE), (3, 1, 1, r.POSITIVE), (2, 0, 1, r.PENDING), (1, 1, 0, r.POSITIVE),
])
def test_a_person_is_in_exactly_one_class(tests, positive, pending, expected):
    """Any positive makes 阳性, else any pending 未出结果, else 阴性; no test: 未检测."""
    assert r.test_outcome(tests, positive, pending) == expected


def test_cutoffs_group_names_by_interval():
    """Inactivated dose 2 waits 21 days, CHO 28; the unknown name takes the default product's cutoff."""
    groups, default_cut = r.eligibility_cutoffs(2, NAMES, PRODUCTS, TODAY)
    assert default_cut == TODAY - timedelta(days=21)
    assert "重组新冠病毒疫苗（CHO细胞）" in groups[TODAY - timedelta(days=28)]
    assert "某某未知疫苗" in groups[default_cut]


def test_products_without_the_dose_are_never_eligible():
    """A one-shot product's booster is dose 2, so it has no dose 3: grouped under None."""
    groups, _default = r.eligibility_cutoffs(3, ["康希诺"], PRODUCTS, TODAY)
    assert groups == {None: ["康希诺"]}


def test_cutoffs_refuse_dose_one():
    """Dose 1 has no previous dose to wait for."""
    with pytest.raises(ValueError):
        r.eligibility_cutoffs(1, NAMES, PRODUCTS, TODAY)


@given(dose=st.sampled_from([2, 3]), name=st.sampled_from(NAMES + [None, ""]),
       days_ago=st.integers(min_value=0, max_value=200))
def test_cutoffs_agree_with_the_eligibility_rule(dose, name, days_ago):
    """For someone whose latest dose is n-1, 'given on or before the cutoff' is exactly eligible_for."""
    given_on = TODAY - timedelta(days=days_ago)
    records = [SimpleNamespace(dose=d, vaccinated_at=given_on, product=name) for d in range(1, dose)]
    groups, default_cut = r.eligibility_cutoffs(dose, [name], PRODUCTS, TODAY)
    cut = next((c for c, names in groups.items() if name in names), default_cut) if name else default_cut
    by_cutoff = cut is not None and given_on <= cut
    assert by_cutoff == v.eligible_for(dose, records, PRODUCTS, TODAY)


def test_start_before_the_kept_days_is_refused():
    """Test records are kept 14 days: a period starting earlier would show missing tests as untested."""
    earliest = TODAY - timedelta(days=13)
    assert r.parse_period(earliest.isoformat(), None, TODAY, max_days=14, earliest=earliest)[0] == earliest
    with pytest.raises(RuleError) as err:
        r.parse_period((earliest - timedelta(days=1)).isoformat(), (earliest + timedelta(days=2)).isoformat(), TODAY,
                       max_days=14, earliest=earliest)
    assert err.value.field == "start" and "只保留近14天" in str(err.value)

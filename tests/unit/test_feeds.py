"""Unit tests for app.domain.feeds: test and vaccination rows, record identities."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from app.domain import feeds, identity
from app.domain.errors import RuleError

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2022, 6, 8, 4, 0)  # naive UTC, 12:00 district time
TODAY = date(2022, 6, 8)
KEY = "k" * 43
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(body="44011519900723765"):
    """A valid 18-digit number, check digit computed independently of the code under test."""
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _WEIGHTS)) % 11]


ID = make_id()


def row(**over):
    base = {"id_number": ID, "sampled_at": "2022-06-07T10:00:00", "tested_at": "2022-06-07T18:00:00",
            "result": "阴性", "institution": "南沙区第一人民医院"}
    base.update(over)
    return {k: v for k, v in base.items() if v is not ...}


def clean(**over):
    return feeds.clean_test_row(row(**over), TZ, NOW)


def error(result):
    assert isinstance(result, RuleError), result
    return result.field, str(result)


# --- test rows ------------------------------------------------------------------------

def test_local_time_without_offset_is_district_time():
    """A feed time without offset is read as Beijing time and stored as UTC."""
    r = clean()
    assert isinstance(r, feeds.SamplingRow)
    assert r.sampled_at == datetime(2022, 6, 7, 2, 0) and r.tested_at == datetime(2022, 6, 7, 10, 0)
    assert (r.id_type, r.id_number, r.result, r.institution) == ("居民身份证", ID, "negative", "南沙区第一人民医院")


@pytest.mark.parametrize("text", ["2022-06-07T02:00:00Z", "2022-06-07T10:00:00+08:00", "2022-06-07 10:00",
                                  "2022/6/7 10:00:00", "2022-06-07T03:00:00+01:00"])
def test_iso_times_with_offsets(text):
    """Offsets, 'Z', a space separator and 2022/6/7 10:00 all give the same instant."""
    assert clean(sampled_at=text, tested_at=..., result="pending").sampled_at == datetime(2022, 6, 7, 2, 0)


@pytest.mark.parametrize("raw,code", [
    ("negative", "negative"), ("NEGATIVE", "negative"), (" Positive ", "positive"), ("阳性", "positive"),
    ("pending", "pending"), ("待出结果", "pending"), ("阴性", "negative"),
])
def test_result_spellings(raw, code):
    """Results come as negative/positive/pending (any case) or 阴性/阳性/待出结果."""
    assert clean(result=raw).result == code


@pytest.mark.parametrize("raw", ["neg", "阴", "unknown", "0"])
def test_unknown_result_is_rejected(raw):
    """An unknown result is reported for that row with the accepted spellings."""
    field, message = error(clean(result=raw))
    assert field == "result" and "阴性" in message


def test_pending_needs_no_test_time_but_a_result_does():
    """A pending sample may lack a test time; a negative without test time is refused."""
    assert clean(result="pending", tested_at=None).tested_at is None
    assert error(clean(tested_at=""))[0] == "tested_at"


def test_future_times_are_rejected_beyond_clock_skew():
    """A sampling time more than 10 minutes ahead is refused; a few minutes of clock skew are not."""
    assert isinstance(clean(sampled_at="2022-06-08T12:05:00", tested_at=..., result="pending"), feeds.SamplingRow)
    assert error(clean(sampled_at="2022-06-08T12:11:00")) == ("sampled_at", "采样时间不能晚于当前时间")
    assert error(clean(tested_at="2022-06-09T00:00:00"))[0] == "tested_at"


def test_each_row_is_judged_by_its_own_clock():
    """A batch received later (a later ``now``) never lets a future time or birth date through in a batch received earlier."""
    later = NOW + timedelta(days=400)
    born_tomorrow = make_id(f"440115{TODAY + timedelta(days=1):%Y%m%d}001")
    for now in (later, NOW, later, datetime(2022, 6, 8, 4, 0), NOW):
        accepted = now == later
        future = feeds.clean_test_row(row(sampled_at="2022-06-08T12:11:00", tested_at=..., result="pending"), TZ, now)
        assert isinstance(future, feeds.SamplingRow) == accepted
        young = feeds.clean_test_row(row(id_number=born_tomorrow), TZ, now)
        assert isinstance(young, feeds.SamplingRow) == accepted


def test_test_time_before_sampling_is_rejected():
    """A result tested before it was sampled is refused."""
    assert error(clean(tested_at="2022-06-07T09:59:59")) == ("tested_at", "检测时间不能早于采样时间")


@pytest.mark.parametrize("text", ["2022-06-07", "yesterday", "2022-02-30T10:00:00", "2022-06-07T25:00:00", "1654567890"])
def test_bad_times_are_rejected(text):
    """A date without time, nonsense, or an impossible date is refused for the sampling time."""
    assert error(clean(sampled_at=text))[0] == "sampled_at"


def test_id_checksum_and_normalisation():
    """A wrong check digit is refused with its reason; a lower-case x or spaces are fixed silently."""
    wrong = ID[:-1] + ("0" if ID[-1] != "0" else "1")
    assert error(clean(id_number=wrong)) == ("id_number", "身份证号码校验位不正确")
    x_id = next(make_id(f"440115199007237{i:02d}") for i in range(100) if make_id(f"440115199007237{i:02d}").endswith("X"))
    assert clean(id_number=" " + x_id[:-1] + "x ").id_number == x_id
    assert clean(id_number="".join(chr(ord(c) + 0xFEE0) for c in ID)).id_number == ID


def test_other_id_types():
    """A passport record is checked by the passport rule, not the ID-card checksum."""
    assert clean(id_type="护照", id_number="E12345678").id_number == "E12345678"
    assert error(clean(id_type="护照", id_number="E1"))[0] == "id_number"
    assert error(clean(id_type="驾驶证"))[0] == "id_type"


@given(st.dates(min_value=date(1850, 1, 1), max_value=date(2100, 12, 31)), st.integers(min_value=0, max_value=999))
@example(date(1899, 12, 31), 1)
@example(date(1900, 1, 1), 1)
@example(TODAY, 1)
@example(TODAY + timedelta(days=1), 1)
def test_birth_dates_in_ids_agree_with_identity_rules(born, seq):
    """A well-formed number born before 1900 or after today is refused like in the registry."""
    number = make_id(f"440115{born:%Y%m%d}{seq:03d}")
    got = clean(id_number=number)
    assert isinstance(got, feeds.SamplingRow) == (date(1900, 1, 1) <= born <= TODAY)


@pytest.mark.parametrize("field", ["id_number", "sampled_at", "result", "institution"])
def test_missing_fields(field):
    """Each missing required field is reported by name."""
    for blank in (..., None, "  "):
        f, message = error(clean(**{field: blank}))
        assert f == field and "不能为空" in message


@pytest.mark.parametrize("field,value", [
    ("id_number", 440115199007237653), ("sampled_at", 1654567890), ("result", 1),
    ("institution", ["a"]), ("record_id", 1.5), ("record_id", True), ("id_type", 1),
])
def test_wrong_types(field, value):
    """A number where text is expected (or a list) is refused, not guessed."""
    assert error(clean(**{field: value}))[0] == field


def test_record_id_and_text_limits():
    """An integer source id is kept as text; overlong ids and names are refused."""
    assert clean(record_id=123).record_id == "123"
    assert error(clean(record_id="x" * 65))[0] == "record_id"
    assert error(clean(institution="院" * 101))[0] == "institution"
    assert clean(institution=" 南沙  医院（一） ").institution == "南沙 医院(一)"


def test_non_objects_and_passed_errors():
    """An array element that is not an object is a bad row; an error from parsing is passed on."""
    assert error(feeds.clean_test_row([1, 2], TZ, NOW)) == ("row", "每条记录应为JSON对象")
    err = RuleError("row", "x")
    assert feeds.clean_test_row(err, TZ, NOW) is err
    assert feeds.clean_vaccination_row("x", TZ, NOW).field == "row"


_BODIES = st.text(alphabet="0123456789", min_size=17, max_size=17)


@given(_BODIES, st.sampled_from("0123456789X"))
def test_fast_id_path_agrees_with_identity_rules(body, last):
    """The feed accepts exactly the ID numbers the registry accepts."""
    number = body + last
    try:
        expected = identity.validate_id_number("居民身份证", number, today=TODAY)
    except RuleError:
        expected = None
    got = clean(id_number=number)
    assert (got.id_number if isinstance(got, feeds.SamplingRow) else None) == expected


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2022, 6, 7)),
       st.integers(min_value=-12 * 60, max_value=14 * 60))
def test_times_round_trip_to_utc(moment, offset_minutes):
    """Any time with any offset is stored as the same UTC instant; without offset as Beijing time."""
    moment = moment.replace(microsecond=0)
    aware = moment.replace(tzinfo=timezone(timedelta(minutes=offset_minutes)))
    r = clean(sampled_at=aware.isoformat(), tested_at=..., result="pending")
    assert r.sampled_at == aware.astimezone(timezone.utc).replace(tzinfo=None)
    naive = clean(sampled_at=moment.isoformat(), tested_at=..., result="pending")
    assert naive.sampled_at == moment.replace(tzinfo=TZ).astimezone(timezone.utc).replace(tzinfo=None)


# --- vaccination rows -----------------------------------------------------------------

def vrow(**over):
    base = {"record_id": "v1", "id_number": ID, "dose": 2, "vaccinated_at": "2022-01-07",
            "product": "新冠病毒灭活疫苗（Vero细胞）", "site": "南沙街社区卫生服务中心"}
    base.update(over)
    return feeds.clean_vaccination_row({k: v for k, v in base.items() if v is not ...}, TZ, NOW)


@pytest.mark.parametrize("raw,dose", [(1, 1), ("2", 2), ("第一针", 1), ("第2针", 2), ("三", 3), (3.0, 3), ("第三剂", 3)])
def test_dose_spellings(raw, dose):
    """Doses come as 1/2/3 or 第一针 …"""
    assert vrow(dose=raw).dose == dose


@pytest.mark.parametrize("raw", [0, 4, "加强针", True, 1.5, "第四针", None])
def test_bad_doses(raw):
    """A dose outside 1–3 (or an ambiguous 加强针) is refused."""
    assert error(vrow(dose=raw))[0] == "dose"


def test_vaccination_dates():
    """A date, a local datetime or a UTC datetime all give the district calendar day; no future days."""
    assert vrow().vaccinated_at == date(2022, 1, 7)
    assert vrow(vaccinated_at="2022-01-07T23:30:00").vaccinated_at == date(2022, 1, 7)
    assert vrow(vaccinated_at="2022-01-07T17:00:00Z").vaccinated_at == date(2022, 1, 8)
    assert vrow(vaccinated_at="2022-06-08").vaccinated_at == TODAY
    assert error(vrow(vaccinated_at="2022-06-09"))[0] == "vaccinated_at"
    assert error(vrow(vaccinated_at="07/01/2022"))[0] == "vaccinated_at"


def test_vaccination_optional_fields():
    """Product, site and record id may be blank; the ID number may not."""
    r = vrow(product=None, site="", record_id=None)
    assert (r.product, r.site, r.record_id) == (None, None, None)
    assert error(vrow(id_number=None))[0] == "id_number"


# --- identities -----------------------------------------------------------------------

def test_identity_without_record_id():
    """Resending a record stores it once; another institution or time is another record."""
    a, b = clean(), clean(tested_at="2022-06-07T20:00:00", result="positive")
    assert feeds.record_identity(a, KEY) == feeds.record_identity(b, KEY)
    assert feeds.record_identity(a, KEY) != feeds.record_identity(clean(institution="别的医院"), KEY)
    assert feeds.record_identity(a, KEY) != feeds.record_identity(clean(sampled_at="2022-06-07T10:00:01"), KEY)
    assert feeds.record_identity(a, KEY) != feeds.record_identity(a, "j" * 43)


def test_identity_with_record_id_and_privacy():
    """The source's record_id decides; the identity is short and never holds the ID number."""
    a, b = clean(record_id="R1"), clean(record_id="R1", institution="别的医院")
    ident = feeds.record_identity(a, KEY)
    assert ident == feeds.record_identity(b, KEY) and len(ident) == 32
    assert ID not in ident and ident != feeds.record_identity(clean(record_id="R2"), KEY)
    assert ident != feeds.record_identity(vrow(record_id="R1"), KEY)


def test_vaccination_identity_without_record_id():
    """A re-sent vaccination without record_id is one record; another dose is another."""
    assert feeds.record_identity(vrow(record_id=None), KEY) == feeds.record_identity(vrow(record_id=None, site="x"), KEY)
    assert feeds.record_identity(vrow(record_id=None), KEY) != feeds.record_identity(vrow(record_id=None, dose=3), KEY)

"""Unit tests for app.domain.identity: ID numbers, phones, credit codes, masking."""

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc

from app.domain import identity as idn
from app.domain.errors import RuleError, column_format_message

TODAY = date(2022, 6, 1)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def check_digit(first17):
    """GB 11643 check digit computed independently of the code under test."""
    total = sum(int(c) * w for c, w in zip(first17, _WEIGHTS))
    return "10X98765432"[total % 11]


def make_id(area="440115", born="19900723", seq="765"):
    body = f"{area}{born}{seq}"
    return body + check_digit(body)


def wrong_check(number):
    """Same number with any other check character."""
    good = number[-1]
    return number[:-1] + ("0" if good != "0" else "1")


def to_fullwidth(s):
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


VALID = make_id()                       # 440115 19900723 765 + computed digit
FEMALE = make_id(seq="764")
WITH_X = next(make_id(seq=f"{i:03d}") for i in range(1000) if make_id(seq=f"{i:03d}").endswith("X"))


def reason(excinfo):
    return str(excinfo.value)


# --- ID types -----------------------------------------------------------------------

def test_id_types_order_and_default():
    """The ID type dropdown lists 身份证 first and a blank type means 居民身份证."""
    assert idn.ID_TYPES == ("居民身份证", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "护照")
    assert idn.normalize_id_type("") == idn.ID_CARD
    assert idn.normalize_id_type(None) == idn.ID_CARD
    assert idn.normalize_id_type("  ") == idn.ID_CARD


@pytest.mark.parametrize("raw,expected", [
    ("居民身份证", idn.ID_CARD), ("身份证", idn.ID_CARD), (" 身份证 ", idn.ID_CARD),
    ("港澳通行证", idn.HK_MACAO_PERMIT), ("港澳居民来往内地通行证", idn.HK_MACAO_PERMIT),
    ("台胞证", idn.TAIWAN_PERMIT), ("台湾居民来往大陆通行证", idn.TAIWAN_PERMIT),
    ("护照", idn.PASSPORT),
])
def test_id_type_aliases(raw, expected):
    """Short names people type into the 证件类型 column are understood."""
    assert idn.normalize_id_type(raw) == expected


def test_unknown_id_type_rejected():
    """An unknown 证件类型 is refused with 证件类型不正确."""
    with pytest.raises(RuleError) as e:
        idn.normalize_id_type("驾驶证")
    assert e.value.field == "id_type" and reason(e) == "证件类型不正确"


# --- ID number normalisation ----------------------------------------------------------

def test_valid_id_card_accepted():
    """A real-shaped 18-digit 身份证号码 with the right check digit is accepted."""
    assert idn.validate_id_number(idn.ID_CARD, VALID, today=TODAY) == VALID


def test_manual_example_number_checked_not_assumed():
    """The manual's example 44011519900723765X is judged by its real check digit."""
    expected_ok = check_digit("44011519900723765") == "X"
    try:
        idn.validate_id_number(idn.ID_CARD, "44011519900723765X", today=TODAY)
        ok = True
    except RuleError:
        ok = False
    assert ok == expected_ok


def test_lowercase_x_is_uppercased():
    """An ID typed with a lowercase x is stored with a capital X."""
    assert WITH_X.endswith("X")
    assert idn.validate_id_number("身份证", WITH_X.lower(), today=TODAY) == WITH_X


def test_fullwidth_digits_and_spaces():
    """Full-width digits, inner spaces and ideographic spaces are cleaned up."""
    raw = "\u3000" + to_fullwidth(VALID[:6]) + " " + VALID[6:14] + " " + VALID[14:] + "  "
    assert idn.normalize_id_number(raw) == VALID
    assert idn.validate_id_number(idn.ID_CARD, raw, today=TODAY) == VALID


def test_wrong_checksum_rejected():
    """A mistyped check digit gives 身份证号码校验位不正确."""
    with pytest.raises(RuleError) as e:
        idn.validate_id_number(idn.ID_CARD, wrong_check(VALID), today=TODAY)
    assert e.value.field == "id_number" and reason(e) == "身份证号码校验位不正确"


def test_february_30_rejected():
    """A birth date of 30 February is refused even with a matching check digit."""
    with pytest.raises(RuleError) as e:
        idn.validate_id_number(idn.ID_CARD, make_id(born="19900230"), today=TODAY)
    assert reason(e) == "出生日期不正确"


def test_month_13_and_year_1800_rejected():
    """Impossible months and pre-1900 years are not real birth dates."""
    for born in ("19901301", "18000101", "19900001"):
        with pytest.raises(RuleError) as e:
            idn.validate_id_number(idn.ID_CARD, make_id(born=born), today=TODAY)
        assert reason(e) == "出生日期不正确"


def test_future_birth_date_rejected():
    """A birth date after today is refused."""
    tomorrow = (TODAY + timedelta(days=1)).strftime("%Y%m%d")
    with pytest.raises(RuleError) as e:
        idn.validate_id_number(idn.ID_CARD, make_id(born=tomorrow), today=TODAY)
    assert reason(e) == "出生日期不能晚于今天"
    born_today = make_id(born=TODAY.strftime("%Y%m%d"))
    assert idn.validate_id_number(idn.ID_CARD, born_today, today=TODAY) == born_today


def test_future_checked_against_real_today_by_default():
    """Without an explicit day, validation uses today's date."""
    future = (date.today() + timedelta(days=3)).strftime("%Y%m%d")
    with pytest.raises(RuleError):
        idn.validate_id_number(idn.ID_CARD, make_id(born=future))


@pytest.mark.parametrize("raw,msg", [
    ("", "证件号码不能为空"),
    (None, "证件号码不能为空"),
    ("   ", "证件号码不能为空"),
    ("44011519900723765", "身份证号码应为18位"),
    ("4401151990072376500", "身份证号码应为18位"),
    ("440115199007237", "身份证号码应为18位"),
    ("44011519900723A650", "身份证号码格式不正确，应为17位数字加1位数字或X"),
    ("44011519900723765Y", "身份证号码格式不正确，应为17位数字加1位数字或X"),
])
def test_bad_id_card_shapes(raw, msg):
    """Blank, short, long or non-digit ID numbers give a precise reason."""
    with pytest.raises(RuleError) as e:
        idn.validate_id_number(idn.ID_CARD, raw, today=TODAY)
    assert e.value.field == "id_number" and reason(e) == msg


@pytest.mark.parametrize("raw", [
    440115199007237650, 4.40115199007237e17, "4.40115E+17", "4.40115e+17",
    "4.40115199007238E+17", "４.４０１１５Ｅ＋１７", 1234567890123456.0, "440115199007237650.0",
])
def test_excel_number_loses_digits(raw):
    """An ID that Excel turned into a number asks the user to format the column as text."""
    with pytest.raises(RuleError) as e:
        idn.normalize_id_number(raw)
    assert e.value.field == "id_number"
    assert "文本格式" in reason(e) and "数字" in reason(e)


def test_float_old_15_digit_id_becomes_text():
    """A 15-digit old ID held as a float comes back as its 15 digits."""
    assert idn.normalize_id_number(440115199007237.0) == "440115199007237"
    assert idn.normalize_id_number(440115199007237) == "440115199007237"
    assert idn.normalize_id_number("440115199007237.0") == "440115199007237"


def test_new_records_need_18_digits():
    """The old 15-digit ID card number is not accepted for new records."""
    with pytest.raises(RuleError):
        idn.validate_id_number(idn.ID_CARD, 440115199007237.0, today=TODAY)


def test_nan_cell_is_blank():
    """An empty cell read as NaN counts as blank, not as the text 'nan'."""
    assert idn.normalize_id_number(float("nan")) == ""


@pytest.mark.parametrize("id_type,raw,expected", [
    (idn.HK_MACAO_PERMIT, "H12345678", "H12345678"),
    (idn.HK_MACAO_PERMIT, "m12345678", "M12345678"),
    (idn.HK_MACAO_PERMIT, "H1234567801", "H1234567801"),
    (idn.HK_MACAO_PERMIT, "Ｈ１２３４５６７８", "H12345678"),
    (idn.TAIWAN_PERMIT, "12345678", "12345678"),
    (idn.TAIWAN_PERMIT, 12345678, "12345678"),
    (idn.TAIWAN_PERMIT, "1234567801", "1234567801"),
    (idn.PASSPORT, "e12345678", "E12345678"),
    (idn.PASSPORT, "G1234", "G1234"),
    (idn.PASSPORT, "AB1234567890CDEFG", "AB1234567890CDEFG"),
])
def test_other_documents_accepted(id_type, raw, expected):
    """Permits and passports in their usual formats are accepted and normalised."""
    assert idn.validate_id_number(id_type, raw) == expected


@pytest.mark.parametrize("id_type,raw,fragment", [
    (idn.HK_MACAO_PERMIT, "A12345678", "H或M"),
    (idn.HK_MACAO_PERMIT, "H1234567", "H或M"),
    (idn.HK_MACAO_PERMIT, VALID, "H或M"),
    (idn.TAIWAN_PERMIT, "1234567", "8位"),
    (idn.TAIWAN_PERMIT, "A1234567", "8位"),
    (idn.PASSPORT, "E123", "5至17位"),
    (idn.PASSPORT, "E1234567890123456789", "5至17位"),
    (idn.PASSPORT, "E1234-567", "5至17位"),
])
def test_other_documents_rejected(id_type, raw, fragment):
    """Malformed permit or passport numbers are refused with the expected format."""
    with pytest.raises(RuleError) as e:
        idn.validate_id_number(id_type, raw)
    assert e.value.field == "id_number" and fragment in reason(e)


def test_passport_skips_id_card_checksum():
    """A passport holder is not held to the 身份证 checksum or birth date."""
    number = wrong_check(VALID)[1:]
    assert idn.validate_id_number("护照", number) == number


def test_column_message_matches_manual():
    """The import error per column reads exactly as in the manual."""
    assert str(column_format_message("身份证号码")) == "列为“身份证号码”，数据格式不正确！"


def test_rule_error_is_value_error_and_renders_message():
    """A rule error prints its Chinese message and still behaves as a ValueError."""
    err = RuleError("phone", idn.MSG_PHONE)
    assert isinstance(err, ValueError) and err.field == "phone"
    assert str(err) == "手机号码格式不正确，应为以1开头的11位数字"


# --- birth date, gender, age ----------------------------------------------------------

def test_birth_gender_age():
    """Birth date, gender and age are read from the ID number."""
    assert idn.birth_date_from_id(VALID) == date(1990, 7, 23)
    assert idn.gender_from_id(VALID) == "男"
    assert idn.gender_from_id(FEMALE) == "女"
    assert idn.age_on(VALID, date(2022, 7, 22)) == 31
    assert idn.age_on(VALID, date(2022, 7, 23)) == 32
    assert idn.age_on(VALID, date(1990, 7, 22)) is None


def test_birth_gender_from_old_15_digit_id():
    """Old 15-digit IDs still give birth date and gender."""
    assert idn.birth_date_from_id("440115900723761") == date(1990, 7, 23)
    assert idn.gender_from_id("440115900723762") == "女"


def test_birth_gender_age_none_for_non_ids():
    """Passport numbers or garbage give no birth date, gender or age."""
    for raw in ("", None, "E12345678", make_id(born="19900230"), "4.40115E+17"):
        assert idn.birth_date_from_id(raw) is None
        assert idn.age_on(raw, TODAY) is None
    assert idn.gender_from_id("E12345678") is None


def test_leap_day_birthday_age():
    """Someone born on 29 February turns a year older on 1 March in common years."""
    number = make_id(born="20000229")
    assert idn.age_on(number, date(2021, 2, 28)) == 20
    assert idn.age_on(number, date(2021, 3, 1)) == 21


# --- masking --------------------------------------------------------------------------

def test_mask_id():
    """Lists show 440115********765X style masked IDs."""
    assert idn.mask_id("44011519900723765X") == "440115********765X"
    assert idn.mask_id("H12345678") == "H1*****78"
    assert idn.mask_id("") == "" and idn.mask_id(None) == ""
    assert idn.mask_id("AB") == "**"
    assert idn.mask_id("ABCD") == "A**D"


def test_mask_phone():
    """Phones are shown as 135****6263."""
    assert idn.mask_phone("13576266263") == "135****6263"
    assert idn.mask_phone("") == ""


# --- phones ---------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    "13576266263", 13576266263, 13576266263.0, "13576266263.0", " 13576266263 ",
    "１３５７６２６６２６３", "135 7626 6263", "135-7626-6263", "+8613576266263",
    "+86 135 7626 6263", "8613576266263", "0086-13576266263", "(+86)13576266263",
])
def test_phone_forms_accepted(raw):
    """Phones typed or exported in any common form become 11 plain digits."""
    assert idn.normalize_phone(raw) == "13576266263"


@pytest.mark.parametrize("raw", [
    "1357626626", "135762662631", "23576266263", "020-12345678", "1357626626a",
    13576266263.5, "+8523576266263", "86123",
])
def test_phone_bad_forms_rejected(raw):
    """Numbers that are not 11 digits starting with 1 are refused."""
    with pytest.raises(RuleError) as e:
        idn.normalize_phone(raw)
    assert e.value.field == "phone"
    assert reason(e) == "手机号码格式不正确，应为以1开头的11位数字"


def test_phone_blank_rejected():
    """A blank phone says it is required."""
    with pytest.raises(RuleError) as e:
        idn.normalize_phone("  ")
    assert e.value.field == "phone" and reason(e) == "手机号码不能为空"


def test_phone_starting_86_not_stripped_when_11_digits():
    """An 11-digit number is never mistaken for a +86 prefix."""
    with pytest.raises(RuleError):
        idn.normalize_phone("86135762662")


# --- credit codes ---------------------------------------------------------------------

BODY = "91440115MA5ABCDE1"
CREDIT = BODY + uscc.calc_check_digit(BODY + "0")


def test_credit_code_valid():
    """A correct 统一社会信用代码 is accepted, lowercase and full-width cleaned."""
    assert idn.validate_credit_code(CREDIT) == CREDIT
    assert idn.validate_credit_code(" " + to_fullwidth(CREDIT.lower()) + " ") == CREDIT
    assert idn.normalize_credit_code(" ９１ab ") == "91AB"


def test_credit_code_blank_is_none():
    """The credit code is optional: blank gives None."""
    assert idn.validate_credit_code("") is None
    assert idn.validate_credit_code(None) is None
    assert idn.validate_credit_code("   ") is None


@pytest.mark.parametrize("raw", [
    BODY + ("0" if CREDIT[-1] != "0" else "1"), "12345", "I1440115MA5ABCDE1X", CREDIT + "1",
])
def test_credit_code_invalid(raw):
    """A wrong or malformed credit code gives 统一社会信用代码校验不正确."""
    with pytest.raises(RuleError) as e:
        idn.validate_credit_code(raw)
    assert e.value.field == "credit_code" and reason(e) == "统一社会信用代码校验不正确"


# --- half-width helper ----------------------------------------------------------------

def test_fullwidth_to_halfwidth():
    """Spreadsheet headers with full-width brackets and digits match the plain ones."""
    assert idn.fullwidth_to_halfwidth("身份证号码（必填）") == "身份证号码(必填)"
    assert idn.fullwidth_to_halfwidth("ＡＢｃ１２３\u3000") == "ABc123 "
    assert idn.fullwidth_to_halfwidth(None) == ""


# --- properties -----------------------------------------------------------------------

areas = st.text(alphabet="0123456789", min_size=6, max_size=6)
births = st.dates(min_value=date(1900, 1, 1), max_value=TODAY)
seqs = st.integers(min_value=0, max_value=999).map(lambda i: f"{i:03d}")


@st.composite
def valid_ids(draw):
    return make_id(draw(areas), draw(births).strftime("%Y%m%d"), draw(seqs))


def noisy(number, lower, full, left, right):
    text = number.lower() if lower else number
    text = to_fullwidth(text) if full else text
    return left + text + right


@settings(max_examples=300)
@given(valid_ids(), st.booleans(), st.booleans(),
       st.sampled_from(["", " ", "\u3000", "\t "]), st.sampled_from(["", " ", "\u3000", " \n"]))
def test_property_valid_ids_round_trip(number, lower, full, left, right):
    """Every correctly formed ID validates, however it was typed."""
    raw = noisy(number, lower, full, left, right)
    assert idn.normalize_id_number(raw) == number
    assert idn.validate_id_number(idn.ID_CARD, raw, today=TODAY) == number
    assert idn.birth_date_from_id(raw) == date(int(number[6:10]), int(number[10:12]),
                                               int(number[12:14]))


@settings(max_examples=300)
@given(valid_ids(), st.integers(min_value=0, max_value=17), st.integers(min_value=1, max_value=9))
def test_property_one_changed_digit_fails(number, pos, delta):
    """Mistyping any single digit of a valid ID is always caught."""
    old = number[pos]
    if old == "X":
        new = str(delta)
    else:
        new = str((int(old) + delta) % 10)
    changed = number[:pos] + new + number[pos + 1:]
    assert changed != number
    with pytest.raises(RuleError):
        idn.validate_id_number(idn.ID_CARD, changed, today=TODAY)


@given(valid_ids())
def test_property_mask_hides_middle(number):
    """A masked ID never shows the 8 birth-date characters."""
    masked = idn.mask_id(number)
    assert len(masked) == 18
    assert masked[6:14] == "*" * 8
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]


@given(st.text(alphabet="0123456789XABCDEFGHM", max_size=30))
def test_property_mask_length_and_stars(text):
    """Masking keeps the length and hides at least half of any value."""
    masked = idn.mask_id(text)
    assert len(masked) == len(text)
    assert masked.count("*") * 2 >= len(text) - 4 or len(text) <= 4
    if len(text) >= 18:
        assert masked[6:14] == "*" * 8


@given(st.from_regex(r"1[0-9]{10}", fullmatch=True), st.sampled_from(["", "+86", "86", "0086"]),
       st.booleans())
def test_property_phone_round_trip(phone, prefix, full):
    """Any 11-digit mobile number survives prefixes and full-width typing."""
    raw = prefix + (to_fullwidth(phone) if full else phone)
    assert idn.normalize_phone(raw) == phone
    assert idn.mask_phone(phone) == phone[:3] + "****" + phone[-4:]


# -- the one ID-card rule (id_card_ok): the import's and the feeds' fast paths -------------
def test_id_card_ok_takes_a_valid_number_with_digit_or_x_check():
    """A valid number passes, with a digit or an X as its check character."""
    assert idn.id_card_ok(VALID, TODAY) and idn.id_card_ok(WITH_X, TODAY)


@pytest.mark.parametrize("number", [
    wrong_check(VALID),                     # checksum
    WITH_X.lower(),                         # not normalised: x is for the full cleaner
    make_id(born="19900230"),               # no such day
    make_id(born="18991231"),               # before 1900
    make_id(born="20220602"),               # after today
    VALID[:17], VALID + "1",                # length
    VALID[:6] + make_id(born="19900723")[6:14] + "7a5" + "0",
    to_fullwidth(VALID),                    # not normalised
    " " + VALID[1:],
    "44011519900723",                       # 15 digits-ish
])
def test_id_card_ok_refuses_what_the_full_check_refuses(number):
    """Every number the fast paths refuse the full validation refuses too (or
    normalises first): the fast paths never accept what the rules would not."""
    assert not idn.id_card_ok(number, TODAY)


def test_id_card_ok_refuses_the_15_digit_card_whose_birth_date_is_still_read():
    """A first-generation 15-digit number is not valid for storing, but its birth date
    is read (19 + YYMMDD)."""
    old = "440115900723765"
    assert not idn.id_card_ok(old, TODAY)
    with pytest.raises(RuleError) as err:
        idn.validate_id_number(idn.ID_CARD, old, today=TODAY)
    assert err.value.message == idn.MSG_ID_LENGTH
    assert idn.birth_date_from_id(old) == date(1990, 7, 23)


def test_id_card_ok_accepts_a_birthday_of_today_and_refuses_tomorrow():
    """Born today is valid; born tomorrow is not, by the full validation's reason too."""
    today, tomorrow = make_id(born=f"{TODAY:%Y%m%d}"), make_id(born=f"{TODAY + timedelta(days=1):%Y%m%d}")
    assert idn.id_card_ok(today, TODAY) and not idn.id_card_ok(tomorrow, TODAY)
    with pytest.raises(RuleError) as err:
        idn.validate_id_number(idn.ID_CARD, tomorrow, today=TODAY)
    assert err.value.message == idn.MSG_ID_FUTURE


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789Xx", min_size=17, max_size=19),
       st.dates(min_value=date(1880, 1, 1), max_value=date(2030, 1, 1)), st.integers(0, 999))
def test_property_id_card_ok_agrees_with_the_full_validation(junk, born, seq):
    """On valid-looking and random numbers, ``id_card_ok`` says yes exactly when the
    full validation accepts the number unchanged."""
    for number in (junk, make_id(born=f"{born:%Y%m%d}", seq=f"{seq:03d}")):
        try:
            accepted = idn.validate_id_number(idn.ID_CARD, number, today=TODAY) == number
        except RuleError:
            accepted = False
        assert idn.id_card_ok(number, TODAY) == accepted

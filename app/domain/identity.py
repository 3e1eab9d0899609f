"""Identity documents, mobile phones and credit codes: normalisation and validation.

Inputs arrive as typed by people or as spreadsheets/JSON hold them (str, int, float).
Everything is normalised first (trim, full-width -> half-width, upper case) and then
checked; failures raise :class:`RuleError` with a short Chinese reason.
"""

import math
import re
import unicodedata
from datetime import date
from decimal import Decimal

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError

from app.domain.errors import RuleError
from app.domain.i18n import _

ID_CARD = "居民身份证"
HK_MACAO_PERMIT = "港澳居民来往内地通行证"
TAIWAN_PERMIT = "台湾居民来往大陆通行证"
PASSPORT = "护照"
ID_TYPES = (ID_CARD, HK_MACAO_PERMIT, TAIWAN_PERMIT, PASSPORT)
DEFAULT_ID_TYPE = ID_CARD

_ID_TYPE_ALIASES = {
    **{t: t for t in ID_TYPES},
    "身份证": ID_CARD, "二代身份证": ID_CARD, "居民身份证号码": ID_CARD, "身份证号码": ID_CARD,
    "港澳通行证": HK_MACAO_PERMIT, "回乡证": HK_MACAO_PERMIT, "港澳居民通行证": HK_MACAO_PERMIT,
    "台胞证": TAIWAN_PERMIT, "台湾通行证": TAIWAN_PERMIT, "台湾居民通行证": TAIWAN_PERMIT,
    "护照号码": PASSPORT, "外国护照": PASSPORT,
}

MSG_ID_TYPE = _("证件类型不正确")
MSG_ID_EMPTY = _("证件号码不能为空")
MSG_ID_AS_NUMBER = _("证件号码被转换成了数字，后几位已丢失，请将该列设置为文本格式后重新填写")
MSG_ID_LENGTH = _("身份证号码应为18位")
MSG_ID_FORMAT = _("身份证号码格式不正确，应为17位数字加1位数字或X")
MSG_ID_CHECKSUM = _("身份证号码校验位不正确")
MSG_ID_BIRTH = _("出生日期不正确")
MSG_ID_FUTURE = _("出生日期不能晚于今天")
MSG_HK_MACAO = _("港澳居民来往内地通行证号码应为H或M开头加8位或10位数字")
MSG_TAIWAN = _("台湾居民来往大陆通行证号码应为8位数字或10位字母数字")
MSG_PASSPORT = _("护照号码应为5至17位字母或数字")
MSG_PHONE = _("手机号码格式不正确，应为以1开头的11位数字")
MSG_PHONE_EMPTY = _("手机号码不能为空")
MSG_CREDIT_CODE = _("统一社会信用代码校验不正确")

_SPACES = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff]+")
_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d*)?E[+-]\d+$")
_TRAILING_ZERO = re.compile(r"^(\d+)\.0*$")
_HK_MACAO_RE = re.compile(r"^[HM]\d{8}(\d{2})?$")
_TAIWAN_RE = re.compile(r"^\d{8}([0-9A-Z]{2})?$")
_PASSPORT_RE = re.compile(r"^[0-9A-Z]{5,17}$")
_PHONE_RE = re.compile(r"^1\d{10}$")
_PHONE_JUNK = re.compile(r"[-()]")
_ID_CARD_SHAPE = re.compile(r"\d{17}[\dX]|\d{15}")
_LOST_DIGITS = 16  # a number this long no longer fits a double exactly


def fullwidth_to_halfwidth(s):
    """Full-width letters, digits, punctuation, brackets （） and the ideographic space
    to their ASCII forms (Unicode NFKC). ``None`` gives ""."""
    return "" if s is None else unicodedata.normalize("NFKC", str(s))


def _cell_text(raw, field, lost_message=None):
    """Text of a cell value: numbers without a spurious ".0", full-width made half-width,
    all whitespace removed, upper case. With ``lost_message``, a value Excel evidently
    turned into a number (16+ digits, scientific notation) raises RuleError."""
    kind = type(raw)
    if kind is str:
        if raw.isascii() and raw.isalnum():  # the common case, already clean: no NFKC, no regex
            return raw.upper()
    elif kind is int:
        if lost_message is not None and len(str(abs(raw))) >= _LOST_DIGITS:
            raise RuleError(field, lost_message)
        return str(raw)
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return ""
    if isinstance(raw, (float, Decimal)) and math.isfinite(raw) and raw == int(raw):
        raw = int(raw)
    if isinstance(raw, int) and not isinstance(raw, bool) and lost_message is not None \
            and len(str(abs(raw))) >= _LOST_DIGITS:
        raise RuleError(field, lost_message)
    text = _SPACES.sub("", fullwidth_to_halfwidth(raw)).upper()
    match = _TRAILING_ZERO.match(text)
    if lost_message is not None and (
        _SCIENTIFIC.match(text) or (match and len(match.group(1)) >= _LOST_DIGITS)
    ):
        raise RuleError(field, lost_message)
    return match.group(1) if match else text


def normalize_id_type(raw):
    """The canonical ID type label; blank means 居民身份证."""
    if raw is None or raw == "":
        return DEFAULT_ID_TYPE
    if type(raw) is str and raw in _ID_TYPE_ALIASES:
        return _ID_TYPE_ALIASES[raw]
    text = _SPACES.sub("", fullwidth_to_halfwidth(raw))
    if text and text not in _ID_TYPE_ALIASES:
        raise RuleError("id_type", MSG_ID_TYPE)
    return _ID_TYPE_ALIASES[text] if text else DEFAULT_ID_TYPE


def normalize_id_number(raw):
    """Trimmed, half-width, space-free, upper-case ID number ("" when blank)."""
    return _cell_text(raw, "id_number", MSG_ID_AS_NUMBER)


_ID_CARD_CHECK_CHARS = frozenset("0123456789X")
_BIRTHS: dict[str, "date | None"] = {}  # YYYYMMDD → the date, None if not a date (≤ 100k keys)


def _birth(digits):
    """The date of ``YYYYMMDD`` digits, None if there is no such day (cached: a
    100,000-row import or feed holds some 30,000 distinct birthdays)."""
    try:
        return _BIRTHS[digits]
    except KeyError:
        pass
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        born = None
    if len(_BIRTHS) < 100_000:
        _BIRTHS[digits] = born
    return born


def id_card_ok(number, today):
    """Whether ``number`` is a valid 居民身份证 number as stored: 18 ASCII characters,
    17 digits and a check character (a digit or an upper-case X) that matches
    (``stdnum.cn.ric``), carrying a real birth date from 1900 to ``today``.

    The one ID-card rule of the app: the full validation (``check_id_number``) asks it
    first and words a reason only when it fails; the fast paths of the staff import
    (``app/services/imports/staff_rows.py``) and of the feeds (``app.domain.feeds``)
    call it for every row of 100,000 — a few hundred nanoseconds. A 15-digit number
    (the first-generation card) is not valid here; ``birth_date_from_id`` reads it.
    """
    if type(number) is not str or len(number) != 18 or not number.isascii() or not number[:17].isdigit() \
            or number[17] not in _ID_CARD_CHECK_CHARS:
        return False
    born = _birth(number[6:14])
    if born is None or born.year < 1900 or born > today or ric.calc_check_digit(number) != number[17]:
        return False
    return True


def _check_id_card(number, today):
    """Nothing for a valid ID card number (``id_card_ok``), else the RuleError that
    says why, checked in the order a person would fix it."""
    today = today or date.today()
    if id_card_ok(number, today):
        return
    if len(number) != 18:
        raise RuleError("id_number", MSG_ID_LENGTH)
    if not number.isascii() or not number[:17].isdigit() or number[17] not in _ID_CARD_CHECK_CHARS:
        raise RuleError("id_number", MSG_ID_FORMAT)
    born = _birth(number[6:14])
    if born is None or born.year < 1900:
        raise RuleError("id_number", MSG_ID_BIRTH)
    if born > today:
        raise RuleError("id_number", MSG_ID_FUTURE)
    raise RuleError("id_number", MSG_ID_CHECKSUM)


def validate_id_number(id_type, number, *, today=None):
    """Normalise ``number`` and check it against the rules of ``id_type``.

    Returns the normalised number; raises RuleError(field="id_number") with a short
    reason (the importer prefixes the column, 列为“身份证号码”，数据格式不正确！).
    """
    return check_id_number(normalize_id_type(id_type), normalize_id_number(number), today=today)


def check_id_number(id_type, number, *, today=None):
    """``validate_id_number`` for an ``id_type`` and a ``number`` already normalised
    (``normalize_id_type`` / ``normalize_id_number``): the import's path, which
    normalises each cell once."""
    if not number:
        raise RuleError("id_number", MSG_ID_EMPTY)
    if id_type == ID_CARD:
        _check_id_card(number, today)
    elif id_type == HK_MACAO_PERMIT and not _HK_MACAO_RE.match(number):
        raise RuleError("id_number", MSG_HK_MACAO)
    elif id_type == TAIWAN_PERMIT and not _TAIWAN_RE.match(number):
        raise RuleError("id_number", MSG_TAIWAN)
    elif id_type == PASSPORT and not _PASSPORT_RE.match(number):
        raise RuleError("id_number", MSG_PASSPORT)
    return number


def _id_card_shape(number):
    """Normalised 18- or 15-digit ID card number, or None."""
    try:
        text = normalize_id_number(number)
    except RuleError:
        return None
    return text if _ID_CARD_SHAPE.fullmatch(text) else None


def birth_date_from_id(number):
    """Birth date carried by an 18-digit (or old 15-digit) ID card number, else None."""
    text = _id_card_shape(number)
    if text is None:
        return None
    digits = text[6:14] if len(text) == 18 else "19" + text[6:12]
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def gender_from_id(number):
    """"男" (odd sequence digit) or "女" (even) for an ID card number, else None."""
    text = _id_card_shape(number)
    return None if text is None else "男" if int(text[16] if len(text) == 18 else text[14]) % 2 else "女"


def age_on(number, day):
    """Age in full years on ``day`` for an ID card number, else None."""
    born = birth_date_from_id(number)
    if born is None or day < born:
        return None
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _mask(text, head, tail):
    return text[:head] + "*" * (len(text) - head - tail) + (text[-tail:] if tail else "")


def mask_id(number):
    """18+ chars: first 6, stars, last 4 (440115********765X); shorter: first 2 and
    last 2 kept; tiny values keep at most one character at each end."""
    text = "" if number is None else str(number).strip()
    n = len(text)
    keep = (6, 4) if n >= 18 else (2, 2) if n > 4 else (1, 1) if n > 2 else (0, 0)
    return _mask(text, *keep)


def normalize_phone(raw):
    """11-digit mobile number from text or numbers (spaces, dashes, +86/86/0086 prefix,
    full-width digits, a spreadsheet's trailing .0 are all tolerated)."""
    text = _cell_text(raw, "phone")
    if len(text) == 11 and text[0] == "1" and text.isascii() and text.isdigit():
        return text  # the common case: nothing to strip, nothing to check further
    text = _PHONE_JUNK.sub("", text)
    if not text:
        raise RuleError("phone", MSG_PHONE_EMPTY)
    for prefix in ("+86", "0086", "86"):
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix):]
            break
    if not _PHONE_RE.match(text):
        raise RuleError("phone", MSG_PHONE)
    return text


def mask_phone(phone):
    """135****6263 for an 11-digit number; other values keep 2 chars at each end."""
    text = "" if phone is None else str(phone).strip()
    return _mask(text, 3, 4) if len(text) == 11 else mask_id(text)


def normalize_credit_code(raw):
    """Trimmed, half-width, space-free, upper-case unified social credit code."""
    return _cell_text(raw, "credit_code")


def validate_credit_code(raw):
    """The normalised credit code, None when blank; RuleError when the check fails."""
    code = normalize_credit_code(raw)
    if not code:
        return None
    try:
        return uscc.validate(code)
    except ValidationError:
        raise RuleError("credit_code", MSG_CREDIT_CODE) from None

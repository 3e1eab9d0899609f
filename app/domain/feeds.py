"""Rows of the provincial test and vaccination feeds: validation and identity (SPEC §9).

Requests are split into rows by ``app.domain.feed_batches`` (its public names are
re-exported here). Each row is cleaned on its own: ``clean_test_row`` /
``clean_vaccination_row`` return a row object or a :class:`RuleError` (never raise).

Times are ISO 8601 (``2022-06-07T10:30:00+08:00``, ``…Z``, ``2022-06-07 10:30``;
``2022/6/7 10:30`` is tolerated); without an offset they are district local time.
Cleaned times are naive UTC. The plain ID number stays in the row object only until the
caller has computed its key (``idkey.id_key``); it is never part of ``record_identity``.
"""
from __future__ import annotations

import binascii
import hashlib
import re
import unicodedata
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any

from app.domain import identity
from app.domain.errors import RuleError
from app.domain.feed_batches import (  # noqa: F401  (re-exported)
    FIELDS, MAX_BATCH, REQUIRED, TESTS, VACCINATIONS, BatchError, check_batch_size, parse_csv_rows,
    parse_json_rows,
)
from app.domain.health import utc_naive
from app.domain.i18n import _

CLOCK_SKEW = timedelta(minutes=10)
MAX_RECORD_ID = 64
MAX_TEXT = 100

NEGATIVE, POSITIVE, PENDING = "negative", "positive", "pending"
RESULTS = (NEGATIVE, POSITIVE, PENDING)
RESULT_LABELS = {NEGATIVE: _("阴性"), POSITIVE: _("阳性"), PENDING: _("待出结果")}
_RESULTS = {"negative": NEGATIVE, "阴性": NEGATIVE, "positive": POSITIVE, "阳性": POSITIVE,
            "pending": PENDING, "待出结果": PENDING, "未出结果": PENDING}
_DOSES = {"1": 1, "2": 2, "3": 3, "一": 1, "二": 2, "三": 3}

LABELS = {
    "record_id": _("记录编号"), "id_type": _("证件类型"), "id_number": _("证件号码"),
    "sampled_at": _("采样时间"), "tested_at": _("检测时间"), "result": _("检测结果"),
    "institution": _("检测机构"), "dose": _("剂次"), "vaccinated_at": _("接种时间"),
    "product": _("疫苗名称"), "site": _("接种单位"),
}
MSG_NOT_OBJECT = _("每条记录应为JSON对象")
MSG_RESULT = _("检测结果不正确，应为negative、positive、pending或阴性、阳性、待出结果")
MSG_DOSE = _("剂次不正确，应为1、2、3或第一针、第二针、第三针")
MSG_TESTED_BEFORE = _("检测时间不能早于采样时间")


@dataclass(slots=True)
class SamplingRow:
    """A valid test record; times naive UTC, ``result`` one of RESULTS."""
    record_id: str | None
    id_type: str
    id_number: str
    sampled_at: datetime
    tested_at: datetime | None
    result: str
    institution: str


@dataclass(slots=True)
class VaccinationRow:
    """A valid vaccination record; ``vaccinated_at`` is the district calendar day."""
    record_id: str | None
    id_type: str
    id_number: str
    dose: int
    vaccinated_at: date
    product: str | None
    site: str | None


def _missing(field: str) -> RuleError:
    return RuleError(field, _("%(label)s不能为空", label=LABELS[field]))


def _wrong_type(field: str) -> RuleError:
    return RuleError(field, _("%(label)s应为文本", label=LABELS[field]))


def _present(raw: dict, field: str) -> Any:
    value = raw.get(field)
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _text(value: Any, field: str, *, required: bool, max_len: int = MAX_TEXT) -> str | None:
    if value is None:
        if required:
            raise _missing(field)
        return None
    if not isinstance(value, str):
        raise _wrong_type(field)
    value = unicodedata.normalize("NFKC", value)
    if not value.isprintable():  # control and format characters (NUL, zero-width …) are dropped
        value = "".join(c for c in value if c.isprintable() or c.isspace())
    value = " ".join(value.split())
    if not value:
        if required:
            raise _missing(field)
        return None
    if len(value) > max_len:
        raise RuleError(field, _("%(label)s不能超过%(n)d个字", label=LABELS[field], n=max_len))
    return value


def _record_id(raw: dict) -> str | None:
    value = _present(raw, "record_id")
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    elif value is not None and not isinstance(value, str):
        raise RuleError("record_id", _("记录编号应为文本或整数"))
    return _text(value, "record_id", required=False, max_len=MAX_RECORD_ID)


def _id(raw: dict, today: date) -> tuple[str, str]:
    id_type = _present(raw, "id_type")
    if id_type is None or id_type == identity.ID_CARD:
        id_type = identity.ID_CARD
    elif not isinstance(id_type, str):
        raise _wrong_type("id_type")
    else:
        id_type = identity.normalize_id_type(id_type)
    number = _present(raw, "id_number")
    if number is None:
        raise _missing("id_number")
    if not isinstance(number, str):
        raise _wrong_type("id_number")
    if id_type == identity.ID_CARD and identity.id_card_ok(number, today):  # the usual row: valid as sent
        return id_type, number
    return id_type, identity.validate_id_number(id_type, number, today=today)


_SLASHED = re.compile(r"([0-9]{4})/([0-9]{1,2})/([0-9]{1,2})(?:[ T]([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?)?")


def _parse_moment(raw: dict, field: str, *, required: bool) -> datetime | date | None:
    """A datetime (naive = local, or aware) or, for a date-only value, a date."""
    value = _present(raw, field)
    if value is None:
        if required:
            raise _missing(field)
        return None
    if not isinstance(value, str):
        raise RuleError(field, _("%(label)s应为ISO 8601格式的文本，如2022-06-07T10:30:00+08:00", label=LABELS[field]))
    text = value.strip()
    try:
        if len(text) <= 10 and ":" not in text and "T" not in text:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text)
    except ValueError:
        match = _SLASHED.fullmatch(text)
        if match:
            y, m, d, hh, mm, ss = (int(g or 0) for g in match.groups())
            with suppress(ValueError):
                return date(y, m, d) if match[4] is None else datetime(y, m, d, hh, mm, ss)
    raise RuleError(field, _("%(label)s格式不正确，应为ISO 8601格式，如2022-06-07T10:30:00+08:00", label=LABELS[field]))


def _to_utc(moment: datetime, tz: tzinfo) -> datetime:
    if moment.tzinfo is None:  # district wall time (fold=0 in a repeated hour)
        return moment - tz.utcoffset(moment)
    return moment.replace(tzinfo=None) - moment.utcoffset()


def _instant(raw: dict, field: str, tz: tzinfo, now: datetime, *, required: bool) -> datetime | None:
    moment = _parse_moment(raw, field, required=required)
    if moment is None:
        return None
    if not isinstance(moment, datetime):
        raise RuleError(field, _("%(label)s应包含具体时刻，如2022-06-07T10:30:00", label=LABELS[field]))
    try:
        moment = _to_utc(moment, tz)
    except (OverflowError, ValueError):
        raise RuleError(field, _("%(label)s超出有效范围", label=LABELS[field])) from None
    if moment > now + CLOCK_SKEW:
        raise RuleError(field, _("%(label)s不能晚于当前时间", label=LABELS[field]))
    return moment


@lru_cache(maxsize=16)
def _clock(now: datetime, tz: tzinfo) -> tuple[datetime, date]:
    """Naive-UTC now and the district's today of a batch (cached: one ``now`` per batch)."""
    utc = utc_naive(now)
    return utc, (utc + CLOCK_SKEW).replace(tzinfo=timezone.utc).astimezone(tz).date()


def _result(raw: dict) -> str:
    value = _present(raw, "result")
    if value is None:
        raise _missing("result")
    if not isinstance(value, str):
        raise _wrong_type("result")
    found = _RESULTS.get(value) or _RESULTS.get(unicodedata.normalize("NFKC", value).strip().lower())
    if found is None:
        raise RuleError("result", MSG_RESULT)
    return found


# -- the fast path: a plain, valid row (what a feed almost always sends) ---------------
# Each helper returns None where the general path might differ (a blank, an unusual
# spelling, anything to reject); the general path then gives the row its exact answer.
# tests/unit/test_feeds.py checks that both paths agree.
_TEXTS: dict[str, str] = {}  # institution/product/site as sent → cleaned (few distinct values)
_TEXTS_MAX = 20_000


def _fast_text(value: Any) -> str | None:
    found = _TEXTS.get(value) if type(value) is str else None
    if found is None and type(value) is str and value.strip():
        try:
            found = _text(value, "institution", required=True)
        except RuleError:
            return None
        if len(_TEXTS) < _TEXTS_MAX:
            _TEXTS[value] = found
    return found


_fromiso = datetime.fromisoformat
_ID_CARD = identity.ID_CARD
_id_card_ok = identity.id_card_ok  # the one ID-card rule (app.domain.identity)
_batch_clock: list = [None, None, None, None, None]  # now, tz → utc_now + skew, today


def _fast_test_row(raw: dict, tz: tzinfo, now: datetime) -> SamplingRow | None:
    fields = test_fields(raw, tz, now)
    return None if fields is None else SamplingRow(fields[0], _ID_CARD, *fields[1:])


def test_fields(raw: dict, tz: tzinfo, now: datetime) -> tuple | None:
    """The fast path of ``clean_test_row`` for bulk ingest: ``(record_id, id_number,
    sampled_at, tested_at, result, institution)`` of a plain, valid 居民身份证 row, or
    None when the row needs the general path (which then accepts or rejects it).
    Inlined on purpose: this runs for every row of a 100,000-row request."""
    clock = _batch_clock
    if clock[0] is not now or clock[1] is not tz:
        utc_now, today = _clock(now, tz)
        clock[:] = [now, tz, utc_now + CLOCK_SKEW, today, None]
    limit, today = clock[2], clock[3]
    get = raw.get
    record_id = get("record_id")
    if record_id is None or record_id == "":
        record_id = None
    elif type(record_id) is not str or len(record_id) > MAX_RECORD_ID or not record_id.isascii() \
            or not record_id.isprintable() or " " in record_id:
        return None
    id_type = get("id_type")
    if id_type is not None and id_type != _ID_CARD and id_type != "":
        return None
    number = get("id_number")
    if not _id_card_ok(number, today):
        return None
    result = get("result")
    result = _RESULTS.get(result) if type(result) is str else None
    institution = get("institution")
    institution = _TEXTS.get(institution) if type(institution) is str else None
    if institution is None:
        institution = _fast_text(get("institution"))
    text = get("sampled_at")
    if result is None or institution is None or type(text) is not str or len(text) < 16 or text[10] not in "T ":
        return None
    try:
        sampled = _fromiso(text)
        sampled = sampled - tz.utcoffset(sampled) if sampled.tzinfo is None \
            else sampled.replace(tzinfo=None) - sampled.utcoffset()
    except (ValueError, OverflowError):
        return None
    if sampled > limit:
        return None
    text = get("tested_at")
    if text is None or text == "":
        if result != PENDING:
            return None
        tested = None
    else:
        if type(text) is not str or len(text) < 16 or text[10] not in "T ":
            return None
        try:
            tested = _fromiso(text)
            tested = tested - tz.utcoffset(tested) if tested.tzinfo is None \
                else tested.replace(tzinfo=None) - tested.utcoffset()
        except (ValueError, OverflowError):
            return None
        if tested > limit or tested < sampled:
            return None
    return record_id, number, sampled, tested, result, institution


def clean_test_row(raw: Any, tz: tzinfo, now: datetime) -> SamplingRow | RuleError:
    """A SamplingRow, or the first RuleError of the row (a RuleError input is passed on).

    tested_at may be blank only while the result is pending; neither time may lie more
    than CLOCK_SKEW after ``now``; tested_at may not precede sampled_at.
    """
    if type(raw) is dict:
        fast = _fast_test_row(raw, tz, now)
        if fast is not None:
            return fast
    return _clean_test_row(raw, tz, now)


def _clean_test_row(raw: Any, tz: tzinfo, now: datetime) -> SamplingRow | RuleError:
    """The general path of ``clean_test_row``: every rule, in order, with its message."""
    if isinstance(raw, RuleError):
        return raw
    if not isinstance(raw, dict):
        return RuleError("row", MSG_NOT_OBJECT)
    try:
        utc_now, today = _clock(now, tz)
        record_id = _record_id(raw)
        id_type, number = _id(raw, today)
        sampled = _instant(raw, "sampled_at", tz, utc_now, required=True)
        result = _result(raw)
        tested = _instant(raw, "tested_at", tz, utc_now, required=result != PENDING)
        if tested is not None and tested < sampled:
            raise RuleError("tested_at", MSG_TESTED_BEFORE)
        institution = _text(_present(raw, "institution"), "institution", required=True)
    except RuleError as err:
        return err
    return SamplingRow(record_id, id_type, number, sampled, tested, result, institution)


def _dose(raw: dict) -> int:
    value = _present(raw, "dose")
    if value is None:
        raise _missing("dose")
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if value in (1, 2, 3):
            return value
        raise RuleError("dose", MSG_DOSE)
    if not isinstance(value, str):
        raise RuleError("dose", MSG_DOSE)
    text = re.sub(r"^第|[针剂次]$", "", unicodedata.normalize("NFKC", value).strip())
    if text not in _DOSES:
        raise RuleError("dose", MSG_DOSE)
    return _DOSES[text]


def clean_vaccination_row(raw: Any, tz: tzinfo, now: datetime) -> VaccinationRow | RuleError:
    """A VaccinationRow, or the first RuleError of the row. ``vaccinated_at`` is a date
    or a datetime (aware ones are converted to the district day); not after today."""
    if isinstance(raw, RuleError):
        return raw
    if not isinstance(raw, dict):
        return RuleError("row", MSG_NOT_OBJECT)
    try:
        utc_now, today = _clock(now, tz)
        record_id = _record_id(raw)
        id_type, number = _id(raw, today)
        dose = _dose(raw)
        moment = _parse_moment(raw, "vaccinated_at", required=True)
        if isinstance(moment, datetime):
            moment = moment.astimezone(tz).date() if moment.tzinfo else moment.date()
        if moment > today:
            raise RuleError("vaccinated_at", _("%(label)s不能晚于今天", label=LABELS["vaccinated_at"]))
        product = _text(_present(raw, "product"), "product", required=False)
        site = _text(_present(raw, "site"), "site", required=False)
    except RuleError as err:
        return err
    return VaccinationRow(record_id, id_type, number, dose, moment, product, site)


def record_identity(row: SamplingRow | VaccinationRow, key: str) -> str:
    """A stable 32-character unique key of a feed record, for idempotent ingest.

    ``key`` is the row's ``idkey.id_key``. With a ``record_id`` the identity is that id
    (per feed kind); without, a test record is (ID, sampled_at, institution) and a
    vaccination (ID, dose, day). Hashed, so the plain ID number is never part of it.
    """
    if type(row) is SamplingRow:
        return test_identity(row.record_id, key, row.sampled_at, row.institution)
    if row.record_id:
        material = f"vr\x1f{row.record_id}"
    else:
        material = f"vk\x1f{key}\x1f{row.dose}\x1f{row.vaccinated_at.isoformat()}"
    return _b2a(_sha256(material.encode("utf-8")).digest()[:24], newline=False).translate(_URLSAFE).decode("ascii")


def test_identity(record_id: str | None, key: str, sampled_at: datetime, institution: str) -> str:
    """``record_identity`` of a test record from its fields (bulk ingest)."""
    if record_id:
        material = f"tr\x1f{record_id}"
    else:
        material = f"tk\x1f{key}\x1f{sampled_at.isoformat()}\x1f{institution}"
    return _b2a(_sha256(material.encode("utf-8")).digest()[:24], newline=False).translate(_URLSAFE).decode("ascii")


_b2a, _sha256 = binascii.b2a_base64, hashlib.sha256
_URLSAFE = bytes.maketrans(b"+/", b"-_")

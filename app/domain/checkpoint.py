"""Business rules of bookings and checkpoint decisions (seed 002), pure.

* the booking's limits: passengers (:data:`MAX_PASSENGERS`), the text fields' lengths
  (:data:`TEXT_LIMITS`, the form's maxlength too), text only (:func:`text_value`), the
  arrival's form and window (:func:`parse_arrival`, :func:`check_arrival`), the name's
  form (:func:`name_ok`), the destination towns (:func:`is_destination`);
* the pass's expiry (:func:`pass_expiry`) and its states as a reader sees them;
* the scan's labels: :func:`driver_label` (南沙企业司机 / 非南沙企业司机 from the
  district's name), :func:`test_label` (seed 002 §2.2 rule 2: ``health.checkpoint_test_label``,
  else the latest sampling time and result), :func:`vaccine_label` (rule 3);
* the decision: :data:`DENY_REASONS` offered, :func:`clean_reason`;
* the messages of seed 002 §2.8, word for word (:data:`DECISION_TEXTS`,
  :data:`SUMMARY_TEXT`).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta, timezone, tzinfo
from typing import Iterable, Optional

from app.domain import health as H
from app.domain import vaccines as V
from app.domain.errors import RuleError
from app.domain.health import N_
from app.domain.i18n import _

MAX_PASSENGERS = 5
REASON_MAX = 100
# the longest text the booking takes per field (the server's check and the form's maxlength)
TEXT_LIMITS = {"driver_name": 64, "origin": 200, "destination_address": 300, "company": 200}
# the configured towns' catch-all (DISTRICT_TOWNS): a town row, but not a destination
OTHER_TOWN = "其他"

# Pass states as codes (models.drivers) and their labels (seed 002 §2.3, §2.7).
PENDING, ALLOWED, DENIED, EXPIRED = "pending", "allowed", "denied", "expired"
STATE_LABELS = {PENDING: N_("待通行"), ALLOWED: N_("已通行"), DENIED: N_("不予通行"), EXPIRED: N_("已过期")}

DENY_REASONS = (N_("健康码黄码"), N_("健康码红码"), N_("无核酸证明"), N_("核酸超时"), N_("其他"))

MSG_IDENTITY = _("认证不通过，请确保是本人提交预约或身份证号码填写是否有误")
MSG_EXPIRED = _("二维码已过期，请司机重新预约")
MSG_INVALID = _("二维码无效，请司机重新预约")
MSG_REASON = _("请填写不予通行原因")
MSG_REASON_LONG = _("不予通行原因不能超过100个字")
MSG_REASON_TEXT = _("不予通行原因应为文字")
MSG_ARRIVAL_PAST = _("预计到达时间不能早于当前时间")
MSG_ARRIVAL_FORMAT = _("预计到达时间格式不正确，如 2022-04-20 12:00")
MSG_NAME = _("姓名格式不正确")

LABEL_ENTERPRISE = N_("%(district)s企业司机")
LABEL_OTHER = N_("非%(district)s企业司机")

# Seed 002 §2.8 (the manual's examples with XXX 公司 / 李某某 / the time / 南沙区 / the reason
# as places). Keys: (enterprise driver, allowed).
DECISION_TEXTS = {
    (True, True): _("%(company)s员工%(name)s于%(time)s进入%(district)s，请督促做好防疫工作。"),
    (True, False): _("%(company)s员工%(name)s于%(time)s进入%(district)s卡口时，因%(reason)s原因不予通行，请知悉。"),
    (False, True): _("非%(district_short)s企业员工%(name)s于%(time)s入%(district)s，请督促做好防疫工作。"),
    (False, False): _("非%(district_short)s企业员工%(name)s于%(time)s进入%(district)s卡口时，因%(reason)s原因不予通行，请知悉。"),
}
SUMMARY_TEXT = _("%(period)s卡口共通行车辆%(passed)s辆，不准予通行%(denied)s辆。可点击查看详情。")
PERIOD_OVERNIGHT = N_("昨天至今天")
PERIOD_TODAY = N_("今天")
PERIOD_DAY = N_("%(m)s月%(d)s日")  # a period not of the sending day (a late run): its date(s)
PERIOD_DAYS = N_("%(start)s至%(end)s")
SUMMARY_PERIOD = N_("%(days)s（%(start)s到%(end)s）")
SUMMARY_HEADERS = (N_("车牌号"), N_("司机姓名"), N_("司机联系方式"), N_("公司名称"), N_("通行时间"), N_("不通过原因"))

_NAME = re.compile(r"^(?:[\u3400-\u9fff·•]{2,30}|[A-Za-z][A-Za-z .·'-]{1,29})$")


def district_short(district: str) -> str:
    """南沙区 → 南沙 (the manual's 南沙企业司机, 非南沙企业员工)."""
    for suffix in ("新区", "区", "县", "市"):
        if district.endswith(suffix) and len(district) > len(suffix):
            return district[: -len(suffix)]
    return district


def name_ok(name: str) -> bool:
    """A person's name: 2–30 Chinese characters (with · for minority names), or a
    Latin-script name of 2–30 letters, spaces, dots, apostrophes and hyphens."""
    return bool(_NAME.match(unicodedata.normalize("NFKC", name or "").strip()))


def same_name(typed: str, registered: str) -> bool:
    """Whether a booking's driver name is the registered staff's name for the same ID
    number: equal once width, spaces and the middle dot's forms are folded (李·某 = 李•某,
    "Li Wei" = "li  wei")."""
    def fold(name: str) -> str:
        return re.sub(r"[\s·•.]", "", unicodedata.normalize("NFKC", name or "")).casefold()

    return fold(typed) == fold(registered)


def text_value(field: str, raw: object, label: str) -> str:
    """``raw`` as the booking stores a text (NFKC, trimmed; None gives "").
    :raise RuleError: (``field``, 〈label〉应为文字) when ``raw`` is not text (a JSON object,
    list, number or boolean), rather than storing its Python spelling."""
    if raw is not None and not isinstance(raw, str):
        raise RuleError(field, _("%(label)s应为文字", label=label))
    return unicodedata.normalize("NFKC", raw or "").strip()


def is_destination(town_name: str) -> bool:
    """Whether a configured town may be booked as a destination (not the catch-all 其他)."""
    return town_name != OTHER_TOWN


def parse_arrival(text: str, tz: tzinfo) -> datetime:
    """The arrival typed as ISO 8601 (``/`` for ``-`` accepted; without an offset: ``tz``'s
    local time) as naive UTC. :raise RuleError: ("expected_arrival", MSG_ARRIVAL_FORMAT) when
    it is no date and time, or one that has no UTC value (year 1 at +08:00, 9999-12-31 at
    -12:00)."""
    try:
        moment = datetime.fromisoformat(text.replace("/", "-").replace("Z", "+00:00"))
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=tz)
        return moment.astimezone(timezone.utc).replace(tzinfo=None)
    except (ValueError, OverflowError):
        raise RuleError("expected_arrival", MSG_ARRIVAL_FORMAT) from None


def check_arrival(arrival: datetime, now: datetime, *, grace: timedelta = timedelta(hours=1),
                  ahead: timedelta = timedelta(days=7)) -> None:
    """An arrival (naive UTC) no earlier than ``grace`` before ``now`` and no later than
    ``ahead`` after it. :raise RuleError: ("expected_arrival")."""
    if arrival < now - grace:
        raise RuleError("expected_arrival", MSG_ARRIVAL_PAST)
    if arrival > now + ahead:
        raise RuleError("expected_arrival", _("预计到达时间不能晚于%(days)s天后", days=ahead.days))


def pass_expiry(arrival: datetime, validity: timedelta) -> datetime:
    """When the pass of a booking arriving at ``arrival`` expires: ``validity`` after it."""
    return arrival + validity


def clean_reason(allow: bool, reason: Optional[str]) -> Optional[str]:
    """The stored reason: None to allow (a reason given anyway is kept), required to deny.
    :raise RuleError: ("reason") missing, too long, or not text (a JSON object, list,
    number or boolean is refused rather than stored as its Python spelling)."""
    if reason is not None and not isinstance(reason, str):
        raise RuleError("reason", MSG_REASON_TEXT)
    text = unicodedata.normalize("NFKC", reason or "").strip()
    if len(text) > REASON_MAX:
        raise RuleError("reason", MSG_REASON_LONG)
    if not allow and not text:
        raise RuleError("reason", MSG_REASON)
    return text or None


def driver_label(enterprise_driver: bool, district: str) -> str:
    """南沙企业司机 / 非南沙企业司机 (seed 002 §2.2 rule 1) for ``district`` (南沙区)."""
    return (LABEL_ENTERPRISE if enterprise_driver else LABEL_OTHER) % {"district": district_short(district)}


def test_label(records: Iterable[tuple[datetime, str]], now: datetime, tz: tzinfo,
               result_labels: dict[str, str]) -> str:
    """Seed 002 §2.2 rule 2 over a person's samplings ``(sampled_at naive UTC, result)``:
    24小时阴性 / 48小时阴性 / 72小时阴性 / 7天阴性 by the latest negative (a newer positive
    wins), else the latest sampling's local time and result ("2022-04-20 12:00 阳性"),
    else 无核酸检测记录."""
    latest = latest_negative = latest_positive = None
    for sampled_at, result in records:
        if latest is None or sampled_at > latest[0]:
            latest = (sampled_at, result)
        if result == "negative" and (latest_negative is None or sampled_at > latest_negative):
            latest_negative = sampled_at
        if result == "positive" and (latest_positive is None or sampled_at > latest_positive):
            latest_positive = sampled_at
    label = H.checkpoint_test_label(latest_negative, now, latest_positive_sampled_at=latest_positive)
    if label is not None:
        return label
    if latest is None:
        return N_("无核酸检测记录")
    local = latest[0].replace(tzinfo=timezone.utc).astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {result_labels.get(latest[1], latest[1])}"


def vaccine_label(doses: Iterable[int]) -> str:
    """已完成接种一针/二针/三针 or 未接种疫苗 (seed 002 §2.2 rule 3)."""
    return V.vaccine_label(doses)


def period_days(start: date, end: date, sent: date) -> str:
    """How the summary names the days of a period from ``start`` to ``end`` (local days)
    sent on ``sent``: ``"today"`` (今天) only when both are the sending day,
    ``"overnight"`` (昨天至今天) from the day before to the sending day, else ``"dates"``
    (the date, or dates, named: a run late enough to fall on another day)."""
    if start == end == sent:
        return "today"
    if end == sent and start == sent - timedelta(days=1):
        return "overnight"
    return "dates"

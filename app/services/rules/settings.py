"""告警设置 as a declared resource's service: per enterprise type (optionally per staff
category of that type) the rule, the recipients and the times of the check and alerts.

Rules of every write (nothing is saved when one fails):

* ``rule``: one of the eight names (一天一检 …) or codes (1d1 …) — else 400 naming the eight;
* ``enterprise_type``: a type code; a bureau edits only the types it supervises (else 404);
* ``category``: empty (every category) or one declared by the type; one setting per
  type and category (409);
* ``recipients``: ``[{"user_id"} | {"phone"} | {"webhook"}]`` (the form's text: one per
  line, a user name, a mobile number or an http(s) URL). A user the change adds must be
  within the editor's reach (``policies.rules.may_address``): one named by id is 404,
  one named by user name (or a user name that does not exist, which must not be told
  apart) is 400 naming it, so the form keeps what was typed. The users the setting
  already names stay valid as they are (a bureau edits the rule of a setting whose
  recipients the district admin chose); a phone that is not a mobile number and a URL
  that is not http(s) are 400 with the value named;
* ``check_time`` / ``alert_time``: ``HH:MM`` district time (default 01:00 / 09:00).

Every change is audited with before/after values (the 审计日志 is the history of changes).
"""
from __future__ import annotations

import json
from typing import Any, Mapping, Optional

from flask import current_app
from sqlalchemy import delete, or_, select

from app.domain import testing_rules as TR
from app.domain.enterprise_types import parse_declaration
from app.domain.errors import Conflict, OutOfScope, RuleError, ServiceError, ValidationFailed
from app.domain.fields import Field, clean_record
from app.domain.i18n import _
from app.domain.identity import normalize_phone
from app.platform.clock import local_today
from app.platform.extensions import db
from app.platform.operations import operation
from app.security import scope as S
from app.security.policies.rules import may_address
from app.services.resources import BODY_NOT_OBJECT, ModelService
from models.enterprise_types import EnterpriseType
from models.rules import AlertSetting, ComplianceResult, RuleRun
from models.users import SentinelUser

ENTITY = "AlertSetting"
_OWN_RULES = ("rule", "recipients", "check_time", "alert_time")  # cleaned by the service itself


def _type_choices() -> list[tuple[str, str]]:
    return [(t.code, t.name) for t in db.session.execute(
        select(EnterpriseType).where(EnterpriseType.active.is_(True)).order_by(EnterpriseType.id)).scalars()]


FIELDS = [
    Field("enterprise_type", _("主体类型编码"), kind="choice", required=True, choices=_type_choices, list=False,
          description=_("哨点人员的主体类型编码")),
    Field("enterprise_type_name", _("主体类型"), attr="type.name", form=False),
    Field("category", _("人员类别"), max_length=64, filters=("eq",), sortable=True,
          description=_("为空表示该类型的全部人员类别；填写则仅对该类别生效")),
    Field("rule", _("核酸检测规则"), attr="rule_name", required=True,
          description=_("一天一检、两天一检、三天一检、三天两检、七天一检、七天两检、七天三检、十四天一检（或编码 1d1 … 14d1）")),
    Field("rule_code", _("规则编码"), attr="rule", form=False, list=False),
    Field("recipient_lines", _("推送人员"), kind="lines", attr="recipient_lines", form=False, list=False),
    Field("recipients", _("推送人员"), kind="json", list=False, detail=False,
          description=_("每行一个：平台用户名、手机号码（短信）或群机器人网址（http/https）")),
    Field("check_time", _("核查时间"), default="01:00", description=_("每日核查时间，如 01:00")),
    Field("alert_time", _("推送时间"), default="09:00", description=_("每日推送时间，如 09:00")),
    Field("active", _("启用"), kind="bool", default=True, filters=("eq",)),
    Field("updated_at", _("修改时间"), kind="datetime", form=False, sortable=True),
]


class AlertSettingService(ModelService):
    """告警设置: see the module docstring for what every write checks."""

    def __init__(self) -> None:
        super().__init__(AlertSetting, FIELDS, entity=ENTITY, default_order=(AlertSetting.id.asc(),))

    # --- reading --------------------------------------------------------------------
    def keyword_clause(self, keyword: str):
        """A rule's name or code, or a word of the type's name or of the category."""
        try:
            return AlertSetting.rule == TR.rule_by_name(keyword).code
        except RuleError:
            types = select(EnterpriseType.id).where(
                or_(EnterpriseType.name.contains(keyword), EnterpriseType.code == keyword))
            return or_(AlertSetting.category.contains(keyword), AlertSetting.type_id.in_(types))

    # --- writing --------------------------------------------------------------------
    def audit_fields(self) -> list[str]:
        return ["type_id", "category", "rule", "recipients", "check_time", "alert_time", "active"]

    def clean(self, session, raw: Mapping[str, Any], current: Any = None) -> dict[str, Any]:
        if not isinstance(raw, Mapping):
            raise ServiceError(BODY_NOT_OBJECT)
        partial = current is not None
        values, errors = clean_record([f for f in self.fields if f.key not in _OWN_RULES], raw,
                                      partial=partial, creating=not partial)
        for key, cleaner in (
            ("rule", lambda v: TR.rule_by_name(v).code),
            ("check_time", lambda v: TR.clean_time(v, "check_time", str(_("核查时间")))),
            ("alert_time", lambda v: TR.clean_time(v, "alert_time", str(_("推送时间")))),
        ):
            if key in raw or not partial:
                default = {"check_time": "01:00", "alert_time": "09:00"}.get(key)
                value = raw.get(key) if raw.get(key) not in (None, "") else default
                try:
                    values[key] = cleaner(value)
                except RuleError as err:
                    errors.append(err)
        if errors:
            raise ValidationFailed(errors)
        if "recipients" in raw or not partial:
            try:
                values["recipients"] = recipients_from(session, raw.get("recipients"))
            except UnknownRecipient as err:
                if not err.by_name:
                    raise
                raise refused_users([err.name]) from None
        code = values.pop("enterprise_type", None)
        if code is not None:
            values["type_id"] = session.execute(
                select(EnterpriseType.id).where(EnterpriseType.code == code)).scalar_one()
        if "category" in values:
            values["category"] = values["category"] or None
        return values

    def validate(self, session, values: dict[str, Any], current: Any = None) -> None:
        etype = session.get(EnterpriseType, values["type_id"])
        category = values.get("category")
        if category:
            declared = parse_declaration(etype.spec).categories
            if declared and category not in declared:
                raise ValidationFailed([RuleError("category", _("人员类别“%(name)s”不是该主体类型的人员类别（%(names)s）",
                                                              name=category, names="、".join(declared)))])
        clash = select(AlertSetting.id).where(
            AlertSetting.type_id == values["type_id"],
            AlertSetting.category.is_(None) if not category else AlertSetting.category == category)
        if current is not None:
            clash = clash.where(AlertSetting.id != current.id)
        if session.execute(clash).first() is not None:
            raise Conflict(_("该主体类型（人员类别）已有告警设置，请编辑原有设置"))

    @staticmethod
    def check_reach(session, scope: S.Scope, raw: Any, kept: frozenset = frozenset()) -> None:
        """The user recipients of ``raw`` (the posted body) that the change adds must be
        within the editor's reach; ``kept``: the user ids the setting named before the
        change (valid as they are). :raise OutOfScope: one named by id (404);
        ValidationFailed: those named by user name (400 naming them); nothing saved."""
        if not isinstance(raw, Mapping) or raw.get("recipients") in (None, ""):
            return
        named: dict[int, str] = {}
        refused: list[str] = []
        for item in recipients_from(session, raw.get("recipients"), named=named):
            user_id = item.get("user_id")
            if user_id is None or user_id in kept or may_address(scope, session.get(SentinelUser, user_id)):
                continue
            if user_id not in named:
                raise OutOfScope("SentinelUser", user_id)
            refused.append(named[user_id])
        if refused:
            raise refused_users(refused)

    @operation
    def create(self, session, scope: S.Scope, raw: Mapping[str, Any]):
        row = super().create(session, scope, raw)
        self.check_reach(session, scope, raw)
        return row

    @operation
    def update(self, session, scope: S.Scope, pk: Any, raw: Mapping[str, Any]):
        kept = frozenset(item["user_id"] for item in self.get(session, scope, pk).recipients or []
                         if "user_id" in item)
        row = super().update(session, scope, pk, raw)
        self.check_reach(session, scope, raw, kept)
        return row

    def after_write(self, session, row: AlertSetting, action: str) -> None:
        """A rule (or the people it covers) changed before today's alerts went out: today's
        check of the setting is dropped, so the alert job checks again with the new rule
        first. Once the day's alerts are out, the change applies from the next check.
        A setting switched off no longer reports anyone today (``drop_today``)."""
        if action != "update":
            return
        if not row.active:
            drop_today(session, [row.id])
            return
        today = local_today()
        alerted = session.execute(select(RuleRun.id).where(
            RuleRun.day == today, RuleRun.kind == "alerts", RuleRun.setting_id == row.id)).first()
        if alerted is None:
            session.execute(delete(RuleRun).where(RuleRun.day == today, RuleRun.kind == "evaluate",
                                                  RuleRun.setting_id == row.id))


    def after_delete(self, session, rows: list[AlertSetting]) -> None:
        drop_today(session, [row.id for row in rows])


def drop_today(session, setting_ids: list[int]) -> None:
    """Settings deleted or switched off: today's results and check of them go, so today's
    未按规定检测 (its list, export and home counts) no longer reports people under a rule
    that is gone, as the task-force summary does not; past days read as they were."""
    today = local_today()
    session.execute(delete(ComplianceResult).where(ComplianceResult.day == today,
                                                   ComplianceResult.setting_id.in_(setting_ids)))
    session.execute(delete(RuleRun).where(RuleRun.day == today, RuleRun.kind == "evaluate",
                                          RuleRun.setting_id.in_(setting_ids)))


class UnknownRecipient(OutOfScope):
    """A recipient user that does not exist (404 like one out of reach); ``name`` is the
    user name or id as given, for an editor that names it; ``by_name``: given as a user
    name (a form's line), not as ``{"user_id"}``."""

    def __init__(self, name: Any, by_name: bool = False):
        super().__init__("SentinelUser", name)
        self.name = str(name)
        self.by_name = by_name


def refused_users(names: list[str]) -> ValidationFailed:
    """400 naming the user names an editor may not add as recipients (or that do not exist)."""
    return ValidationFailed([RuleError("recipients", _("推送人员中有不存在或不可推送的平台用户名：%(names)s",
                                                       names="、".join(names)))])


def recipients_from(session, raw: Any, named: Optional[dict[int, str]] = None) -> list[dict[str, Any]]:
    """The stored form of the recipients: ``[{"user_id"} | {"phone"} | {"webhook"}]``,
    duplicates dropped, from a JSON list or the form's lines; ``named`` (filled when
    given): the user ids given by user name, with the name as typed. :raise
    ValidationFailed, OutOfScope (an unknown user is missing, like one outside the
    editor's reach)."""
    if raw in (None, ""):
        return []
    if isinstance(raw, str) and raw.strip().startswith("["):  # the form shows the stored list as JSON
        try:
            raw = json.loads(raw)
        except ValueError:
            raise ValidationFailed([RuleError("recipients", BAD_RECIPIENTS)]) from None
    if isinstance(raw, str):
        items: list[Any] = [line.strip() for line in raw.replace("，", "\n").replace(",", "\n").splitlines()
                            if line.strip()]
    elif isinstance(raw, list):
        items = raw
    else:
        raise ValidationFailed([RuleError("recipients", BAD_RECIPIENTS)])
    out: list[dict[str, Any]] = []
    for item in items:
        entry = _recipient(session, item)
        if named is not None and isinstance(item, str) and "user_id" in entry:
            named.setdefault(entry["user_id"], item)
        if entry not in out:
            out.append(entry)
    return out


def _webhook(url: str) -> str:
    """A robot URL a user typed: internal addresses only where ``WEBHOOK_ALLOW_PRIVATE``."""
    return TR.clean_webhook(url, allow_private=bool(current_app.config.get("WEBHOOK_ALLOW_PRIVATE")))


def _recipient(session, item: Any) -> dict[str, Any]:
    try:
        if isinstance(item, str):
            if item.lower().startswith(("http://", "https://")) or "://" in item:
                return {"webhook": _webhook(item)}
            if item.lstrip("+").replace(" ", "").replace("-", "").isdigit():
                return {"phone": _phone(item)}
            user_id = session.execute(select(SentinelUser.id).where(SentinelUser.username == item)).scalar()
            if user_id is None:
                raise UnknownRecipient(item, by_name=True)
            return {"user_id": user_id}
        if isinstance(item, Mapping) and len(item) == 1:
            key, value = next(iter(item.items()))
            if key == "user_id" and isinstance(value, int) and not isinstance(value, bool):
                if session.get(SentinelUser, value) is None:
                    raise UnknownRecipient(value)
                return {"user_id": value}
            if key == "phone" and isinstance(value, (str, int)):
                return {"phone": _phone(value)}
            if key == "webhook" and isinstance(value, str):
                return {"webhook": _webhook(value)}
    except RuleError as err:
        raise ValidationFailed([RuleError("recipients", err.message)]) from None
    raise ValidationFailed([RuleError("recipients", BAD_RECIPIENTS)])


def _phone(value: Any) -> str:
    try:
        return normalize_phone(value)
    except RuleError:
        raise RuleError("recipients", _("推送人员的手机号码不是有效的手机号码：%(phone)s", phone=str(value)[:20])) from None


def setting_label(row: AlertSetting) -> str:
    return f"{row.type.name}{'（' + row.category + '）' if row.category else ''} {TR.rule_by_name(row.rule).name}"


BAD_RECIPIENTS = _("推送人员格式不正确，应为 [{\"user_id\": 用户编号} | {\"phone\": 手机号码} | {\"webhook\": 网址}]")

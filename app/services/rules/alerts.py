"""The 9 o'clock alerts (``rules.alerts``) and the task-force summary (``rules.summary``).

Alerts. For each active setting and each of its recipients, once per district day: a
message with the count, the rule, the date and a link to an .xlsx of the people who
broke the rule *in the recipient's scope* — 企业名称, 姓名, 手机号码, 负责人姓名, 负责人电话,
最近一次核酸检测时间. Which rows a platform user gets comes from the inverse scope
(``scope.audience`` of each enterprise: a town user gets their town's rows, a bureau
user their types', an enterprise head their enterprises'; a user who sees everything
gets them all); a phone (SMS) or a messenger group gets the setting's whole list.
Phone numbers in the file are shown in full only to users whose roles may see them.
A recipient with nobody in their scope gets nothing that day.

Exactly once. The message's key is ``rules.alert:<day>:<setting>:<edition>`` and the
recipient (``app.notify.messages``): a retried or re-run job, two workers, a job killed
mid-send store (and so send) each recipient's alert once; each recipient is its own
transaction, so a run killed half-way is finished by the next one without repeats.
If the day's check has not run for a setting (feed late, worker down), it runs first;
results of another day are never sent. A deliberate re-send (``flask --app run rules
resend``) bumps the day's edition.

Summary. To the task force (its users' in-app inbox, and ``RULES_SUMMARY_RECIPIENTS``):
per setting (哨点人员类别), 主管部门, 总人数, 未按规定检测人数, with the same .xlsx.
"""
from __future__ import annotations

import logging
from datetime import date
from typing import Any, Iterable, Iterator, Optional

from flask import current_app
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import func, select

from app.domain import testing_rules as TR
from app.domain.i18n import _
from app.domain.identity import normalize_phone
from app.notify.attachments import store_attachment
from app.notify.messages import MessageTemplate, Recipient, notify, to_phones, to_users, to_webhooks
from app.platform.clock import district_tz, local_today
from app.platform.operations import transaction
from app.security import roles as R
from app.security import scope as S
from app.services import exports
from app.services.rules import compliance
from app.services.rules.evaluate import EVALUATE, active_settings, evaluate_setting
from app.services.rules.runs import SUMMARY_SETTING, find_run, record_run
from models.enterprises import Enterprise
from models.notify import Message
from models.organisations import Bureau
from models.rules import AlertSetting, ComplianceResult
from models.users import SentinelUser

log = logging.getLogger(__name__)

ALERTS, SUMMARY = "alerts", "summary"
ALERT = MessageTemplate("rules.alert", _(
    "【核酸检测告警】%(date)s，%(group)s按“%(rule)s”规则核查，有%(count)d人未按规定进行核酸检测，"
    "请督促做好核酸检测。可点击查看名单。"))
SUMMARY_TEXT = MessageTemplate("rules.summary", _(
    "【哨点监测专班】%(date)s各类哨点人员核酸检测情况：共%(total)d人，未按规定检测%(broken)d人。可点击查看详情。"))
LONG_DATE = _("%(year)d年%(month)d月%(day)d日")
SUMMARY_HEADERS = (_("哨点人员类别"), _("主管部门"), _("总人数"), _("未按规定检测人数"))


def long_date(day: date) -> str:
    """A day as the messages write it (2026年12月4日 in Chinese)."""
    return str(LONG_DATE) % {"year": day.year, "month": day.month, "day": day.day}


def setting_group(setting: AlertSetting) -> str:
    """'口岸企业（高风险人员）': the sentinel category a setting covers."""
    return f"{setting.type.name}（{setting.category}）" if setting.category else setting.type.name


def ensure_checked(session, setting_id: int, day: date) -> None:
    """Run the day's check of the setting if it has not run (never send another day's)."""
    if find_run(session, day, EVALUATE, setting_id) is None:
        evaluate_setting(session, setting_id, day)


# --- alerts ------------------------------------------------------------------------

def send_alerts(session, day: Optional[date] = None, setting_ids: Optional[Iterable[int]] = None) -> dict:
    """Store the day's alerts of every active setting (or ``setting_ids``); counts."""
    day = day or local_today()
    totals = {"day": day.isoformat(), "settings": 0, "messages": 0}
    holders: dict = {}  # who holds which town / type / enterprise: looked up once per run
    for setting_id in [s.id for s in active_settings(session, setting_ids)]:
        totals["settings"] += 1
        totals["messages"] += alert_setting(session, setting_id, day, holders)
    return totals


def alert_setting(session, setting_id: int, day: date, holders: Optional[dict] = None) -> int:
    """One setting's alerts of ``day``: how many messages this run stored. ``holders``:
    the inverse-scope cache shared by the settings of one run."""
    ensure_checked(session, setting_id, day)
    setting = session.get(AlertSetting, setting_id, populate_existing=True)
    run = find_run(session, day, ALERTS, setting_id)
    event = f"rules.alert:{day.isoformat()}:{setting_id}:{run.edition if run else 1}"
    rows = list(compliance.broken_rows(session, compliance.broken_query(
        S.Scope(everything=True), compliance.Filters(day), extra=(ComplianceResult.setting_id == setting_id,))))
    stored = 0
    audience = _Audience(session, rows, holders)
    cells = _Cells()
    files: dict[tuple, tuple[str, str, int]] = {}  # recipients with the same rows share one file
    for recipient in recipients_of(session, setting):
        mine, full = audience.rows_for(recipient)
        if not mine or _already_stored(session, recipient, event):
            continue
        with transaction(session):
            same = (full, tuple(r.staff_id for r in mine))
            if same not in files:
                title = str(_("未按规定检测人员"))
                file, count = compliance.write_alert_file(cells.of(mine, full), title, day, [setting.rule])
                with file:
                    name = f"{title}_{setting_group(setting)}_{day.isoformat()}.xlsx"
                    files[same] = (store_attachment(file.read(), name), name, count)
            path, name, count = files[same]
            notify(ALERT, [recipient], {
                "date": long_date(day), "group": setting_group(setting),
                "rule": str(TR.rule_by_name(setting.rule).name), "count": count,
            }, key=event, attachment_path=path, attachment_name=name)
            stored += 1
    with transaction(session):
        record_run(session, day, ALERTS, setting_id, broken=len(rows), messages=stored + (run.messages if run else 0))
    log.info("rules: alerts of setting %s for %s: %s stored", setting_id, day, stored)
    return stored


def recipients_of(session, setting: AlertSetting) -> list[Recipient]:
    """The setting's recipients (active users only)."""
    user_ids = [r["user_id"] for r in setting.recipients or [] if "user_id" in r]
    active = set(session.execute(select(SentinelUser.id).where(
        SentinelUser.id.in_(user_ids), SentinelUser.active.is_(True))).scalars()) if user_ids else set()
    return (to_users([u for u in user_ids if u in active])
            + to_phones(r["phone"] for r in setting.recipients or [] if "phone" in r)
            + to_webhooks(r["webhook"] for r in setting.recipients or [] if "webhook" in r))


def _already_stored(session, recipient: Recipient, event: str) -> bool:
    key = recipient.key(event)
    return session.execute(select(Message.id).where(Message.idempotency_key == key)).first() is not None


class _Audience:
    """Which of a setting's rows each recipient may see, from the inverse scope.

    Enterprises are kept as their column values, not as instances: each recipient's
    message commits, and a commit expires instances (reading one again is a query)."""

    def __init__(self, session, rows: list[compliance.BrokenRow], cache: Optional[dict] = None):
        self.session = session
        self.rows = rows
        self.cache: dict = {} if cache is None else cache
        self._enterprise_of: Optional[dict[int, int]] = None
        self._enterprises: dict[int, dict] = {}

    def rows_for(self, recipient: Recipient) -> tuple[list[compliance.BrokenRow], bool]:
        """``(rows, full numbers)`` of ``recipient``."""
        if recipient.kind != "user":
            return self.rows, False
        user = self.session.get(SentinelUser, int(recipient.address))
        scope = S.scope_for_user(user)
        if scope.everything:
            return self.rows, scope.full_numbers
        if scope.is_empty:
            return [], False
        dims = [name for name, held in scope.values.items() if held]
        visible = {eid for eid in self.enterprise_ids()
                   if user.id in S.audience(self.session, Enterprise, self._enterprises[eid], dims, self.cache).user_ids}
        of = self.enterprise_of()
        return [r for r in self.rows if of[r.staff_id] in visible], scope.full_numbers

    def enterprise_of(self) -> dict[int, int]:
        if self._enterprise_of is None:
            out = {r.staff_id: r.enterprise_id for r in self.rows}
            self._enterprise_of = out
            wanted = sorted(set(out.values()))
            for i in range(0, len(wanted), 1000):
                for e in self.session.execute(select(Enterprise).where(Enterprise.id.in_(wanted[i:i + 1000]))).scalars():
                    self._enterprises[e.id] = S.row_attributes(e)
        return self._enterprise_of

    def enterprise_ids(self) -> set[int]:
        return set(self.enterprise_of().values())


class _Cells:
    """Each row of the files, made once per kind of numbers (full or masked) — its cells
    and their XML — and written as is into every file the row appears in (the whole
    list, a town's, a bureau's)."""

    def __init__(self):
        self.made: dict[bool, dict[int, Any]] = {True: {}, False: {}}
        self.tz = district_tz()
        self.maker = compliance.alert_row_cells(self.tz)

    def of(self, rows: Iterable[compliance.BrokenRow], full: bool) -> Iterator[Any]:
        made, prepare = self.made[full], self.maker.prepare
        for row in rows:
            cells = made.get(row.staff_id)
            if cells is None:
                cells = made[row.staff_id] = prepare(compliance.alert_cells(row, full, self.tz))
            yield cells


# --- the task-force summary --------------------------------------------------------

def summary_rows(session, day: date) -> list[list[Any]]:
    """Per active setting: 哨点人员类别, 主管部门, 总人数, 未按规定检测人数 of ``day``."""
    counts = dict(session.execute(
        select(ComplianceResult.setting_id, func.count()).where(ComplianceResult.day == day)
        .group_by(ComplianceResult.setting_id)).tuples().all())
    broken = dict(session.execute(
        select(ComplianceResult.setting_id, func.count()).where(ComplianceResult.day == day,
                                                                ComplianceResult.compliant.is_(False))
        .group_by(ComplianceResult.setting_id)).tuples().all())
    out = []
    for setting in active_settings(session):
        bureau = session.get(Bureau, setting.type.bureau_id) if setting.type.bureau_id else None
        out.append([setting_group(setting), bureau.name if bureau else "", counts.get(setting.id, 0),
                    broken.get(setting.id, 0)])
    return out


def summary_recipients(session) -> list[Recipient]:
    """The task force's users (in-app inbox) and ``RULES_SUMMARY_RECIPIENTS`` (phones, robot URLs)."""
    users = session.execute(select(SentinelUser.id).join(SentinelUser.roles).where(
        Role.name == R.TASKFORCE, SentinelUser.active.is_(True))).scalars()
    extra = [x.strip() for x in str(current_app.config.get("RULES_SUMMARY_RECIPIENTS") or "").split(",") if x.strip()]
    phones, hooks = [], []
    for item in extra:
        if item.startswith(("http://", "https://")):
            hooks.append(TR.clean_webhook(item))
        else:
            phones.append(normalize_phone(item))
    return to_users(users) + to_phones(phones) + to_webhooks(hooks)


def send_summary(session, day: Optional[date] = None) -> dict:
    """The task force's summary of ``day`` (the check of every setting runs first where
    missing); stored once per day and recipient."""
    day = day or local_today()
    for setting in active_settings(session):
        ensure_checked(session, setting.id, day)
    run = find_run(session, day, SUMMARY, SUMMARY_SETTING)
    event = f"rules.summary:{day.isoformat()}:{run.edition if run else 1}"
    rows = summary_rows(session, day)
    stored = 0
    recipients = [r for r in summary_recipients(session) if not _already_stored(session, r, event)]
    if recipients:
        with transaction(session):
            title = str(_("哨点人员核酸检测统计"))
            file, _count = exports.write_sheet(SUMMARY_HEADERS, (), iter(rows), title)
            with file:
                name = f"{title}_{day.isoformat()}.xlsx"
                path = store_attachment(file.read(), name)
            stored = len(notify(SUMMARY_TEXT, recipients, {
                "date": long_date(day), "total": sum(r[2] for r in rows),
                "broken": sum(r[3] for r in rows)}, key=event, attachment_path=path, attachment_name=name))
    with transaction(session):
        record_run(session, day, SUMMARY, SUMMARY_SETTING, people=sum(r[2] for r in rows),
                   broken=sum(r[3] for r in rows), messages=stored + (run.messages if run else 0))
    return {"day": day.isoformat(), "categories": len(rows), "messages": stored}


def resend(session, day: date, kind: str = ALERTS, setting_id: Optional[int] = None) -> dict:
    """A deliberate re-send: the next ``rules.alerts`` / ``rules.summary`` of ``day`` stores
    new messages (the day's edition goes up by one), then runs it now."""
    ids = [setting_id] if setting_id is not None else [s.id for s in active_settings(session)]
    with transaction(session):
        for sid in (ids if kind == ALERTS else [SUMMARY_SETTING]):
            run = find_run(session, day, kind, sid) or record_run(session, day, kind, sid)
            run.edition += 1
    if kind == ALERTS:
        return send_alerts(session, day, ids)
    return send_summary(session, day)

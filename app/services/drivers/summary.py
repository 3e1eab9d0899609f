"""The task force's summary at 12:00 and 18:00 district time (``checkpoint.summary``,
seed 002 §2.8): 昨天至今天（2022年4月21日18点到2022年4月22日12点）卡口共通行车辆 N 辆，
不准予通行 M 辆。可点击查看详情。 with an .xlsx of the period's decisions (车牌号, 司机姓名,
司机联系方式, 公司名称, 通行时间, 不通过原因; phones masked: the link travels in messages).

Public functions:

* ``period_ending(now) -> (start, end)`` — the period a run at ``now`` reports, naive
  UTC: from the slot before the latest slot (12:00 or 18:00) to that latest slot at or
  before ``now``. At 12:00 it is yesterday 18:00 → today 12:00, at 18:00 today 12:00 →
  18:00; a late or repeated run reports the same period;
* ``send_summary(session, now=None) -> dict`` — to the task force's users (in-app
  inbox), the task-force recipients of 告警设置 and ``CHECKPOINT_SUMMARY_RECIPIENTS``;
  once per period (``CheckpointSummaryRun``, and the outbox key
  ``checkpoint.summary:<period end>``): a retry sends nothing again.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any, Optional

from flask import current_app
from flask_babel import gettext
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select

from app.domain import checkpoint as CP
from app.domain import testing_rules as TR
from app.domain.health import utc_naive
from app.domain.identity import mask_phone, normalize_phone
from app.notify.attachments import store_attachment
from app.notify.messages import MessageTemplate, Recipient, notify, to_phones, to_users, to_webhooks
from app.platform import clock
from app.platform.database import insert_ignoring_duplicates
from app.platform.operations import transaction
from app.security import roles as R
from app.services import exports
from app.services.drivers import recipients as RC
from models.drivers import RECIPIENTS_TASKFORCE, Booking, CheckpointSummaryRun, Pass
from models.mixins import utcnow
from models.users import SentinelUser

SLOTS = (time(12, 0), time(18, 0))
TEMPLATE = MessageTemplate("checkpoint.summary", CP.SUMMARY_TEXT)


def period_ending(now: datetime) -> tuple[datetime, datetime]:
    """See the module docstring (``now`` naive UTC or aware)."""
    tz = clock.district_tz()
    local = clock.to_local(now)
    day = local.date()
    slots = [datetime.combine(d, s, tzinfo=tz) for d in (day - timedelta(days=1), day) for s in SLOTS]
    past = [s for s in slots if s <= local]
    end = past[-1]
    start = slots[slots.index(end) - 1]
    return utc_naive(start), utc_naive(end)


def _hour_text(moment: datetime) -> str:
    local = clock.to_local(moment)
    return gettext("%(y)s年%(m)s月%(d)s日%(h)s点", y=local.year, m=local.month, d=local.day, h=local.hour)


def _day_text(day: date) -> str:
    return gettext(CP.PERIOD_DAY, m=day.month, d=day.day)


def period_text(start: datetime, end: datetime, sent: datetime) -> str:
    """The period as the message says it, from the day it is ``sent`` (naive UTC or aware):
    今天 / 昨天至今天 only when the days are the sending day's (seed 002 §2.8), else the dates."""
    first, last = clock.to_local(start).date(), clock.to_local(end).date()
    kind = CP.period_days(first, last, clock.to_local(sent).date())
    if kind == "today":
        days = gettext(CP.PERIOD_TODAY)
    elif kind == "overnight":
        days = gettext(CP.PERIOD_OVERNIGHT)
    elif first == last:
        days = _day_text(first)
    else:
        days = gettext(CP.PERIOD_DAYS, start=_day_text(first), end=_day_text(last))
    return gettext(CP.SUMMARY_PERIOD, days=days, start=_hour_text(start), end=_hour_text(end))


def decisions(session, start: datetime, end: datetime) -> list[tuple[Pass, Booking]]:
    stmt = (select(Pass, Booking).join(Booking, Booking.id == Pass.booking_id)
            .where(Pass.state.in_((CP.ALLOWED, CP.DENIED)), Pass.decided_at >= start, Pass.decided_at < end)
            .order_by(Pass.decided_at, Pass.id))
    return [tuple(r) for r in session.execute(stmt).all()]


def rows_of(found: list[tuple[Pass, Booking]]) -> list[list[Any]]:
    return [[b.plate_number, b.driver_name, mask_phone(b.phone),
             b.enterprise.name if b.enterprise else (b.company or ""), p.decided_at,
             p.reason or "" if p.state == CP.DENIED else ""] for p, b in found]


def summary_recipients(session) -> list[Recipient]:
    users = session.execute(select(SentinelUser.id).join(SentinelUser.roles).where(
        Role.name == R.TASKFORCE, SentinelUser.active.is_(True))).scalars()
    found = to_users(users) + RC.resolve(session, RC.get_recipients(RECIPIENTS_TASKFORCE))
    for item in (x.strip() for x in str(current_app.config.get("CHECKPOINT_SUMMARY_RECIPIENTS") or "").split(",")):
        if item.startswith(("http://", "https://")):
            found += to_webhooks([TR.clean_webhook(item)])
        elif item:
            found += to_phones([normalize_phone(item)])
    return sorted(set(found))


def send_summary(session, now: Optional[datetime] = None) -> dict:
    """See the module docstring."""
    now = now or utcnow()
    start, end = period_ending(now)
    done = session.execute(select(CheckpointSummaryRun).where(CheckpointSummaryRun.period_end == end)).scalar()
    if done is not None:
        return {"period_end": clock.local_iso(end), "messages": 0, "already_sent": True}
    found = decisions(session, start, end)
    passed = sum(1 for p, _b in found if p.state == CP.ALLOWED)
    denied = len(found) - passed
    stored = 0
    with transaction(session):
        recipients = summary_recipients(session)
        if recipients:
            headers = [gettext(h) for h in CP.SUMMARY_HEADERS]
            title = gettext("卡口通行记录")
            file, _count = exports.write_sheet(headers, (), iter(rows_of(found)), title)
            with file:
                name = f"{title}_{clock.to_local(end):%Y%m%d%H}.xlsx"
                path = store_attachment(file.read(), name)
            stored = len(notify(TEMPLATE, recipients, {
                "period": period_text(start, end, now), "passed": passed, "denied": denied},
                key=f"checkpoint.summary:{end.isoformat()}", attachment_path=path, attachment_name=name))
        session.execute(insert_ignoring_duplicates(session, CheckpointSummaryRun, ["period_end"]).values(
            period_end=end, period_start=start, passed=passed, denied=denied, messages=stored, finished_at=utcnow()))
    return {"period_end": clock.local_iso(end), "passed": passed, "denied": denied, "messages": stored}


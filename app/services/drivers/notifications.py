"""The messages after a checkpoint decision (seed 002 §2.8), word for word:

* SMS to the head of the driver's freight enterprise (enterprise drivers only);
* to the recipients configured (告警设置) for the enterprise's town — or the destination
  town for a driver of no freight enterprise — and for the transport bureau: users
  (in-app inbox), phones (SMS), messenger robots (webhook).

The four texts (enterprise driver or not × allowed or not) are
``app.domain.checkpoint.DECISION_TEXTS``. Public function:
``notify_decision(session, pass_, booking) -> int`` — called inside the decision's
transaction, so the messages exist exactly when the decision does; each is stored once
per pass and recipient (outbox idempotency key ``checkpoint:decision:<pass id>``) and
queued for delivery after the commit (``app.notify.outbox``).
"""
from __future__ import annotations

from flask import current_app

from app.domain import checkpoint as CP
from app.notify.messages import MessageTemplate, notify, to_phones
from app.platform import clock
from app.services.drivers import recipients as RC
from models.drivers import Booking, Pass

TEMPLATES = {key: MessageTemplate(f"checkpoint.decision.{int(key[0])}{int(key[1])}", text)
             for key, text in CP.DECISION_TEXTS.items()}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def decision_context(pass_: Pass, booking: Booking) -> dict[str, str]:
    district = current_app.config["DISTRICT_NAME"]
    return {
        "company": booking.enterprise.name if booking.enterprise else "",
        "name": booking.driver_name,
        "time": clock.to_local(pass_.decided_at).strftime(TIME_FORMAT),
        "district": district,
        "district_short": CP.district_short(district),
        "reason": pass_.reason or "",
    }


def notify_decision(session, pass_: Pass, booking: Booking) -> int:
    """Store the decision's messages (see the module docstring); returns how many."""
    enterprise = booking.enterprise
    template = TEMPLATES[(enterprise is not None, pass_.state == CP.ALLOWED)]
    context = decision_context(pass_, booking)
    key = f"checkpoint:decision:{pass_.id}"
    town_id = enterprise.town_id if enterprise is not None else booking.destination_town_id
    recipients = set(RC.resolve(session, RC.decision_recipients(town_id)))
    if enterprise is not None and enterprise.head_phone:
        recipients |= set(to_phones([enterprise.head_phone]))
    return len(notify(template, recipients, context, key=key)) if recipients else 0

"""The messages after a checkpoint decision (seed 002 §2.8), word for word:

* SMS to the head of the driver's freight enterprise (enterprise drivers only);
* to the recipients configured (告警设置) for the enterprise's town — or the destination
  town for a driver of no freight enterprise — and for the transport bureau: users
  (in-app inbox), phones (SMS), messenger robots (webhook).

The four texts (enterprise driver or not × allowed or not) are
``app.domain.checkpoint.DECISION_TEXTS``. Public function:
``notify_decision(session, pass_, booking) -> int`` (or ``store_decision_messages(session,
decision) -> int`` with the facts at hand) — called inside the decision's transaction,
so the messages exist exactly when the decision does; each is stored once per pass and recipient (outbox idempotency key ``checkpoint:decision:<pass id>``) and
queued for delivery after the commit (``app.notify.outbox``).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from flask import current_app

from app.domain import checkpoint as CP
from app.notify.messages import MessageTemplate, notify, to_phones
from app.platform import clock
from app.services.drivers import recipients as RC
from models.drivers import Booking, Pass

TEMPLATES = {key: MessageTemplate(f"checkpoint.decision.{int(key[0])}{int(key[1])}", text)
             for key, text in CP.DECISION_TEXTS.items()}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


@dataclass(frozen=True)
class Decision:
    """What the messages of a decision say and who gets them: the pass, the decision,
    the driver and the freight enterprise they work for as of the decision (None for a
    driver of none)."""

    pass_id: int
    allowed: bool
    decided_at: datetime
    reason: Optional[str]
    driver_name: str
    destination_town_id: int
    company: Optional[str] = None
    enterprise_town_id: Optional[int] = None
    head_phone: Optional[str] = None

    @property
    def enterprise_driver(self) -> bool:
        return self.company is not None  # an enterprise's name is never NULL

    @classmethod
    def of(cls, pass_: Pass, booking: Booking) -> "Decision":
        enterprise = booking.enterprise
        return cls(pass_.id, pass_.state == CP.ALLOWED, pass_.decided_at, pass_.reason, booking.driver_name,
                   booking.destination_town_id, enterprise.name if enterprise else None,
                   enterprise.town_id if enterprise else None, enterprise.head_phone if enterprise else None)


def decision_context(decision: Decision) -> dict[str, str]:
    district = current_app.config["DISTRICT_NAME"]
    return {
        "company": decision.company or "",
        "name": decision.driver_name,
        "time": clock.to_local(decision.decided_at).strftime(TIME_FORMAT),
        "district": district,
        "district_short": CP.district_short(district),
        "reason": decision.reason or "",
    }


def notify_decision(session, pass_: Pass, booking: Booking) -> int:
    """Store the decision's messages of a decided pass (see the module docstring); returns how many."""
    return store_decision_messages(session, Decision.of(pass_, booking))


def store_decision_messages(session, decision: Decision, configured: Optional[list[dict]] = None) -> int:
    """Store ``decision``'s messages; returns how many (what ``decide`` calls: it knows the
    facts without loading the booking, and ``configured``, the recipients set for the
    town and the bureau (``recipients.decision_recipients``), when it read them already)."""
    template = TEMPLATES[(decision.enterprise_driver, decision.allowed)]
    key = f"checkpoint:decision:{decision.pass_id}"
    if configured is None:
        town_id = decision.enterprise_town_id if decision.enterprise_driver else decision.destination_town_id
        configured = RC.decision_recipients(town_id)
    recipients = set(RC.resolve(session, configured))
    if decision.enterprise_driver and decision.head_phone:
        recipients |= set(to_phones([decision.head_phone]))
    return len(notify(template, recipients, decision_context(decision), key=key)) if recipients else 0

"""The scan and the one-time decision at a checkpoint (seed 002 §2.2).

Public functions:

* ``scan(code, user) -> dict`` — the scan answer of SPEC §9 (``enterprise_driver``,
  ``enterprise_name``, ``driver_label``, ``test_label``, ``vaccine_label``, ``booking``
  with passengers and image URLs, ``reasons`` offered); audited as a read of the
  booking;
* ``decide(code, allow, reason, user) -> dict`` — consumes the pass in ONE conditional
  UPDATE (``state = pending AND expires_at > now``): the first decision stands, the loser
  of a race and every later decision get 409 二维码已过期，请司机重新预约; a denial needs a
  reason (400). The decision's messages (:mod:`.notifications`) are stored in the same
  transaction and queued once it commits.

Both check the code before touching the database: a forged, truncated or foreign-key
code is 400 二维码无效，请司机重新预约 (``MSG_INVALID``), an expired one 409
(``MSG_EXPIRED``) — the pass rows are not read for either.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Optional

from flask import current_app, url_for
from flask_babel import gettext
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from app.domain import checkpoint as CP
from app.domain import pass_tokens as PT
from app.domain.errors import Conflict, RuleError, ServiceError, ValidationFailed
from app.domain.feeds import RESULT_LABELS
from app.domain.i18n import _
from app.platform import audit, clock
from app.platform.extensions import db
from app.platform.operations import operation, transaction
from app.platform.pass_keys import keyring
from app.services.drivers import bookings as B
from app.services.drivers.notifications import notify_decision
from app.services.health.feeds.keys import lookup_keys
from models.drivers import Booking, BookingImage, Pass
from models.health import SamplingRecord, VaccinationRecord
from models.mixins import utcnow

IMAGE_SALT = "sentinel-checkpoint-image"
IMAGE_LINK_SECONDS = 1800
MSG_ALLOW = _("请选择允许通行或不予通行")
RECORD_WINDOW = timedelta(days=14)


def claims_of(code: Any, now: datetime) -> PT.Claims:
    """The code's claims, checked without the database. :raise ServiceError: 400 not a
    code of ours; Conflict: 409 expired."""
    try:
        return keyring().verify(str(code or "").strip(), now)
    except PT.ExpiredToken:
        raise Conflict(CP.MSG_EXPIRED) from None
    except PT.InvalidToken:
        raise ServiceError(CP.MSG_INVALID) from None


def _pending_booking(claims: PT.Claims, now: datetime) -> Booking:
    """The booking of a pending pass with its pass, town, enterprise, passengers and
    images, in one query (a round trip costs more than the few rows a booking's at most
    five passengers and five images multiply to). :raise ServiceError: no such pass;
    Conflict: not pending."""
    found = db.session.execute(
        select(Booking).join(Pass, Pass.booking_id == Booking.id).where(Pass.token_id == claims.token_id)
        .options(joinedload(Booking.passengers), joinedload(Booking.images))).unique().scalar_one_or_none()
    if found is None or found.pass_ is None:  # genuine code whose booking was deleted
        raise ServiceError(CP.MSG_INVALID)
    if found.pass_.effective_state(now) != CP.PENDING:
        raise Conflict(CP.MSG_EXPIRED)
    return found


def _samplings(keys: tuple[str, ...], now: datetime) -> list[tuple[datetime, str]]:
    if not keys:
        return []
    stmt = (select(SamplingRecord.sampled_at, SamplingRecord.result)
            .where(SamplingRecord.id_key.in_(keys), SamplingRecord.sampled_at >= now - RECORD_WINDOW,
                   SamplingRecord.sampled_at <= now + timedelta(minutes=10))
            .order_by(SamplingRecord.sampled_at.desc()).limit(50))
    return [tuple(r) for r in db.session.execute(stmt).all()]


def _doses(keys: tuple[str, ...]) -> set[int]:
    if not keys:
        return set()
    return set(db.session.execute(select(VaccinationRecord.dose).where(VaccinationRecord.id_key.in_(keys))
                                  .distinct()).scalars())


def image_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=IMAGE_SALT)


def image_link(image_id: int) -> str:
    """A link to a booking image for the checkpoint user who scanned its pass: signed,
    valid 30 minutes, the credential itself (the scan screen shows it in an <img>)."""
    return url_for("PassView.scanned_image", token=image_serializer().dumps(image_id))


def image_by_link(token: str) -> tuple[Optional[Path], Optional[str]]:
    """``(file, content type)`` of the image a scan link names; ``(None, None)`` when the
    link is forged or expired or the image is gone."""
    try:
        image_id = image_serializer().loads(token, max_age=IMAGE_LINK_SECONDS)
    except BadData:
        return None, None
    image = db.session.get(BookingImage, image_id) if isinstance(image_id, int) else None
    if image is None:
        return None, None
    return B.image_path(image.stored_name), image.content_type


def _labels(booking: Booking, now: datetime) -> dict[str, Any]:
    keys = lookup_keys(id_number=booking.id_number)
    match = B.match_driver(db.session, booking.id_number, B.freight_type_id())
    district = current_app.config["DISTRICT_NAME"]
    return {
        "enterprise_driver": match is not None,
        "enterprise_name": match.enterprise_name if match else None,
        "enterprise_id": match.enterprise_id if match else None,
        "driver_label": gettext(CP.LABEL_ENTERPRISE if match else CP.LABEL_OTHER,
                                district=CP.district_short(district)),
        "test_label": _test_label(keys, now),
        "vaccine_label": gettext(CP.vaccine_label(_doses(keys))),
    }


def _test_label(keys: tuple[str, ...], now: datetime) -> str:
    label = CP.test_label(_samplings(keys, now), now, clock.district_tz(),
                          {k: str(v) for k, v in RESULT_LABELS.items()})
    return gettext(label) if label in _FIXED_LABELS else label


_FIXED_LABELS = frozenset({"24小时阴性", "48小时阴性", "72小时阴性", "7天阴性", "无核酸检测记录"})


@operation
def scan(code: Any, user: Any) -> dict[str, Any]:
    """See the module docstring (one transaction: the reads and their audit row)."""
    now = utcnow()
    claims = claims_of(code, now)
    booking = _pending_booking(claims, now)
    p = booking.pass_
    answer = _labels(booking, now)
    detail = B.booking_detail(booking, full_numbers=False)
    detail["images"] = [image_link(i.id) for i in booking.images]
    answer.update({
        "booking": detail,
        "expires_at": clock.local_iso(p.expires_at),
        "reasons": [gettext(r) for r in CP.DENY_REASONS],
    })
    audit.record("view", B.ENTITY, booking.id, detail="checkpoint scan", user=user)
    return answer


def _allow(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower() if raw is not None else ""
    if text in {"true", "1", "yes", "allow"}:
        return True
    if text in {"false", "0", "no", "deny"}:
        return False
    raise ValidationFailed([RuleError("allow", MSG_ALLOW)])


def decide(code: Any, allow: Any, reason: Optional[str], user: Any) -> dict[str, Any]:
    """See the module docstring."""
    now = utcnow()
    claims = claims_of(code, now)
    allowed = _allow(allow)
    try:
        reason = CP.clean_reason(allowed, reason)
    except RuleError as err:
        raise ValidationFailed([err]) from None
    state = CP.ALLOWED if allowed else CP.DENIED
    name = (getattr(user, "first_name", "") or "") + (getattr(user, "last_name", "") or "")
    checkpoint = (name or getattr(user, "username", "") or "")[:100] or None
    with transaction() as session:
        # The one write that decides: the first transaction to reach the row wins; a
        # concurrent one waits for its commit (PostgreSQL row lock, SQLite's one writer)
        # and then finds the row no longer pending.
        won = session.execute(
            update(Pass)
            .where(Pass.token_id == claims.token_id, Pass.state == CP.PENDING, Pass.expires_at > now)
            .values(state=state, decided_at=now, decided_by=getattr(user, "id", None), reason=reason,
                    checkpoint=checkpoint)
            .returning(Pass.booking_id)
            .execution_options(synchronize_session=False)
        ).scalar()
        if won is None:
            raise Conflict(CP.MSG_EXPIRED)
        booking = session.get(Booking, won, populate_existing=True)
        p = booking.pass_
        _refresh_match(session, booking)
        audit.record("decide", B.ENTITY, booking.id, before={"state": CP.PENDING},
                     after={"state": state, "reason": reason}, user=user)
        notify_decision(session, p, booking)
        booking_id = booking.id
    return {"id": booking_id, "state": state, "state_label": B.state_label(state), "reason": reason,
            "decided_at": clock.local_iso(now)}


def _refresh_match(session, booking: Booking) -> None:
    """The driver's freight enterprise as of the decision (staff may have been added since
    the booking): the scope and the messages follow it."""
    match = B.match_driver(session, booking.id_number, B.freight_type_id())
    enterprise_id = match.enterprise_id if match else None
    if enterprise_id != booking.enterprise_id:
        booking.enterprise_id = enterprise_id
        booking.staff_id = match.staff_id if match else None
        booking.scope_town_id = match.town_id if match else booking.destination_town_id
        session.flush()
        session.expire(booking, ["enterprise"])

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

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Optional

from flask import current_app, url_for
from itsdangerous import BadData, URLSafeTimedSerializer
from sqlalchemy import DateTime, Integer, String, bindparam, cast, func, literal, null, select, union_all, update

from app.domain import checkpoint as CP
from app.domain import pass_tokens as PT
from app.domain.errors import Conflict, RuleError, ServiceError, ValidationFailed
from app.domain.feeds import RESULT_LABELS
from app.domain.i18n import _
from app.platform import audit, clock
from app.platform.labels import translator
from app.platform.extensions import db
from app.platform.operations import operation, transaction
from app.platform.pass_keys import keyring
from app.services.drivers import bookings as B
from app.services.drivers import recipients as RC
from app.services.drivers.notifications import Decision, store_decision_messages
from app.services.health.feeds.keys import lookup_keys
from models.drivers import Booking, BookingImage, CheckpointRecipients, Pass, Passenger
from models.enterprises import Enterprise
from models.health import SamplingRecord, VaccinationRecord
from models.regions import Town
from models.mixins import utcnow
from models.staff import Staff

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


def _padded(kind: str, pad: dict[str, Any], **columns) -> list:
    """A compound member's columns: its kind, then every column of ``pad`` in order —
    its own where given, else a NULL of the column's type (each member of a ``UNION ALL``
    has the same columns, and the first member's types decode every row)."""
    return [literal(kind, String).label("kind")] + [
        (columns[name] if name in columns else cast(null(), type_)).label(name) for name, type_ in pad.items()]


_B, _P = Booking.__table__.c, Passenger.__table__.c
_BOOKING_PAD = {
    "id": Integer, "driver_name": String, "id_number": _B.id_number.type, "phone": _B.phone.type,
    "plate_number": String, "origin": String, "town_name": String, "destination_address": String,
    "expected_arrival": DateTime, "company": String, "enterprise_id": Integer, "enterprise_name": String,
    "created_at": DateTime, "pass_state": String, "expires_at": DateTime,
    "p_id": Integer, "p_name": String, "p_id_number": _P.id_number.type, "p_phone": _P.phone.type, "image_id": Integer,
}


def _scan_statement():
    """A pending pass's booking with its town's and enterprise's names, its passengers and
    its images in ONE statement of plain rows (kinds ``b``, ``p``, ``i``; see
    :func:`_pending_booking`), built once per process."""
    token = bindparam("token_id")
    of_pass = (Pass.booking_id, Pass.token_id == token)
    pending = (Pass.state == CP.PENDING, Pass.expires_at > bindparam("now", type_=DateTime))
    booking = (select(*_padded("b", _BOOKING_PAD, **{
        name: _B[name] for name in ("id", "driver_name", "id_number", "phone", "plate_number", "origin",
                                    "destination_address", "expected_arrival", "company", "enterprise_id",
                                    "created_at")}, town_name=Town.name, enterprise_name=Enterprise.name,
        pass_state=Pass.state, expires_at=Pass.expires_at))
        .select_from(Booking.__table__.join(Pass, of_pass[0] == _B.id)
                     .join(Town, Town.id == _B.destination_town_id)
                     .outerjoin(Enterprise, Enterprise.id == _B.enterprise_id))
        .where(of_pass[1]))
    passengers = (select(*_padded("p", _BOOKING_PAD, p_id=_P.id, p_name=_P.name, p_id_number=_P.id_number,
                                  p_phone=_P.phone))
                  .join(Pass, of_pass[0] == _P.booking_id).where(of_pass[1], *pending))
    images = (select(*_padded("i", _BOOKING_PAD, image_id=BookingImage.id))
              .join(Pass, of_pass[0] == BookingImage.booking_id).where(of_pass[1], *pending))
    return union_all(booking, passengers, images)


_SCAN = _scan_statement()


@dataclass
class _PassRead:
    state: str
    expires_at: datetime
    decided_at: None = None
    reason: None = None
    checkpoint: None = None

    effective_state = Pass.effective_state  # the model's rule, on the state and expiry read


@dataclass
class _BookingRead:
    """A pending booking as the scan reads it: the attributes ``bookings.booking_detail``
    reads of a ``Booking``, from plain rows (no ORM objects to build for one answer)."""
    id: int
    driver_name: str
    id_number: str
    phone: str
    plate_number: str
    origin: str
    destination_town: SimpleNamespace
    destination_address: str
    expected_arrival: datetime
    company: Optional[str]
    enterprise_id: Optional[int]
    enterprise: Optional[SimpleNamespace]
    created_at: datetime
    pass_: _PassRead
    passengers: list = field(default_factory=list)
    images: list = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.pass_.effective_state()


def _pending_booking(claims: PT.Claims, now: datetime) -> _BookingRead:
    """The booking of a pending pass with its town, enterprise, passengers and images, in
    one query of plain rows (a pass no longer pending brings its booking's row alone).
    :raise ServiceError: no such pass; Conflict: not pending."""
    rows = db.session.connection().execute(_SCAN, {"token_id": claims.token_id, "now": now}).all()
    head = next((r for r in rows if r.kind == "b"), None)
    if head is None:  # genuine code whose booking was deleted
        raise ServiceError(CP.MSG_INVALID)
    pass_ = _PassRead(head.pass_state, head.expires_at)
    if pass_.effective_state(now) != CP.PENDING:
        raise Conflict(CP.MSG_EXPIRED)
    booking = _BookingRead(
        head.id, head.driver_name, head.id_number, head.phone, head.plate_number, head.origin,
        SimpleNamespace(name=head.town_name), head.destination_address, head.expected_arrival, head.company,
        head.enterprise_id, SimpleNamespace(name=head.enterprise_name) if head.enterprise_id else None,
        head.created_at, pass_)
    for r in sorted((r for r in rows if r.kind != "b"), key=lambda r: (r.kind, r.p_id or r.image_id)):
        if r.kind == "p":
            booking.passengers.append(SimpleNamespace(name=r.p_name, id_number=r.p_id_number, phone=r.p_phone))
        else:
            booking.images.append(SimpleNamespace(id=r.image_id))
    return booking


_PAD = {"staff_id": Integer, "enterprise_id": Integer, "name": String, "town_id": Integer, "head_phone": String,
        "sampled_at": DateTime, "result": String, "dose": Integer}


def _tagged(kind: str, **columns) -> list:
    return _padded(kind, _PAD, **columns)


def _facts_statement():
    """The labels' one statement (see :func:`_driver_facts`), built once per process
    with bound parameters: building and keying a statement costs more than running it."""
    keys = bindparam("keys", expanding=True)
    match = select(*_tagged("m", **{c.key: c for c in B.MATCH_STATEMENT.subquery().c}))
    samplings = (select(*_tagged("s", sampled_at=SamplingRecord.sampled_at, result=SamplingRecord.result))
                 .where(SamplingRecord.id_key.in_(keys), SamplingRecord.sampled_at >= bindparam("since", type_=DateTime),
                        SamplingRecord.sampled_at <= bindparam("until", type_=DateTime))
                 .order_by(SamplingRecord.sampled_at.desc()).limit(50))
    doses = select(*_tagged("d", dose=VaccinationRecord.dose)).where(VaccinationRecord.id_key.in_(keys)).distinct()
    # the parts with ORDER BY / LIMIT in a subquery of their own: SQLite allows none in a compound member
    return union_all(match, select(samplings.subquery().c), select(doses.subquery().c))


_FACTS = _facts_statement()


def _driver_facts(session, id_number: str, now: datetime
                  ) -> tuple[Optional[B.DriverMatch], list[tuple[datetime, str]], set[int]]:
    """What the scan labels need of a driver, in ONE round trip: the freight enterprise
    they work for (``bookings.match_driver``'s row), their samplings of the last 14 days
    (the latest 50) and their recorded doses — three selects joined by ``UNION ALL``,
    each row tagged with its kind (``m``, ``s``, ``d``) and padded with typed NULLs."""
    keys = lookup_keys(id_number=id_number)
    if not keys:
        return None, [], set()
    params = {"keys": list(keys), "freight_id": B.freight_type_id(), "since": now - RECORD_WINDOW,
              "until": now + timedelta(minutes=10)}
    match, samplings, doses = None, [], set()
    for r in session.connection().execute(_FACTS, params):
        if r.kind == "m":
            match = B.DriverMatch(r.staff_id, r.enterprise_id, r.name, r.town_id, r.head_phone)
        elif r.kind == "s":
            samplings.append((r.sampled_at, r.result))
        else:
            doses.add(r.dose)
    return match, samplings, doses


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


def _labels(booking: _BookingRead, now: datetime, tr: Callable[..., str]) -> dict[str, Any]:
    match, samplings, doses = _driver_facts(db.session, booking.id_number, now)
    district = current_app.config["DISTRICT_NAME"]
    return {
        "enterprise_driver": match is not None,
        "enterprise_name": match.enterprise_name if match else None,
        "enterprise_id": match.enterprise_id if match else None,
        "driver_label": tr(CP.LABEL_ENTERPRISE if match else CP.LABEL_OTHER, district=CP.district_short(district)),
        "test_label": _test_label(samplings, now, tr),
        "vaccine_label": tr(CP.vaccine_label(doses)),
    }


def _test_label(samplings: list[tuple[datetime, str]], now: datetime, tr: Callable[..., str]) -> str:
    label = CP.test_label(samplings, now, clock.district_tz(), {k: tr(v) for k, v in RESULT_LABELS.items()})
    return tr(label) if label in _FIXED_LABELS else label


_FIXED_LABELS = frozenset({"24小时阴性", "48小时阴性", "72小时阴性", "7天阴性", "无核酸检测记录"})


@operation
def scan(code: Any, user: Any) -> dict[str, Any]:
    """See the module docstring (one transaction: the reads and their audit row)."""
    now = utcnow()
    claims = claims_of(code, now)
    booking = _pending_booking(claims, now)
    p = booking.pass_
    tr = translator()
    answer = _labels(booking, now, tr)
    detail = B.booking_detail(booking, full_numbers=False)
    detail["images"] = [image_link(i.id) for i in booking.images]
    answer.update({
        "booking": detail,
        "expires_at": clock.local_iso(p.expires_at),
        "reasons": [tr(r) for r in CP.DENY_REASONS],
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
        # and then finds the row no longer pending. It hands back what the rest of the
        # decision needs of the booking (correlated subqueries), so nothing is re-read.
        won = session.connection().execute(_DECIDE, {
            "token": claims.token_id, "now": now, "new_state": state, "by": getattr(user, "id", None),
            "why": reason, "where": checkpoint}).first()
        if won is None:
            raise Conflict(CP.MSG_EXPIRED)
        pass_id, booking_id, id_number, driver_name, enterprise_id, destination_town_id = won
        match, configured = _refresh_match(session, booking_id, id_number, enterprise_id, destination_town_id)
        audit.record("decide", B.ENTITY, booking_id, before={"state": CP.PENDING},
                     after={"state": state, "reason": reason}, user=user)
        store_decision_messages(session, Decision(
            pass_id, allowed, now, reason, driver_name, destination_town_id,
            company=match.enterprise_name if match else None, enterprise_town_id=match.town_id if match else None,
            head_phone=match.head_phone if match else None), configured=configured)
    return {"id": booking_id, "state": state, "state_label": B.state_label(state), "reason": reason,
            "decided_at": clock.local_iso(now)}


def _booking_fact(column):
    return select(column).where(Booking.id == Pass.booking_id).correlate(Pass).scalar_subquery()


# built once (see _facts_statement); it answers the pass, its booking and the facts the
# rest of the decision needs of the booking
_DECIDE = (
    update(Pass.__table__)
    .where(Pass.token_id == bindparam("token"), Pass.state == CP.PENDING,
           Pass.expires_at > bindparam("now", type_=DateTime))
    .values(state=bindparam("new_state"), decided_at=bindparam("now", type_=DateTime), decided_by=bindparam("by"),
            reason=bindparam("why"), checkpoint=bindparam("where"))
    .returning(Pass.id, Pass.booking_id, *(_booking_fact(c) for c in (
        Booking.id_number, Booking.driver_name, Booking.enterprise_id, Booking.destination_town_id))))


def _refresh_match(session, booking_id: int, id_number: str, enterprise_id: Optional[int],
                   destination_town_id: int) -> tuple[Optional[B.DriverMatch], list[dict[str, Any]]]:
    """The driver's freight enterprise as of the decision (staff may have been added since
    the booking): the scope and the messages follow it; the booking is updated when it
    changed. With it, in the same statement, the recipients configured for the decision
    (告警设置 of the enterprise's town, else the destination town, and of the bureau)."""
    match, configured = _match_and_recipients(session, id_number, destination_town_id)
    matched_id = match.enterprise_id if match else None
    if matched_id != enterprise_id:
        session.execute(
            update(Booking).where(Booking.id == booking_id)
            .values(enterprise_id=matched_id, staff_id=match.staff_id if match else None,
                    scope_town_id=match.town_id if match else destination_town_id)
            .execution_options(synchronize_session=False))
    return match, configured


_AUDIENCE_PAD = {"staff_id": Integer, "enterprise_id": Integer, "name": String, "town_id": Integer,
                 "head_phone": String, "recipients": CheckpointRecipients.__table__.c.recipients.type}


def _audience_statement():
    """:func:`_match_and_recipients`'s one statement, built once per process: the match
    (``bookings.match_driver``'s row, kind ``m``) and the recipients' lists (kind ``r``) of
    the town it names — the matched enterprise's town, else the destination town — and
    of the bureau (``recipients.decision_recipients``'s rows)."""
    town = func.coalesce(select(B.MATCH_STATEMENT.subquery().c.town_id).scalar_subquery(),
                         bindparam("destination_town_id"))
    match = select(*_padded("m", _AUDIENCE_PAD, **{c.key: c for c in B.MATCH_STATEMENT.subquery().c}))
    lists = select(*_padded("r", _AUDIENCE_PAD, recipients=CheckpointRecipients.recipients)).where(
        RC.decision_recipients_clause(town))
    return union_all(match, lists)


_AUDIENCE = _audience_statement()


def _match_and_recipients(session, id_number: str, destination_town_id: int
                          ) -> tuple[Optional[B.DriverMatch], list[dict[str, Any]]]:
    keys = lookup_keys(id_number=id_number)
    match, configured = None, []
    for r in session.connection().execute(_AUDIENCE, {
            "keys": list(keys), "freight_id": B.freight_type_id(), "destination_town_id": destination_town_id}):
        if r.kind == "m":
            match = B.DriverMatch(r.staff_id, r.enterprise_id, r.name, r.town_id, r.head_phone)
        else:
            configured.extend(r.recipients or [])
    return match, configured

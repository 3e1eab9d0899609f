"""Bookings (预约) and their passes (SPEC §5, §9).

Public functions:

* ``create_booking(data, images, client_address) -> Booking`` — validate every field
  (400 ``ValidationFailed``, a Chinese message per field; 413 an image too large), the
  identity check (400 认证不通过，请确保是本人提交预约或身份证号码填写是否有误), then store
  the booking, its passengers, images and pass in one transaction. Nothing is stored
  when anything fails (image files written before a failed commit are removed).
* ``booking_answer(booking) -> dict`` — the JSON of a booking for its driver: the §9
  fields (ID number and phone masked), ``id, code, qr_url, state, state_label,
  expires_at``, passengers (masked) and ``images`` (count).
* ``booking_detail(booking, full_numbers) -> dict`` — the JSON of a booking for a
  reader in scope (checkpoint, ledgers): passengers, image URLs, pass history fields.
* ``state_clause(state, now=None)`` — the SQL condition on ``Pass`` of a state as readers
  see it (待通行 / 已过期 / 已通行 / 不予通行), for list filters;
* ``bookings_of_driver(phone) -> list[Booking]`` — the driver's own bookings (phone
  identity, purpose ``driver``), newest first, through the scope policy.
* ``token_of(booking) -> str`` — the pass's code (Ed25519 signatures are deterministic:
  the same pass gives the same code, re-signed with the current key after a rotation).
* ``qr_png(token) -> bytes`` — the QR image of a genuine token (``InvalidToken`` else;
  an expired token still draws, so the driver's page keeps showing it).
* ``image_file(image_id) -> (Path, content_type)`` — a booking image for a caller who
  may see its booking (404 else).
"""
from __future__ import annotations

import json
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Iterable, Mapping, Optional

from flask import current_app, url_for
from sqlalchemy import and_, bindparam, or_, select
from sqlalchemy.orm import selectinload

from app.domain import checkpoint as CP
from app.domain import images as IMG
from app.domain import pass_tokens as PT
from app.domain.errors import RuleError, ServiceError, TooLarge, ValidationFailed
from app.domain.i18n import _
from app.domain.identity import DEFAULT_ID_TYPE, mask_id, mask_phone, normalize_id_number, normalize_phone, \
    validate_id_number
from app.domain.plates import normalize_plate
from app.domain.qr_png import png
from app.platform import audit, clock
from app.platform.extensions import db
from app.platform.file_modes import private_dir, write_private
from app.platform.operations import operation, transaction
from app.platform.pass_keys import keyring
from app.security import scope as S
from app.services.drivers.verifier import verified
from app.services.health.feeds.keys import lookup_keys, phone_key, staff_keys
from models.drivers import Booking, BookingImage, Pass, Passenger
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.mixins import utcnow
from models.regions import Town
from models.staff import Staff

ENTITY = "Booking"
LABELS = {
    "driver_name": _("司机姓名"), "id_number": _("身份证号码"), "phone": _("手机号码"),
    "plate_number": _("车牌号"), "origin": _("出发地"), "destination_town": _("目的地镇街"),
    "destination_address": _("目的地详细地址"), "expected_arrival": _("预计到达时间"), "company": _("公司名称"),
}
LIMITS = CP.TEXT_LIMITS
MSG_TOWN = _("目的地镇街不存在，请从列表中选择")
MSG_PASSENGERS_FORMAT = _("乘车人格式不正确")
MSG_IMAGE_TYPE = _("健康信息只能上传图片（JPG、PNG、GIF、WebP）")
MSG_IMAGE_EMPTY = _("上传的图片是空文件")
PASSENGER_LABELS = {"name": _("姓名"), "id_number": _("身份证号码"), "phone": _("联系电话")}


def _text(raw: Any) -> str:
    return unicodedata.normalize("NFKC", "" if raw is None else str(raw)).strip()


def _required(data: Mapping[str, Any], field: str, errors: list[RuleError], *, optional: bool = False) -> str:
    try:
        value = CP.text_value(field, data.get(field), LABELS[field])
    except RuleError as err:
        errors.append(err)
        return ""
    if not value and not optional:
        errors.append(RuleError(field, _("请填写%(label)s", label=LABELS[field])))
    elif field in LIMITS and len(value) > LIMITS[field]:
        errors.append(RuleError(field, _("%(label)s不能超过%(n)s个字", label=LABELS[field], n=LIMITS[field])))
    return value


def _arrival(text: str, now: datetime) -> datetime:
    moment = CP.parse_arrival(text, clock.district_tz())
    CP.check_arrival(moment, now, ahead=timedelta(days=current_app.config["BOOKING_DAYS_AHEAD"]))
    return moment


def _town(text: str) -> Optional[Town]:
    """The destination town named (or numbered) ``text``; None for an unknown town or 其他."""
    if text.isdigit():
        town = db.session.get(Town, int(text))
    else:
        town = db.session.execute(select(Town).where(Town.name == text)).scalar_one_or_none()
    return town if town is not None and CP.is_destination(town.name) else None


def _passenger(item: Mapping[str, Any]) -> dict[str, Optional[str]]:
    """One passenger's values. :raise RuleError: its first bad field."""
    texts = {key: CP.text_value(key, item.get(key), label) for key, label in PASSENGER_LABELS.items()}
    if not CP.name_ok(texts["name"]):
        raise RuleError("name", CP.MSG_NAME)
    return {"name": texts["name"], "id_number": validate_id_number(DEFAULT_ID_TYPE, texts["id_number"]),
            "phone": normalize_phone(texts["phone"]) if texts["phone"] else None}


def _passengers(raw: Any, errors: list[RuleError]) -> list[dict[str, Optional[str]]]:
    if raw in (None, "", []):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            errors.append(RuleError("passengers", MSG_PASSENGERS_FORMAT))
            return []
    if not isinstance(raw, list) or not all(isinstance(p, Mapping) for p in raw):
        errors.append(RuleError("passengers", MSG_PASSENGERS_FORMAT))
        return []
    limit = current_app.config["BOOKING_MAX_PASSENGERS"]
    if len(raw) > limit:
        errors.append(RuleError("passengers", _("乘车人不能超过%(count)s人", count=limit)))
        return []
    out = []
    for n, item in enumerate(raw, 1):
        try:
            out.append(_passenger(item))
        except RuleError as err:
            errors.append(RuleError(f"passengers[{n - 1}].{err.field}", _("第%(n)s位乘车人：%(reason)s", n=n, reason=err.message)))
    return out


def _images(files: Iterable[Any]) -> list[tuple[bytes, str, str]]:
    """``(content, content type, original name)`` of each upload, checked by content."""
    config = current_app.config
    files = [f for f in files if f is not None and (getattr(f, "filename", None) or getattr(f, "stream", None))]
    if len(files) > config["BOOKING_MAX_IMAGES"]:
        raise ValidationFailed([RuleError("images", _("健康信息图片不能超过%(n)s张", n=config["BOOKING_MAX_IMAGES"]))])
    limit = int(config["BOOKING_IMAGE_MAX_MB"] * 1024 * 1024)
    out = []
    for upload in files:
        content = upload.read(limit + 1) if hasattr(upload, "read") else bytes(upload)
        if len(content) > limit:
            size = "%g" % config["BOOKING_IMAGE_MAX_MB"]
            raise TooLarge(_("每张图片不能超过%(mb)sMB", mb=size))
        if not content:
            raise ValidationFailed([RuleError("images", MSG_IMAGE_EMPTY)])
        kind = IMG.sniff(content[:16])
        if kind is None:
            raise ValidationFailed([RuleError("images", MSG_IMAGE_TYPE)])
        out.append((content, kind, _text(getattr(upload, "filename", ""))[-200:] or None))
    return out


def images_dir() -> Path:
    return Path(current_app.instance_path) / "booking_images"


def image_path(stored_name: str) -> Path:
    return images_dir() / stored_name[:2] / stored_name


_FREIGHT_IDS = "sentinel.freight_type_ids"


def freight_type_id() -> Optional[int]:
    """The id of the freight type (``FREIGHT_TYPE_CODE``), remembered per process once
    found (a type's id never changes; a type created later is found on its first use)."""
    code = current_app.config["FREIGHT_TYPE_CODE"]
    known = current_app.extensions.setdefault(_FREIGHT_IDS, {})
    if code not in known:
        found = db.session.execute(select(EnterpriseType.id).where(EnterpriseType.code == code)).scalar()
        if found is None:
            return None
        known[code] = found
    return known[code]


@dataclass(frozen=True)
class DriverMatch:
    """The freight enterprise a driver works for (their staff row's)."""

    staff_id: int
    enterprise_id: int
    enterprise_name: str
    town_id: int
    head_phone: str


def match_driver(session, id_number: str, freight_id: Optional[int]) -> Optional[DriverMatch]:
    """The staff row of a freight enterprise holding ``id_number`` (the lowest id if several), or None."""
    keys = lookup_keys(id_number=id_number)
    if not keys or freight_id is None:
        return None
    row = session.connection().execute(MATCH_STATEMENT, {"keys": list(keys), "freight_id": freight_id}).first()
    return DriverMatch(*row) if row else None


def _staff_name(session, staff_id: int) -> str:
    return session.execute(select(Staff.name).where(Staff.id == staff_id)).scalar_one()


# built once: building and keying a statement costs more than running this one; the
# checkpoint's statements embed it (parameters ``keys``, ``freight_id``)
MATCH_STATEMENT = (select(Staff.id.label("staff_id"), Enterprise.id.label("enterprise_id"), Enterprise.name,
                          Enterprise.town_id, Enterprise.head_phone)
          .join(Enterprise, Enterprise.id == Staff.enterprise_id)
          .where(Staff.id_key.in_(bindparam("keys", expanding=True)), Enterprise.type_id == bindparam("freight_id"))
          .order_by(Staff.id).limit(1))


def clean(data: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """The booking's values, normalised. :raise ValidationFailed: every field's reason."""
    errors: list[RuleError] = []
    values: dict[str, Any] = {}
    for field in ("driver_name", "origin", "destination_address"):
        values[field] = _required(data, field, errors)
    values["company"] = _required(data, "company", errors, optional=True) or None
    number = _required(data, "id_number", errors)
    values["id_number"] = normalize_id_number(number) if number else ""
    for field, normalise in (("phone", normalize_phone), ("plate_number", normalize_plate)):
        text = _required(data, field, errors)
        if text:
            try:
                values[field] = normalise(text)
            except RuleError as err:
                errors.append(RuleError(field, err.message))
    town_name = _required(data, "destination_town", errors)
    if town_name:
        values["destination_town"] = _town(town_name)
        if values["destination_town"] is None:
            errors.append(RuleError("destination_town", MSG_TOWN))
    arrival = _required(data, "expected_arrival", errors)
    if arrival:
        try:
            values["expected_arrival"] = _arrival(arrival, now)
        except RuleError as err:
            errors.append(err)
    values["passengers"] = _passengers(data.get("passengers"), errors)
    if errors:
        raise ValidationFailed(errors)
    return values


def create_booking(data: Mapping[str, Any], images: Iterable[Any] = (), client_address: Optional[str] = None) -> Booking:
    """See the module docstring."""
    if not isinstance(data, Mapping):
        raise ServiceError(_("请求内容应为 JSON 对象"))
    now = utcnow()
    values = clean(data, now)
    uploads = _images(images)
    if not verified(values["driver_name"], DEFAULT_ID_TYPE, values["id_number"], values["phone"]):
        raise ServiceError(CP.MSG_IDENTITY)
    written: list[Path] = []
    try:
        with transaction() as session:
            booking = _store(session, values, uploads, client_address, now, written)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return booking


def _store(session, values: dict[str, Any], uploads, client_address, now: datetime, written: list[Path]) -> Booking:
    freight_id = freight_type_id()
    staff = match_driver(session, values["id_number"], freight_id)
    if staff is not None and not CP.same_name(values["driver_name"], _staff_name(session, staff.staff_id)):
        # the ID number of a registered driver under another name: no booking (nor the
        # driver's enterprise and health labels at the checkpoint) for someone else's ID
        raise ServiceError(CP.MSG_IDENTITY)
    town: Town = values["destination_town"]
    booking = Booking(
        driver_name=values["driver_name"], id_type=DEFAULT_ID_TYPE, id_number=values["id_number"],
        id_key=staff_keys(values["id_number"])[0], phone=values["phone"], phone_key=phone_key(values["phone"]),
        plate_number=values["plate_number"], origin=values["origin"], destination_town_id=town.id,
        destination_address=values["destination_address"], expected_arrival=values["expected_arrival"],
        company=values["company"], enterprise_id=staff.enterprise_id if staff else None,
        staff_id=staff.staff_id if staff else None,
        scope_town_id=staff.town_id if staff else town.id, freight_type_id=freight_id,
        client_address=(client_address or "")[:64] or None,
    )
    for p in values["passengers"]:
        booking.passengers.append(Passenger(name=p["name"], id_type=DEFAULT_ID_TYPE, id_number=p["id_number"],
                                            phone=p["phone"]))
    for content, kind, original in uploads:
        stored = f"{uuid.uuid4().hex}{IMG.TYPES[kind]}"
        target = image_path(stored)
        private_dir(target.parent)
        write_private(target, content)
        written.append(target)
        booking.images.append(BookingImage(stored_name=stored, content_type=kind, size=len(content),
                                           original_name=original))
    validity = timedelta(hours=current_app.config["PASS_VALID_HOURS"])
    booking.pass_ = Pass(token_id=PT.new_token_id(), key_id=keyring().current_id,
                         expires_at=CP.pass_expiry(booking.expected_arrival, validity), state=CP.PENDING)
    session.add(booking)
    session.flush()
    audit.record("create", ENTITY, booking.id, after={
        "plate_number": booking.plate_number, "destination_town": town.name,
        "enterprise_id": booking.enterprise_id, "passengers": len(booking.passengers),
        "images": len(booking.images)}, user=None)
    return booking


# --- reading --------------------------------------------------------------------------

def token_of(booking: Booking) -> str:
    p = booking.pass_
    return keyring().issue(p.token_id, p.expires_at)


def state_label(state: str) -> str:
    from flask_babel import gettext
    return gettext(CP.STATE_LABELS[state])


def booking_answer(booking: Booking) -> dict[str, Any]:
    """The booking for its driver (numbers masked), with its code and QR link."""
    code = token_of(booking)
    state = booking.state
    return {
        "id": booking.id, "code": code, "qr_url": url_for("PassView.qr", token=code),
        "state": state, "state_label": state_label(state),
        "expires_at": clock.local_iso(booking.pass_.expires_at),
        "driver_name": booking.driver_name, "id_number": mask_id(booking.id_number),
        "phone": mask_phone(booking.phone), "plate_number": booking.plate_number, "origin": booking.origin,
        "destination_town": booking.destination_town.name, "destination_address": booking.destination_address,
        "expected_arrival": clock.local_iso(booking.expected_arrival), "company": booking.company,
        "passengers": [{"name": p.name, "id_number": mask_id(p.id_number), "phone": mask_phone(p.phone) if p.phone else None}
                       for p in booking.passengers],
        "images": len(booking.images),
        "created_at": clock.local_iso(booking.created_at),
    }


@operation
def read_booking(session, scope: S.Scope, pk: Any) -> dict[str, Any]:
    """One booking in ``scope`` as its detail (numbers in full for the roles that may see
    them), the read audited. :raise OutOfScope: not in scope (404)."""
    booking = S.get_or_404(session, Booking, pk, scope)
    detail = booking_detail(booking, full_numbers=scope.full_numbers)
    audit.record("view", ENTITY, booking.id)
    return detail


def booking_detail(booking: Booking, full_numbers: bool = False) -> dict[str, Any]:
    """The booking for a reader in scope: the §9 fields (ID numbers and phones in full
    for ``full_numbers``), passengers, image URLs, the enterprise and the pass's state."""
    show_id = (lambda v: v) if full_numbers else mask_id
    show_phone = (lambda v: v) if full_numbers else (lambda v: mask_phone(v) if v else v)
    p = booking.pass_
    state = booking.state
    return {
        "id": booking.id, "driver_name": booking.driver_name, "id_number": show_id(booking.id_number),
        "phone": show_phone(booking.phone), "plate_number": booking.plate_number, "origin": booking.origin,
        "destination_town": booking.destination_town.name, "destination_address": booking.destination_address,
        "expected_arrival": clock.local_iso(booking.expected_arrival), "company": booking.company,
        "enterprise_id": booking.enterprise_id,
        "enterprise_name": booking.enterprise.name if booking.enterprise else None,
        "passengers": [{"name": x.name, "id_number": show_id(x.id_number), "phone": show_phone(x.phone)}
                       for x in booking.passengers],
        "images": [url_for("PassView.image", image_id=i.id) for i in booking.images],
        "state": state, "state_label": state_label(state),
        "decided_at": clock.local_iso(p.decided_at) if p else None,
        "reason": p.reason if p else None, "checkpoint": p.checkpoint if p else None,
        "created_at": clock.local_iso(booking.created_at),
    }


def state_clause(state: str, now: Optional[datetime] = None):
    """A SQL condition on ``Pass`` for a state as readers see it (``pending`` not yet
    expired, ``expired`` pending past expiry, ``allowed``, ``denied``), for list filters:
    ``select(Booking).join(Pass).where(state_clause("pending"))``. :raise KeyError."""
    now = now or utcnow()
    if state == CP.PENDING:
        return and_(Pass.state == CP.PENDING, Pass.expires_at > now)
    if state == CP.EXPIRED:
        return or_(Pass.state == CP.EXPIRED, and_(Pass.state == CP.PENDING, Pass.expires_at <= now))
    if state in (CP.ALLOWED, CP.DENIED):
        return Pass.state == state
    raise KeyError(state)


def bookings_of_driver(phone: str, limit: int = 50) -> list[Booking]:
    """The bookings made with ``phone`` (the caller's verified phone), newest first."""
    keys = lookup_keys(phone=phone)
    if not keys:
        return []
    stmt = (S.apply(select(Booking), Booking).where(Booking.phone_key.in_(keys))
            .options(selectinload(Booking.passengers), selectinload(Booking.images))
            .order_by(Booking.created_at.desc(), Booking.id.desc()).limit(limit))
    return list(db.session.execute(stmt).unique().scalars())


def qr_png(token: str) -> bytes:
    """The QR image of a genuine token of ours (expired ones too). :raise InvalidToken."""
    keyring().verify(token, None)
    return png(token)


def image_file(image_id: Any) -> tuple[Path, str]:
    """A booking image's file and content type, for a caller who may see its booking (404 else)."""
    image = S.get_or_404(db.session, BookingImage, image_id)
    return image_path(image.stored_name), image.content_type

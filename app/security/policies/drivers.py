"""The scope of bookings and passes (SPEC §1, §5).

* the transport bureau (the bureau supervising the freight type, ``FREIGHT_TYPE_CODE``)
  sees every booking (``Booking.freight_type_id``);
* a town user sees the bookings of its town: the driver's freight enterprise's town, or
  the destination town for a driver of no freight enterprise (``Booking.scope_town_id``);
* an enterprise head sees the bookings of their enterprise's drivers;
* a driver (phone identity, purpose ``driver``) sees their own bookings: those made with
  their phone. Bookings keep the phone sealed, so the dimension's values are the phone's
  keyed hashes (``Booking.phone_key``; current and, during a rotation, previous secret);
* the district admin and the task force see everything. Passengers, images and passes
  are scoped exactly like their booking. A row outside scope is 404.

The checkpoint's 告警设置 (``CheckpointRecipients``: one row per town, the bureau's, the
task force's) belong to the transport bureau, which sets them from 预约和通行记录 (seed 002
§2.7), and to the district admin:

* the transport bureau sees and edits every row (``Shared``: the bureau of the freight
  type, from configuration — the rows have no column naming it); another bureau (e.g.
  the port bureau) sees none, so any row is 404 to it;
* a town's row is that town's (``Column(town_id)``): its users are whom the bureau may
  name as that town's recipients (the inverse, ``scope.audience``). Town users hold no
  permission on the settings (the manual gives 告警设置 to the bureau only; what a
  town is told is set for it), so they get 403; were a deployment to grant them read,
  they would see their own town's row only;
* an enterprise head and a driver see none; the task force sees everything by role but
  holds no permission on the settings either (403).

Freight enterprises (货车企业管理, seed 002 §2.5) are imported, added and edited by the
transport bureau (and the district admin); a town user only views its town's (the town
dimension grants no write on an enterprise of the freight type; other types unchanged).
Their drivers (the staff of a freight enterprise, seed 002 §2.4, §2.6) are entered by the
enterprise head and the transport bureau (and the district admin); a town user only views
its town's: the town dimension grants no add, edit, import or delete of a person of a
freight enterprise, nor a move of a person into one (staff of other types unchanged).

A code for the ``driver`` purpose is sent only to a phone that booked before (the
answer to the caller is the same either way).
"""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from app.domain import idkey
from app.domain.errors import RuleError
from app.domain.identity import normalize_phone
from app.platform.extensions import db
from app.security.identities import Purpose, register_purpose
from app.security.policies import registry  # noqa: F401  (declares town, bureau, head_phone)
from app.security import roles as R
from app.security.scope import (Audience, Column, Dimension, Parent, Shared, Via, define_dimension, register,
                                restrict_writes)
from models.drivers import Booking, BookingImage, CheckpointRecipients, Pass, Passenger
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise
from models.staff import Staff

DRIVER = "driver"
DIM_DRIVER_PHONE = "driver_phone"


def phone_keys(phone: str) -> set[str]:
    """The keyed hashes a booking made with ``phone`` may carry (current and previous secret)."""
    try:
        digits = normalize_phone(phone)
    except RuleError:
        return set()
    config = current_app.config
    secrets = [s for s in (config["ID_HASH_KEY"], config.get("ID_HASH_KEY_PREVIOUS")) if s]
    return {idkey.keyer(idkey.phone_secret(s))(digits) for s in secrets}


def _no_holders(_session, _values: frozenset) -> Audience:
    """Drivers are not addressed through the scope (they hold no account; a phone key
    is no phone number)."""
    return Audience()


DRIVER_PHONE = define_dimension(Dimension(DIM_DRIVER_PHONE, lambda _user: set(), _no_holders, phone_values=phone_keys))

register(
    Booking,
    town=Column(Booking.scope_town_id),
    bureau=Via(Booking.freight_type_id, EnterpriseType.id, EnterpriseType.bureau_id),
    head_phone=Via(Booking.enterprise_id, Enterprise.id, Enterprise.head_phone),
    driver_phone=Column(Booking.phone_key),
)
register(Passenger, parent=Parent(Passenger.booking_id, Booking))
register(BookingImage, parent=Parent(BookingImage.booking_id, Booking))
register(Pass, parent=Parent(Pass.booking_id, Booking))


def _freight_type_code() -> str:
    return current_app.config["FREIGHT_TYPE_CODE"]


register(
    CheckpointRecipients,
    town=Column(CheckpointRecipients.town_id),
    bureau=Shared(EnterpriseType.code, EnterpriseType.bureau_id, _freight_type_code),
)


def _not_freight(session, values) -> bool:
    """Whether an enterprise with ``values`` is of another type than the freight type."""
    type_id = values.get("type_id")
    if type_id is None:
        return True
    etype = session.get(EnterpriseType, type_id)  # the identity map's when loaded (a page's many rows)
    return etype is None or etype.code != _freight_type_code()


def _not_freight_staff(session, values) -> bool:
    """Whether a person with ``values`` belongs to an enterprise of another type than the
    freight type (is no freight driver)."""
    enterprise_id = values.get("enterprise_id")
    enterprise = session.get(Enterprise, enterprise_id) if enterprise_id is not None else None
    return enterprise is None or _not_freight(session, {"type_id": enterprise.type_id})


restrict_writes(Enterprise, R.DIM_TOWN, _not_freight)
restrict_writes(Staff, R.DIM_TOWN, _not_freight_staff)


def has_booked(session, phone: str) -> bool:
    keys = phone_keys(phone)
    return bool(keys) and session.execute(
        select(Booking.id).where(Booking.phone_key.in_(keys)).limit(1)).first() is not None


DRIVER_PURPOSE = register_purpose(Purpose(DRIVER, has_booked, DIM_DRIVER_PHONE))


def may_set_recipients(scope) -> bool:
    """Who edits who is told of decisions (告警设置): the district admin and the transport
    bureau (a bureau supervising the freight type) — whoever the settings' bureau path
    reaches. Offers the menu entry and 预约和通行记录's 【告警设置】 button."""
    if scope.everything:
        return True
    held = scope.of("bureau")
    if not held:
        return False
    bureau = db.session.execute(
        select(EnterpriseType.bureau_id).where(EnterpriseType.code == _freight_type_code())).scalar()
    return bureau is not None and bureau in held

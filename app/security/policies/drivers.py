"""The scope of bookings and passes (SPEC §1, §5).

* the transport bureau (the bureau supervising the freight type, ``FREIGHT_TYPE_CODE``)
  sees every booking (``Booking.freight_type_id``);
* a town user sees the bookings of its town: the driver's freight enterprise's town, or
  the destination town for a driver of no freight enterprise (``Booking.scope_town_id``);
* an enterprise head sees the bookings of their enterprise's drivers;
* a driver (phone identity, purpose ``driver``) sees their own bookings: those made with
  their phone (``Booking.phone_key``, the keyed hash of the phone);
* the district admin and the task force see everything. Passengers, images and passes
  are scoped exactly like their booking. A row outside scope is 404.
"""
from __future__ import annotations

from app.security.policies import registry  # noqa: F401  (declares town, bureau, head_phone)
from app.security.scope import Column, Parent, Via, register
from models.drivers import Booking, BookingImage, Pass, Passenger
from models.enterprise_types import EnterpriseType
from models.enterprises import Enterprise

register(
    Booking,
    town=Column(Booking.scope_town_id),
    bureau=Via(Booking.freight_type_id, EnterpriseType.id, EnterpriseType.bureau_id),
    head_phone=Via(Booking.enterprise_id, Enterprise.id, Enterprise.head_phone),
)
register(Passenger, parent=Parent(Passenger.booking_id, Booking))
register(BookingImage, parent=Parent(BookingImage.booking_id, Booking))
register(Pass, parent=Parent(Pass.booking_id, Booking))

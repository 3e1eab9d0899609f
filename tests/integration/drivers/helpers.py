"""Rows and requests of a drivers test's own: a freight enterprise with a driver, a
booking through the public API, a checkpoint's token."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Optional

from sqlalchemy import select

from tests.integration import factories as F

TZ8 = timezone(timedelta(hours=8))


def arrival(hours: float = 2) -> str:
    """An expected arrival ``hours`` from now, district time, as a driver's page sends it."""
    return (datetime.now(TZ8) + timedelta(hours=hours)).replace(tzinfo=None, microsecond=0).isoformat(sep=" ")


def body(**over: Any) -> dict:
    values = {
        "driver_name": "李某某", "id_number": F.id_number(), "phone": F.phone(), "plate_number": "粤A12345",
        "origin": "广州市天河区", "destination_town": "黄阁镇", "destination_address": "黄阁镇测试路1号",
        "expected_arrival": arrival(), "company": None, "passengers": [],
    }
    values.update(over)
    return values


def book(app, **over: Any):
    """POST /api/v1/bookings/ from a fresh client address; the response."""
    return F.client_at(app).post("/api/v1/bookings/", json=body(**over))


def booked(app, **over: Any) -> dict:
    response = book(app, **over)
    assert response.status_code == 201, response.json
    return response.json


def freight_driver(app, town: str = "南沙街", head_phone: Optional[str] = None) -> dict:
    """A freight enterprise (type ``freight``) of ``town`` with one driver; its ids and numbers."""
    name = F.tag() + "物流有限公司"
    head = head_phone or F.phone()
    enterprise_id = F.make_enterprise(app, name, town=town, type_code="freight", head_phone=head)
    number = F.id_number()
    staff_id = F.make_staff(app, enterprise_id, "李某某", number)  # the name body() books with
    return {"enterprise_id": enterprise_id, "enterprise": name, "head_phone": head, "id_number": number,
            "staff_id": staff_id}


def booking_row(app, booking_id: int) -> dict:
    """The stored booking's enterprise and staff (whom it was matched to)."""
    from models.drivers import Booking

    def read(session):
        b = session.get(Booking, booking_id)
        return {"enterprise_id": b.enterprise_id, "staff_id": b.staff_id}

    return F.in_db(app, read)


def town_id(app, name: str) -> int:
    from models.regions import Town

    return F.in_db(app, lambda s: s.execute(select(Town.id).where(Town.name == name)).scalar_one())


def pass_row(app, booking_id: int) -> tuple:
    """(state, reason, decided_by, decided_at) of a booking's pass."""
    from models.drivers import Pass

    def read(session):
        p = session.execute(select(Pass).where(Pass.booking_id == booking_id)).scalar_one()
        return p.state, p.reason, p.decided_by, p.decided_at

    return F.in_db(app, read)


def messages(app, key_prefix: str) -> list[tuple[str, str, str]]:
    """(kind, recipient, body) of the outbox messages whose key starts with ``key_prefix``."""
    from models.notify import Message

    return F.in_db(app, lambda s: [tuple(r) for r in s.execute(
        select(Message.kind, Message.recipient, Message.body).where(Message.idempotency_key.startswith(key_prefix))
        .order_by(Message.id)).all()])


def set_recipients(app, scope: str, recipients: list, town: Optional[str] = None) -> None:
    from app.services.drivers import recipients as RC

    with app.test_request_context():
        RC.set_recipients(scope, recipients, town_id(app, town) if town else None)
        from app.platform.extensions import db
        db.session.remove()

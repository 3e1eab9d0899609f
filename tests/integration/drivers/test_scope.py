"""Who sees a booking (SPEC §1, §5): the transport bureau all, a town its town's (the
enterprise's town, else the destination), a head their drivers', admin and task force
all; anyone else gets 404. Images follow their booking."""
from __future__ import annotations

import io
import json

from sqlalchemy import select

from tests.conftest import login
from tests.integration import factories as F
from tests.integration.drivers import helpers as H


def get(app, headers, booking_id):
    return F.client_at(app).get(f"/api/v1/bookings/{booking_id}", headers=headers)


def test_each_role_sees_the_bookings_of_its_scope(app, auth):
    head = F.phone()
    F.make_user(app, "head" + F.tag()[1:], "enterprise_head", phone_number=head)
    driver = H.freight_driver(app, town="南沙街", head_phone=head)
    of_enterprise = H.booked(app, id_number=driver["id_number"], destination_town="黄阁镇")["id"]
    to_huangge = H.booked(app, destination_town="黄阁镇")["id"]
    seen = {
        "admin": (200, 200), "taskforce": (200, 200), "bureau_transport": (200, 200),
        "town_nansha": (200, 404),  # the enterprise's town, not the destination
        "town_huangge": (404, 200),  # a non-enterprise driver's destination
        "bureau_port": (404, 404), "checkpoint": (403, 403), "feed": (403, 403),
    }
    for user, expected in seen.items():
        headers = auth.token(user)
        assert (get(app, headers, of_enterprise).status_code, get(app, headers, to_huangge).status_code) == expected, user


def test_a_head_sees_their_drivers_bookings_only(app, auth):
    head = F.phone()
    name = F.make_user(app, "head" + F.tag()[1:], "enterprise_head", phone_number=head)
    driver = H.freight_driver(app, head_phone=head)
    mine = H.booked(app, id_number=driver["id_number"])["id"]
    other = H.booked(app)["id"]
    headers = auth.token(name)
    assert get(app, headers, mine).status_code == 200
    assert get(app, headers, other).status_code == 404


def test_the_detail_masks_numbers_for_the_task_force_and_is_audited(app, auth):
    from models.audit import AuditLog

    number = F.id_number()
    booking_id = H.booked(app, id_number=number, destination_town="黄阁镇")["id"]
    since = F.last_audit_id(app)
    assert get(app, auth.token("taskforce"), booking_id).json["id_number"] != number
    assert get(app, auth.token("town_huangge"), booking_id).json["id_number"] == number
    assert len(F.audits(app, "view", "Booking", since)) == 2


def test_booking_images_are_served_to_those_who_see_the_booking(app, auth):
    data = {k: (json.dumps(v) if isinstance(v, list) else v) for k, v in H.body(destination_town="黄阁镇").items()
            if v is not None}
    data["images"] = [(io.BytesIO(b"\xff\xd8\xff\xe0" + b"1" * 40), "a.jpg")]
    booking_id = F.client_at(app).post("/api/v1/bookings/", data=data, content_type="multipart/form-data").json["id"]
    from models.drivers import BookingImage

    image_id = F.in_db(app, lambda s: s.execute(select(BookingImage.id).where(
        BookingImage.booking_id == booking_id)).scalar_one())
    huangge, nansha = F.client_at(app), F.client_at(app)
    login(huangge, "town_huangge")
    login(nansha, "town_nansha")
    shown = huangge.get(f"/passes/images/{image_id}")
    assert shown.status_code == 200 and shown.mimetype == "image/jpeg"
    assert shown.headers["Cache-Control"] == "private, no-store"
    assert nansha.get(f"/passes/images/{image_id}").status_code == 404
    assert F.client_at(app).get(f"/passes/images/{image_id}").status_code in (302, 401, 403)

"""``/api/v1/bookings/``: a driver's booking (预约) and its pass (SPEC §5, §9).

* ``POST /`` (public; JSON, or multipart with the fields, ``passengers`` as a JSON text
  and the files ``images``) → 201 ``{"id", "code", "qr_url", "state", …}``; 400 bad
  input or a failed identity check (认证不通过，请确保是本人提交预约或身份证号码填写是否有误),
  413 an image too large, 429 too many bookings from one address (``BOOKING_RATE_LIMIT``);
* ``GET /mine`` (the driver's phone identity token, purpose ``driver``) → the driver's
  own bookings with each one's state (待通行 / 已通行 / 不予通行 / 已过期) and code;
* ``GET /<id>`` (bureau, town, head, task force, admin: permission ``Booking`` read, in
  scope; 404 outside) → the booking with passengers, image links and its pass (audited).
"""
from __future__ import annotations

import json

from flask import request
from flask_appbuilder import expose
from flask_appbuilder.security.decorators import permission_name, protect
from flask_babel import lazy_gettext as _
from flask_jwt_extended import get_current_user, verify_jwt_in_request

from app.security import roles as R
from app.security.policies.drivers import DRIVER
from app.security.principals import PhonePrincipal
from app.services.drivers import bookings
from views import openapi as doc
from views.base import ScopedApi, answer

MSG_RATE = _("预约提交过于频繁，请稍后再试")
MSG_DRIVER_ONLY = _("请先用手机号码和短信验证码登录")

TEXT = {"type": "string"}
TIME = {"type": "string", "description": "ISO 8601; without an offset: district time"}
PERSON = doc.obj({"name": TEXT, "id_number": TEXT, "phone": doc.nullable(TEXT)})
BOOKING_FIELDS = {
    "driver_name": TEXT, "id_number": TEXT, "phone": TEXT, "plate_number": TEXT, "origin": TEXT,
    "destination_town": {"type": "string", "description": "a town's name (or id)"},
    "destination_address": TEXT, "expected_arrival": TIME, "company": doc.nullable(TEXT),
    "passengers": doc.array(PERSON),
}
REQUIRED = ("driver_name", "id_number", "phone", "plate_number", "origin", "destination_town",
            "destination_address", "expected_arrival")
BOOKING_BODY = doc.obj(BOOKING_FIELDS, required=REQUIRED)
ANSWER_FIELDS = {
    "id": {"type": "integer"}, "code": {"type": "string", "description": "what the QR carries"},
    "qr_url": TEXT, "state": {"type": "string", "enum": ["pending", "allowed", "denied", "expired"]},
    "state_label": TEXT, "expires_at": TIME, "driver_name": TEXT, "id_number": TEXT, "phone": TEXT,
    "plate_number": TEXT, "origin": TEXT, "destination_town": TEXT, "destination_address": TEXT,
    "expected_arrival": TIME, "company": doc.nullable(TEXT), "passengers": doc.array(PERSON),
    "images": {"type": "integer"}, "created_at": TIME,
}
BOOKING_ANSWER = doc.obj(ANSWER_FIELDS, required=("id", "code", "qr_url", "state"))
DETAIL = doc.obj({
    **{k: v for k, v in ANSWER_FIELDS.items() if k not in ("code", "qr_url", "images", "expires_at")},
    "enterprise_id": doc.nullable({"type": "integer"}), "enterprise_name": doc.nullable(TEXT),
    "images": doc.array(TEXT), "decided_at": doc.nullable(TIME), "reason": doc.nullable(TEXT),
    "checkpoint": doc.nullable(TEXT),
}, required=("id", "state"))
MINE = doc.obj({"count": {"type": "integer"}, "result": doc.array(doc.ref("BookingAnswer"))}, required=("count", "result"))


def _form_data() -> dict:
    data = request.form.to_dict()
    passengers = data.get("passengers")
    if passengers:
        try:
            data["passengers"] = json.loads(passengers)
        except ValueError:
            pass  # the service says 乘车人格式不正确
    return data


class BookingsApi(ScopedApi):
    resource_name = "bookings"
    class_permission_name = R.BOOKING
    openapi_spec_tag = "Bookings"
    openapi_components = {"Booking": BOOKING_BODY, "BookingAnswer": BOOKING_ANSWER, "BookingDetail": DETAIL,
                          "DriverBookings": MINE}

    @expose("", methods=["POST"])  # SPEC §9 spells it without the slash
    @expose("/", methods=["POST"])
    @doc.describe(doc.answer(doc.ref("BookingAnswer"), "The booking and its pass"), status=201,
                  body=doc.request_body({
                      "application/json": {"schema": doc.ref("Booking")},
                      "multipart/form-data": {"schema": doc.obj({
                          **{k: v for k, v in BOOKING_FIELDS.items() if k != "passengers"},
                          "passengers": {"type": "string", "description": "JSON list of {name, id_number, phone}"},
                          "images": doc.array({"type": "string", "format": "binary"})}, required=REQUIRED)},
                  }), errors=(400, 429), protected=False)
    def create(self):
        """Book an arrival (public): the identity check, then the pass.

        Nothing is stored when a field, an image or the identity check fails."""
        if request.mimetype == "multipart/form-data":
            data, images = _form_data(), request.files.getlist("images")
        else:
            data, images = self.json_object(), []
        booking = bookings.create_booking(data, images, request.remote_addr)
        return answer(201, bookings.booking_answer(booking))

    @expose("/mine", methods=["GET"])
    @doc.describe(doc.answer(doc.ref("DriverBookings"), "The driver's own bookings, newest first"), errors=(401,),
                  protected=True)
    def mine(self):
        """The caller's own bookings (phone identity token, purpose driver)."""
        verify_jwt_in_request()
        principal = get_current_user()
        if not isinstance(principal, PhonePrincipal) or principal.purpose != DRIVER:
            return self.response(401, message=str(MSG_DRIVER_ONLY))
        found = bookings.bookings_of_driver(principal.phone)
        return self.response(200, count=len(found), result=[bookings.booking_answer(b) for b in found])

    @expose("/<int:pk>", methods=["GET"])
    @protect()
    @permission_name("get")
    @doc.describe(doc.answer(doc.ref("BookingDetail"), "The booking, its passengers, images and pass"),
                  errors=(404,))
    def get(self, pk: int):
        """One booking in the caller's scope (audited)."""
        return answer(200, bookings.read_booking(self.session, self.scope, pk))

"""``/passes/``: the pass's QR image and the booking images (SPEC §9).

* ``GET /passes/<token>.png`` (public) — the QR of a genuine code (any state: the
  driver's page keeps showing it); 404 for anything else;
* ``GET /passes/images/<id>`` — a booking image for a signed-in reader who may see the
  booking (permission ``Booking`` read and the scope; 404 outside);
* ``GET /passes/scanned/<token>`` — a booking image through the link the scan answer
  gives the checkpoint user (signed, 30 minutes).

Images are served from the instance folder, never the web root, with ``no-store``.
"""
from __future__ import annotations

from flask import Response, send_file
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access
from flask_babel import lazy_gettext as _

from app.domain.pass_tokens import InvalidToken
from app.platform.http import error_response
from app.security import roles as R
from app.services.drivers import bookings, checkpoint
from views.base import rw_map

MSG_NO_CODE = _("二维码无效，请司机重新预约")
MSG_NO_IMAGE = _("图片链接已过期或无效")


def _private(response):
    response.headers["Cache-Control"] = "private, no-store"
    return response


class PassView(BaseView):
    route_base = "/passes"
    default_view = "qr"
    class_permission_name = R.BOOKING
    method_permission_name = rw_map(extra_read=("image",))

    @expose("/<token>.png")
    def qr(self, token: str):
        try:
            image = bookings.qr_png(token)
        except InvalidToken:
            return error_response(404, MSG_NO_CODE)
        response = Response(image, mimetype="image/png")
        return _private(response)

    @expose("/images/<int:image_id>")
    @has_access
    def image(self, image_id: int):
        path, content_type = bookings.image_file(image_id)
        if not path.is_file():
            return error_response(404, MSG_NO_IMAGE)
        return _private(send_file(path, mimetype=content_type, max_age=0))

    @expose("/scanned/<token>")
    def scanned_image(self, token: str):
        path, content_type = checkpoint.image_by_link(token)
        if path is None or not path.is_file():
            return error_response(404, MSG_NO_IMAGE)
        return _private(send_file(path, mimetype=content_type, max_age=0))

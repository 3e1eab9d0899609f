"""Phone lists of 货车司机管理 (seed 002 §2.3, §2.4):

* ``/m/bookings/`` 司机预约查询 — the bookings and passes of the caller's drivers (a head:
  their enterprise's, ``?enterprise_id=``; a town: its town's), 已通行 / 未通行 (the
  manual's two tabs: 未通行 holds every booking not let through, 不予通行 included);
* ``/m/drivers/`` 货车司机 — the freight drivers in scope (a town: its town's), each with
  their bookings, tests and vaccinations.

Both read through the ledgers' services (app/services/truck_ledgers.py): the same scope,
filters and audit as the PC ledgers.
"""
from __future__ import annotations

from flask import request
from flask_appbuilder import expose, has_access

from app.domain.fields import Field
from app.domain.i18n import _
from app.domain.identity import mask_id, mask_phone
from app.security import roles as R
from app.services.health.status import lookup as health_status
from app.services.listing import ListQuery
from app.services.truck_ledgers import (BOOKING_FIELDS, DRIVER_FIELDS, NOT_PASSED, NOT_THROUGH, PASSED,
                                        BookingRecordService, TruckDriverService, pass_history, state_label)
from views.base import ScopedView

PHONE_STATUSES = ((PASSED, _("已通行")), (NOT_PASSED, _("未通行")))
_BOOKING_FIELD = {f.key: f for f in BOOKING_FIELDS}
_DRIVER_FIELD = {f.key: f for f in DRIVER_FIELDS}
BOOKINGS = BookingRecordService()
DRIVERS = TruckDriverService()


def _enterprise_filter(fields: dict[str, Field]) -> list:
    enterprise_id = request.args.get("enterprise_id", type=int)
    return [(fields["enterprise_id"], "eq", enterprise_id)] if enterprise_id else []


class BookingPhoneView(ScopedView):
    route_base = "/m/bookings"
    class_permission_name = R.BOOKING
    method_permission_name = {"list": "read", "detail": "read"}

    @expose("/")
    @has_access
    def list(self):
        """司机预约查询: ?status=passed (已通行) / not_passed (未通行), ?enterprise_id= (a head's enterprise)."""
        status = request.args.get("status") if request.args.get("status") in (PASSED, NOT_PASSED) else ""
        page_no, size = self.paging()
        wanted = NOT_THROUGH if status == NOT_PASSED else status
        filters = [(_BOOKING_FIELD["status"], "eq", wanted)] if status else []
        filters += _enterprise_filter(_BOOKING_FIELD)
        page = BOOKINGS.page(self.session, self.scope, ListQuery(filters=filters, page=page_no, size=size))
        args = {k: v for k, v in request.args.items() if k in ("status", "enterprise_id")}
        return self.render_template("sentinel/truck_phone_bookings.html", page=page, status=status, args=args,
                                    statuses=PHONE_STATUSES, state_label=state_label, mask_phone=mask_phone,
                                    title=_("司机预约查询"))

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk: int):
        booking = BOOKINGS.read(self.session, self.scope, pk)
        return self.render_template("sentinel/truck_phone_booking.html", b=booking, state_label=state_label(booking),
                                    title=_("预约详情"))


class DriverPhoneView(ScopedView):
    route_base = "/m/drivers"
    class_permission_name = R.STAFF
    method_permission_name = {"list": "read", "detail": "read"}

    @expose("/")
    @has_access
    def list(self):
        """货车司机: the freight drivers in scope, ?q= a name (or a full ID number / phone)."""
        page_no, size = self.paging()
        q = request.args.get("q", "").strip()
        page = DRIVERS.page(self.session, self.scope,
                            ListQuery(keyword=q, filters=_enterprise_filter(_DRIVER_FIELD), page=page_no, size=size))
        args = {k: v for k, v in request.args.items() if k in ("q", "enterprise_id")}
        return self.render_template("sentinel/truck_phone_drivers.html", page=page, q=q, args=args, mask_id=mask_id,
                                    title=_("货车司机"))

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk: int):
        """One driver on the phone: 预约和通行记录, 核酸检测, 疫苗接种 (the read is audited)."""
        person, health, history = DRIVERS.read(
            self.session, self.scope, pk,
            reading=lambda p: (p, health_status.person_health(self.session, p),
                               pass_history(self.session, self.scope, p.id)))
        return self.render_template("sentinel/truck_phone_driver.html", s=person, health=health, history=history,
                                    state_label=state_label, title=person.name)

"""The PC ledgers of 货车司机管理 (seed 002 §2.5–2.7), declared resources:

* ``truck_driver`` 货车司机台账 (``/truck_drivers``, ``/api/v1/truck_driver/``): staff of
  freight enterprises; view, export, each driver's 通行记录, 查看核酸, 疫苗接种;
* ``booking_record`` 预约和通行记录 (``/booking_records``, ``/api/v1/booking_record/``):
  filters (到达日期, 镇街, 已通行 / 未通行 / 不予通行, 车牌号, 司机姓名), 查看详情 with
  基本信息 and 乘车人信息 and the health images (served by views/passes.py), export;
* ``checkpoint_recipients`` 告警设置 (``/checkpoint_recipients``,
  ``/api/v1/checkpoint_recipients/``): who is told of decisions, per town (3街6镇), for
  the transport bureau and for the task force's summary (seed 002 §2.7); list, detail,
  edit (recipients one per line), export. The rows are a fixed set (no add, no delete);
  the district admin and the transport bureau edit them, from the menu or from
  预约和通行记录's 【告警设置】 (app/services/drivers/recipients.py says what a change checks).

The first two are read only: drivers are entered through the registry, bookings by drivers.
"""
from __future__ import annotations

from flask import url_for
from flask_appbuilder import expose, has_access

from app.domain.i18n import _
from app.security import roles as R
from app.security.policies.drivers import may_set_recipients
from app.security.scope import current_scope
from app.services.drivers.recipients import CheckpointRecipientsService, ensure_rows
from app.services.resource_export import export_rows
from app.services.health.status import lookup as health_status
from app.services.truck_ledgers import (BookingRecordService, TruckDriverService, booking_export, pass_history,
                                        state_label)
from views.menus import TRUCKS
from views.resources import Menu, Resource, ResourceView

READ_PAGES = ("list", "detail", "export")
READ_API = ("get_list", "get", "export")


class TruckDriverPages(ResourceView):
    """货车司机台账 (the class built from it is ``TruckDriverView``)."""

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk: int):
        """A driver: registry data, 通行记录, 核酸检测 (查看核酸) and 疫苗接种 (audited read)."""
        person, health, history = self.resource.service.read(
            self.session, self.scope, pk,
            reading=lambda p: (p, health_status.person_health(self.session, p),
                               pass_history(self.session, self.scope, p.id)))
        return self.render_template("sentinel/truck_driver_detail.html", row=person, health=health, history=history,
                                    state_label=state_label, title=person.name, **self._context())


class BookingRecordPages(ResourceView):
    """预约和通行记录 (the class built from it is ``BookingRecordView``)."""

    def render_template(self, template, **kwargs):
        """Every page of the ledger offers 告警设置 to those who may set it."""
        if self.appbuilder.sm.has_access("can_read", R.CHECKPOINT_SETTING) and may_set_recipients(self.scope):
            kwargs.setdefault("recipients_url", url_for("CheckpointRecipientsView.list"))
        return super().render_template(template, **kwargs)

    @expose("/<int:pk>")
    @has_access
    def detail(self, pk: int):
        """查看详情: 基本信息, 乘车人信息, 健康信息 and the pass (the read is audited)."""
        booking = self.resource.service.read(self.session, self.scope, pk)
        return self.render_template("sentinel/booking_detail.html", b=booking, state_label=state_label(booking),
                                    title=_("预约详情"), **self._context())


TRUCK_DRIVERS = Resource(
    name="truck_driver", title=_("货车司机台账"), permission=R.STAFF, service=TruckDriverService(),
    route="/truck_drivers", menu=Menu(TRUCKS, _("货车司机台账"), "fa-id-card", name="TruckDrivers"),
    pages=READ_PAGES, api=READ_API, view_class=TruckDriverPages, item_title=lambda row: row.name,
    export_title=_("货车司机台账"),
)
BOOKING_RECORDS = Resource(
    name="booking_record", title=_("预约和通行记录"), permission=R.BOOKING, service=BookingRecordService(),
    route="/booking_records", menu=Menu(TRUCKS, _("预约和通行记录"), "fa-road", name="BookingRecords"),
    pages=READ_PAGES, api=READ_API, view_class=BookingRecordPages, list_template="sentinel/booking_list.html",
    item_title=lambda row: f"{row.plate_number} {row.driver_name}", export=booking_export,
    export_title=_("预约和通行记录"),
)


class CheckpointRecipientsPages(ResourceView):
    """告警设置 (the class built from it is ``CheckpointRecipientsView``): the form names
    the row edited (a town, the bureau, 专班) and takes the recipients one per line; a
    user the editor may not add (or no such user) keeps the form, naming it (400), and
    nothing is saved."""

    def _form(self, row=None, data=None, errors=None, status=200, title=None):
        if row is not None and data is None:
            data = {**self.resource.service.to_dict(row), "recipients": "\n".join(row.recipient_lines())}
        if row is not None and title is None:
            title = _("编辑告警设置：%(target)s", target=row.target_label())
        return super()._form(row, data=data, errors=errors, status=status, title=title)


def _recipients_export(session, scope, query, _args):
    ensure_rows(session)
    return export_rows(session, scope, CHECKPOINT_RECIPIENTS, query)


CHECKPOINT_RECIPIENTS = Resource(
    name="checkpoint_recipients", title=_("告警设置"), permission=R.CHECKPOINT_SETTING,
    service=CheckpointRecipientsService(), route="/checkpoint_recipients",
    menu=Menu(TRUCKS, _("告警设置"), "fa-bell", name="CheckpointRecipients",
              cond=lambda: may_set_recipients(current_scope())),  # another bureau: no such menu
    pages=("list", "detail", "edit", "export"), api=("get_list", "get", "put", "export"),
    view_class=CheckpointRecipientsPages, item_title=lambda row: row.target_label(),
    export=_recipients_export, export_title=_("卡口告警设置"),
)

"""货车司机管理 (seed 002): the registration of its screens, in one block.

* phone: the driver's public pages (views/driver_pages.py), the checkpoint's scan
  screen (views/checkpoint_pages.py);
* PC ledgers (views/truck_ledgers.py) under the 货车司机 menu: 货车企业管理 (the
  registry's enterprise list of the freight type: import, add, edit), 货车司机台账,
  预约和通行记录, 告警设置; the phone lists of heads and towns (views/truck_phone.py): 司机预约查询,
  货车司机.
"""
from __future__ import annotations

from flask import current_app

from app.domain.i18n import _
from app.services.truck_ledgers import freight_type_code
from views.checkpoint_pages import CheckpointView
from views.driver_pages import DriverView
from views.menus import CATEGORY_ICONS, CATEGORY_LABELS, TRUCKS
from views.resources import register_resource
from views.truck_ledgers import BOOKING_RECORDS, CHECKPOINT_RECIPIENTS, TRUCK_DRIVERS
from views.truck_phone import BookingPhoneView, DriverPhoneView


def register(appbuilder) -> None:
    appbuilder.add_view_no_menu(DriverView)
    appbuilder.add_view(CheckpointView, "Checkpoint", label=_("扫码核验"), icon="fa-qrcode")
    appbuilder.add_link("FreightEnterprises", href=f"/enterprises/?type={freight_type_code()}", label=_("货车企业管理"),
                        icon="fa-building", category=TRUCKS, category_label=CATEGORY_LABELS[TRUCKS],
                        category_icon=CATEGORY_ICONS[TRUCKS])
    register_resource(appbuilder, TRUCK_DRIVERS)
    register_resource(appbuilder, BOOKING_RECORDS)
    register_resource(appbuilder, CHECKPOINT_RECIPIENTS)  # 告警设置: the transport bureau's, the admin's
    # phone lists (views/truck_phone.py): the head's and the town's
    for view, name, label, icon in ((DriverPhoneView, "TruckDriversPhone", _("货车司机"), "fa-mobile"),
                                    (BookingPhoneView, "BookingsPhone", _("司机预约查询"), "fa-mobile")):
        appbuilder.add_view(view, name, label=label, icon=icon, category=TRUCKS,
                            category_label=CATEGORY_LABELS[TRUCKS], category_icon=CATEGORY_ICONS[TRUCKS])
    # the head's home offers 司机预约查询 and 货车司机 for a freight enterprise
    current_app.jinja_env.globals["freight_type_code"] = freight_type_code

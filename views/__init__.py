"""The only place that registers views and builds menus."""
from __future__ import annotations

from flask_babel import lazy_gettext as _


def register_views(appbuilder) -> None:
    from views.registry_api import EnterpriseApi, StaffApi

    appbuilder.add_api(EnterpriseApi)
    appbuilder.add_api(StaffApi)

    from views.registry_pages import EnterpriseView, StaffView

    appbuilder.add_view(EnterpriseView, "Enterprises", label=_("企业管理"), category="Registry",
                        category_label=_("台账管理"), icon="fa-building")
    appbuilder.add_view(StaffView, "Staff", label=_("人员管理"), category="Registry", icon="fa-users")

    from views.admin import register_admin_views

    register_admin_views(appbuilder)

"""核酸告警: 告警设置 (a declared resource: ``/api/v1/alert_settings/`` and its pages) and
未按规定检测 (the nightly check's results of a chosen day, scoped like staff)."""
from __future__ import annotations

from app.domain.i18n import _
from app.security import roles as R
from app.services.rules.settings import AlertSettingService, setting_label
from views.menus import ALERTS
from views.resources import Menu, Resource, ResourceView


class AlertSettingPages(ResourceView):
    """告警设置's pages: the edit form shows the recipients as it takes them, one per line
    (a user name, a mobile number, a robot URL), not their stored ids."""

    def _form(self, row=None, data=None, errors=None, status=200, title=None):
        if row is not None and data is None:
            data = {**self.resource.service.to_dict(row), "recipients": "\n".join(row.recipient_lines())}
        return super()._form(row, data=data, errors=errors, status=status, title=title)


ALERT_SETTINGS = Resource(
    name="alert_settings",
    title=_("告警设置"),
    permission=R.ALERT_SETTING,
    service=AlertSettingService(),
    route="/alert_settings",
    menu=Menu(ALERTS, _("告警设置"), "fa-bell", name="AlertSettings"),
    item_title=setting_label,
    view_class=AlertSettingPages,
)

"""核酸告警: 告警设置 (a declared resource: ``/api/v1/alert_settings/`` and its pages) and
未按规定检测 (the nightly check's results of a chosen day, scoped like staff)."""
from __future__ import annotations

from dataclasses import replace

from app.domain.i18n import _
from app.security import roles as R
from app.services import lookups
from app.services.rules.settings import AlertSettingService, setting_label
from views.menus import ALERTS
from views.resources import Menu, Resource, ResourceView


class AlertSettingPages(ResourceView):
    """告警设置's pages: the form offers the enterprise types the user may set (a bureau:
    those it supervises) and shows the recipients as it takes them, one per line (a user
    name, a mobile number, a robot URL), not their stored ids."""

    def render_template(self, template, **kwargs):
        if "fields" in kwargs:
            kwargs["fields"] = [replace(f, choices=self._type_choices()) if f.key == "enterprise_type" else f
                                for f in kwargs["fields"]]
        return super().render_template(template, **kwargs)

    def _type_choices(self) -> list[tuple[str, str]]:
        return [(t.code, t.name) for t in lookups.types_in_scope(self.session, self.scope)]

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

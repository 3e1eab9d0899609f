"""系统管理's records, declared read-only resources held by the district admin: 审计日志,
安全事件 (its own list page with a range of district days), 消息发件箱 (``GET
/api/v1/outbox/``: messages newest first; a login code readable only for its lifetime).
Services: app/services/records.py."""
from __future__ import annotations

import json
from typing import Any

from flask import current_app, request
from flask_appbuilder import expose, has_access

from app.domain.i18n import _
from app.platform.clock import district_tz, local_text
from app.platform.security_events import KINDS
from app.platform.templating import shown
from app.security import roles as R
from app.services import records, security_log
from views.menus import ADMIN
from views.resources import Menu, Resource, ResourceView, registered_resources

READ_ONLY_PAGES = ("list", "detail", "export")
READ_ONLY_API = ("get_list", "get", "export")


class SecurityEventPages(ResourceView):
    """安全事件: newest first, filtered by ?kind=, ?user=, ?start= and ?end= (district days)."""

    @expose("/")
    @has_access
    def list(self):
        filters = security_log.parse_filters(request.args)
        page, size = self.paging()
        result = security_log.list_page(self.session, filters, district_tz(), page, size)
        return self.render_template(
            "sentinel/security_events.html", page=result, filters=filters, kinds=KINDS,
            local_text=local_text, entity_label=records.entity_label, title=_("安全事件"), **self._context(),
        )


AUDIT_LOG = Resource(
    name="audit_log", title=_("审计日志"), permission=R.AUDIT, service=records.audit_log(), route="/audit_log",
    menu=Menu(ADMIN, _("审计日志"), "fa-history", name="AuditLog"), pages=READ_ONLY_PAGES, api=READ_ONLY_API,
    item_title=lambda row: str(_("审计日志")) + f" #{row.id}",
)
SECURITY_EVENTS = Resource(
    name="security_event", title=_("安全事件"), permission=R.AUDIT, service=records.security_events(),
    route="/security-events", menu=Menu(ADMIN, _("安全事件"), "fa-user-shield", name="SecurityEvents"),
    view_class=SecurityEventPages, pages=READ_ONLY_PAGES, api=READ_ONLY_API,
    item_title=lambda row: str(_("安全事件")) + f" #{row.id}",
)
OUTBOX = Resource(
    name="outbox", title=_("消息发件箱"), permission=R.OUTBOX, service=records.outbox(), route="/outbox",
    menu=Menu(ADMIN, _("消息发件箱"), "fa-envelope", name="Outbox"), pages=READ_ONLY_PAGES, api=READ_ONLY_API,
    item_title=lambda row: str(_("消息")) + f" #{row.id}",
)


def _labels(entity: str | None) -> dict[str, Any]:
    """The names an audited entity's fields have on its pages (a declared resource's, or 用户管理's)."""
    if entity == "User":
        return dict(current_app.appbuilder.sm.userdbmodelview.label_columns)
    for resource in registered_resources().values():
        if getattr(resource.service, "entity", None) == entity:
            return {f.source: f.label for f in resource.service.fields}
    return {}


def _shown(key: str, value: Any) -> str:
    if key == "roles" and isinstance(value, list):
        return str(_("、")).join(R.role_label(str(v)) for v in value)
    if isinstance(value, list):
        return str(_("、")).join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(shown(value))


def snapshot_items(row: Any, values: dict) -> list[tuple[str, str]]:
    """修改前 / 修改后 of an audit row as (name, value) pairs the way pages show them: fields by
    their labels, 是/否, roles by their Chinese names, nothing for None."""
    labels = _labels(getattr(row, "entity", None))
    return [(str(labels.get(key, key)), _shown(key, value)) for key, value in values.items()]

"""系统管理's records, declared read-only resources held by the district admin: 审计日志,
安全事件 (its own list page with a range of district days), 消息发件箱 (``GET
/api/v1/outbox/``: messages newest first; a login code readable only for its lifetime).
Services: app/services/records.py."""
from __future__ import annotations

from flask import request
from flask_appbuilder import expose, has_access

from app.domain.i18n import _
from app.platform.clock import district_tz, local_text
from app.platform.security_events import KINDS
from app.security import roles as R
from app.services import records, security_log
from views.menus import ADMIN
from views.resources import Menu, Resource, ResourceView

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
            local_text=local_text, title=_("安全事件"), **self._context(),
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
